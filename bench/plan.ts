/**
 * How much the bench samples, in one place for Node and Chromium. The quick run measures the
 * same things with fewer pairs: its intervals are wider (and may say "not decided"), its
 * medians the same. Pair counts are where the 95% order-statistic interval of a median drops
 * one more value at each end (9 -> x(2)..x(8), 12 -> x(3)..x(10), 15 -> x(4)..x(12)); below 6
 * pairs [min, max] is all there is and covers less than 95% (5 pairs: 94%, 3: 75%).
 */
export interface Plan {
  quick: boolean;
  /** Pairs for the ratios whose calls are short (P1, P2). */
  pairs: number;
  /** Pairs for P3, whose full side decodes the whole 261-token answer (seconds a call). */
  p3Pairs: number;
  /** Tokens each side of P1 decodes: the same in both runs, so that quick and full agree. */
  p1Tokens: number;
  /** Shortest sample, in ms: calls shorter than this are repeated within one sample. */
  minSampleMs: number;
}

/** The plan of a quick (`--quick`) or full run. */
export function benchPlan(quick: boolean): Plan {
  return quick
    ? { quick, pairs: 9, p3Pairs: 5, p1Tokens: 32, minSampleMs: 400 }
    : { quick, pairs: 15, p3Pairs: 5, p1Tokens: 32, minSampleMs: 400 };
}
