/**
 * The score of a verdict: the model's probability of the `harmful` word against the
 * `unharmful` word at the point where it writes its verdict. Read during the same generation,
 * from the logits of that one step: a model probability, not a calibrated risk.
 */
import { LogitsProcessor, type PreTrainedTokenizer, type Tensor } from '@huggingface/transformers';

/** Token ids that start each verdict word as a whole word (`harmful`, ` harmful`, `harmful</judge>`). */
export interface VerdictCandidates {
  harmful: readonly number[];
  unharmful: readonly number[];
}

/**
 * Finds the tokens that spell a verdict word whole, followed by nothing or a non-letter. A word
 * that is only ever split into sub-tokens (`un` + `harm` + `ful`) gets no candidates, and then
 * no score is given: a first sub-token like `harm` is ambiguous (`harmless`).
 */
export function verdictCandidates(
  tokenizer: PreTrainedTokenizer,
  words: { harmful: readonly string[]; unharmful: readonly string[] },
): VerdictCandidates {
  const vocab = tokenizer.get_vocab();
  const find = (list: readonly string[]) => {
    const ids: number[] = [];
    const lowered = list.map((w) => w.toLowerCase());
    for (const [raw, id] of vocab) {
      // Cheap filter first: ASCII words look the same in byte-level vocabularies.
      const lower = raw.toLowerCase();
      if (!lowered.some((w) => lower.includes(w))) continue;
      const text = tokenizer.decode([id], { skip_special_tokens: false }).trimStart().toLowerCase();
      if (lowered.some((w) => text.startsWith(w) && !/^\p{L}/u.test(text.slice(w.length)))) ids.push(id);
    }
    return ids;
  };
  return { harmful: find(words.harmful), unharmful: find(words.unharmful) };
}

/** Watches the logits of each step and reads the verdict probability once, at the verdict word. */
export class VerdictScorer extends LogitsProcessor {
  private score: number | undefined;
  private read = false;

  constructor(
    private readonly opening: RegExp,
    private readonly candidates: VerdictCandidates,
    private readonly textSoFar: () => string,
  ) {
    super();
  }

  override _call(_inputIds: bigint[][], logits: Tensor): Tensor {
    if (this.read || !this.opening.test(this.textSoFar())) return logits;
    this.read = true;
    if (this.candidates.harmful.length === 0 || this.candidates.unharmful.length === 0) return logits;
    const values = logits.data as Float32Array;
    let max = -Infinity;
    for (const value of values) if (value > max) max = value;
    const mass = (ids: readonly number[]) => ids.reduce((sum, id) => sum + Math.exp((values[id] ?? -Infinity) - max), 0);
    const harmful = mass(this.candidates.harmful);
    const unharmful = mass(this.candidates.unharmful);
    if (harmful + unharmful > 0) this.score = harmful / (harmful + unharmful);
    return logits;
  }

  /** The score, when the verdict word was reached and both words have whole-word tokens. */
  result(): { score?: number } {
    return this.score === undefined ? {} : { score: this.score };
  }
}
