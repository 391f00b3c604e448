/**
 * Second layer of injection safety, on tokens: the model input is encoded segment by segment,
 * template segments as the tokenizer reads them (their special tokens are meant) and user
 * segments as plain text that can never become a special or added token.
 *
 * transformers.js' tokenizer has no working `split_special_tokens`: it finds added tokens as
 * raw, case-sensitive substrings (leftmost-longest) anywhere in the text, `<|im_end|>` in user
 * text included. So user text is cut right after the first character of every occurrence of
 * any added token's content (overlapping ones too), each piece is encoded on its own with
 * `add_special_tokens: false`, and the ids are concatenated: no piece holds a whole added
 * token any more, and the pieces still decode to the text. Then, as defense in depth, every id
 * in a user range is checked against the added-token ids; finding one throws instead of
 * feeding it to the model. (A one-character added token cannot be cut; user text holding it
 * is refused by that check.)
 */
import { InvalidInputError } from '../errors.js';
import type { PromptSegment } from './format.js';
import { addedTokensOf, type AddedToken, type PromptTokenizer } from './tokenizer.js';

/** The exact model input: its text, its token ids, and where the user's texts are. */
export interface EncodedPrompt {
  /** The prompt text (template and user segments joined), without tokens the tokenizer adds (BOS). */
  text: string;
  /** The token ids the model reads. */
  ids: number[];
  /** `[start, end)` index ranges of `ids` holding each user segment, in order. */
  userRanges: Array<[start: number, end: number]>;
}

/** Options of {@link encodePrompt}. */
export interface EncodeOptions {
  /**
   * Add what the tokenizer adds around a whole sequence (BOS for Llama 3), as raw-prompt
   * families are run. Chat templates write their own BOS, so leave it off for them.
   * @default false
   */
  addSpecialTokens?: boolean;
}

/** Where `text` must be cut so that no piece contains a whole added token. */
export function cutPoints(text: string, addedTokens: readonly AddedToken[]): number[] {
  const byFirstChar = new Map<string, string[]>();
  for (const { content } of addedTokens) {
    if (content === '') continue;
    const first = String.fromCodePoint(content.codePointAt(0) ?? 0);
    byFirstChar.set(first, [...(byFirstChar.get(first) ?? []), content]);
  }
  const cuts: number[] = [];
  for (let i = 0; i < text.length; ) {
    const char = String.fromCodePoint(text.codePointAt(i) ?? 0);
    const candidates = byFirstChar.get(char);
    if (candidates?.some((content) => text.startsWith(content, i))) cuts.push(i + char.length);
    i += char.length;
  }
  return cuts;
}

/** The ids of `text` as plain data: never an added token, whatever the text spells. */
export function encodeAsData(text: string, tokenizer: PromptTokenizer): number[] {
  const ids: number[] = [];
  let start = 0;
  for (const cut of [...cutPoints(text, addedTokensOf(tokenizer)), text.length]) {
    if (cut > start) ids.push(...tokenizer.encode(text.slice(start, cut), { add_special_tokens: false }));
    start = cut;
  }
  return ids;
}

/** What the tokenizer adds before and after a sequence, found by encoding a probe both ways. */
function sequenceSpecials(tokenizer: PromptTokenizer): { before: number[]; after: number[] } {
  const bare = tokenizer.encode('a', { add_special_tokens: false });
  const full = tokenizer.encode('a', { add_special_tokens: true });
  for (let at = 0; at + bare.length <= full.length; at++) {
    if (bare.every((id, k) => full[at + k] === id)) {
      return { before: full.slice(0, at), after: full.slice(at + bare.length) };
    }
  }
  return { before: [], after: [] };
}

/**
 * Encodes prompt segments into the model input, keeping user text data.
 * @throws InvalidInputError if a user range would still hold an added-token id.
 * @example
 * const { ids, userRanges } = encodePrompt(format.buildPrompt({ prompt }, render), tokenizer);
 */
export function encodePrompt(
  segments: readonly PromptSegment[],
  tokenizer: PromptTokenizer,
  options: EncodeOptions = {},
): EncodedPrompt {
  const specials = options.addSpecialTokens === true ? sequenceSpecials(tokenizer) : { before: [], after: [] };
  const added = new Set(addedTokensOf(tokenizer).map((t) => t.id));
  const ids = [...specials.before];
  const userRanges: Array<[number, number]> = [];
  for (const segment of segments) {
    if (segment.role === 'template') {
      if (segment.text !== '') ids.push(...tokenizer.encode(segment.text, { add_special_tokens: false }));
      continue;
    }
    const start = ids.length;
    const userIds = encodeAsData(segment.text, tokenizer);
    const smuggled = userIds.find((id) => added.has(id));
    if (smuggled !== undefined) {
      throw new InvalidInputError('The text contains a sequence that would reach the model as a control token.', {
        details: { tokenId: smuggled },
      });
    }
    ids.push(...userIds);
    userRanges.push([start, ids.length]);
  }
  ids.push(...specials.after);
  return { text: segments.map((s) => s.text).join(''), ids, userRanges };
}
