/**
 * A decode loop guard. Greedy decoding can fall into a cycle (Qwen's model card warns of
 * endless repetition in thinking mode): once the answer's last tokens repeat one cycle of
 * tokens over and over, greedy decoding has in practice no way out, and generation should end
 * with an `unknown` verdict that says why rather than spend the whole allowance.
 */

/** The longest cycle looked for, in tokens (a repeated paragraph). */
const MAX_PERIOD = 256;
/** A cycle must come back this many times in a row... */
const MIN_REPEATS = 4;
/** ...and cover at least this many tokens, or this share of the answer's allowance. */
const MIN_SPAN = 256;
const SPAN_SHARE = 0.25;

/** Where a loop was found. */
export interface Loop {
  /** Tokens in one cycle. */
  period: number;
  /** Tokens the repetition covers, first cycle included. */
  span: number;
}

/**
 * Watches generated ids for a cycle of up to {@link MAX_PERIOD} tokens repeated at least
 * {@link MIN_REPEATS} times over max(256 tokens, a quarter of the allowance). The span grows
 * with the allowance: a caller who allows a very long answer has said that long traces are
 * expected, and a repeated list or table in one is not cut early. O(MAX_PERIOD) per token.
 */
export class LoopGuard {
  private readonly ids: number[] = [];
  /** For each period p, how many positions in a row have equalled the one p before. */
  private readonly runs = new Int32Array(MAX_PERIOD + 1);
  private readonly span: number;

  constructor(maxNewTokens: number) {
    this.span = Math.max(MIN_SPAN, Math.ceil(maxNewTokens * SPAN_SHARE));
  }

  /** Adds the next generated id; returns the loop once one is found. */
  push(id: number): Loop | undefined {
    const ids = this.ids;
    ids.push(id);
    const n = ids.length;
    let found: Loop | undefined;
    for (let p = 1; p <= MAX_PERIOD && p < n; p++) {
      const run = ids[n - 1 - p] === id ? this.runs[p]! + 1 : 0;
      this.runs[p] = run;
      if (!found && run + p >= this.span && run >= (MIN_REPEATS - 1) * p) found = { period: p, span: run + p };
    }
    return found;
  }
}
