/**
 * Who the page is signed in as, and what that lets it show. Pure: the service's GET /api/auth answer
 * in, decisions out. No tokens configured on the service: no access limits (`access` null), the page
 * as it always was.
 */
import type { StreamInfo } from '@camstream/protocol';
import type { PageView } from './page';
import type { ApiFailure } from './errors';

export type Role = 'operator' | 'viewer';

/** GET /api/auth: whether a token is needed and, when a valid one was sent, what it may do. */
export interface AuthInfo {
  required: boolean;
  role?: Role;
  cameras?: readonly string[] | '*';
}

/** What a valid token allows. */
export interface Access {
  role: Role;
  /** The cameras it may watch (and, as an operator, start and stop); '*' for all. */
  cameras: readonly string[] | '*';
}

const isRole = (value: unknown): value is Role => value === 'operator' || value === 'viewer';

/** The AuthInfo in `value`, or null when it is not one. */
export function toAuthInfo(value: unknown): AuthInfo | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const body = value as Record<string, unknown>;
  if (typeof body.required !== 'boolean') return null;
  if (body.role !== undefined && !isRole(body.role)) return null;
  const cameras = body.cameras;
  if (
    cameras !== undefined &&
    cameras !== '*' &&
    !(Array.isArray(cameras) && cameras.every((id) => typeof id === 'string'))
  ) {
    return null;
  }
  return {
    required: body.required,
    ...(body.role !== undefined && { role: body.role }),
    ...(cameras !== undefined && { cameras: cameras as readonly string[] | '*' }),
  };
}

/** The page's state of entry. */
export type Gate =
  | { kind: 'checking' }
  /** `notice`: why the sign-in screen is shown (a token no longer accepted, a sign-out), if anything. */
  | { kind: 'sign-in'; notice: string | null }
  /** `access` null: the service wants no token. `token`: the one in use (null without auth). */
  | { kind: 'open'; access: Access | null; token: string | null };

export const NOTICES = {
  expired: 'Your token is no longer accepted: it may have expired or been revoked. Sign in again.',
  wrong: 'That token is not accepted. Check it and try again.',
  signedOut: 'Signed out. The token was removed from this browser.',
  empty: 'Enter a token.',
  unreachable: 'Could not reach the web service to check the token. Try again in a moment.',
} as const;

/**
 * Where an answer of GET /api/auth leads. `token`: the one it was sent with (null: none).
 * `status` 401: the token is not accepted. Any other failure (an older service without the route, a
 * service not up yet): the page opens as it always did, and a 401 later brings the sign-in screen.
 */
export function gateAfterAuth(
  answer: { ok: true; info: AuthInfo } | { ok: false; status?: number },
  token: string | null,
): Gate {
  if (!answer.ok) {
    if (answer.status === 401) return { kind: 'sign-in', notice: token === null ? null : NOTICES.expired };
    return { kind: 'open', access: null, token };
  }
  const { info } = answer;
  if (!info.required) return { kind: 'open', access: null, token: null };
  if (token === null || info.role === undefined) return { kind: 'sign-in', notice: null };
  return { kind: 'open', access: { role: info.role, cameras: info.cameras ?? '*' }, token };
}

/** A token as typed or pasted: trimmed, an optional "Bearer " dropped; null when nothing is left. */
export function cleanToken(input: string): string | null {
  const token = input
    .trim()
    .replace(/^bearer(\s+|$)/i, '')
    .trim();
  return token === '' ? null : token;
}

/** Start and Stop are offered: no auth, or an operator. */
export const canControl = (access: Access | null): boolean => access === null || access.role === 'operator';

/** The token may watch `cameraId`. */
export const covers = (access: Access | null, cameraId: string): boolean =>
  access === null || access.cameras === '*' || access.cameras.includes(cameraId);

/** The cameras the token covers, in the service's order (all of them without auth). */
export function visibleCameras(
  cameras: readonly StreamInfo[] | null,
  access: Access | null,
): readonly StreamInfo[] | null {
  if (cameras === null || access === null || access.cameras === '*') return cameras;
  return cameras.filter((camera) => covers(access, camera.cameraId));
}

/** "operator · all cameras", "viewer · cam1, cam2": who is signed in, for the header. */
export function accessLabel(access: Access): string {
  const cameras = access.cameras === '*' ? 'all cameras' : access.cameras.join(', ') || 'no cameras';
  return `${access.role} · ${cameras}`;
}

/**
 * A 403 in words. `action`: what was refused; `cameraId`: the camera it was about (undefined: the
 * default camera of the first contract).
 */
export function forbiddenWords(
  access: Access | null,
  action: 'control' | 'watch',
  cameraId: string | undefined,
): string {
  if (action === 'control' && access?.role === 'viewer') {
    return 'This token may only watch: starting and stopping a camera needs an operator token.';
  }
  if (cameraId !== undefined && !covers(access, cameraId)) {
    return `This token does not cover camera ${cameraId}.`;
  }
  return cameraId === undefined
    ? 'This token may not do that with this camera.'
    : `This token may not do that with camera ${cameraId}.`;
}

/** The words for an id the grid cannot show: not served, or (with limited access) not covered. */
export function missingCameraWords(access: Access | null, cameraId: string): string {
  return access !== null && access.cameras !== '*' && !covers(access, cameraId)
    ? `This token does not cover camera ${cameraId}.`
    : `There is no camera ${cameraId} here.`;
}

/** Whether a failed request means the token is no longer accepted. */
export const isUnauthorized = (failure: ApiFailure): boolean =>
  failure.status === 401 || failure.code === 'WEB_ERR_UNAUTHORIZED';

/** Whether a failed request was refused for the token's role or cameras. */
export const isForbidden = (failure: ApiFailure): boolean =>
  failure.status === 403 || failure.code === 'WEB_ERR_FORBIDDEN';

/**
 * The page for a token limited to some cameras: "today's single page" is the default camera's, which
 * the token may not cover, so one covered camera opens by its id, and none leaves the (empty) grid.
 */
export function viewForAccess(
  view: PageView,
  cameras: readonly StreamInfo[] | null,
  access: Access | null,
): PageView {
  if (view.kind !== 'single' || access === null || access.cameras === '*' || cameras === null) return view;
  const [only] = cameras;
  return cameras.length === 1 && only
    ? { kind: 'camera', cameraId: only.cameraId }
    : { kind: 'grid', unknownId: null };
}
