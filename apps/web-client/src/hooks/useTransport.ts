/**
 * The large view's transport: the switch's position (`?transport=` first, then localStorage), the
 * WebRTC failure of this run of the stream, and what follows from them (logic/transport.ts).
 */
import { useCallback, useState } from 'react';
import {
  chooseTransport,
  transportChoice,
  TRANSPORT_STORAGE_KEY,
  type Transport,
  type TransportChoice,
  type WebRtcFailure,
} from '../logic/transport';
import { webrtcSupported } from '../player/whep';

function stored(): string | null {
  try {
    return window.localStorage.getItem(TRANSPORT_STORAGE_KEY);
  } catch {
    return null; // storage blocked: the default
  }
}

export interface TransportState {
  choice: TransportChoice;
  setChoice: (choice: TransportChoice) => void;
  transport: Transport;
  /** WebRTC's failure in this run of the stream, if any. */
  failure: WebRtcFailure | null;
  onWebRtcFailure: (src: string, failure: WebRtcFailure) => void;
}

/** `live`: the stream is live; a stop forgets the failure, so the next run tries WebRTC again. */
export function useTransport(live: boolean): TransportState {
  const [choice, setChoiceState] = useState<TransportChoice>(() =>
    transportChoice(window.location.search, stored()),
  );
  const [failure, setFailure] = useState<WebRtcFailure | null>(null);
  if (!live && failure !== null) setFailure(null); // adjusted while rendering

  const setChoice = useCallback((next: TransportChoice) => {
    setChoiceState(next);
    setFailure(null); // a fresh choice gets a fresh try
    try {
      window.localStorage.setItem(TRANSPORT_STORAGE_KEY, next);
    } catch {
      // storage blocked: the choice lasts for this page only
    }
  }, []);
  const onWebRtcFailure = useCallback((_src: string, next: WebRtcFailure) => {
    console.warn(`camstream: WebRTC did not play (${next.kind})`);
    setFailure((current) => current ?? next);
  }, []);

  const supported = webrtcSupported();
  const transport = chooseTransport({ choice, webrtcSupported: supported, failure });
  const shown: WebRtcFailure | null = supported ? failure : { kind: 'unsupported' };
  return { choice, setChoice, transport, failure: shown, onWebRtcFailure };
}
