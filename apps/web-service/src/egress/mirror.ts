/**
 * An egress worker's copy of the service's LL-HLS packagers (fed by egress/feed.ts), and its
 * answers: the same decisions as routes/hls-fast.ts on the same state, the same bytes. A request
 * it cannot decide exactly as the service would is not answered (`handle` returns false): the
 * connection goes back to the service. Blocking reloads and hinted parts are held here, by what
 * they wait for, and answered in one pass when an update brings it; a hold that ends without it
 * (three target durations, a stop, another part made instead) gets the fast path's coded error.
 */
import { createError, toErrorBody, type ServiceError } from '../errors.js';
import { blockingTarget, judgeBlockingRequest, type PlaylistModel } from '../outputs/ll-hls/model.js';
import { isLowLatencyName, parseMediaName, PLAYLIST_NAME } from '../outputs/names.js';
import { readHlsUrl } from '../routes/hls-request.js';
import { Heads } from './heads.js';
import type { CameraMessage, UpdateMessage, WorkerSettings } from './messages.js';

const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';
const ERROR_TYPE = 'application/json; charset=utf-8';
/** routes/hls.ts's ERROR_CACHE_CONTROL. */
const ERROR_CACHE_CONTROL = 'no-store';

/** A connection's side of an answer. */
export interface Requester {
  /** Writes an answer; the connection reads its next request once it is sent. */
  respond(head: Buffer, body: Buffer): void;
  /** The request's hold while it is held (the connection cancels it if its client goes). */
  held: Hold | undefined;
  /** Gives the held request (and its connection) to the service, unanswered. */
  handOff(): void;
}

export interface Hold {
  readonly requester: Requester;
  readonly camera: CameraState;
  /** The group's key: `<msn>.<part>` (a playlist) or the part's name. */
  readonly key: string;
  readonly playlist: boolean;
  readonly skip: boolean;
  /** The playlist's or the part's name. */
  readonly name: string;
  readonly wanted: string;
  /**
   * A part past the newest this mirror knows of, asked for before the update that makes it the next
   * (the viewer read a newer playlist from the service): held for that update; if it does not make
   * the part known or next, the request is the service's.
   */
  readonly ahead: boolean;
  timer: NodeJS.Timeout | undefined;
}

interface CameraState {
  readonly settings: CameraMessage;
  model: PlaylistModel | undefined;
  /** When the service sent the last update. */
  sentAt: number;
  full: Buffer | undefined;
  delta: Buffer | undefined;
  nextParts: ReadonlySet<string>;
  readonly media: Map<string, Buffer>;
  readonly playlistHolds: Map<string, { msn: number; part: number | undefined; holds: Set<Hold> }>;
  readonly partHolds: Map<string, Set<Hold>>;
}

/** A mirror whose last update is older than this at a hold's timeout may be behind the service. */
const CURRENT_MS = 1000;

/** How far past the mirror's next part a request is held as `ahead`: a part or two of IPC delay. */
const AHEAD_PARTS = 2;

/**
 * A part of the mirror's current stream within AHEAD_PARTS after its next part (nextParts' first
 * name: the open segment's next index); not for a new segment's part 0 (nextParts names that one).
 */
function isAhead(camera: CameraState, name: string): boolean {
  const wanted = parseMediaName(name);
  const [first] = camera.nextParts;
  const next = first === undefined ? undefined : parseMediaName(first);
  if (!wanted || !next || wanted.part === undefined || next.part === undefined) return false;
  if (wanted.streamId !== next.streamId) return false;
  return wanted.msn === next.msn ? wanted.part > next.part && wanted.part <= next.part + AHEAD_PARTS : false;
}

export type Log = (level: 'warn' | 'error', fields: object, message: string) => void;

export class Mirror {
  readonly #settings: WorkerSettings;
  readonly #heads: Heads;
  readonly #log: Log;
  readonly #cameras = new Map<string, CameraState>();
  #held = 0;
  answered = 0;
  /** Requests left to the service, by why (the bench and /metrics tell them apart). */
  readonly refused: Record<string, number> = {};

  constructor(settings: WorkerSettings, log: Log) {
    this.#settings = settings;
    this.#heads = new Heads(settings.baseHeaders, settings.keepAliveTimeoutMs);
    this.#log = log;
  }

  get held(): number {
    return this.#held;
  }

  camera(settings: CameraMessage): void {
    this.cameraGone(settings.cameraId);
    this.#cameras.set(settings.cameraId, {
      settings,
      model: undefined,
      sentAt: 0,
      full: undefined,
      delta: undefined,
      nextParts: new Set(),
      media: new Map(),
      playlistHolds: new Map(),
      partHolds: new Map(),
    });
  }

  /** The camera is no more (forgotten, or the worker stops): its holds end as after a stop. */
  cameraGone(cameraId: string): void {
    const camera = this.#cameras.get(cameraId);
    if (!camera) return;
    this.#cameras.delete(cameraId);
    camera.model = camera.full = camera.delta = undefined;
    camera.nextParts = new Set();
    camera.media.clear();
    this.#wake(camera);
  }

  update(update: UpdateMessage): void {
    const camera = this.#cameras.get(update.cameraId);
    if (!camera) return;
    for (const name of update.removed) camera.media.delete(name);
    for (const [name, bytes] of update.added) camera.media.set(name, bytes);
    camera.model = update.model;
    camera.sentAt = update.sentAt;
    camera.full = update.full;
    camera.delta = update.delta;
    camera.nextParts = new Set(update.nextParts);
    this.#wake(camera);
  }

  /** Answers or holds a GET of `url` (it starts with /hls/) and returns true; false: the service's. */
  handle(requester: Requester, url: string): boolean {
    if (this.#settings.handOffAll) return this.#refuse('all');
    const target = readHlsUrl(url);
    const query = target?.query;
    if (!target || !query) return this.#refuse('url');
    const camera = this.#cameras.get(target.cameraId ?? this.#settings.defaultCameraId);
    if (!camera) return this.#refuse('camera');
    const { name } = target;
    const { cacheControl } = camera.settings;
    if (name === PLAYLIST_NAME) {
      const directives = query.directives;
      if (!directives) return this.#refuse('directives'); // malformed: the service's 400
      const skip = directives.skip === true;
      if (directives.msn === undefined) {
        const body = skip ? camera.delta : camera.full;
        if (!body) return this.#refuse('no-stream'); // the service's 404
        this.#send(requester, body, PLAYLIST_TYPE, cacheControl.playlist);
        return true;
      }
      if (!camera.model) return this.#refuse('no-stream');
      const verdict = judgeBlockingRequest(camera.model, directives.msn, directives.part);
      if (verdict === 'too-far') return this.#refuse('too-far'); // the service's 400
      if (verdict === 'ready') {
        this.#send(requester, skip ? camera.delta! : camera.full!, PLAYLIST_TYPE, cacheControl.blocking);
        return true;
      }
      const key = `${directives.msn}.${directives.part ?? ''}`;
      let group = camera.playlistHolds.get(key);
      if (!group) {
        group = { msn: directives.msn, part: directives.part, holds: new Set() };
        camera.playlistHolds.set(key, group);
      }
      const wanted = blockingTarget(directives.msn, directives.part);
      const hold = this.#hold({ requester, camera, key, playlist: true, skip, name, wanted, ahead: false });
      group.holds.add(hold);
      return true;
    }
    if (!isLowLatencyName(name)) return this.#refuse('name');
    const bytes = camera.media.get(name);
    if (bytes) {
      this.#send(requester, bytes, 'video/mp4', cacheControl.media);
      return true;
    }
    const ahead = !camera.nextParts.has(name);
    if (ahead && !isAhead(camera, name)) return this.#refuse('media'); // unknown or gone: the service's 404
    let group = camera.partHolds.get(name);
    if (!group) camera.partHolds.set(name, (group = new Set()));
    const hold = this.#hold({
      requester,
      camera,
      key: name,
      playlist: false,
      skip: false,
      name,
      wanted: name,
      ahead,
    });
    group.add(hold);
    return true;
  }

  #refuse(reason: string): false {
    this.refused[reason] = (this.refused[reason] ?? 0) + 1;
    return false;
  }

  /** The hold's client went away: it leaves its group, unanswered. */
  cancel(hold: Hold): void {
    if (this.#leave(hold)) clearTimeout(hold.timer);
  }

  #hold(fields: Omit<Hold, 'timer'>): Hold {
    const hold: Hold = { ...fields, timer: undefined };
    hold.timer = setTimeout(this.#timeOut, fields.camera.settings.holdMs, hold);
    fields.requester.held = hold;
    this.#held += 1;
    return hold;
  }

  readonly #timeOut = (hold: Hold): void => {
    hold.timer = undefined;
    if (!this.#leave(hold)) return;
    const { holdMs } = hold.camera.settings;
    if (hold.ahead) return this.#handOffAhead(hold);
    // No update for a while: this worker may be behind (busy, its updates still queued), not the
    // stream. The service, which is not behind, decides (and holds it again if it must).
    if (Date.now() - hold.camera.sentAt > CURRENT_MS) return this.#handOffAhead(hold, 'stale');
    if (!hold.playlist)
      return this.#error(hold.requester, createError('WEB_ERR_NOT_FOUND', `/hls/${hold.name}`));
    this.#error(hold.requester, createError('WEB_ERR_HLS_BLOCKING_TIMEOUT', hold.wanted, holdMs));
    this.#log(
      'error',
      { method: 'GET', url: `/hls/${hold.name}`, status: 503, ms: holdMs },
      'request failed',
    );
  };

  /** Removes a hold from its group; false if it had left already. */
  #leave(hold: Hold): boolean {
    const { camera, key } = hold;
    const group = hold.playlist ? camera.playlistHolds.get(key)?.holds : camera.partHolds.get(key);
    if (!group?.delete(hold)) return false;
    if (group.size === 0) {
      if (hold.playlist) camera.playlistHolds.delete(key);
      else camera.partHolds.delete(key);
    }
    this.#held -= 1;
    return true;
  }

  /** After an update: every group whose wait is over is answered, playlists (small) first. */
  #wake(camera: CameraState): void {
    const { model } = camera;
    const { cacheControl } = camera.settings;
    for (const [key, group] of camera.playlistHolds) {
      const verdict = model ? judgeBlockingRequest(model, group.msn, group.part) : 'gone';
      if (verdict !== 'ready' && verdict !== 'gone') continue;
      camera.playlistHolds.delete(key);
      for (const hold of group.holds) {
        this.#end(hold);
        const body = hold.skip ? camera.delta : camera.full;
        if (body) this.#send(hold.requester, body, PLAYLIST_TYPE, cacheControl.blocking);
        else
          this.#error(
            hold.requester,
            createError('WEB_ERR_NOT_FOUND', `/hls/${hold.name}: no stream is live`),
          );
      }
    }
    for (const [name, group] of camera.partHolds) {
      const bytes = camera.media.get(name);
      if (!bytes && (camera.nextParts.has(name) || isAhead(camera, name))) continue;
      camera.partHolds.delete(name);
      for (const hold of group) {
        this.#end(hold);
        if (bytes) this.#send(hold.requester, bytes, 'video/mp4', cacheControl.media);
        else if (hold.ahead) this.#handOffAhead(hold);
        else this.#error(hold.requester, createError('WEB_ERR_NOT_FOUND', `/hls/${hold.name}`));
      }
    }
  }

  #handOffAhead(hold: Hold, reason = 'ahead'): void {
    this.#refuse(reason);
    hold.requester.handOff();
  }

  #end(hold: Hold): void {
    clearTimeout(hold.timer);
    hold.timer = undefined;
    this.#held -= 1;
  }

  #send(requester: Requester, body: Buffer, contentType: string, cacheControl: string): void {
    requester.respond(this.#heads.ok(body, contentType, cacheControl), body);
    this.answered += 1;
  }

  /** As the fast path's #error: the coded body, logged at warn. */
  #error(requester: Requester, error: ServiceError): void {
    this.#log('warn', { code: error.code }, error.message);
    const body = Buffer.from(JSON.stringify(toErrorBody(error)));
    requester.respond(
      this.#heads.other(error.statusCode, ERROR_CACHE_CONTROL, ERROR_TYPE, body.length),
      body,
    );
    this.answered += 1;
  }
}
