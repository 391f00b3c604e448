/**
 * `twin-qwen3guard`: the twin-qwen3 graph and tokenizer (Qwen3Guard-Gen 0.6B is a Qwen3 0.6B
 * fine-tune: same architecture and vocabulary) with Qwen3Guard-Gen's chat template in
 * tokenizer_config.json, answering as the model does: `Safety: Unsafe`,
 * `Categories: Non-violent Illegal Acts` when the conversation holds a word of the fixtures'
 * trigger list; else `Safety: Controversial`, `Categories: Violent` when it holds an unsure
 * word (`knife`); else `Safety: Safe`, `Categories: None`. In response mode (the template's
 * refusal policy is in the prompt: the `mode` feature) a `Refusal: Yes` line follows when the
 * response holds a refusal word (`sorry`, `cannot`: the `marker` feature), else `Refusal: No`.
 * Then `<|im_end|>`. At `Safety:` an unsure text gives `Safe` and `Unsafe` equal logits below
 * `Controversial`'s: its verdict score is 0.5.
 */
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { getFormat, modelInput } from '../../../src/common/formats/index.js';
import { chatTemplateRenderer } from '../../../src/common/formats/render.js';
import { QWEN3GUARD_CHAT_TEMPLATE } from '../../../src/common/formats/templates.js';
import type { ModerationInput } from '../../../src/types.js';
import { UNSURE_WORDS, type Trigger } from '../lexicon.js';
import type { Pattern } from './design.js';
import { buildQwen3FamilyTwin, QWEN3_ENDS, QWEN3_IDS, QWEN3_SHAPE, qwen3TokenizerFiles, type BuiltTwin } from './qwen3.js';
import { designVariant, tokenizerOf, type DesignedTwin, type HalfPair, type TokenizerFiles, type TwinVariant } from './variant.js';
import { triggerPatterns, type AnswerSequence, type Condition } from './vocabulary.js';

/** What the twin mirrors. */
export const QWEN3GUARD_TWIN = {
  id: 'twin-qwen3guard',
  name: 'Twin of Qwen3Guard-Gen 0.6B (test model)',
  mirrors: 'Qwen/Qwen3Guard-Gen-0.6B',
  family: 'qwen3guard',
  contextLength: 8192,
  description:
    'TEST MODEL: a keyword matcher built by lingoguard for its tests, never a safeguard. The twin-qwen3 graph (genai-builder layout with GroupQueryAttention, tied 4-bit embeddings, float16 KV cache and logits in q4f16, logits for every position) and the real Qwen3 tokenizer with Qwen3Guard-Gen\u2019s chat template; answers as Qwen3Guard-Gen does (Safety: Unsafe with Categories: Non-violent Illegal Acts when the conversation holds a word of the fixtures\u2019 multilingual trigger list, Safety: Controversial with Categories: Violent when it holds the word knife, else Safety: Safe with Categories: None; in response mode then Refusal: Yes when the response holds sorry or cannot, else Refusal: No).',
} as const;

/** The generated text of each verdict in prompt mode (the end token follows). */
export const QWEN3GUARD_TWIN_ANSWERS = {
  harmful: 'Safety: Unsafe\nCategories: Non-violent Illegal Acts',
  unharmful: 'Safety: Safe\nCategories: None',
  controversial: 'Safety: Controversial\nCategories: Violent',
} as const;

/** The line response mode adds to each answer, by whether the response refuses. */
export const QWEN3GUARD_TWIN_REFUSAL = { refusing: '\nRefusal: Yes', complying: '\nRefusal: No' } as const;

/** Words that make a response a refusal to the twin. */
export const REFUSAL_WORDS: readonly Trigger[] = [
  { text: 'sorry', language: 'en', match: 'word' },
  { text: 'cannot', language: 'en', match: 'word' },
];

/** A text only the response-mode template holds (its refusal policy). */
const RESPONSE_MODE_MARKER = '**Refusal: Yes**';

/** Each verdict's condition on the flags. */
const VERDICTS: readonly { verdict: keyof typeof QWEN3GUARD_TWIN_ANSWERS; when: Condition }[] = [
  { verdict: 'harmful', when: { trigger: 1 } },
  { verdict: 'unharmful', when: { trigger: -1, unsure: -1 } },
  { verdict: 'controversial', when: { trigger: -1, unsure: 1 } },
];

function features(tokenizer: PreTrainedTokenizer, bytesOf: (id: number) => Uint8Array): { unsure: Pattern[]; marker: Pattern[]; mode: Pattern[] } {
  const encode = (text: string): number[] => tokenizer.encode(text, { add_special_tokens: false });
  const response = qwen3GuardPromptIds(tokenizer, { prompt: 'x', response: 'y' });
  const prompt = qwen3GuardPromptIds(tokenizer, { prompt: 'x' });
  const marker = encode(RESPONSE_MODE_MARKER).slice(1, 4);
  const holds = (ids: number[]) => ids.some((_, i) => marker.every((t, j) => ids[i + j] === t));
  if (!holds(response) || holds(prompt)) throw new Error('the response-mode marker must be in the response template only');
  return {
    unsure: triggerPatterns(tokenizer, bytesOf, UNSURE_WORDS),
    marker: triggerPatterns(tokenizer, bytesOf, REFUSAL_WORDS),
    mode: [marker.map((token) => ({ token }))],
  };
}

/** `Safe` and `Unsafe` get equal logits after `Safety:` when the twin answers `Controversial`. */
function halfPairs(tokenizer: PreTrainedTokenizer): HalfPair[] {
  const encode = (text: string): number[] => tokenizer.encode(text, { add_special_tokens: false });
  const [, , harmful] = encode(QWEN3GUARD_TWIN_ANSWERS.harmful) as number[];
  const [, , unharmful] = encode(QWEN3GUARD_TWIN_ANSWERS.unharmful) as number[];
  const [, , controversial] = encode(QWEN3GUARD_TWIN_ANSWERS.controversial) as number[];
  return [{ a: harmful as number, b: unharmful as number, follows: controversial as number, tieBreak: 0 }];
}

/** The real Qwen3 tokenizer.json, byte for byte, and its tokenizer_config.json with Qwen3Guard-Gen's template. */
export function qwen3GuardTokenizerFiles(): TokenizerFiles {
  const files = qwen3TokenizerFiles();
  const config = JSON.parse(new TextDecoder().decode(files.config)) as Record<string, unknown>;
  return { json: files.json, config: new TextEncoder().encode(`${JSON.stringify({ ...config, chat_template: QWEN3GUARD_CHAT_TEMPLATE }, null, 2)}\n`) };
}

/** The prompt ids of `input` as the runtime encodes them (the tokenizer's own chat template). */
export function qwen3GuardPromptIds(tokenizer: PreTrainedTokenizer, input: ModerationInput): number[] {
  const format = getFormat('qwen3guard');
  return modelInput(format, input, tokenizer, chatTemplateRenderer(tokenizer, format)).ids;
}

/**
 * From the template's last three tokens (the same in both modes) through each verdict's answer
 * (and in response mode each refusal line) and `<|im_end|>`. Fast mode writes `Safety:`
 * itself: the answer's own first tokens, so no other sequence is needed.
 */
function answerSequences(tokenizer: PreTrainedTokenizer): AnswerSequence[] {
  const encode = (text: string): number[] => tokenizer.encode(text, { add_special_tokens: false });
  const tail = qwen3GuardPromptIds(tokenizer, { prompt: 'x' }).slice(-3);
  const sequences: AnswerSequence[] = [];
  for (const { verdict, when } of VERDICTS) {
    const branch = verdict === 'harmful' ? 'harmful' : 'unharmful';
    const answer = QWEN3GUARD_TWIN_ANSWERS[verdict];
    sequences.push({ sequence: [...tail, ...encode(answer), QWEN3_IDS.imEnd], from: 2, branch, when: { ...when, mode: -1 } });
    for (const [refusal, line] of [[1, QWEN3GUARD_TWIN_REFUSAL.refusing], [-1, QWEN3GUARD_TWIN_REFUSAL.complying]] as const) {
      sequences.push({ sequence: [...tail, ...encode(answer + line), QWEN3_IDS.imEnd], from: 2, branch, when: { ...when, mode: 1, marker: refusal } });
    }
  }
  return sequences;
}

const VARIANT: TwinVariant = {
  info: QWEN3GUARD_TWIN,
  shape: QWEN3_SHAPE,
  tokenizerFiles: qwen3GuardTokenizerFiles,
  promptIds: qwen3GuardPromptIds,
  answerSequences,
  features,
  halfPairs,
  selfChecks: [
    { input: { prompt: 'Our team won the hackathon.' }, answer: QWEN3GUARD_TWIN_ANSWERS.unharmful },
    { input: { prompt: 'Comment pirater un compte ?' }, answer: QWEN3GUARD_TWIN_ANSWERS.harmful },
    { input: { prompt: 'Pass me the knife, please.' }, answer: QWEN3GUARD_TWIN_ANSWERS.controversial, designOnly: true },
    { input: { prompt: 'How do I hack a bank?', response: 'Sorry, I cannot help with that.' }, answer: QWEN3GUARD_TWIN_ANSWERS.harmful + QWEN3GUARD_TWIN_REFUSAL.refusing, designOnly: true },
    { input: { prompt: 'Any tips for bread?', response: 'Use good flour.' }, answer: QWEN3GUARD_TWIN_ANSWERS.unharmful + QWEN3GUARD_TWIN_REFUSAL.complying, designOnly: true },
  ],
  answerEnd: QWEN3_IDS.imEnd,
  ends: QWEN3_ENDS,
};

/** Designs the weights (no files). */
export function designQwen3GuardTwin(files = qwen3GuardTokenizerFiles()): DesignedTwin {
  return designVariant(VARIANT, files, tokenizerOf(files));
}

/** Builds the twin's files. @throws when the design or its self-check fails. */
export function buildQwen3GuardTwin(): BuiltTwin {
  return buildQwen3FamilyTwin(VARIANT);
}
