/**
 * Which cameras the service serves, and where each one's video arrives. Pure: config.ts parses the
 * variables with these, the registry resolves a discovered camera's settings with them.
 *
 * `CAMERAS` lists cameras beside the default one (CAMERA_ID on UDP_LISTEN), separated by spaces or
 * commas: `garage=udp://0.0.0.0:1235 door=udp://0.0.0.0:1236?sources=192.168.1.20+192.168.1.21`.
 */
import { isIP } from 'node:net';
import { formatUdpTarget, isValidCameraId, parseUdpTarget } from '@camstream/protocol';

export type CameraOrigin = 'configured' | 'discovered';

/** Ids the MQTT contract allows but the HTTP routes cannot serve: `/api/cameras/events` is the
 * all-cameras event stream, so a camera called `events` would have no page of its own. */
const ROUTE_NAMES: ReadonlySet<string> = new Set(['events']);

/** Why the service cannot serve a camera of this id, or undefined when it can. */
export function unservableCameraId(id: string): string | undefined {
  if (!isValidCameraId(id)) return "its id must be 1-64 letters, digits, '.', '_' or '-'";
  if (ROUTE_NAMES.has(id)) return `the id ${JSON.stringify(id)} is a route name under /api/cameras`;
  return undefined;
}

/** What one camera's stream needs to know about it. */
export interface CameraSettings {
  readonly id: string;
  /** udp://host:port the service receives its MPEG-TS on (while a stream runs). */
  readonly listen: string;
  /** Addresses its datagrams may come from; undefined: any. */
  readonly sources: readonly string[] | undefined;
  /** Sent in start commands; undefined: the camera uses its own target. */
  readonly target: string | undefined;
  readonly origin: CameraOrigin;
}

/** A CAMERAS entry, before a target is derived for it. */
export interface ConfiguredCamera {
  readonly id: string;
  readonly listen: string;
  readonly sources: readonly string[] | undefined;
}

export interface PortRange {
  readonly first: number;
  readonly last: number;
}

/** Addresses that mean "every interface": a camera cannot be told to send there. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '::0';
}

/** Comma- or plus-separated IP addresses; throws a message naming the bad ones. */
export function parseAddressList(raw: string, separator: ',' | '+'): readonly string[] {
  const addresses = raw
    .split(separator)
    .map((a) => a.trim())
    .filter((a) => a !== '');
  const bad = addresses.filter((a) => isIP(a) === 0);
  if (addresses.length === 0 || bad.length > 0) {
    const name = separator === ',' ? 'commas' : "'+'";
    throw new Error(
      `must be IP addresses separated by ${name}${bad.length > 0 ? `; not one: ${bad.join(', ')}` : ''}`,
    );
  }
  return Object.freeze(addresses);
}

/** Parses CAMERAS; throws one message listing every bad entry. */
export function parseCameraList(raw: string): readonly ConfiguredCamera[] {
  const entries = raw.split(/[\s,]+/).filter((entry) => entry !== '');
  const cameras: ConfiguredCamera[] = [];
  const problems: string[] = [];
  for (const entry of entries) {
    const match = /^([^=]+)=(udp:\/\/[^?]+)(?:\?sources=(.*))?$/.exec(entry);
    if (!match) {
      problems.push(`${JSON.stringify(entry)} is not id=udp://host:port[?sources=a+b]`);
      continue;
    }
    const [, id, listen, sources] = match as unknown as [string, string, string, string | undefined];
    try {
      const unservable = unservableCameraId(id);
      if (unservable !== undefined) throw new Error(unservable);
      parseUdpTarget(listen);
      cameras.push({
        id,
        listen,
        sources: sources === undefined ? undefined : parseAddressList(sources, '+'),
      });
    } catch (err) {
      problems.push(`${JSON.stringify(entry)}: ${(err as Error).message}`);
    }
  }
  if (entries.length === 0) problems.push('lists no camera (unset it instead)');
  if (problems.length > 0) throw new Error(problems.join('; '));
  return Object.freeze(cameras);
}

/** Parses `first-last` (a port range for discovered cameras). */
export function parsePortRange(raw: string): PortRange {
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(raw);
  const first = Number(match?.[1]);
  const last = Number(match?.[2]);
  if (!match || first < 1 || last > 65535 || first > last) {
    throw new Error('must be first-last, two ports from 1 to 65535, e.g. 1240-1339');
  }
  return Object.freeze({ first, last });
}

/**
 * The target a camera is told: where it should send to reach `listen`. A wildcard listen address
 * needs `targetHost` (UDP_TARGET_HOST); without one the camera keeps its own target.
 */
export function targetFor(listen: string, targetHost: string | undefined): string | undefined {
  const { host, port } = parseUdpTarget(listen);
  if (targetHost !== undefined) return formatUdpTarget({ host: targetHost, port });
  return isWildcardHost(host) ? undefined : formatUdpTarget({ host, port });
}

/** Problems across the camera list: ids or UDP ports used twice. */
export function cameraListProblems(
  defaultCamera: ConfiguredCamera,
  others: readonly ConfiguredCamera[],
): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  const ports = new Map<number, string>();
  for (const camera of [defaultCamera, ...others]) {
    if (ids.has(camera.id)) problems.push(`camera ${camera.id} is listed twice (CAMERA_ID and CAMERAS)`);
    ids.add(camera.id);
    const { port } = parseUdpTarget(camera.listen);
    const holder = ports.get(port);
    if (holder !== undefined) problems.push(`cameras ${holder} and ${camera.id} share UDP port ${port}`);
    ports.set(port, camera.id);
  }
  return problems;
}
