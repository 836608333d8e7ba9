/**
 * cameras.svg: the service's CPU and memory, and the start time, against the number of cameras: one
 * panel each, a point per step, the medians report.md gives. Pure.
 */
import { stepPlot, type PanelSpec } from '../report/panels.js';
import type { StepFigures } from './summary.js';

const add = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : a + b;

const PANELS: (PanelSpec<StepFigures> & { unit: string })[] = [
  {
    title: 'CPU (% of one core)',
    unit: '%',
    lines: [
      { label: 'service + segmenters', color: '#1f5fbf', value: (f) => add(f.serviceCpu, f.segmentersCpu) },
      { label: 'service (Node)', color: '#2a8f6a', value: (f) => f.serviceCpu },
      { label: 'segmenters (ffmpeg)', color: '#d9731a', value: (f) => f.segmentersCpu },
      { label: 'cameras’ encoders (bench)', color: '#999', dashed: true, value: (f) => f.encodersCpu },
    ],
  },
  {
    title: 'Memory (MiB; private: its own pages)',
    unit: 'MiB',
    lines: [
      {
        label: 'service + segmenters, private',
        color: '#1f5fbf',
        value: (f) => add(f.servicePrivate, f.segmentersPrivate),
      },
      { label: 'service (Node), private', color: '#2a8f6a', value: (f) => f.servicePrivate },
      { label: 'segmenters (ffmpeg), private', color: '#d9731a', value: (f) => f.segmentersPrivate },
      { label: 'service (Node), RSS', color: '#999', dashed: true, value: (f) => f.serviceRss },
    ],
  },
  {
    title: 'Start → 200 live (median, ms)',
    unit: 'ms',
    lines: [
      { label: 'one at a time', color: '#2a8f6a', value: (f) => f.alone.median },
      { label: 'all together', color: '#c62828', value: (f) => f.together.median },
      {
        label: 'all together: the service’s part',
        color: '#c62828',
        dashed: true,
        value: (f) => f.together.serviceMedian,
      },
    ],
  },
];

export function camerasPlot(figures: StepFigures[], options: { title: string; subtitle: string }): string {
  return stepPlot({ ...options, xLabel: 'cameras', x: (f) => f.cameras, panels: PANELS }, figures);
}
