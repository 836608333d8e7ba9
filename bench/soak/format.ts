/** Numbers in each series' unit, for the report and the plot. Pure. */
import type { Unit } from './series.js';

const KiB = 1024;
const MiB = 2 ** 20;

/** `value` in `unit`; `short` drops decimals the plot's ticks do not need; `signed` adds a '+'. */
export function formatValue(value: number, unit: Unit, short = false, signed = false): string {
  if (!Number.isFinite(value)) return 'n/a';
  // A '+' only on what still reads as more than zero after rounding.
  const sign = (text: string) => (signed && Number.parseFloat(text) > 0 ? `+${text}` : text);
  // -0.04 rounds to "-0.0": show it as 0.
  const fixed = (v: number, digits: number) => {
    const text = v.toFixed(digits);
    return /^-0(\.0+)?$/.test(text) ? text.slice(1) : text;
  };
  switch (unit) {
    case 'MiB':
      return sign(`${fixed(value, short && Math.abs(value) >= 10 ? 0 : 1)} MiB`);
    case 'bytes': {
      const abs = Math.abs(value);
      if (abs >= MiB) return sign(`${fixed(value / MiB, short ? (abs >= 10 * MiB ? 0 : 1) : 2)} MiB`);
      if (abs >= KiB) return sign(`${fixed(value / KiB, short ? 0 : 1)} KiB`);
      return sign(`${fixed(value, 0)} B`);
    }
    case 'count':
      return sign(fixed(value, Number.isInteger(value) || Math.abs(value) >= 100 ? 0 : 1));
    case 'ms':
      return sign(`${fixed(value, 0)} ms`);
    case 'percent':
      return sign(`${fixed(value, 1)} %`);
    case 'fps':
      return sign(`${fixed(value, 1)} fps`);
    case 's':
      return sign(`${fixed(value, 2)} s`);
  }
}

/** "12 min 30 s", "45 s". */
export function duration(seconds: number): string {
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  const rest = whole % 60;
  return rest === 0 ? `${whole / 60} min` : `${Math.floor(whole / 60)} min ${rest} s`;
}
