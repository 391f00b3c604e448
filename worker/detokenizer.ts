/**
 * The text of a growing token sequence. Decoding the whole answer at every step (as a
 * stopping criterion does) costs time in the answer's length, a few seconds over a long trace;
 * here only the tokens since the last settled point are decoded, after a few anchor tokens so
 * that decoders that treat a sequence's first token specially (a leading-space marker, clean-up
 * of spaces before punctuation) see the same context as in a whole decode.
 */
import type { PreTrainedTokenizer } from '@huggingface/transformers';

/** Tokens decoded again before the unsettled ones, for their context. */
const ANCHOR = 4;
/** Unsettled tokens kept before settling them: a settle point must not split a character. */
const SETTLE_AFTER = 16;

/** Text of `ids` as `tokenizer.decode(ids, { skip_special_tokens: true })` gives it. */
export class IncrementalText {
  private readonly ids: number[] = [];
  private settled = '';
  private mark = 0;
  private current = '';

  constructor(private readonly tokenizer: PreTrainedTokenizer) {}

  /** The text so far. */
  get text(): string {
    return this.current;
  }

  /** The ids so far. */
  get tokens(): readonly number[] {
    return this.ids;
  }

  /** Appends `id` and returns the new text. */
  push(id: number): string {
    this.ids.push(id);
    this.current = this.decodeTail(this.ids);
    if (this.ids.length - this.mark >= SETTLE_AFTER && !this.current.endsWith('\uFFFD')) {
      this.settled = this.current;
      this.mark = this.ids.length;
    }
    return this.current;
  }

  /** The text with `id` appended, leaving this one as it is. */
  peek(id: number): string {
    return this.decodeTail([...this.ids, id]);
  }

  /** The text of every token decoded whole: what {@link text} must equal. */
  whole(): string {
    return this.decode(this.ids);
  }

  private decodeTail(ids: readonly number[]): string {
    if (this.mark === 0) return this.decode(ids);
    const from = Math.max(0, this.mark - ANCHOR);
    const head = this.decode(ids.slice(from, this.mark));
    const tail = this.decode(ids.slice(from));
    // A decoder that rewrote the anchor's text once more tokens came: decode it all.
    return tail.startsWith(head) ? this.settled + tail.slice(head.length) : this.decode(ids);
  }

  private decode(ids: readonly number[]): string {
    // transformers.js throws on an empty list; an answer stopped before its first token has one.
    if (ids.length === 0) return '';
    return this.tokenizer.decode([...ids], { skip_special_tokens: true });
  }
}
