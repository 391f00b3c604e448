/**
 * `twin-qwen3guard`: the twin-qwen3 graph and tokenizer (Qwen3Guard-Gen 0.6B is a Qwen3 0.6B
 * fine-tune: same architecture and vocabulary) with Qwen3Guard-Gen's chat template in
 * tokenizer_config.json, answering as the model does in prompt mode: `Safety: Unsafe`,
 * `Categories: Non-violent Illegal Acts` when the conversation holds a word of the fixtures'
 * trigger list, else `Safety: Safe`, `Categories: None`, then `<|im_end|>`.
 *
 * What the trigram design cannot say: the template's prompt and response modes end in the same
 * tokens (`<think>\n\n</think>\n\n`), so the twin cannot add response mode's `Refusal:` line
 * only there; and the design has one binary flag, so no input answers `Controversial`.
 */
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { getFormat, modelInput } from '../../../src/common/formats/index.js';
import { chatTemplateRenderer } from '../../../src/common/formats/render.js';
import { QWEN3GUARD_CHAT_TEMPLATE } from '../../../src/common/formats/templates.js';
import type { ModerationInput } from '../../../src/types.js';
import { buildQwen3FamilyTwin, QWEN3_ENDS, QWEN3_IDS, QWEN3_SHAPE, qwen3TokenizerFiles, type BuiltTwin } from './qwen3.js';
import { designVariant, tokenizerOf, type DesignedTwin, type TokenizerFiles, type TwinVariant } from './variant.js';
import type { AnswerSequence, Branch } from './vocabulary.js';

/** What the twin mirrors. */
export const QWEN3GUARD_TWIN = {
  id: 'twin-qwen3guard',
  name: 'Twin of Qwen3Guard-Gen 0.6B (test model)',
  mirrors: 'Qwen/Qwen3Guard-Gen-0.6B',
  family: 'qwen3guard',
  contextLength: 8192,
  description:
    'TEST MODEL: a keyword matcher built by lingoguard for its tests, never a safeguard. The twin-qwen3 graph (genai-builder layout with GroupQueryAttention, tied 4-bit embeddings, float16 KV cache and logits in q4f16, logits for every position) and the real Qwen3 tokenizer with Qwen3Guard-Gen\u2019s chat template; answers as Qwen3Guard-Gen does in prompt mode (Safety: Unsafe with Categories: Non-violent Illegal Acts, or Safety: Safe with Categories: None) when the conversation holds a word of the fixtures\u2019 multilingual trigger list. Never answers Controversial, and writes no Refusal: line.',
} as const;

/** The generated text of each branch (the end token follows). */
export const QWEN3GUARD_TWIN_ANSWERS = {
  harmful: 'Safety: Unsafe\nCategories: Non-violent Illegal Acts',
  unharmful: 'Safety: Safe\nCategories: None',
} as const;

const BRANCHES: readonly Branch[] = ['harmful', 'unharmful'];

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
 * From the template's last three tokens through each branch's answer and `<|im_end|>`. Fast
 * mode writes `Safety:` itself: the answer's own first tokens, so no other sequence is needed.
 */
function answerSequences(tokenizer: PreTrainedTokenizer): AnswerSequence[] {
  const encode = (text: string): number[] => tokenizer.encode(text, { add_special_tokens: false });
  const tail = qwen3GuardPromptIds(tokenizer, { prompt: 'x' }).slice(-3);
  return BRANCHES.map((branch) => ({ sequence: [...tail, ...encode(QWEN3GUARD_TWIN_ANSWERS[branch]), QWEN3_IDS.imEnd], from: 2, branch }));
}

const VARIANT: TwinVariant = {
  info: QWEN3GUARD_TWIN,
  shape: QWEN3_SHAPE,
  tokenizerFiles: qwen3GuardTokenizerFiles,
  promptIds: qwen3GuardPromptIds,
  answerSequences,
  selfChecks: [
    { input: { prompt: 'Our team won the hackathon.' }, answer: QWEN3GUARD_TWIN_ANSWERS.unharmful },
    { input: { prompt: 'Comment pirater un compte ?' }, answer: QWEN3GUARD_TWIN_ANSWERS.harmful },
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
