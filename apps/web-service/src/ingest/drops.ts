/** What the ingest drops, by reason (GET /metrics: camstream_ingest_*_dropped_total{reason}). */

export type PacketDrop =
  /** A PAT or PMT that does not parse or whose CRC is wrong. */
  | 'bad-psi'
  /** A video PES whose header does not parse (and the rest of that PES). */
  | 'bad-pes'
  /** A video PES whose timestamps do not continue the timeline, or a new timeline that did not. */
  | 'timeline'
  /** Not the PAT, PMT, video or PCR PID (SDT, null packets, random PIDs). */
  | 'other-pid'
  /** From a sender other than the one whose stream is accepted. */
  | 'other-sender'
  /** The accepted stream before a keyframe: nothing accepted yet, or a segmenter waiting to start. */
  | 'before-keyframe';
export type DatagramDrop = 'not-ts' | 'source';

export interface FilterStats {
  datagrams: number;
  datagramsDropped: Record<DatagramDrop, number>;
  packetsDropped: Record<PacketDrop, number>;
  packetsPassed: number;
  /** Streams accepted: the first, and each new sender or timeline after it. */
  timelines: number;
}

export function emptyStats(): FilterStats {
  return {
    datagrams: 0,
    datagramsDropped: { 'not-ts': 0, source: 0 },
    packetsDropped: {
      'bad-psi': 0,
      'bad-pes': 0,
      timeline: 0,
      'other-pid': 0,
      'other-sender': 0,
      'before-keyframe': 0,
    },
    packetsPassed: 0,
    timelines: 0,
  };
}
