/**
 * The score of a verdict: the model's probability of its `harmful` word against its
 * `unharmful` word where the verdict word starts, each word's probability being that of its
 * whole token sequence, P(w) = Π p(t_i | t_<i). A model probability, not a calibrated risk.
 *
 * Real vocabularies split verdict words (Qwen3 after `<judge>`: `h` `arm` `ful` against `un`
 * `h` `arm` `ful`), so the step's logits give only each word's first token: the rest comes
 * from one small side pass per spelling that could still move the score (see
 * {@link SKIPPED_SHARE}), fed from the same KV state in-process, or one echo request to an
 * inference server (see {@link VerdictPosition}).
 */
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import type { VerdictSlot } from '../src/common/formats/format.js';
import type { Decoder, KvState, Meter } from './decoder.js';

/**
 * What is known, at one position, of the token that comes next: where a verdict word starts.
 * See {@link logitsPosition} (in-process) and worker/remote-session.ts (a server's logprobs).
 */
export interface VerdictPosition {
  /** log p(`id`) as the next token; undefined when this position does not know it. */
  logP(id: number): number | undefined;
  /** At least the log probability of every token {@link logP} does not know (-Infinity when it knows all). */
  readonly unknownBound: number;
  /** log P of the token sequence `ids` written from this position, its first token included. */
  sequence(ids: readonly number[]): Promise<number>;
}

/**
 * A position in-process: its full logits row, and side passes from `state` (only read, so
 * the generation goes on from it unchanged) for the later tokens of a spelling.
 */
export function logitsPosition(logits: Float32Array, state: KvState, decoder: Decoder, meter: Meter): VerdictPosition {
  const first = logSoftmax(logits);
  return {
    logP: first,
    unknownBound: -Infinity,
    async sequence(ids) {
      let logP = first(ids[0]!);
      const rows = await decoder.sidePass(ids.slice(0, -1), state, meter);
      rows.forEach((row, i) => {
        logP += logSoftmax(row)(ids[i + 1]!);
      });
      return logP;
    },
  };
}

/** The labels a verdict word can stand for. */
export type VerdictWordLabel = 'harmful' | 'unharmful' | 'controversial';

/** A verdict family's words, by label. */
export type VerdictWords = VerdictSlot['words'];

/** Token ids that spell a verdict word whole, alone (`harmful`, ` harmful`, `harmful</judge>`). */
export type WholeWordTokens = Readonly<Partial<Record<VerdictWordLabel, readonly number[]>>>;

/** One token sequence that writes a verdict word. */
interface Spelling {
  label: VerdictWordLabel;
  ids: readonly number[];
}

/** What the model says at a verdict position. */
export interface VerdictReading {
  /** P(harmful word) / (P(harmful word) + P(unharmful word)). */
  score: number;
  /** The label whose words are likeliest there. */
  label: VerdictWordLabel;
  /** That label's likeliest spelling: the tokens the model would write for it. */
  ids: readonly number[];
  /** Probability of each label's words at that position (their spellings summed). */
  mass: Readonly<Partial<Record<VerdictWordLabel, number>>>;
}

const LABELS: readonly VerdictWordLabel[] = ['harmful', 'unharmful', 'controversial'];

/**
 * Spellings of several tokens are left unread (no side pass) once all the unread ones together
 * could add at most this share of the `harmful` + `unharmful` mass already read: a spelling's
 * probability is at most its first token's, which the verdict step's logits give (a server's
 * top logprobs give it for the likeliest tokens, and bound it for the others). The score
 * then differs by at most this (1e-4, absolute) from the one with every spelling read, each
 * label's mass by at most this share, and a confident verdict (the other word's first token
 * improbable) costs one side pass, or none when its word is one token. Spellings are read
 * likeliest first, so the ones that matter are always read.
 */
const SKIPPED_SHARE = 1e-4;

/**
 * The vocabulary's tokens that hold a verdict word whole, followed by nothing or a non-letter
 * (any case, any leading space). A first sub-token like `harm` is not one: it also starts
 * `harmless`. Computed once per model: it walks the vocabulary.
 */
export function wholeWordTokens(tokenizer: PreTrainedTokenizer, words: VerdictWords): WholeWordTokens {
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
  const found: Partial<Record<VerdictWordLabel, readonly number[]>> = {};
  for (const label of LABELS) {
    const list = words[label];
    if (list) found[label] = find(list);
  }
  return found;
}

/**
 * Reads verdict probabilities for one family on one model. Spellings depend on the text right
 * before the word (`<judge>` + `harmful` is not tokenized like `harmful` alone), so they are
 * worked out per context and remembered.
 */
export class VerdictReader {
  private readonly spellingsByContext = new Map<string, readonly Spelling[]>();

  constructor(
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly words: VerdictWords,
    private readonly whole: WholeWordTokens,
  ) {}

  /**
   * The verdict word's probabilities after `context` (the answer so far, ending with the
   * verdict's opening), from what `position` says of the next token: that position's logits
   * in-process, an inference server's top logprobs remotely. Undefined when the model gives
   * neither word any probability (then there is no score).
   */
  async read(context: string, position: VerdictPosition): Promise<VerdictReading | undefined> {
    // A spelling's probability is at most that of its first token: exact when the position
    // knows it, else the position's bound. Only the spellings that could still move the score
    // have their whole sequence read.
    const candidates = this.spellingsAfter(context)
      .map((spelling) => {
        const known = position.logP(spelling.ids[0]!);
        return { spelling, logP: known ?? position.unknownBound, exact: known !== undefined && spelling.ids.length === 1 };
      })
      .map((c) => ({ ...c, p: Math.exp(c.logP) }))
      .filter(({ p }) => p > 0)
      .sort((a, b) => b.p - a.p);
    const mass: Partial<Record<VerdictWordLabel, number>> = {};
    const bestOf: Partial<Record<VerdictWordLabel, { p: number; ids: readonly number[] }>> = {};
    const count = (spelling: Spelling, p: number) => {
      mass[spelling.label] = (mass[spelling.label] ?? 0) + p;
      if (p > (bestOf[spelling.label]?.p ?? -1)) bestOf[spelling.label] = { p, ids: spelling.ids };
    };
    // Spellings of one known token are exact already.
    for (const { spelling, p, exact } of candidates) if (exact) count(spelling, p);
    const rest = candidates.filter(({ exact }) => !exact);
    // What the unread spellings can add, at most: their first tokens' probability (or bound).
    let unread = rest.reduce((sum, { p }) => sum + p, 0);
    for (const { spelling, p } of rest) {
      if (unread <= SKIPPED_SHARE * ((mass.harmful ?? 0) + (mass.unharmful ?? 0))) break;
      unread -= p;
      count(spelling, Math.exp(await position.sequence(spelling.ids)));
    }
    let best: { label: VerdictWordLabel; p: number; ids: readonly number[] } | undefined;
    for (const label of LABELS) {
      const m = mass[label];
      const spelled = bestOf[label];
      if (m !== undefined && spelled && (!best || m > best.p)) best = { label, p: m, ids: spelled.ids };
    }
    const harmful = mass.harmful ?? 0;
    const unharmful = mass.unharmful ?? 0;
    if (!best || harmful + unharmful <= 0) return undefined;
    return { score: harmful / (harmful + unharmful), label: best.label, ids: best.ids, mass };
  }

  /**
   * Every spelling of every verdict word after `context`: the whole-word tokens, and each word
   * (and the word after a space, which the opening allows) as the tokenizer splits it right
   * after the context's last characters.
   */
  private spellingsAfter(context: string): readonly Spelling[] {
    // The last characters decide how the word's first token is split; more would not change it.
    const tail = context.slice(-24);
    const known = this.spellingsByContext.get(tail);
    if (known) return known;
    const spellings: Spelling[] = [];
    const seen = new Set<string>();
    const add = (label: VerdictWordLabel, ids: readonly number[]) => {
      const key = ids.join(',');
      if (ids.length === 0 || seen.has(key)) return;
      seen.add(key);
      spellings.push({ label, ids });
    };
    for (const label of LABELS) for (const id of this.whole[label] ?? []) add(label, [id]);
    const before = this.encode(tail);
    for (const label of LABELS) {
      for (const word of this.words[label] ?? []) {
        const variants = /\s$/.test(tail) || tail === '' ? [word] : [word, ` ${word}`];
        for (const variant of variants) add(label, this.suffixIds(before, tail + variant, variant));
      }
    }
    if (this.spellingsByContext.size > 64) this.spellingsByContext.clear();
    this.spellingsByContext.set(tail, spellings);
    return spellings;
  }

  /**
   * The tokens `text` adds after `before` (the context's tokens). When the tokenizer would
   * merge across that boundary, the model, whose context is already written, can only spell
   * the word on its own: its standalone tokens.
   */
  private suffixIds(before: readonly number[], text: string, word: string): readonly number[] {
    const ids = this.encode(text);
    const stable = ids.length > before.length && before.every((id, i) => ids[i] === id);
    return stable ? ids.slice(before.length) : this.encode(word);
  }

  private encode(text: string): number[] {
    return text === '' ? [] : this.tokenizer.encode(text, { add_special_tokens: false });
  }
}

/** log p(id) under softmax(logits), for any id. */
function logSoftmax(logits: Float32Array): (id: number) => number {
  // Indexed loops: a typed array's iterator is several times slower over a 152k vocabulary.
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  const logZ = max + Math.log(sum);
  return (id) => (logits[id] ?? -Infinity) - logZ;
}
