/**
 * The page's query string as state, for the deep link `/?camera=<id>`: `navigate` pushes a history
 * entry, and Back (popstate) brings the previous query string back.
 */
import { useCallback, useEffect, useState } from 'react';

/** In history.state: this entry was pushed by the page, so Back returns to the page before it. */
const PUSHED = 'camstreamPushed';

export interface LocationSearch {
  search: string;
  /** Counts navigations (navigate, Back, Forward): what was true of one page may not be of the next. */
  generation: number;
  /** Pushes `search` (`''` or `?…`) as a new history entry. */
  navigate: (search: string) => void;
  /** Back to where the page came from if it pushed this entry, else `fallback` as a new entry. */
  back: (fallback: string) => void;
}

export function useLocationSearch(): LocationSearch {
  const [{ search, generation }, setLocation] = useState(() => ({
    search: window.location.search,
    generation: 0,
  }));
  const update = useCallback(
    () => setLocation((current) => ({ search: window.location.search, generation: current.generation + 1 })),
    [],
  );

  useEffect(() => {
    window.addEventListener('popstate', update);
    return () => window.removeEventListener('popstate', update);
  }, [update]);

  const navigate = useCallback(
    (next: string) => {
      window.history.pushState(
        { [PUSHED]: true },
        '',
        `${window.location.pathname}${next}${window.location.hash}`,
      );
      update();
      window.scrollTo(0, 0);
    },
    [update],
  );

  const back = useCallback(
    (fallback: string) => {
      const state: unknown = window.history.state;
      if (typeof state === 'object' && state !== null && PUSHED in state) window.history.back();
      else navigate(fallback);
    },
    [navigate],
  );

  return { search, generation, navigate, back };
}
