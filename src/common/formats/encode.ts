/**
 * Encoding the model input: the tokens the model saw in training, with user text kept data.
 *
 * Whole: the ids are those the tokenizer gives for the whole prompt string whenever the user's
 * texts hold no added-token text. Encoded apart, user text changes the tokens at its edges
 * (`?` then the template's `\n\n` is `?` + `\n\n`, where the model was trained on `?\n\n`), so
 * everything after the fixed instruction is encoded as one string, and each token is placed in
 * the text by decoding (a split character's bytes travel together). A token that joins the
 * user's last characters with the template's first ones counts as template: `userRanges` hold
 * the tokens made of the user's text alone, and a window cut on them keeps the template whole.
 * The instruction before the first user text is always encoded on its own, so its ids, the
 * cached prefix, are the same for every input; a text that would merge with it (one starting
 * with a line break after the instruction's) is cut there, its only difference from the whole.
 *
 * Safe: transformers.js' tokenizer has no working `split_special_tokens`: it finds added
 * tokens as raw, case-sensitive substrings (leftmost-longest) anywhere in the text,
 * `<|im_end|>` in user text included. So a prompt where any added token's text overlaps a user
 * text is encoded segment by segment instead: template segments as the tokenizer reads them,
 * user text cut right after the first character of every occurrence of any added token's
 * content (overlapping ones too), each piece encoded on its own with `add_special_tokens:
 * false`: no piece holds a whole added token, and the pieces still decode to the text. Either
 * way, as defense in depth, every token holding a user character is checked against the
 * added-token ids; finding one throws instead of feeding it to the model. (A one-character
 * added token cannot be cut; user text holding it is refused by that check.)
 */
import { InvalidInputError } from '../../errors.js';
import type { PromptSegment } from './format.js';
import { addedTokensOf, decodeExact, type AddedToken, type PromptTokenizer } from './tokenizer.js';

/** The exact model input: its text, its token ids, and where the user's texts are. */
export interface EncodedPrompt {
  /** The prompt text (template and user segments joined), without tokens the tokenizer adds (BOS). */
  text: string;
  /** The token ids the model reads. */
  ids: number[];
  /**
   * `[start, end)` index ranges of `ids` holding each user segment, in order: the tokens made
   * of that segment's text alone. A token shared with the template at an edge is outside.
   */
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

/** Whether an occurrence of an added token's text in `text` starts before `at` and ends after it. */
function spansPosition(text: string, at: number, addedTokens: readonly AddedToken[]): boolean {
  return addedTokens.some(({ content }) => {
    for (let start = Math.max(0, at - content.length + 1); start < at; start++) {
      if (text.startsWith(content, start)) return true;
    }
    return false;
  });
}

/** The ids of `text` as plain data: never an added token, whatever the text spells. */
function encodeAsData(text: string, tokenizer: PromptTokenizer): number[] {
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

/** What a decoder writes for the bytes of an incomplete character. */
const REPLACEMENT = '\uFFFD';

/** Tokens decoded together at most while a character split over them is incomplete. */
const MAX_GROUP = 8;

/** Tokens decoded at once where no segment edge can fall among them. */
const BLOCK = 64;

/**
 * Where each token of `ids` lies in `text`, `[start, end)` in UTF-16 units: tokens are decoded
 * in order (a character split over several, together: its bytes decode as U+FFFD until the
 * last is in) and must spell `text`. A block of tokens whose text holds no position of `edges`
 * gets the block's span, which places each of them on the right side of every edge at a
 * fraction of the decoding. Undefined when the tokens do not spell the text (a tokenizer whose
 * decoding drops a leading space or whose normalizer rewrites the text), or when the text
 * holds U+FFFD itself, which would make a split character look complete: then the caller
 * encodes by segments.
 */
function tokenSpans(
  ids: readonly number[],
  text: string,
  edges: readonly number[],
  tokenizer: PromptTokenizer,
): Array<[number, number]> | undefined {
  if (text.includes(REPLACEMENT)) return undefined;
  const spells = (piece: string, at: number) => !piece.includes(REPLACEMENT) && text.startsWith(piece, at);
  const spans: Array<[number, number]> = [];
  let at = 0;
  for (let i = 0; i < ids.length; ) {
    const block = decodeExact(tokenizer, ids.slice(i, i + BLOCK));
    const end = at + block.length;
    if (spells(block, at) && !edges.some((edge) => edge > at && edge < end)) {
      for (const stop = Math.min(ids.length, i + BLOCK); i < stop; i++) spans.push([at, end]);
      at = end;
      continue;
    }
    let j = i + 1;
    let piece = decodeExact(tokenizer, ids.slice(i, j));
    while (piece.includes(REPLACEMENT) && j < ids.length && j - i < MAX_GROUP) {
      j++;
      piece = decodeExact(tokenizer, ids.slice(i, j));
    }
    if (!spells(piece, at)) return undefined;
    for (; i < j; i++) spans.push([at, at + piece.length]);
    at += piece.length;
  }
  return at === text.length ? spans : undefined;
}

/** The prompt segment by segment, user text as cut data: the safe encoding for any text. */
function bySegments(segments: readonly PromptSegment[], tokenizer: PromptTokenizer): { ids: number[]; userRanges: Array<[number, number]> } {
  const ids: number[] = [];
  const userRanges: Array<[number, number]> = [];
  for (const segment of segments) {
    if (segment.role === 'template') {
      if (segment.text !== '') ids.push(...tokenizer.encode(segment.text, { add_special_tokens: false }));
      continue;
    }
    const start = ids.length;
    ids.push(...encodeAsData(segment.text, tokenizer));
    userRanges.push([start, ids.length]);
  }
  return { ids, userRanges };
}

/**
 * The prompt as the tokenizer encodes it whole, the instruction before the first user segment
 * apart; undefined when the tokens cannot be placed in the text (then {@link bySegments}).
 */
function whole(
  segments: readonly PromptSegment[],
  tokenizer: PromptTokenizer,
): { ids: number[]; userRanges: Array<[number, number]>; touching: Array<[number, number]> } | undefined {
  const first = segments.findIndex((s) => s.role === 'user');
  const head = bySegments(segments.slice(0, first), tokenizer).ids;
  const rest = segments.slice(first);
  const text = rest.map((s) => s.text).join('');
  const ids = tokenizer.encode(text, { add_special_tokens: false });
  const edges: number[] = [];
  for (const segment of rest) edges.push((edges.at(-1) ?? 0) + segment.text.length);
  const spans = tokenSpans(ids, text, edges, tokenizer);
  if (spans === undefined) return undefined;
  const userRanges: Array<[number, number]> = [];
  const touching: Array<[number, number]> = [];
  let from = 0;
  for (const segment of rest) {
    const to = from + segment.text.length;
    if (segment.role === 'user') {
      // Tokens inside [from, to), and those with any character of it; spans are in order.
      const start = spans.findIndex(([s]) => s >= from);
      const inside = start < 0 ? ids.length : start;
      let end = inside;
      while (end < ids.length && (spans[end]?.[1] ?? Infinity) <= to) end++;
      let touchStart = inside;
      while (touchStart > 0 && (spans[touchStart - 1]?.[1] ?? 0) > from) touchStart--;
      let touchEnd = end;
      while (touchEnd < ids.length && (spans[touchEnd]?.[0] ?? Infinity) < to) touchEnd++;
      userRanges.push([head.length + inside, head.length + end]);
      touching.push([head.length + touchStart, head.length + touchEnd]);
    }
    from = to;
  }
  return { ids: [...head, ...ids], userRanges, touching };
}

/**
 * Encodes prompt segments into the model input, keeping user text data.
 * @throws InvalidInputError if a token holding user text would still be an added token.
 * @example
 * const { ids, userRanges } = encodePrompt(format.buildPrompt({ prompt }, render), tokenizer);
 */
export function encodePrompt(
  segments: readonly PromptSegment[],
  tokenizer: PromptTokenizer,
  options: EncodeOptions = {},
): EncodedPrompt {
  const specials = options.addSpecialTokens === true ? sequenceSpecials(tokenizer) : { before: [], after: [] };
  const addedTokens = addedTokensOf(tokenizer);
  const text = segments.map((s) => s.text).join('');
  // Whole only when no added token's text overlaps a user text: inside one, or across an edge.
  let at = 0;
  let overlaps = false;
  for (const segment of segments) {
    if (segment.role === 'user') {
      overlaps ||= cutPoints(segment.text, addedTokens).length > 0;
      overlaps ||= spansPosition(text, at, addedTokens) || spansPosition(text, at + segment.text.length, addedTokens);
    }
    at += segment.text.length;
  }
  const encoded = (overlaps || !segments.some((s) => s.role === 'user') ? undefined : whole(segments, tokenizer)) ?? {
    ...bySegments(segments, tokenizer),
    touching: undefined,
  };
  const added = new Set(addedTokens.map((t) => t.id));
  for (const [start, end] of encoded.touching ?? encoded.userRanges) {
    const smuggled = encoded.ids.slice(start, end).find((id) => added.has(id));
    if (smuggled !== undefined) {
      throw new InvalidInputError('The text contains a sequence that would reach the model as a control token.', {
        details: { tokenId: smuggled },
      });
    }
  }
  const shift = specials.before.length;
  return {
    text,
    ids: [...specials.before, ...encoded.ids, ...specials.after],
    userRanges: encoded.userRanges.map(([start, end]) => [start + shift, end + shift]),
  };
}
