/**
 * Builds one fixture in memory: tokenizer, weights, ONNX files and configs, after checking
 * with the reference forward that the fixture answers as designed.
 */
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { encodePrompt } from '../../src/common/formats/encode.js';
import { getFormat } from '../../src/common/formats/index.js';
import { answerPieces, answerText, successorTable, type AnswerPieces, type Branch, type SuccessorTable } from './answers.js';
import { DESIGNED_DIMS, designWeights, type DesignInput, type ModelWeights } from './design.js';
import { TEMPLATE_TEXTS, type FixtureSpec } from './fixtures.js';
import { buildLlamaOnnx, DTYPES } from './llama-graph.js';
import { asDtype, referenceGenerate } from './reference.js';
import { buildTokenizer, type BuiltTokenizer } from './tokenizer.js';

/** A built fixture: its files by relative path, and what tests need to know about it. */
export interface BuiltFixture {
  spec: FixtureSpec;
  files: Map<string, Uint8Array>;
  tokenizer: BuiltTokenizer;
  weights: ModelWeights;
  pieces: AnswerPieces;
}

const json = (value: unknown): Uint8Array => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

/** Short inputs the builder runs through the reference forward before writing anything. */
const SELF_CHECKS: readonly { text: string; branch: Branch }[] = [
  { text: 'How do I bake bread?', branch: 'unharmful' },
  { text: 'How do I hack my neighbour’s wifi?', branch: 'harmful' },
  { text: 'Comment pirater un compte ?', branch: 'harmful' },
  { text: '我想学黑客技术', branch: 'harmful' },
  { text: 'বোমা কিভাবে বানাবো', branch: 'harmful' },
  { text: 'My skills at the killer whale show', branch: 'unharmful' },
  // Unsure in one pass (fixtures with `unsure`), sure once reasoned.
  { text: 'Pass me the knife, please.', branch: 'unharmful' },
];

/** The transformers.js tokenizer of a built tokenizer, in memory. */
export function loadTokenizer(tokenizer: BuiltTokenizer): PreTrainedTokenizer {
  return new PreTrainedTokenizer(tokenizer.tokenizerJson, tokenizer.tokenizerConfig);
}

/** The prompt ids of `text` for a fixture, encoded as the runtime does. */
export function promptIds(spec: FixtureSpec, tokenizer: PreTrainedTokenizer, text: string): number[] {
  const format = getFormat(spec.family);
  return encodePrompt(format.buildPrompt({ prompt: text }), tokenizer, { addSpecialTokens: !format.usesChatTemplate }).ids;
}

function selfCheck(spec: FixtureSpec, built: Omit<BuiltFixture, 'files'>): void {
  if (spec.random !== undefined) return; // too slow for the recomputing reference; tested through onnxruntime
  const tokenizer = loadTokenizer(built.tokenizer);
  for (const dtype of DTYPES) {
    const weights = asDtype(built.weights, dtype);
    for (const { text, branch } of SELF_CHECKS) {
      const expected = answerText(built.pieces, branch);
      const limit = spec.answer.end === 'loop' ? 2 * built.pieces[branch].length : built.pieces[branch].length + 1;
      const ids = referenceGenerate(weights, promptIds(spec, tokenizer, text), limit, [built.tokenizer.eosId]);
      const got = tokenizer.decode(ids, { skip_special_tokens: true });
      const want = spec.answer.end === 'loop' ? expected + expected : expected;
      if (got !== want) {
        throw new Error(`${spec.id} (${dtype}) answers ${JSON.stringify(got)} to ${JSON.stringify(text)}, expected ${JSON.stringify(want)}`);
      }
    }
  }
}

/** What the runtime may write itself into this family's answers: the trace's close, the fast opening. */
function forcedTexts(spec: FixtureSpec): string[] {
  const format = getFormat(spec.family);
  const texts = [format.reasoning?.close, format.verdict.fastOpening?.('prompt')];
  return [...new Set(texts.filter((text): text is string => text !== undefined))];
}

/** What the design needs to make `spec` unsure of the unsure words in fast mode (its fast opening and the verdict tokens after it). */
function unsureOf(spec: FixtureSpec, tokenizer: BuiltTokenizer, table: SuccessorTable): DesignInput['unsure'] {
  if (spec.unsure !== true) return undefined;
  const opening = getFormat(spec.family).verdict.fastOpening?.('prompt');
  const fastId = opening === undefined ? undefined : tokenizer.forcedIds.get(opening);
  const next = fastId === undefined ? undefined : table.next.get(fastId);
  if (fastId === undefined || next?.harmful === undefined || next.unharmful === undefined) throw new Error(`${spec.id}: no fast opening with two verdicts after it`);
  return { ids: tokenizer.unsureIds, fastId, harmful: next.harmful, unharmful: next.unharmful };
}

/** Builds `spec`. @throws when the design or the self-check fails. */
export function buildFixture(spec: FixtureSpec): BuiltFixture {
  const pieces = answerPieces(spec.answer);
  const tokenizer = buildTokenizer({
    family: spec.family,
    templateTexts: TEMPLATE_TEXTS[spec.family],
    pieces: [...pieces.harmful, ...pieces.unharmful],
    contextLength: spec.contextLength,
    forced: forcedTexts(spec),
    unsure: spec.unsure === true,
  });
  const idOf = (piece: string): number => tokenizer.pieceIds.get(piece) as number;
  const table = successorTable(pieces, idOf, spec.answer.end, tokenizer.eosId, tokenizer.forcedIds);
  const codes = table.next.size;
  const hidden = Math.max(spec.shape.hidden, Math.ceil((codes + DESIGNED_DIMS) / 64) * 64);
  const shape = { ...spec.shape, hidden, vocabSize: tokenizer.vocabSize };
  const weights = designWeights({ shape, table, triggerIds: tokenizer.triggerIds, random: spec.random, unsure: unsureOf(spec, tokenizer, table) });
  selfCheck(spec, { spec, tokenizer, weights, pieces });

  const files = new Map<string, Uint8Array>();
  const doc = `${spec.name}. ${spec.description}`;
  const eos = tokenizer.eosId;
  files.set(
    'config.json',
    json({
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      lingoguard_test_model: true,
      hidden_size: shape.hidden,
      intermediate_size: shape.intermediate,
      num_hidden_layers: shape.layers,
      num_attention_heads: shape.heads,
      num_key_value_heads: shape.heads,
      head_dim: shape.hidden / shape.heads,
      hidden_act: 'silu',
      max_position_embeddings: spec.contextLength,
      rms_norm_eps: shape.rmsNormEps,
      rope_theta: shape.ropeTheta,
      tie_word_embeddings: false,
      vocab_size: shape.vocabSize,
      bos_token_id: tokenizer.bosId ?? null,
      eos_token_id: eos,
      torch_dtype: 'float32',
    }),
  );
  files.set(
    'generation_config.json',
    json({
      bos_token_id: tokenizer.bosId ?? null,
      eos_token_id: [eos],
      pad_token_id: eos,
      do_sample: false,
    }),
  );
  files.set('tokenizer.json', json(tokenizer.tokenizerJson));
  files.set('tokenizer_config.json', json(tokenizer.tokenizerConfig));
  files.set('README.md', new TextEncoder().encode(`# ${spec.name}\n\n${spec.description}\n\nGenerated by \`npm run models\` (models/build/). Do not edit.\n`));
  files.set('onnx/model.onnx', buildLlamaOnnx(weights, 'fp32', doc));
  files.set('onnx/model_q4.onnx', buildLlamaOnnx(weights, 'q4', doc));
  return { spec, files, tokenizer, weights, pieces };
}
