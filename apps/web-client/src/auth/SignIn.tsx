import { useState, type FormEvent } from 'react';
import { Spinner } from '../components/Spinner';
import { cleanToken, NOTICES } from '../logic/auth';

export interface SignInProps {
  /** Why the screen is shown (a token no longer accepted, a sign-out), if anything. */
  notice: string | null;
  /** Tries the token; resolves to the words of a refusal, or null once signed in. */
  onSubmit: (token: string) => Promise<string | null>;
}

/** The token asked for, with what went wrong last in plain words. */
export function SignIn({ notice, onSubmit }: SignInProps) {
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const token = cleanToken(value);
    if (token === null) return setProblem(NOTICES.empty);
    setBusy(true);
    setProblem(null);
    void onSubmit(token).then((refusal) => {
      setBusy(false);
      setProblem(refusal);
    });
  };
  const shown = problem ?? notice;

  return (
    <div className="page" data-view="sign-in">
      <title>Sign in · camstream</title>
      <header className="header">
        <h1 className="brand">camstream</h1>
      </header>
      <main className="main">
        <form className="sign-in" onSubmit={submit} aria-labelledby="sign-in-title">
          <h2 id="sign-in-title" className="sign-in-title">
            Sign in
          </h2>
          <p className="sign-in-text">
            This camera service needs a token. Ask whoever runs it for an operator token (watch, start and
            stop) or a viewer token (watch only).
          </p>
          {shown && (
            <p className="notice sign-in-notice" role="alert" data-testid="sign-in-notice">
              {shown}
            </p>
          )}
          <label className="sign-in-label" htmlFor="token">
            Token
          </label>
          <input
            id="token"
            className="sign-in-input"
            data-testid="token"
            type="password"
            autoComplete="current-password"
            autoCapitalize="none"
            spellCheck={false}
            value={value}
            onChange={(event) => setValue(event.target.value)}
            disabled={busy}
          />
          <button type="submit" className="button button-start" data-testid="sign-in" disabled={busy}>
            {busy && <Spinner small />}
            Sign in
          </button>
          <p className="hint">The token is kept in this browser until you sign out.</p>
        </form>
      </main>
    </div>
  );
}
