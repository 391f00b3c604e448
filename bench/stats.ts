/** Repeated timing and its summary: medians with the range, as the bench table prints them. */

/** Median, minimum and maximum of repeated measurements. */
export interface Summary {
  median: number;
  min: number;
  max: number;
}

/** Summarizes `values` (at least one). */
export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)! };
}

/**
 * Runs `a` and `b` alternately `runs` times (so drift and noise hit both alike) and returns
 * their timings in milliseconds.
 */
export async function sideBySide(
  runs: number,
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
): Promise<{ a: Summary; b: Summary; ratio: Summary }> {
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < runs; i++) {
    ta.push(await time(a));
    tb.push(await time(b));
  }
  return { a: summarize(ta), b: summarize(tb), ratio: summarize(ta.map((x, i) => x / tb[i]!)) };
}

/** Milliseconds `work` takes. */
export async function time(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}
