/**
 * The fixtures' tokenizer: a byte-level BPE in the `tokenizer.json` format transformers.js
 * reads, designed so that the model can see the lexicon's words.
 *
 * - Pre-tokenizer: a GPT-2-style split whose letter runs are `[\p{L}\p{M}]+` (GPT-2's `\p{L}+`
 *   would cut Bengali and Devanagari words at every combining vowel sign), then byte-level.
 * - Whole words (the template's words, the `word` triggers in three casings) are vocabulary
 *   entries that BPE `ignore_merges` emits only when the whole pre-token equals them, as Llama
 *   3's tokenizer does: ` kill` is one token, ` skills` and ` killer` never hold it.
 * - `substring` triggers form by merges (bytes to characters, characters to the word), so
 *   `黑客` forms inside `我想学黑客技术`.
 * - Answer pieces are vocabulary entries no merge produces: the model can write them, text
 *   mostly cannot encode into them (a piece equal to a template word is shared with it).
 * - Special tokens are added tokens with ASCII content, as the family's base model has them.
 * The template's words make the instruction ~300 tokens instead of ~1.2k bytes.
 */
import type { Family } from '../../src/types.js';
import { TRIGGERS, UNSURE_WORDS, caseVariants } from './lexicon.js';

/** GPT-2's byte-to-character table: every byte gets a printable character. */
const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const table: string[] = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = String.fromCodePoint(printable.includes(b) ? b : 256 + extra++);
  }
  return table;
})();

/** The pre-tokenizer's split (kept in sync with `PRE_TOKENIZER` below). */
const SPLIT_SOURCE = String.raw` ?[\p{L}\p{M}]+| ?\p{N}+| ?[^\s\p{L}\p{M}\p{N}]+|\s+(?!\S)|\s+`;
const SPLIT = new RegExp(SPLIT_SOURCE, 'gu');

/** `text` in the byte-level alphabet. */
export function byteLevel(text: string): string {
  return Array.from(new TextEncoder().encode(text), (b) => BYTE_TO_CHAR[b] as string).join('');
}

/** The pre-tokens of `text`, in the byte-level alphabet, as the tokenizer makes them. */
export function preTokenize(text: string): string[] {
  return (text.normalize('NFC').match(SPLIT) ?? []).map(byteLevel);
}

/** The special tokens of a family's base model (Qwen 2.5 for ConsistentGuard, Llama 3 for GuardReasoner). */
const SPECIALS = {
  consistentguard: {
    tokens: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'],
    eos: '<|endoftext|>',
    bos: undefined,
    tokenizerClass: 'Qwen2Tokenizer',
  },
  guardreasoner: {
    tokens: ['<|begin_of_text|>', '<|end_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'],
    eos: '<|end_of_text|>',
    bos: '<|begin_of_text|>',
    tokenizerClass: 'PreTrainedTokenizerFast',
  },
} as const satisfies Partial<Record<Family, unknown>>;

/** A family whose base tokenizer the fixtures imitate. */
export type TokenizerFamily = keyof typeof SPECIALS;

/** What to build a tokenizer from. */
export interface TokenizerSpec {
  family: TokenizerFamily;
  /** The family's fixed prompt texts: their words become whole-word tokens. */
  templateTexts: readonly string[];
  /** The answer pieces the model writes (plain text, one token each). */
  pieces: readonly string[];
  /** `model_max_length`. */
  contextLength: number;
  /**
   * Texts the runtime writes itself to close a reasoning trace (the format's
   * `reasoning.close`). Added tokens, so that each is one token the model has a successor for.
   */
  forced?: readonly string[];
  /** Whether the lexicon's unsure words get whole-word tokens (in three casings, with and without a space). */
  unsure?: boolean;
}

/** The built tokenizer files and the ids the weight design needs. */
export interface BuiltTokenizer {
  /** `tokenizer.json`. */
  tokenizerJson: Record<string, unknown>;
  /** `tokenizer_config.json`. */
  tokenizerConfig: Record<string, unknown>;
  /** Number of ids, added tokens included. */
  vocabSize: number;
  /** Ids of the lexicon's tokens (every casing / spacing variant). */
  triggerIds: number[];
  /** Id of each answer piece, by its text. */
  pieceIds: ReadonlyMap<string, number>;
  eosId: number;
  bosId: number | undefined;
  /** Ids of all special tokens. */
  specialIds: number[];
  /** Id of each forced text (see `TokenizerSpec.forced`). */
  forcedIds: ReadonlyMap<string, number>;
  /** Ids of the unsure words' tokens (empty unless `TokenizerSpec.unsure`). */
  unsureIds: number[];
}

class Vocab {
  readonly ids = new Map<string, number>();
  add(token: string): number {
    let id = this.ids.get(token);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(token, id);
    }
    return id;
  }
}

/** Merges that assemble `text` left to right from its characters (after assembling each character from bytes). */
function chainMerges(text: string): { characters: [string, string][]; word: [string, string][] } {
  const characters: [string, string][] = [];
  const chars = Array.from(text.normalize('NFC'), byteLevel);
  for (const char of chars) {
    const bytes = Array.from(char);
    let acc = bytes[0] ?? '';
    for (const b of bytes.slice(1)) {
      characters.push([acc, b]);
      acc += b;
    }
  }
  const word: [string, string][] = [];
  let acc = chars[0] ?? '';
  for (const c of chars.slice(1)) {
    word.push([acc, c]);
    acc += c;
  }
  return { characters, word };
}

/** Builds the tokenizer for `spec`. Deterministic: same spec, same files. */
export function buildTokenizer(spec: TokenizerSpec): BuiltTokenizer {
  const vocab = new Vocab();
  for (const char of BYTE_TO_CHAR) vocab.add(char);

  // Substring triggers: byte-to-character merges first, so characters exist before words form.
  const substringTriggers = TRIGGERS.filter((t) => t.match === 'substring');
  const chains = substringTriggers.map((t) => chainMerges(t.text));
  const merges: [string, string][] = [];
  const seen = new Set<string>();
  for (const pair of [...chains.flatMap((c) => c.characters), ...chains.flatMap((c) => c.word)]) {
    const key = pair.join(' ');
    if (seen.has(key)) continue;
    seen.add(key);
    merges.push(pair);
    vocab.add(pair[0] + pair[1]);
  }
  const triggerIds = new Set(substringTriggers.map((t) => vocab.add(byteLevel(t.text.normalize('NFC')))));

  // Whole-word triggers, with and without the leading space, in three casings.
  for (const trigger of TRIGGERS.filter((t) => t.match === 'word')) {
    for (const variant of caseVariants(trigger.text.normalize('NFC'))) {
      triggerIds.add(vocab.add(byteLevel(variant)));
      triggerIds.add(vocab.add(byteLevel(` ${variant}`)));
    }
  }

  // Unsure words, as whole words like the word triggers.
  const unsureIds = new Set<number>();
  for (const word of spec.unsure === true ? UNSURE_WORDS : []) {
    for (const variant of caseVariants(word.text.normalize('NFC'))) {
      unsureIds.add(vocab.add(byteLevel(variant)));
      unsureIds.add(vocab.add(byteLevel(` ${variant}`)));
    }
  }

  // The template's pre-tokens, whole.
  for (const text of spec.templateTexts) for (const token of preTokenize(text)) vocab.add(token);

  const pieceIds = new Map<string, number>();
  for (const piece of spec.pieces) {
    const id = vocab.add(byteLevel(piece));
    if (triggerIds.has(id) || unsureIds.has(id)) throw new Error(`answer piece ${JSON.stringify(piece)} is a trigger or unsure token`);
    pieceIds.set(piece, id);
  }

  const specials = SPECIALS[spec.family];
  const added = (content: string, special: boolean) => ({
    id: vocab.add(content),
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special,
  });
  const addedTokens = specials.tokens.map((content) => added(content, true));
  // Not special: decoding keeps them, as the runtime's answer text holds what it wrote.
  const forcedTokens = (spec.forced ?? []).map((content) => added(content, false));
  const allAdded = [...addedTokens, ...forcedTokens];
  const addedContents = new Set(allAdded.map((t) => t.content));
  const idOf = (token: string): number => {
    const id = vocab.ids.get(token);
    if (id === undefined) throw new Error(`no id for ${token}`);
    return id;
  };
  const bosId = specials.bos === undefined ? undefined : idOf(specials.bos);

  const postProcessor =
    specials.bos === undefined
      ? null
      : {
          // Llama 3 puts BOS before every sequence; the formats add it once per prompt.
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: specials.bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [
            { SpecialToken: { id: specials.bos, type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
            { SpecialToken: { id: specials.bos, type_id: 1 } },
            { Sequence: { id: 'B', type_id: 1 } },
          ],
          special_tokens: { [specials.bos]: { id: specials.bos, ids: [bosId], tokens: [specials.bos] } },
        };

  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: allAdded,
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: SPLIT_SOURCE }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      ],
    },
    post_processor: postProcessor,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: true,
      vocab: Object.fromEntries([...vocab.ids].filter(([token]) => !addedContents.has(token))),
      merges,
    },
  };

  const tokenizerConfig: Record<string, unknown> = {
    tokenizer_class: specials.tokenizerClass,
    clean_up_tokenization_spaces: false,
    model_max_length: spec.contextLength,
    padding_side: 'left',
    eos_token: specials.eos,
    pad_token: specials.eos,
    added_tokens_decoder: Object.fromEntries(
      allAdded.map(({ id, ...token }) => [String(id), token]),
    ),
  };
  if (specials.bos !== undefined) tokenizerConfig['bos_token'] = specials.bos;

  return {
    tokenizerJson,
    tokenizerConfig,
    vocabSize: vocab.ids.size,
    triggerIds: [...triggerIds].sort((a, b) => a - b),
    pieceIds,
    eosId: idOf(specials.eos),
    bosId,
    specialIds: addedTokens.map((t) => t.id),
    forcedIds: new Map(forcedTokens.map((t) => [t.content, t.id])),
    unsureIds: [...unsureIds].sort((a, b) => a - b),
  };
}
