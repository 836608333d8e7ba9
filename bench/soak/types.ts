/** What a soak run records: one sample per interval, the raw material of samples.json and the report. */
import type { MachineInfo } from '../lib/machine.js';
import type { MediaEvent } from '../lib/page.js';
import type { SoakOptions } from './options.js';

/** The processes sampled from /proc, in the order the report lists them. */
export const ROLES = ['web', 'segmenter', 'agent', 'encoder', 'renderer', 'chromium'] as const;
export type Role = (typeof ROLES)[number];

/** Short names, for the tables and the plot's panels. */
export const ROLE_LABELS: Record<Role, string> = {
  web: 'web service',
  segmenter: 'segmenter',
  agent: 'agent',
  encoder: 'encoder',
  renderer: 'viewer’s renderer',
  chromium: 'Chromium (all)',
};

/** What each name stands for, once in the report. */
export const ROLE_DESCRIPTIONS: Record<Role, string> = {
  web: 'node, with the LL-HLS packager and the embedded MQTT broker in it',
  segmenter: 'the ffmpeg the web service runs (UDP MPEG-TS in, fMP4 on its stdout)',
  agent: 'the camera agent, node',
  encoder: 'the ffmpeg the agent runs (the stamped test source, libx264, MPEG-TS over UDP)',
  renderer:
    'the Chromium renderer process of the viewer’s page (of the renderers, the one with the most memory: the one playing); RssAnon is its own memory, RSS also counts the shared pages video frames pass through',
  chromium: 'all of Chromium’s processes summed (shared pages count more than once)',
};

/** Open file descriptors of a process (or the sum over a role's), by what /proc/<pid>/fd points at. */
export interface FdCounts {
  total: number;
  socket: number;
  pipe: number;
  anon_inode: number;
  /** A path on a file system (not /dev): regular files, deleted ones included. */
  file: number;
  /** Everything else: /dev/* (null, urandom, shm), memfd:, … */
  other: number;
}

export interface ProcessSample {
  pids: number[];
  rssMiB: number;
  /** RssAnon: the process's own memory, without the shared pages RSS also counts. */
  anonMiB: number;
  /** % of one core since the previous sample; absent on the first. */
  cpuPercent?: number;
  fds: FdCounts;
}

/** The service's own view, from GET /metrics (prom-client, prefix camstream_). */
export interface ServiceSample {
  heapUsedMiB?: number;
  externalMiB?: number;
  rssMiB?: number;
  openFds?: number;
  bytesHeld?: number;
  partsHeld?: number;
  segmentsHeld?: number;
  waitingRequests?: number;
}

export interface FolderUsage {
  bytes: number;
  files: number;
}

/** The viewer over the interval that ends at this sample. */
export interface ViewerSample {
  /** Seconds since the previous read of the page (the interval this sample covers). */
  seconds: number;
  /** Frames the page's frame callback saw (stamped + unreadable). */
  frames: number;
  /** Frames whose stamp was read: the glass-to-glass samples. */
  stamped: number;
  unreadable: number;
  /** Frames the video element dropped (getVideoPlaybackQuality). */
  dropped?: number;
  latencyMedianMs?: number;
  latencyP95Ms?: number;
  /** 'waiting' events after start-up (STALL_GRACE_MS after the first frame). */
  stalls: number;
  /** The page's stall time over the interval, ms. */
  stallMs?: number;
  /** hls.js's distance from the live edge and forward buffer, s, at the sample. */
  hlsLatencySec?: number;
  bufferSec?: number;
  /**
   * Seconds of media the video element holds in all (its `buffered` ranges), behind the playhead
   * too: hls.js should flush what is more than backBufferLength behind.
   */
  mediaBufferedSec?: number;
  /** CDP Performance.getMetrics of the viewer's page. */
  jsHeapUsedMiB?: number;
  jsHeapTotalMiB?: number;
}

export interface SoakSample {
  /** Seconds since the viewer's first frame. */
  t: number;
  /** Epoch ms. */
  at: number;
  /** The machine's 1-minute load average: others' work shows here. */
  load1: number;
  /** How long taking this sample took, ms: what the soak itself costs the machine, roughly. */
  sampleMs: number;
  processes: Partial<Record<Role, ProcessSample>>;
  service: ServiceSample;
  disk: {
    /** The service's HLS_DIR (LL-HLS should write nothing there). */
    hlsDir: FolderUsage;
    /** The Chromium profile (--user-data-dir): the viewer's side, not the service's. */
    profile: FolderUsage;
    /** Of which Chromium's HTTP disk cache (Default/Cache). */
    profileCache: FolderUsage;
    /** Everything else under the run's private temporary folder (TMPDIR of every process). */
    otherTemp: FolderUsage;
  };
  viewer: ViewerSample;
}

/** What samples.json holds: everything the report is made from. */
export interface SoakRun {
  startedAt: string;
  command: string;
  options: SoakOptions;
  /** The warm-up in effect, s (after the default or the clamp). */
  warmupSec: number;
  machine: MachineInfo;
  /** Epoch ms: the click on Start and the viewer's first frame. */
  clickedAt: number;
  firstFrameAt: number;
  samples: SoakSample[];
  /** The video element's events (waiting, playing, …) over the run. */
  mediaEvents: MediaEvent[];
  /** The Cache-Control the service sent with a media part (what lets the viewer's cache keep it). */
  mediaCacheControl?: string;
  /** The command lines of the encoder and the segmenter as they ran. */
  commands: Record<string, string>;
  /** Set when the run stopped early: why, and when (s since the first frame). */
  failure?: { message: string; t: number };
}
