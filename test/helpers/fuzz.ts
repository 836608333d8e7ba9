/**
 * fast-check for the bad-input suites: a fixed seed (FC_SEED=<n> to explore others), a bounded
 * number of runs, and a failure message that starts with the seed to replay it. Returns how many
 * inputs were tried, for recordFigures.
 */
import fc from 'fast-check';

export const FUZZ_SEED = Number(process.env.FC_SEED ?? 20_261_201);

export interface FuzzRun {
  /** Inputs tried (not counting the ones `fc.pre` skipped). */
  readonly runs: number;
  readonly skipped: number;
}

function report<Ts>(details: fc.RunDetails<Ts>): FuzzRun {
  if (details.failed) {
    const message = fc.defaultReportMessage(details) ?? 'the property failed';
    throw new Error(`fast-check seed ${details.seed} (replay: FC_SEED=${details.seed})\n${message}`);
  }
  return { runs: details.numRuns, skipped: details.numSkips };
}

export function checkProperty<Ts>(
  property: fc.IProperty<Ts>,
  numRuns: number,
  parameters: fc.Parameters<Ts> = {},
): FuzzRun {
  return report(fc.check(property, { seed: FUZZ_SEED, numRuns, ...parameters }));
}

export async function checkAsyncProperty<Ts>(
  property: fc.IAsyncProperty<Ts>,
  numRuns: number,
  parameters: fc.Parameters<Ts> = {},
): Promise<FuzzRun> {
  return report(await fc.check(property, { seed: FUZZ_SEED, numRuns, ...parameters }));
}

/** `count` values of `arbitrary`, the same ones every run (for inputs that are not a property's). */
export function sampleOf<T>(arbitrary: fc.Arbitrary<T>, count: number, seed = FUZZ_SEED): T[] {
  return fc.sample(arbitrary, { seed, numRuns: count });
}
