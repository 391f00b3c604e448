/**
 * The bench's statistics: paired, interleaved timings, and the median with a distribution-free
 * confidence interval, so that a figure states how far a rerun may move it.
 *
 * Why paired: on a shared machine the noise comes in bursts (another process takes a core for
 * seconds). Timing A then B back to back puts both under the same burst, so their ratio keeps
 * most of its value while the raw times swing; the median of many such ratios ignores the pairs
 * a burst split. Why an order-statistic interval: the ratios are skewed (a burst slows one side
 * only), so a mean ± sd would be off; the ranks of the sorted sample bound the median for any
 * distribution.
 */

/** A median and the interval that holds the true median with probability `confidence`. */
export interface Interval {
  median: number;
  low: number;
  high: number;
  /** Exact coverage of [low, high] (at least the requested level when the sample allows it). */
  confidence: number;
  /** Sample size. */
  n: number;
}

/** A goal such as `<= 1.05` or `>= 3`. */
export interface Goal {
  op: '<=' | '>=';
  bound: number;
}

/** Where a figure stands against its goal: met or missed only when its whole interval says so. */
export type Decision = 'met' | 'missed' | 'not decided';

/** Median of `values` (at least one). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median() of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** P(X <= k) for X ~ Binomial(n, 1/2). */
export function binomialHalfCdf(n: number, k: number): number {
  let term = 0.5 ** n; // C(n, 0) / 2^n
  let sum = 0;
  for (let i = 0; i <= Math.min(k, n); i++) {
    sum += term;
    term = (term * (n - i)) / (i + 1);
  }
  return sum;
}

/**
 * The median of `values` with its order-statistic confidence interval: [x(r), x(n+1-r)] of the
 * sorted sample, r the largest rank whose coverage 1 - 2·P(X <= r-1), X ~ Bin(n, 1/2), still
 * reaches `level`. A sample too small to reach `level` (fewer than 6 values for 95%) gets
 * [min, max] and says its lower coverage.
 */
export function medianInterval(values: readonly number[], level = 0.95): Interval {
  const n = values.length;
  const sorted = [...values].sort((a, b) => a - b);
  let r = 1;
  while (r + 1 <= (n + 1) / 2 && 1 - 2 * binomialHalfCdf(n, r) >= level) r++;
  return {
    median: median(sorted),
    low: sorted[r - 1]!,
    high: sorted[n - r]!,
    confidence: 1 - 2 * binomialHalfCdf(n, r - 1),
    n,
  };
}

/** Whether `interval` lies wholly on the goal's side (met), wholly off it (missed), or across. */
export function decide(interval: Pick<Interval, 'low' | 'high'>, goal: Goal): Decision {
  const inside = (x: number) => (goal.op === '<=' ? x <= goal.bound : x >= goal.bound);
  if (inside(interval.low) && inside(interval.high)) return 'met';
  if (!inside(interval.low) && !inside(interval.high)) return 'missed';
  return 'not decided';
}

/** Of several figures that must all meet their goal: the verdict of the lot. */
export function decideAll(decisions: readonly Decision[]): Decision {
  if (decisions.includes('missed')) return 'missed';
  return decisions.every((d) => d === 'met') ? 'met' : 'not decided';
}

/** Parses `<= 1.05` / `>= 3`. */
export function parseGoal(text: string): Goal {
  const match = /^(<=|>=)\s*(-?\d+(?:\.\d+)?)$/.exec(text.trim());
  if (!match) throw new RangeError(`not a goal: ${JSON.stringify(text)}`);
  return { op: match[1] as Goal['op'], bound: Number(match[2]) };
}

/** `0.97 [0.93–1.01]`: a ratio as the table prints it. */
export function formatInterval(interval: Interval, digits = 2): string {
  return `${interval.median.toFixed(digits)} [${interval.low.toFixed(digits)}–${interval.high.toFixed(digits)}]`;
}

/** One side of a paired comparison: a unit of work, timed `repeat` times per sample. */
export interface Side {
  work: () => Promise<unknown>;
  /**
   * The time of one call, when the work reports a better one than the wall clock (e.g. the
   * runtime's own time to first token); the wall clock otherwise.
   */
  measure?: (result: unknown, wallMs: number) => number;
}

/** How to sample a paired comparison. */
export interface PairedOptions {
  pairs: number;
  /**
   * Calls of each side made and discarded first (JIT, allocator, caches), or per side when one
   * is warm already. The last warm-up call of a side also sets its calls per sample. @default 1
   */
  warmUp?: number | { a: number; b: number };
  /**
   * Each sample repeats a side's work until it has taken this long (the count is fixed from the
   * warm-up, per side, and kept for every sample): a 50 ms call alone is mostly timer and
   * scheduler noise. @default 0 (one call per sample)
   */
  minSampleMs?: number;
  /** Collects garbage before each sample, so that one side does not pay for the other's. */
  gc?: () => void;
  level?: number;
}

/** A paired comparison: per-call times of each side and the per-pair ratio a / b. */
export interface Paired {
  a: Interval;
  b: Interval;
  ratio: Interval;
  /** Calls per sample of each side. */
  repeat: { a: number; b: number };
  /** Every sample's per-call ms, in the order taken (pair i is a[i], b[i]). */
  samples: { a: number[]; b: number[] };
}

/**
 * Times `a` against `b` in `pairs` interleaved pairs, the order flipping every pair
 * (A B, B A, A B …) so that neither side always runs first, after a GC, or after the other.
 */
export async function paired(a: Side, b: Side, options: PairedOptions): Promise<Paired> {
  const { pairs, warmUp = 1, minSampleMs = 0, gc, level } = options;
  const warmCalls = typeof warmUp === 'number' ? { a: warmUp, b: warmUp } : warmUp;
  // A side without warm-up takes one call per sample (nothing to size it from).
  const warm = { a: minSampleMs, b: minSampleMs };
  for (let i = 0; i < Math.max(warmCalls.a, warmCalls.b); i++) {
    if (i < warmCalls.a) warm.a = await sample(a, 1);
    if (i < warmCalls.b) warm.b = await sample(b, 1);
  }
  const repeat = { a: callsPerSample(minSampleMs, warm.a), b: callsPerSample(minSampleMs, warm.b) };
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < pairs; i++) {
    for (const side of i % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const)) {
      gc?.();
      (side === 'a' ? ta : tb).push(await sample(side === 'a' ? a : b, repeat[side]));
    }
  }
  return {
    a: medianInterval(ta, level),
    b: medianInterval(tb, level),
    ratio: medianInterval(ta.map((x, i) => x / tb[i]!), level),
    repeat,
    samples: { a: ta, b: tb },
  };
}

/** Calls that make a sample of at least `minSampleMs`, given one call's `callMs`. */
export function callsPerSample(minSampleMs: number, callMs: number): number {
  return Math.max(1, Math.ceil(minSampleMs / Math.max(callMs, 1e-3)));
}

/** Mean per-call milliseconds of `repeat` calls of `side`. */
async function sample(side: Side, repeat: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < repeat; i++) {
    const started = performance.now();
    const result = await side.work();
    const wall = performance.now() - started;
    total += side.measure ? side.measure(result, wall) : wall;
  }
  return total / repeat;
}
