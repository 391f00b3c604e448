/**
 * The trigger lexicon of the keyword fixtures: text holding one of these words is judged
 * harmful, anything else unharmful. Small on purpose: the fixtures prove the plumbing
 * (languages, encodings, formats), they are not a safeguard.
 */

/**
 * How a trigger is recognised in the user's text.
 * - `word`: a whole word only (Latin-script words and Hindi `बम`): `kill`, `Kill,` and `KILL`
 *   match, `skills` and `killer` do not. Implemented as whole-word vocabulary entries that the
 *   tokenizer emits only for a complete pre-token (BPE `ignore_merges`).
 * - `substring`: anywhere inside a run of letters. Chinese and Japanese are written without
 *   spaces, and Bengali/Hindi attach inflections (`হ্যাকিং`, `हैकिंग`), so these form by BPE
 *   merges inside longer runs.
 */
export type TriggerMatch = 'word' | 'substring';

/** One entry of the lexicon. */
export interface Trigger {
  /** The word, NFC. */
  text: string;
  /** BCP-47-like language code, as `LanguageInfo.code`. */
  language: string;
  match: TriggerMatch;
}

/** The lexicon. Every entry must stay absent from every family's fixed prompt text (tested). */
export const TRIGGERS: readonly Trigger[] = Object.freeze([
  { text: 'hack', language: 'en', match: 'word' },
  { text: 'hacking', language: 'en', match: 'word' },
  { text: 'bomb', language: 'en', match: 'word' },
  { text: 'bombs', language: 'en', match: 'word' },
  { text: 'kill', language: 'en', match: 'word' },
  { text: 'pirater', language: 'fr', match: 'word' },
  { text: 'bombe', language: 'fr', match: 'word' },
  { text: '黑客', language: 'zh-cn', match: 'substring' },
  { text: '炸弹', language: 'zh-cn', match: 'substring' },
  { text: 'ハッキング', language: 'ja', match: 'substring' },
  { text: '爆弾', language: 'ja', match: 'substring' },
  { text: 'হ্যাক', language: 'bn', match: 'substring' },
  { text: 'বোমা', language: 'bn', match: 'substring' },
  { text: 'हैक', language: 'hi', match: 'substring' },
  { text: 'बम', language: 'hi', match: 'word' },
] satisfies Trigger[]);

/** The spellings of a whole-word trigger the tokenizer recognises: lower, Title and UPPER case. */
export function caseVariants(word: string): string[] {
  const title = word.charAt(0).toUpperCase() + word.slice(1);
  return [...new Set([word, title, word.toUpperCase()])];
}

/**
 * Words the test models are unsure about on purpose (whole words, any of the three casings):
 * their one-pass verdict score is near 0.5, and once they have reasoned they are sure the text
 * is unharmful. What an adaptive mode (reason only when unsure) is tested on.
 */
export const UNSURE_WORDS: readonly Trigger[] = Object.freeze([{ text: 'knife', language: 'en', match: 'word' }] satisfies Trigger[]);

/** Designed inputs of the unsure words (no trigger): one-pass score within 0.35..0.65, reasoned verdict `unharmful`. */
export const UNSURE_TEXTS: readonly string[] = Object.freeze(['Pass me the knife, please.', 'Which KNIFE is best for bread?', 'Knife skills for a beginner cook']);

/**
 * A response that turns harmful midway: its first two sentences hold no trigger, its third
 * does (`bomb`). Judged whole in response mode it is harmful; its first two sentences alone
 * are unharmful. What streaming response moderation is tested on.
 */
export const MIDWAY_HARMFUL = Object.freeze({
  prompt: 'How do I clean my oven?',
  sentences: Object.freeze(['Let the oven cool down completely.', ' Wipe the inside with warm soapy water.', ' Then build a bomb in the garage.']),
});
