import { useCallback, useState } from 'react';
import { Spinner } from './components/Spinner';
import type { PlayerStatus } from './logic/view';
import { Player } from './player/Player';
import type { StatsCollector } from './stats/collector';
import { StatsOverlay } from './stats/StatsOverlay';

/**
 * Player-only mode (`?src=<HLS URL>`): that playlist, from any origin, on the same player with the
 * same hls.js settings (the low-latency ones with `?ll=1`) and the stats overlay; no controls, no calls to this service's API. The
 * benchmark plays a peer server's stream on it, so both are measured by the same page.
 */
export function PlayerOnly({
  src,
  lowLatency,
  stats,
}: {
  src: string;
  lowLatency: boolean;
  stats: StatsCollector;
}) {
  const [status, setStatus] = useState<PlayerStatus>('loading');
  const onStatus = useCallback((_src: string, next: PlayerStatus) => setStatus(next), []);
  return (
    <div className="page">
      <main className="main">
        <section className="stage" aria-label="Live video">
          <Player src={src} lowLatency={lowLatency} onStatus={onStatus} stats={stats} />
          <StatsOverlay collector={stats} />
          {status !== 'playing' && (
            <span className="stage-buffering" role="status" data-status={status}>
              {status === 'unsupported' ? (
                'This browser cannot play HLS'
              ) : (
                <>
                  <Spinner small /> {status === 'buffering' ? 'Buffering…' : 'Loading…'}
                </>
              )}
            </span>
          )}
        </section>
        <p className="hint">
          Playing <a href={src}>{src}</a>
        </p>
      </main>
    </div>
  );
}
