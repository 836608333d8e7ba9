/**
 * The page for one camera or many: today's single-camera page when the service has one camera, the
 * grid when it has several, one camera large with `?camera=<id>` (a deep link; Back returns to the
 * grid). Which one is pageView's decision (logic/page.ts).
 */
import { useCallback, useState } from 'react';
import { App } from './App';
import { Spinner } from './components/Spinner';
import { CameraGrid } from './grid/CameraGrid';
import { useCameras } from './hooks/useCameras';
import { useLocationSearch } from './hooks/useLocationSearch';
import { pageView, searchWithCamera } from './logic/page';
import type { StatsCollector } from './stats/collector';
import './cameras.css';

export function Root({ stats }: { stats?: StatsCollector }) {
  const { search, generation, navigate, back } = useLocationSearch();
  // The navigation on which the single-camera page showed a real list: it stays until the next one.
  const [singleShownAt, setSingleShownAt] = useState<number | null>(null);
  // Events for every camera only while the grid (or nothing yet) is on screen; see useCameras.
  const [streamList, setStreamList] = useState(true);
  const cameras = useCameras(streamList);
  const view = pageView(cameras, search, singleShownAt === generation);
  const wantsStream = view.kind === 'grid' || view.kind === 'loading';
  if (wantsStream !== streamList) setStreamList(wantsStream);
  // Adjusted while rendering (React's pattern for state derived from the previous render).
  if (view.kind === 'single' && cameras.cameras !== null && singleShownAt !== generation) {
    setSingleShownAt(generation);
  }

  const hrefFor = useCallback(
    (cameraId: string | null) => `${window.location.pathname}${searchWithCamera(search, cameraId)}`,
    [search],
  );
  const open = useCallback(
    (cameraId: string) => navigate(searchWithCamera(search, cameraId)),
    [navigate, search],
  );

  switch (view.kind) {
    case 'loading':
      return (
        <div className="page" data-view="loading">
          <header className="header">
            <h1 className="brand">camstream</h1>
          </header>
          <main className="main">
            <p className="loading-note" role="status">
              <Spinner small /> Connecting to the server…
            </p>
          </main>
        </div>
      );
    case 'single':
      return (
        <App
          stats={stats}
          back={
            (cameras.cameras?.length ?? 0) > 1
              ? { href: hrefFor(null), go: () => setSingleShownAt(null) }
              : undefined
          }
        />
      );
    case 'camera':
      return (
        <App
          key={view.cameraId}
          cameraId={view.cameraId}
          stats={stats}
          back={{ href: hrefFor(null), go: () => back(searchWithCamera(search, null)) }}
        />
      );
    case 'grid':
      return (
        <CameraGrid
          cameras={cameras.cameras ?? []}
          unknownId={view.unknownId}
          connection={cameras.connection}
          hrefFor={hrefFor}
          onOpen={open}
        />
      );
  }
}
