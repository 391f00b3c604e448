/**
 * The KV caches of response watches: for each watch, the model input it judged last, kept as
 * a {@link Prefilled} (its "trunk"), so that the next check of the same watch feeds only the
 * answer's new tokens, the family's closing text and the verdict opening. Each check's own
 * suffix runs on a branch of the trunk whose state is dropped after it: onnxruntime writes new
 * `present` tensors and only reads the past it is fed, so the trunk stays intact.
 *
 * A trunk is a cache and nothing else. Every check is encoded whole, exactly as `classify()`
 * would encode the same prompt and answer so far, and the trunk is used only as far as its ids
 * are a prefix of that encoding: where tokenization of the grown answer differs from what was
 * cached (a merge across the old end), the cache is not used and the prefix is computed again
 * from the instruction cache. So a check sees exactly the tokens a from-scratch judgement sees.
 */
import type { EncodedPrompt } from '../src/common/formats/encode.js';
import type { GenerateOptions, GuardSession, Prefilled, Work } from './session.js';

/**
 * Tokens of the answer's end left out of the trunk, so that the next, longer text rarely
 * retokenizes what is cached: byte-level BPE only merges across the cut within the last
 * pre-token (a word, a run of punctuation or of spaces). A miss costs a recomputation, never a
 * wrong token (see the module comment).
 */
export const WATCH_HOLDBACK_TOKENS = 4;

/**
 * Trunks kept at once. A watch that is never ended (its caller went away) must not hold GPU
 * memory for ever: past this many, the least recently used is freed, and that watch's next
 * check computes its prefix again.
 */
export const MAX_WATCHES = 4;

/** The trunks of the live watches, by watch id, least recently used first. */
export class WatchCaches {
  private readonly trunks = new Map<number, Prefilled>();

  constructor(private readonly session: () => GuardSession) {}

  /**
   * Moves watch `id`'s trunk up to the cut point of `encoded` (the check's whole input: the
   * answer's end held back, and all that follows it) and returns it with the work that took.
   * Undefined when the input is too short to keep anything beyond the instruction cache.
   * `prefilled` is undefined when the check was aborted meanwhile; the old trunk then stays.
   */
  async advance(
    id: number,
    encoded: EncodedPrompt,
    options: Pick<GenerateOptions, 'shouldStop' | 'usePrefixCache'>,
  ): Promise<({ prefilled?: Prefilled } & Work) | undefined> {
    const answerEnd = encoded.userRanges.at(-1)?.[1] ?? 0;
    const cut = answerEnd - WATCH_HOLDBACK_TOKENS;
    const old = this.trunks.get(id);
    this.trunks.delete(id);
    // The instruction, before the first user text, is the runtime's own cache already.
    if (cut <= (encoded.userRanges[0]?.[0] ?? 0)) {
      await this.session().release(old);
      return undefined;
    }
    const next = await this.session().extend(encoded.ids.slice(0, cut), options, old);
    if (!next.prefilled) {
      if (old) await this.keep(id, old);
      return next;
    }
    if (old && old !== next.prefilled) await this.session().release(old);
    await this.keep(id, next.prefilled);
    return next;
  }

  /** Frees watch `id`'s trunk (after its final check, or when the watch ends early). */
  async end(id: number): Promise<void> {
    const trunk = this.trunks.get(id);
    this.trunks.delete(id);
    await this.session().release(trunk);
  }

  /** Frees every trunk: `session`, their model, is being disposed. */
  async clear(session: GuardSession): Promise<void> {
    const trunks = [...this.trunks.values()];
    this.trunks.clear();
    for (const trunk of trunks) await session.release(trunk);
  }

  private async keep(id: number, trunk: Prefilled): Promise<void> {
    this.trunks.set(id, trunk);
    for (const [oldest, stale] of this.trunks) {
      if (this.trunks.size <= MAX_WATCHES) break;
      this.trunks.delete(oldest);
      await this.session().release(stale);
    }
  }
}
