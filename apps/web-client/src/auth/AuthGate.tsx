/**
 * The door: asks GET /api/auth whether a token is needed, with the stored one if any, and shows
 * the sign-in screen or the pages (remounted for each sign-in, so every request carries the new
 * token). A 401 from any request later brings the sign-in screen back with a sentence.
 */
import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { fetchAuth } from '../api';
import { LoadingPage } from '../components/LoadingPage';
import { gateAfterAuth, NOTICES, type Gate } from '../logic/auth';
import { SessionContext, type Session } from './access';
import { onUnauthorized, setToken, storedToken } from './session';
import { SignIn } from './SignIn';
import './auth.css';

async function check(token: string | null): Promise<Gate> {
  const result = await fetchAuth(token);
  return gateAfterAuth(
    result.ok ? { ok: true, info: result.value } : { ok: false, status: result.error.status },
    token,
  );
}

export function AuthGate({ children }: { children: ReactNode }) {
  const [gate, setGate] = useState<Gate>({ kind: 'checking' });
  // Each sign-in gets a new generation: the pages below start afresh with the new token.
  const [generation, setGeneration] = useState(0);

  const enter = useCallback((next: Gate) => {
    if (next.kind === 'open') setToken(next.token);
    else if (next.kind === 'sign-in') setToken(null);
    if (next.kind === 'open') setGeneration((g) => g + 1);
    setGate(next);
  }, []);

  useEffect(() => {
    let live = true;
    void check(storedToken()).then((next) => {
      if (live) enter(next);
    });
    return () => {
      live = false;
    };
  }, [enter]);

  useEffect(() => onUnauthorized(() => enter({ kind: 'sign-in', notice: NOTICES.expired })), [enter]);

  const signIn = useCallback(
    async (token: string): Promise<string | null> => {
      const result = await fetchAuth(token);
      if (!result.ok && result.error.status !== 401) return NOTICES.unreachable;
      const next = gateAfterAuth(
        result.ok ? { ok: true, info: result.value } : { ok: false, status: 401 },
        token,
      );
      if (next.kind === 'sign-in') return NOTICES.wrong;
      enter(next);
      return null;
    },
    [enter],
  );

  const access = gate.kind === 'open' ? gate.access : null;
  const session = useMemo<Session>(
    () => ({ access, signOut: () => enter({ kind: 'sign-in', notice: NOTICES.signedOut }) }),
    [access, enter],
  );

  switch (gate.kind) {
    case 'checking':
      return <LoadingPage />;
    case 'sign-in':
      return <SignIn notice={gate.notice} onSubmit={signIn} />;
    case 'open':
      return (
        <SessionContext.Provider value={session} key={generation}>
          {children}
        </SessionContext.Provider>
      );
  }
}
