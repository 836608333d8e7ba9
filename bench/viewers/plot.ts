/**
 * viewers.svg: lateness and the service's CPU against the number of viewers, one panel each, a
 * point per step (the figures report.md gives). Pure.
 */
import { median } from '../lib/stats.js';
import { stepPlot, type PanelSpec } from '../report/panels.js';
import { NGINX, SERVICE, type ViewersStep } from './step.js';

export const serviceCpu = (step: ViewersStep) => median(step.resources[SERVICE]?.cpuPercent ?? []);

const PANELS: PanelSpec<ViewersStep>[] = [
  {
    title: 'Behind the first viewer (ms)',
    lines: [
      { label: 'playlist, p99', color: '#c62828', value: (s) => s.load.playlist.p99 },
      { label: 'playlist, p50', color: '#c62828', dashed: true, value: (s) => s.load.playlist.p50 },
      { label: 'part, p99', color: '#1f5fbf', value: (s) => s.load.part.p99 },
      { label: 'part, p50', color: '#1f5fbf', dashed: true, value: (s) => s.load.part.p50 },
    ],
  },
  {
    title: 'CPU (% of one core, median)',
    lines: [
      { label: 'web service (one JS thread: 100 % is its ceiling)', color: '#2a8f6a', value: serviceCpu },
      {
        label: 'nginx serving plain HLS to as many (peer)',
        color: '#d9731a',
        value: (s) => (s.peer ? median(s.peer.resources[NGINX]?.cpuPercent ?? []) : undefined),
      },
      { label: 'load generator (bench)', color: '#999', dashed: true, value: (s) => s.load.generatorCpu },
    ],
  },
];

export function viewersPlot(steps: ViewersStep[], options: { title: string; subtitle: string }): string {
  return stepPlot({ ...options, xLabel: 'viewers', x: (s) => s.viewers, panels: PANELS }, steps);
}
