import type { ReactNode } from 'react';
import { Spinner } from './Spinner';

/** The page before the first answer from the server: the header and a spinner, never a blank page. */
export function LoadingPage({ headerEnd }: { headerEnd?: ReactNode }) {
  return (
    <div className="page" data-view="loading">
      <header className="header">
        <h1 className="brand">camstream</h1>
        {headerEnd}
      </header>
      <main className="main">
        <p className="loading-note" role="status">
          <Spinner small /> Connecting to the server…
        </p>
      </main>
    </div>
  );
}
