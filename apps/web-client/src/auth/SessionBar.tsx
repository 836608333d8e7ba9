import { accessLabel } from '../logic/auth';
import { useSession } from './access';

/** Who is signed in, and Sign out; nothing when the service wants no token. */
export function SessionBar() {
  const { access, signOut } = useSession();
  if (access === null) return null;
  return (
    <div className="session-bar" data-testid="session">
      <span className="session-who" data-testid="session-role" data-role={access.role}>
        Signed in as {accessLabel(access)}
      </span>
      <button type="button" className="button button-quiet" data-testid="sign-out" onClick={signOut}>
        Sign out
      </button>
    </div>
  );
}
