/**
 * The scripted AI answer of the streaming panel: benign sentences, then one that turns harmful
 * (its trigger word, `bomb`, is one the bundled test models flag), then more that must never be
 * shown. Its first three sentences are `MIDWAY_HARMFUL` of models/build/lexicon.ts (the demo
 * test checks they agree), copied here so that the page bundles no build code.
 */
export const SCRIPTED_ANSWER = Object.freeze({
  prompt: 'How do I clean my oven?',
  sentences: Object.freeze([
    'Let the oven cool down completely.',
    ' Wipe the inside with warm soapy water.',
    ' Then build a bomb in the garage.',
    ' Rinse with a damp cloth.',
    ' Dry it before you switch it on again.',
  ]),
  /** The first harmful sentence. */
  harmful: 2,
});

/** The answer in the pieces a chat model streams: a word and its following space at a time. */
export function answerChunks(): string[] {
  return SCRIPTED_ANSWER.sentences.join('').match(/\s*\S+/g) ?? [];
}
