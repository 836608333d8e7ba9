/**
 * The page for one camera or many: today's single-camera page when the service has one camera, the
 * grid when it has several, one camera large with `?camera=<id>` (a deep link; Back returns to the
 * grid). Which one is pageView's decision (logic/page.ts).
 */
import { useCallback, useState } from 'react';
import { App } from './App';
import { useSession } from './auth/access';
import { SessionBar } from './auth/SessionBar';
import { LoadingPage } from './components/LoadingPage';
import { CameraGrid } from './grid/CameraGrid';
import { useCameras } from './hooks/useCameras';
import { useLocationSearch } from './hooks/useLocationSearch';
import { viewForAccess, visibleCameras } from './logic/auth';
import { pageView, searchWithCamera } from './logic/page';
import type { StatsCollector } from './stats/collector';
import './cameras.css';

export function Root({ stats }: { stats?: StatsCollector }) {
  const { search, generation, navigate, back } = useLocationSearch();
  // The navigation on which the single-camera page showed a real list: it stays until the next one.
  const [singleShownAt, setSingleShownAt] = useState<number | null>(null);
  // Events for every camera only while the grid (or nothing yet) is on screen; see useCameras.
  const [streamList, setStreamList] = useState(true);
  const { access } = useSession();
  const all = useCameras(streamList);
  // A token limited to some cameras: the others are not shown at all.
  const cameras = { ...all, cameras: visibleCameras(all.cameras, access) };
  const view = viewForAccess(
    pageView(cameras, search, singleShownAt === generation),
    cameras.cameras,
    access,
  );
  // The one camera a limited token covers: its page is the whole site, no way back to a grid.
  const onlyCamera = access !== null && access.cameras !== '*' && cameras.cameras?.length === 1;
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
      return <LoadingPage headerEnd={<SessionBar />} />;
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
          back={
            !onlyCamera ? { href: hrefFor(null), go: () => back(searchWithCamera(search, null)) } : undefined
          }
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
