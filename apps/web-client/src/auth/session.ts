/**
 * The token the page signs its requests with, kept in localStorage, and the alarm every request
 * raises when the service answers 401 (the sign-in screen listens). No token: requests go out as they
 * always did, without an Authorization header.
 */
const STORAGE_KEY = 'camstream.token';

let token: string | null = null;
const listeners = new Set<() => void>();

/** The token stored by an earlier visit, if any (storage may be unavailable: private modes). */
export function storedToken(): string | null {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

/** Uses `next` for every request from now on; kept in the browser unless null (then removed). */
export function setToken(next: string | null): void {
  token = next;
  try {
    if (next === null) window.localStorage.removeItem(STORAGE_KEY);
    else window.localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // not kept: this tab still uses it
  }
}

export const currentToken = (): string | null => token;

/** The Authorization header for `with` (default: the token in use), or none. */
export function authHeaders(withToken: string | null = token): Record<string, string> {
  return withToken === null ? {} : { authorization: `Bearer ${withToken}` };
}

/** A request was answered 401: the token in use is no longer accepted. */
export function reportUnauthorized(): void {
  if (token === null) return; // no token sent: the gate's own probe decides
  for (const listener of listeners) listener();
}

export function onUnauthorized(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
