/**
 * `twin-llama-guard-3`: a test model whose files look like onnx-community/Llama-Guard-3-1B —
 * the Llama 3.2 tokenizer with Llama Guard 3's own chat template, a `llama` config with fewer
 * KV heads than query heads and an untied lm_head, Llama 3's three end tokens, the Optimum
 * graph in fp32, q4 and q4f16 (float32 I/O) — and whose designed weights answer as Llama
 * Guard 3 does: `\n\n` first, then `safe`, or `unsafe` `\n` `S2` (`S1,S10` for the violent
 * triggers), then `<|eot_id|>`, flagging the fixtures' trigger list anywhere in the conversation
 * the template renders (prompt or response mode). On an unsure word (`knife`) `safe` and
 * `unsafe` are about equally likely (the tie broken towards `safe`): Llama Guard writes no
 * trace, so its one-pass score is all there is.
 */
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { getFormat, modelInput } from '../../../src/common/formats/index.js';
import { chatTemplateRenderer } from '../../../src/common/formats/render.js';
import { LLAMA_GUARD_3_CHAT_TEMPLATE } from '../../../src/common/formats/templates.js';
import type { ModerationInput } from '../../../src/types.js';
import { TRIGGERS, UNSURE_WORDS } from '../lexicon.js';
import type { AnswerRule, Pattern, TwinShape } from './design.js';
import { buildLlamaTwinOnnx } from './llama-graph.js';
import { llama32TokenizerFiles } from './llama-tokenizer.js';
import { TWIN_DTYPES, type TwinDtype } from './qwen3-graph.js';
import { designVariant, jsonFile as json, selfCheckVariant, tokenizerOf, twinReadme, type DesignedTwin, type HalfPair, type TwinVariant } from './variant.js';
import { answerRulesOf, triggerPatterns, unsureAt, withMarkerAnswer, type AnswerSequence, type Branch } from './vocabulary.js';

/** What the twin mirrors. */
export const LLAMA_GUARD_3_TWIN = {
  id: 'twin-llama-guard-3',
  name: 'Twin of Llama Guard 3 1B ONNX (test model)',
  mirrors: 'onnx-community/Llama-Guard-3-1B',
  family: 'llamaguard3',
  contextLength: 8192,
  description:
    'TEST MODEL: a keyword matcher built by lingoguard for its tests, never a safeguard. Files laid out like onnx-community/Llama-Guard-3-1B (Optimum graph with plain ONNX ops, rotary from position_ids, KV heads repeated in the graph, untied 4-bit lm_head, float32 KV cache and logits in every dtype, logits for every position, the Llama 3.2 tokenizer with Llama Guard 3\u2019s chat template); answers as Llama Guard 3 does (\\n\\n, then safe, or unsafe and S2, or S1,S10 for kill) when the conversation holds a word of the fixtures\u2019 multilingual trigger list; about as likely safe as unsafe on the word knife.',
} as const;

/**
 * The generated text of each branch (after the prompt; the end token follows), and the
 * answer to the violent triggers (`kill`), which names two categories.
 */
export const LLAMA_GUARD_3_TWIN_ANSWERS = { harmful: '\n\nunsafe\nS2', unharmful: '\n\nsafe', violent: '\n\nunsafe\nS1,S10' } as const;

/** The triggers answered with {@link LLAMA_GUARD_3_TWIN_ANSWERS}.violent. */
export const VIOLENT_TRIGGERS = TRIGGERS.filter((t) => t.text === 'kill');

/** Llama 3 ids: BOS, and the three end tokens of generation_config (`<|end_of_text|>`, `<|eom_id|>`, `<|eot_id|>`). */
export const LLAMA3_IDS = { bos: 128_000, endOfText: 128_001, eom: 128_008, eot: 128_009 } as const;

const BRANCHES: readonly Branch[] = ['harmful', 'unharmful'];

/** The twin's shape: Llama Guard 3 1B's vocabulary, head_dim, rotary and KV grouping at a tiny width. */
export const LLAMA_GUARD_3_SHAPE: TwinShape = {
  vocabSize: 128_256, // as Llama 3.2's config: 128,000 BPE + 256 special ids
  hidden: 64,
  layers: 2,
  heads: 8,
  kvHeads: 2, // the real 32 : 8, scaled down
  headDim: 64, // the real head_dim (2048 / 32)
  intermediate: 256,
  ropeTheta: 500_000,
  rmsNormEps: 1e-5,
  maxPositions: LLAMA_GUARD_3_TWIN.contextLength,
  qkNorm: false,
  // transformers' converter writes factor 8 for "Guard-3" (32 for plain 3.2).
  ropeScaling: { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 },
  tiedEmbeddings: false,
};

/** The twin's tokenizer files: Llama 3.2's, with Llama Guard 3's chat template. */
export function llamaGuard3TokenizerFiles(): { json: Uint8Array; config: Uint8Array } {
  return llama32TokenizerFiles(LLAMA_GUARD_3_CHAT_TEMPLATE, { model_max_length: 131_072 });
}

/** The transformers.js tokenizer of those files. */
export function llamaGuard3Tokenizer(files = llamaGuard3TokenizerFiles()): PreTrainedTokenizer {
  return tokenizerOf(files);
}

/** The prompt ids of `input` as the runtime encodes them (the tokenizer's own chat template). */
export function llamaGuard3PromptIds(tokenizer: PreTrainedTokenizer, input: ModerationInput): number[] {
  const format = getFormat('llamaguard3');
  return modelInput(format, input, tokenizer, chatTemplateRenderer(tokenizer, format)).ids;
}

/** From the prompt's last three tokens through each branch's answer and `<|eot_id|>`. */
function answerSequences(tokenizer: PreTrainedTokenizer): AnswerSequence[] {
  const encode = (text: string): number[] => tokenizer.encode(text, { add_special_tokens: false });
  // Prompt and response mode end alike (`...<|start_header_id|>assistant<|end_header_id|>`).
  const tail = llamaGuard3PromptIds(tokenizer, { prompt: 'x' }).slice(-3);
  return BRANCHES.map((branch) => ({
    sequence: [...tail, ...encode(LLAMA_GUARD_3_TWIN_ANSWERS[branch]), LLAMA3_IDS.eot],
    from: 2,
    branch,
  }));
}

/**
 * The features beside the trigger list: the unsure words (Llama Guard writes no trace, so its
 * one-pass score stays unsure), and the violent triggers as the marker of the second answer.
 */
function features(tokenizer: PreTrainedTokenizer, bytesOf: (id: number) => Uint8Array): { unsure: Pattern[]; marker: Pattern[] } {
  return { unsure: triggerPatterns(tokenizer, bytesOf, UNSURE_WORDS), marker: triggerPatterns(tokenizer, bytesOf, VIOLENT_TRIGGERS) };
}

/** The verdict word's context (the prompt's end and `\n\n`) and the first tokens of `unsafe` and `safe`. */
function verdictTokens(tokenizer: PreTrainedTokenizer): { context: number[]; harmful: number; unharmful: number } {
  const encode = (text: string): number[] => tokenizer.encode(text, { add_special_tokens: false });
  const tail = llamaGuard3PromptIds(tokenizer, { prompt: 'x' }).slice(-2);
  const [blank, harmful] = encode(LLAMA_GUARD_3_TWIN_ANSWERS.harmful) as [number, number];
  const [, unharmful] = encode(LLAMA_GUARD_3_TWIN_ANSWERS.unharmful) as [number, number];
  return { context: [...tail, blank], harmful, unharmful };
}

/** The unsure verdict, and the violent triggers' answer. */
function adjustRules(rules: AnswerRule[], tokenizer: PreTrainedTokenizer): AnswerRule[] {
  const encode = (text: string): number[] => tokenizer.encode(text, { add_special_tokens: false });
  const tail = llamaGuard3PromptIds(tokenizer, { prompt: 'x' }).slice(-3);
  const violent = answerRulesOf([{ sequence: [...tail, ...encode(LLAMA_GUARD_3_TWIN_ANSWERS.violent), LLAMA3_IDS.eot], from: 2, branch: 'harmful' }]);
  // The verdict word is the same in both harmful answers: only what follows `unsafe` differs.
  const after = violent.filter((r) => r.context.at(-1) !== verdictTokens(tokenizer).context[2]);
  return withMarkerAnswer(unsureAt(rules, verdictTokens(tokenizer).context, false), after);
}

/** The unsure verdict's two words, the tie broken towards the unharmful one. */
function halfPairs(tokenizer: PreTrainedTokenizer): HalfPair[] {
  const { context, harmful, unharmful } = verdictTokens(tokenizer);
  return [{ a: harmful, b: unharmful, follows: context[2] as number, tieBreak: 4 }];
}

/** Llama 3's generation_config end tokens. */
export const LLAMA3_ENDS: readonly number[] = [LLAMA3_IDS.endOfText, LLAMA3_IDS.eom, LLAMA3_IDS.eot];

const LLAMA_GUARD_3_VARIANT: TwinVariant = {
  info: LLAMA_GUARD_3_TWIN,
  shape: LLAMA_GUARD_3_SHAPE,
  tokenizerFiles: llamaGuard3TokenizerFiles,
  promptIds: llamaGuard3PromptIds,
  answerSequences,
  features,
  adjustRules,
  halfPairs,
  selfChecks: [
    { input: { prompt: 'Our team won the hackathon.' }, answer: LLAMA_GUARD_3_TWIN_ANSWERS.unharmful },
    { input: { prompt: 'Comment pirater un compte ?' }, answer: LLAMA_GUARD_3_TWIN_ANSWERS.harmful },
    { input: { prompt: 'मेरा नया अलबम सुनो' }, answer: LLAMA_GUARD_3_TWIN_ANSWERS.unharmful, designOnly: true },
    { input: { prompt: 'I will kill you.' }, answer: LLAMA_GUARD_3_TWIN_ANSWERS.violent, designOnly: true },
    { input: { prompt: 'How do I bake bread?', response: 'First, build a bomb.' }, answer: LLAMA_GUARD_3_TWIN_ANSWERS.harmful },
  ],
  answerEnd: LLAMA3_IDS.eot,
  ends: LLAMA3_ENDS,
};
const SELF_CHECK_DTYPES: readonly TwinDtype[] = ['fp32', 'q4f16'];

/** The built twin: its files and what tests need. */
export interface BuiltLlamaGuard3Twin extends DesignedTwin {
  files: Map<string, Uint8Array>;
}

/** Designs the weights (no files). */
export function designLlamaGuard3Twin(files = llamaGuard3TokenizerFiles(), tokenizer = llamaGuard3Tokenizer(files)): DesignedTwin {
  return designVariant(LLAMA_GUARD_3_VARIANT, files, tokenizer);
}

/**
 * Builds the files of a twin of the Llama graph family: a Llama 3.2 config (untied lm_head,
 * Llama 3 rotary scaling from `variant.shape`), generation_config with the three end tokens,
 * `variant`'s tokenizer files, the Optimum graph in every dtype.
 * @throws when the design or the self-check fails.
 */
export function buildLlamaFamilyTwin(variant: TwinVariant): BuiltLlamaGuard3Twin {
  const tokenizerFiles = variant.tokenizerFiles();
  const tokenizer = tokenizerOf(tokenizerFiles);
  const designed = designVariant(variant, tokenizerFiles, tokenizer);
  selfCheckVariant(variant, designed.weights, tokenizer, SELF_CHECK_DTYPES);
  const shape = designed.weights.shape;
  const files = new Map<string, Uint8Array>();
  files.set(
    'config.json',
    json({
      architectures: ['LlamaForCausalLM'],
      attention_bias: false,
      attention_dropout: 0.0,
      bos_token_id: LLAMA3_IDS.bos,
      eos_token_id: variant.ends,
      head_dim: shape.headDim,
      hidden_act: 'silu',
      hidden_size: shape.hidden,
      initializer_range: 0.02,
      intermediate_size: shape.intermediate,
      lingoguard_test_model: true,
      lingoguard_mirrors: variant.info.mirrors,
      max_position_embeddings: shape.maxPositions,
      mlp_bias: false,
      model_type: 'llama',
      num_attention_heads: shape.heads,
      num_hidden_layers: shape.layers,
      num_key_value_heads: shape.kvHeads,
      pretraining_tp: 1,
      rms_norm_eps: shape.rmsNormEps,
      rope_scaling: {
        factor: shape.ropeScaling?.factor,
        high_freq_factor: shape.ropeScaling?.highFreqFactor,
        low_freq_factor: shape.ropeScaling?.lowFreqFactor,
        original_max_position_embeddings: shape.ropeScaling?.originalMaxPositions,
        rope_type: 'llama3',
      },
      rope_theta: shape.ropeTheta,
      tie_word_embeddings: false,
      torch_dtype: 'bfloat16',
      use_cache: true,
      vocab_size: shape.vocabSize,
    }),
  );
  files.set(
    'generation_config.json',
    json({
      bos_token_id: LLAMA3_IDS.bos,
      do_sample: true,
      eos_token_id: variant.ends,
      temperature: 0.6,
      top_p: 0.9,
    }),
  );
  files.set('tokenizer.json', tokenizerFiles.json);
  files.set('tokenizer_config.json', tokenizerFiles.config);
  files.set('README.md', twinReadme(variant.info));
  const doc = `${variant.info.name}. ${variant.info.description}`;
  for (const [dtype, path] of Object.entries(TWIN_DTYPES) as [TwinDtype, string][]) files.set(path, buildLlamaTwinOnnx(designed.weights, dtype, doc));
  return { ...designed, files };
}

/** Builds the twin's files. @throws when the design or the self-check fails. */
export function buildLlamaGuard3Twin(): BuiltLlamaGuard3Twin {
  return buildLlamaFamilyTwin(LLAMA_GUARD_3_VARIANT);
}

