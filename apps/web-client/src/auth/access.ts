/** The signed-in access, for the pages: null without auth (everything allowed, no sign-out). */
import { createContext, useContext } from 'react';
import type { Access } from '../logic/auth';

export interface Session {
  access: Access | null;
  signOut: () => void;
}

export const SessionContext = createContext<Session>({ access: null, signOut: () => undefined });

export const useSession = (): Session => useContext(SessionContext);
