/**
 * WHEP in a Chromium page, with the browser's own RTCPeerConnection: functions for `page.evaluate`,
 * so each is self-contained (no imports, no closures) and keeps its peer in `globalThis.whep`.
 */

/** In the page: plays `url`'s camera over WHEP on a new muted <video>; the POST's status and Location. */
export async function playOverWhep(url: string): Promise<{ status: number; location: string | null }> {
  const pc = new RTCPeerConnection();
  // As WHEP players do: audio too, which the service (video only) rejects in its answer.
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.addTransceiver('video', { direction: 'recvonly' });
  const video = document.createElement('video');
  video.muted = true;
  video.autoplay = true;
  document.body.append(video);
  pc.ontrack = (event) => {
    video.srcObject = new MediaStream([event.track]);
  };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise<void>((resolve) => {
    if (pc.iceGatheringState === 'complete') resolve();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
    setTimeout(resolve, 2000);
  });
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp' },
    body: pc.localDescription!.sdp,
  });
  if (response.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
  (globalThis as unknown as { whep: RTCPeerConnection }).whep = pc;
  return { status: response.status, location: response.headers.get('location') };
}

/** In the page: the video Chromium decoded so far (frames, width) and the connection's state. */
export async function inboundVideo(): Promise<{ framesDecoded: number; frameWidth: number; state: string }> {
  const pc = (globalThis as unknown as { whep: RTCPeerConnection }).whep;
  let found = { framesDecoded: 0, frameWidth: 0, state: pc.connectionState };
  (await pc.getStats()).forEach(
    (report: { type: string; kind?: string; framesDecoded?: number; frameWidth?: number }) => {
      if (report.type === 'inbound-rtp' && report.kind === 'video') {
        found = {
          framesDecoded: report.framesDecoded ?? 0,
          frameWidth: report.frameWidth ?? 0,
          state: pc.connectionState,
        };
      }
    },
  );
  return found;
}
