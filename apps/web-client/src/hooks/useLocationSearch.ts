/**
 * The page's query string as state, for the deep link `/?camera=<id>`: `navigate` pushes a history
 * entry, and Back (popstate) brings the previous query string back.
 */
import { useCallback, useEffect, useState } from 'react';

/** In history.state: this entry was pushed by the page, so Back returns to the page before it. */
const PUSHED = 'camstreamPushed';

export interface LocationSearch {
  search: string;
  /** Pushes `search` (`''` or `?…`) as a new history entry. */
  navigate: (search: string) => void;
  /** Back to where the page came from if it pushed this entry, else `fallback` as a new entry. */
  back: (fallback: string) => void;
}

export function useLocationSearch(): LocationSearch {
  const [search, setSearch] = useState(() => window.location.search);

  useEffect(() => {
    const onPop = () => setSearch(window.location.search);
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const navigate = useCallback((next: string) => {
    window.history.pushState(
      { [PUSHED]: true },
      '',
      `${window.location.pathname}${next}${window.location.hash}`,
    );
    setSearch(window.location.search);
    window.scrollTo(0, 0);
  }, []);

  const back = useCallback(
    (fallback: string) => {
      const state: unknown = window.history.state;
      if (typeof state === 'object' && state !== null && PUSHED in state) window.history.back();
      else navigate(fallback);
    },
    [navigate],
  );

  return { search, navigate, back };
}
