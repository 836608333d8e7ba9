/** Reads a server-sent event stream over a real socket (inject() would wait for its end). */

export interface ServerEvent {
  readonly event: string;
  readonly data: unknown;
}

export interface OpenEvents {
  readonly response: Response;
  /** The raw text so far, the events parsed from it, and whether the server ended the stream. */
  readonly state: { text: string; events: ServerEvent[]; ended: boolean };
  close(): void;
}

export async function openEvents(url: string): Promise<OpenEvents> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const state: OpenEvents['state'] = { text: '', events: [], ended: false };
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        state.text += value;
        state.events = [...state.text.matchAll(/^event: (\S+)\ndata: (.*)$/gm)].map((m) => ({
          event: m[1]!,
          data: JSON.parse(m[2]!),
        }));
      }
      state.ended = true;
    } catch {
      // aborted
    }
  })();
  return { response, state, close: () => controller.abort() };
}

/** The data of the `stream` events so far. */
export const streamEvents = (events: OpenEvents): unknown[] =>
  events.state.events.filter((e) => e.event === 'stream').map((e) => e.data);
