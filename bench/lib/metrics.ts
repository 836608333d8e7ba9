/**
 * The web service's /metrics (Prometheus text format), sampled every second during the steady
 * window: what the LL-HLS packager holds, beside what the playlist lists at that moment.
 */

/**
 * The samples of a Prometheus text exposition, by name: a series without labels as it is, and a
 * series labelled only by camera summed over the cameras (what the whole service holds). Pure.
 */
export function parsePrometheusText(text: string): Record<string, number> {
  const plain: Record<string, number> = {};
  const perCamera: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{camera="[^"]*"\})? (\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[3]);
    if (!Number.isFinite(value)) continue;
    const name = match[1]!;
    if (match[2]) perCamera[name] = (perCamera[name] ?? 0) + value;
    else plain[name] = value;
  }
  return { ...perCamera, ...plain };
}

/** One sample of the packager, with what the playlist listed then. */
export interface PackagerSample {
  /** Epoch ms. */
  at: number;
  bytesHeld?: number;
  partsHeld?: number;
  segmentsHeld?: number;
  partsMade?: number;
  waitingRequests?: number;
  /** Complete segments the playlist listed at that moment, and their bytes when all were known. */
  listedSegments?: number;
  listedBytes?: number;
}

const GAUGES = {
  bytesHeld: 'camstream_llhls_bytes_held',
  partsHeld: 'camstream_llhls_parts_held',
  segmentsHeld: 'camstream_llhls_segments_held',
  partsMade: 'camstream_llhls_parts_made',
  waitingRequests: 'camstream_llhls_waiting_requests',
} as const;

/** Reads `url` every `intervalMs` until stopped; `listed` says what the playlist lists now. */
export class MetricsSampler {
  readonly samples: PackagerSample[] = [];
  readonly #url: string;
  readonly #listed: () => { segments: number; bytes?: number } | undefined;
  readonly #timer: NodeJS.Timeout;
  #busy = false;
  #stopped = false;

  constructor(
    url: string,
    listed: () => { segments: number; bytes?: number } | undefined,
    intervalMs = 1000,
  ) {
    this.#url = url;
    this.#listed = listed;
    void this.#sample();
    this.#timer = setInterval(() => void this.#sample(), intervalMs);
  }

  stop(): PackagerSample[] {
    this.#stopped = true;
    clearInterval(this.#timer);
    return this.samples;
  }

  async #sample(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const response = await fetch(this.#url, { signal: AbortSignal.timeout(5000) });
      if (!response.ok) return;
      const values = parsePrometheusText(await response.text());
      const sample: PackagerSample = { at: Date.now() };
      for (const [key, name] of Object.entries(GAUGES) as [keyof typeof GAUGES, string][]) {
        if (values[name] !== undefined) sample[key] = values[name];
      }
      if (this.#stopped) return;
      const listed = this.#listed();
      if (listed) {
        sample.listedSegments = listed.segments;
        if (listed.bytes !== undefined) sample.listedBytes = listed.bytes;
      }
      this.samples.push(sample);
    } catch {
      // the service is busy or restarting: no sample this second
    } finally {
      this.#busy = false;
    }
  }
}
