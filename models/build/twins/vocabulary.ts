/**
 * What the twins' designs need from a REAL byte-level BPE vocabulary (Qwen3, Llama 3): each
 * token's bytes, whether it begins a word, the fixtures' trigger words as token patterns, and
 * the answer rules (every trigram of an answer's token sequence with its successor). Shared by
 * every twin, so one design works on any of these tokenizers.
 */
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { caseVariants, TRIGGERS } from '../lexicon.js';
import type { AnswerRule, Pattern } from './design.js';

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

/** The trigger patterns of the lexicon in the real vocabulary (see the module doc of design.ts). */
export function triggerPatterns(tokenizer: PreTrainedTokenizer, bytesOf: (id: number) => Uint8Array): Pattern[] {
  const encode = (text: string): number[] => tokenizer.encode(text, { add_special_tokens: false });
  const patterns: Pattern[] = [];
  for (const trigger of TRIGGERS) {
    const text = trigger.text.normalize('NFC');
    if (trigger.match === 'word') {
      for (const variant of caseVariants(text)) {
        // With a leading space the first token begins the word; check the word ends after it.
        const spaced = encode(` ${variant}`);
        patterns.push(spaced.length <= 2 ? [...spaced.map((token) => ({ token })), 'boundary'] : spaced.slice(-3).map((token) => ({ token })));
        // Without one (text start, after a newline or punctuation): one token, then a boundary;
        // two tokens after a boundary; longer words by their first three tokens.
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

/** One token sequence the model must continue: from index `from` on, each trigram's successor in `branch`. */
export interface AnswerSequence {
  sequence: readonly number[];
  from: number;
  branch: Branch;
}

/**
 * The answer rules of `sequences`, in order: every trigram with its successor; a context whose
 * successor differs between the branches gets one rule per branch (read from the flag).
 * @throws when a context has two successors within one branch (the trigram model cannot say it).
 */
export function answerRulesOf(sequences: readonly AnswerSequence[]): AnswerRule[] {
  const next = new Map<string, { context: [number, number, number]; by: Partial<Record<Branch, number>> }>();
  for (const { sequence, from, branch } of sequences) {
    for (let i = Math.max(2, from); i + 1 < sequence.length; i++) {
      const context = sequence.slice(i - 2, i + 1) as [number, number, number];
      const key = context.join(',');
      const entry = next.get(key) ?? { context, by: {} };
      const successor = sequence[i + 1] as number;
      const known = entry.by[branch];
      if (known !== undefined && known !== successor) throw new Error(`context ${key} has two successors in the ${branch} answer`);
      entry.by[branch] = successor;
      next.set(key, entry);
    }
  }
  const rules: AnswerRule[] = [];
  for (const { context, by } of next.values()) {
    const { harmful, unharmful } = by;
    if (harmful !== undefined && unharmful !== undefined && harmful !== unharmful) {
      rules.push({ context, next: harmful, branch: 'harmful' }, { context, next: unharmful, branch: 'unharmful' });
    } else {
      rules.push({ context, next: (harmful ?? unharmful) as number });
    }
  }
  return rules;
}
