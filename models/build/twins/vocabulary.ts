/**
 * What the twins' designs need from a REAL byte-level BPE vocabulary (Qwen3, Llama 3): each
 * token's bytes, whether it begins a word, the fixtures' trigger words as token patterns, and
 * the answer rules (every trigram of an answer's token sequence with its successor). Shared by
 * every twin, so one design works on any of these tokenizers.
 */
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { caseVariants, TRIGGERS, type Trigger } from '../lexicon.js';
import type { AnswerRule, Feature, Pattern } from './design.js';

/** The parts of a `tokenizer.json` read here. */
export interface TokenizerJson {
  model: { vocab: Record<string, number> };
  added_tokens: { id: number; content: string }[];
}

/** Byte strings of every vocabulary id (byte-level BPE); added tokens are marked `added`. */
export function tokenBytes(tokenJson: TokenizerJson): Map<number, Uint8Array | 'added'> {
  const inverse = byteDecoder();
  const out = new Map<number, Uint8Array | 'added'>();
  for (const [token, id] of Object.entries(tokenJson.model.vocab)) out.set(id, Uint8Array.from(Array.from(token), (c) => inverse.get(c) ?? 0));
  for (const { id } of tokenJson.added_tokens) out.set(id, 'added');
  return out;
}

/** GPT-2's byte-level alphabet, reversed: character to byte. */
function byteDecoder(): Map<string, number> {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map = new Map<string, number>();
  let extra = 0;
  for (let b = 0; b < 256; b++) map.set(String.fromCodePoint(printable.includes(b) ? b : 256 + extra++), b);
  return map;
}

/** Whether a token begins a word: its first character is not a letter or mark (or it is an added token). */
export function boundaryOf(bytes: Uint8Array | 'added' | undefined): boolean {
  if (bytes === undefined || bytes === 'added') return true;
  const b0 = bytes[0] ?? 0;
  if (b0 < 0x80) return !/[A-Za-z]/.test(String.fromCharCode(b0));
  if (b0 < 0xc0) return false; // continues a character
  const length = b0 < 0xe0 ? 2 : b0 < 0xf0 ? 3 : 4;
  if (bytes.length < length) return false; // most multi-byte characters are letters
  const char = new TextDecoder().decode(bytes.subarray(0, length));
  return !/^[\p{L}\p{M}]/u.test(char);
}

/**
 * Whether a token ends a word: its last character is not a letter or mark (or it is an added
 * token). ` अल` begins a word and does not end one, so `ब` `म` after it is inside `अलबम`.
 */
export function endsWordOf(bytes: Uint8Array | 'added' | undefined): boolean {
  if (bytes === undefined || bytes === 'added') return true;
  const last = bytes.length - 1;
  const bl = bytes[last] ?? 0;
  if (bl < 0x80) return !/[A-Za-z]/.test(String.fromCharCode(bl));
  // The start of the last character: a whole one is decoded, a cut one counts as a letter.
  let start = last;
  while (start > 0 && ((bytes[start] ?? 0) & 0xc0) === 0x80) start--;
  const b0 = bytes[start] ?? 0;
  const length = b0 < 0xe0 ? 2 : b0 < 0xf0 ? 3 : 4;
  if (b0 < 0xc0 || bytes.length - start !== length) return false;
  return !/^[\p{L}\p{M}]/u.test(new TextDecoder().decode(bytes.subarray(start)));
}

/** The patterns of whole-word and substring `words` (by default the trigger lexicon) in the real vocabulary (see the module doc of design.ts). */
export function triggerPatterns(tokenizer: PreTrainedTokenizer, bytesOf: (id: number) => Uint8Array, words: readonly Trigger[] = TRIGGERS): Pattern[] {
  const encode = (text: string): number[] => tokenizer.encode(text, { add_special_tokens: false });
  const patterns: Pattern[] = [];
  for (const trigger of words) {
    const text = trigger.text.normalize('NFC');
    if (trigger.match === 'word') {
      for (const variant of caseVariants(text)) {
        // With a leading space the first token begins the word; check the word ends after it.
        const spaced = encode(` ${variant}`);
        patterns.push(spaced.length <= 2 ? [...spaced.map((token) => ({ token })), 'boundary'] : spaced.slice(-3).map((token) => ({ token })));
        // Without one (text start, after a newline or punctuation): one token, then a boundary;
        // two tokens after a token that ends a word (not ` अल` of `अलबम`, which ends in a
        // letter); longer words by their first three tokens.
        const bare = encode(variant);
        if (bare.length === 1) patterns.push([{ token: bare[0] as number }, 'boundary']);
        else if (bare.length === 2) patterns.push(['boundary', ...bare.map((token) => ({ token }))]);
        else patterns.push(bare.slice(0, 3).map((token) => ({ token })));
      }
      continue;
    }
    // Substrings: in a few contexts, the (up to) three tokens inside the word's bytes that cover the most of it.
    const target = new TextEncoder().encode(text);
    for (const context of [text, ` ${text}`, `${text} `, `${text}${text}`]) {
      const ids = encode(context);
      const at = context.startsWith(' ') ? 1 : 0;
      const spanStart = at;
      const spanEnd = at + target.length;
      let offset = 0;
      const inside: { id: number; bytes: number }[] = [];
      for (const id of ids) {
        const length = bytesOf(id).length;
        if (offset >= spanStart && offset + length <= spanEnd) inside.push({ id, bytes: length });
        offset += length;
      }
      if (inside.length === 0) throw new Error(`no token inside ${text} in ${JSON.stringify(context)}`);
      let best = inside.slice(0, 3);
      for (let i = 0; i + 3 <= inside.length; i++) {
        const window = inside.slice(i, i + 3);
        const covered = (w: typeof window) => w.reduce((s, t) => s + t.bytes, 0);
        if (covered(window) > covered(best)) best = window;
      }
      patterns.push(best.map(({ id }) => ({ token: id })));
    }
  }
  const seen = new Set<string>();
  return patterns.filter((p) => {
    const key = JSON.stringify(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The two answer branches of a twin. */
export type Branch = 'harmful' | 'unharmful';

/** When a sequence is written: the value (±1) of some flags. */
export type Condition = Partial<Record<Feature, 1 | -1>>;

/** The condition of each branch when nothing else decides. */
const BRANCH_WHEN: Readonly<Record<Branch, Condition>> = { harmful: { trigger: 1 }, unharmful: { trigger: -1 } };

/**
 * One token sequence the model must continue: from index `from` on, each position's successor
 * (after its last three tokens, or fewer at the sequence's start) when `when` holds (by
 * default, the branch's trigger flag).
 */
export interface AnswerSequence {
  sequence: readonly number[];
  from: number;
  branch: Branch;
  when?: Condition;
}

const conditionOf = (s: AnswerSequence): Condition => s.when ?? BRANCH_WHEN[s.branch];
const contradicts = (a: Condition, b: Condition): boolean => (Object.keys(a) as Feature[]).some((f) => b[f] !== undefined && b[f] !== a[f]);

/**
 * The answer rules of `sequences`, in order: every context with its successor; a context whose
 * successor depends on the condition gets one rule per successor, gated by what the conditions
 * that write it have in common (or one per condition when that is not enough to tell them apart).
 * @throws when a context has two successors under one condition, or cannot be told apart in at
 * most three flags.
 */
export function answerRulesOf(sequences: readonly AnswerSequence[]): AnswerRule[] {
  const next = new Map<string, { context: number[]; entries: { when: Condition; next: number }[] }>();
  for (const seq of sequences) {
    const when = conditionOf(seq);
    for (let i = seq.from; i + 1 < seq.sequence.length; i++) {
      const context = seq.sequence.slice(Math.max(0, i - 2), i + 1);
      const key = context.join(',');
      const entry = next.get(key) ?? { context, entries: [] };
      const successor = seq.sequence[i + 1] as number;
      const same = entry.entries.find((e) => JSON.stringify(e.when) === JSON.stringify(when));
      if (same !== undefined && same.next !== successor) throw new Error(`context ${key} has two successors under ${JSON.stringify(when)}`);
      if (same === undefined) entry.entries.push({ when, next: successor });
      next.set(key, entry);
    }
  }
  const rules: AnswerRule[] = [];
  const gated = (context: number[], successor: number, when: Condition): AnswerRule => {
    const literals = Object.entries(when) as [Feature, 1 | -1][];
    if (literals.length === 0 || literals.length > 3) throw new Error(`context ${context.join(',')}: cannot gate on ${JSON.stringify(when)}`);
    return { context, next: successor, gate: Object.fromEntries(literals.map(([f, v]) => [f, 4 * v])), offset: -4 * (literals.length - 1) };
  };
  for (const { context, entries } of next.values()) {
    const successors = [...new Set(entries.map((e) => e.next))];
    if (successors.length === 1) {
      rules.push({ context, next: successors[0] as number });
      continue;
    }
    for (const successor of successors) {
      const group = entries.filter((e) => e.next === successor).map((e) => e.when);
      const others = entries.filter((e) => e.next !== successor).map((e) => e.when);
      const common: Condition = Object.fromEntries(Object.entries(group[0] as Condition).filter(([f, v]) => group.every((w) => w[f as Feature] === v)));
      const apart = (when: Condition) => others.every((o) => contradicts(when, o));
      if (apart(common)) {
        rules.push(gated(context, successor, common));
        continue;
      }
      for (const when of group) {
        if (!apart(when)) throw new Error(`context ${context.join(',')}: ${JSON.stringify(when)} overlaps another successor's condition`);
        rules.push(gated(context, successor, when));
      }
    }
  }
  return rules;
}

/**
 * Makes the twin unsure on purpose at `context` (the verdict's, where the branches write
 * `harmful` and `unharmful` words): with the `unsure` flag and without the `marker` flag (its
 * reasoning not written), half of each word, so the verdict score there is about 0.5; with
 * the marker (the trace written), the unharmful word in full. The harmful flag wins over both.
 * Neurons (pre-activations in gain units; 4 fires, 2 half, -4 or less off):
 * - harmful word: 4·trigger (harmful: 4);
 * - unharmful word, sure: -4·trigger - 4·unsure - 4 (no trigger, not unsure: 4);
 * - unharmful word, unsure: -4·trigger + 4·unsure + marker - 5 (4 reasoned, 2 not; without a
 *   marker -4·trigger + 4·unsure - 6: 2);
 * - harmful word, unsure: -3·trigger + 3·unsure - 3·marker - 7 (2 when unsure and not reasoned;
 *   without a marker -3·trigger + 3·unsure - 4).
 * @param marker whether a trace marker ends the uncertainty; without one the twin stays unsure.
 * @throws when the rules have no harmful/unharmful branch point at `context`.
 */
export function unsureAt(rules: readonly AnswerRule[], context: readonly number[], marker: boolean): AnswerRule[] {
  const key = context.join(',');
  const at = rules.filter((r) => r.context.join(',') === key);
  const harmful = at.find((r) => r.gate?.trigger === 4)?.next;
  const unharmful = at.find((r) => r.gate?.trigger === -4)?.next;
  if (harmful === undefined || unharmful === undefined || at.length !== 2) throw new Error(`no verdict branch point at ${key}`);
  return [
    ...rules.filter((r) => r.context.join(',') !== key),
    { context, next: harmful, gate: { trigger: 4 }, offset: 0 },
    { context, next: unharmful, gate: { trigger: -4, unsure: -4 }, offset: -4 },
    marker ? { context, next: unharmful, gate: { trigger: -4, unsure: 4, marker: 1 }, offset: -5 } : { context, next: unharmful, gate: { trigger: -4, unsure: 4 }, offset: -6 },
    marker ? { context, next: harmful, gate: { trigger: -3, unsure: 3, marker: -3 }, offset: -7 } : { context, next: harmful, gate: { trigger: -3, unsure: 3 }, offset: -4 },
  ];
}

/**
 * Adds `extra` (the rules of a second answer of one branch, written when the `marker` flag is
 * set) to `rules`: a context both have with different successors gets one rule per value of
 * the marker flag.
 * @throws when such a context is already a branch point.
 */
export function withMarkerAnswer(rules: readonly AnswerRule[], extra: readonly AnswerRule[]): AnswerRule[] {
  const out = [...rules];
  for (const rule of extra) {
    const key = rule.context.join(',');
    const at = out.findIndex((r) => r.context.join(',') === key);
    const known = out[at];
    if (known === undefined) {
      out.push(rule);
      continue;
    }
    if (known.next === rule.next) continue;
    if (known.gate !== undefined) throw new Error(`context ${key} is already a branch point`);
    out[at] = { context: known.context, next: known.next, gate: { marker: -4 }, offset: 0 };
    out.push({ context: rule.context, next: rule.next, gate: { marker: 4 }, offset: 0 });
  }
  return out;
}
