import { useEffect, useState } from 'react';
import type { StatsCollector } from './collector';
import { formatStats, type StatsRow } from './reduce';

/** The `?stats=1` figures over the video, re-rendered on the collector's refresh (a few times a second). */
export function StatsOverlay({ collector }: { collector: StatsCollector }) {
  const [rows, setRows] = useState<StatsRow[]>(() => formatStats(collector.stats, Date.now()));
  useEffect(() => collector.subscribe(() => setRows(formatStats(collector.stats, Date.now()))), [collector]);
  return (
    <dl className="stats" data-testid="stats" aria-label="Playback statistics">
      {rows.map((row) => (
        <div className="stats-row" key={row.label}>
          <dt>{row.label}</dt>
          <dd>{row.value}</dd>
        </div>
      ))}
    </dl>
  );
}
