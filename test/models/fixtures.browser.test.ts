/// <reference types="vite/client" />
/**
 * The fixture models in real headless Chromium, through transformers.js with onnxruntime-web:
 * wasm and WebGPU (SwiftShader), fp32 and q4. Same golden answers as in Node. WebGPU runs on a
 * CPU emulation here, so it gets fewer rows (every fixture and dtype still at least once).
 * Needs the fixtures built (`npm run models`): the dev server serves them from the project.
 */
import { AutoModelForCausalLM, AutoTokenizer, env, Tensor, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import ortMjs from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { getFormat, modelInput } from '../../src/common/formats/index.js';
import type { ModerationInput } from '../../src/types.js';
import {
  GOLDEN,
  INJECTION_CASES,
  KEYWORD_FIXTURES,
  LANGUAGE_CASES,
  RESPONSE_CASES,
  WORD_BOUNDARY_CASES,
  nearLimitPrompt,
  runawayText,
  type FixtureCase,
} from './cases.js';

type Device = 'wasm' | 'webgpu';
type Dtype = 'fp32' | 'q4';

beforeAll(async () => {
  // Served by the test's own server: onnxruntime-web must not fetch its wasm from a CDN.
  const backends = env.backends.onnx as { wasm: { wasmPaths: unknown } };
  backends.wasm.wasmPaths = { wasm: new URL(ortWasm, location.href).href, mjs: new URL(ortMjs, location.href).href };
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
  env.useBrowserCache = false;
  env.localModelPath = '/models/fixtures/';
  const probe = await fetch('/models/fixtures/fixture-consistentguard/config.json');
  if (!probe.ok) throw new Error('Fixture models missing: run `npm run models` first.');
});

const sessions: PreTrainedModel[] = [];
const tokenizers = new Map<string, Promise<PreTrainedTokenizer>>();
const models = new Map<string, Promise<PreTrainedModel>>();

function load(id: string, device: Device, dtype: Dtype): Promise<[PreTrainedTokenizer, PreTrainedModel]> {
  let tokenizer = tokenizers.get(id);
  if (tokenizer === undefined) tokenizers.set(id, (tokenizer = AutoTokenizer.from_pretrained(id)));
  const key = `${id}/${device}/${dtype}`;
  let model = models.get(key);
  if (model === undefined) {
    model = AutoModelForCausalLM.from_pretrained(id, { device, dtype }).then((m) => (sessions.push(m), m));
    models.set(key, model);
  }
  return Promise.all([tokenizer, model]);
}

afterAll(async () => {
  for (const model of sessions) await model.dispose();
});

/** Per-token cost, printed for the record (one run; SwiftShader WebGPU is an emulation). */
const timings: string[] = [];
afterAll(() => console.log(`fixture timings:\n${timings.join('\n')}`));

async function answer(
  id: string,
  family: 'consistentguard' | 'guardreasoner',
  device: Device,
  dtype: Dtype,
  input: ModerationInput,
  maxNewTokens = 80,
): Promise<{ text: string; tokens: number[]; promptTokens: number }> {
  const [tokenizer, model] = await load(id, device, dtype);
  const { ids } = modelInput(getFormat(family), input, tokenizer);
  const started = performance.now();
  const output = (await model.generate({
    input_ids: new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
    attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
    max_new_tokens: maxNewTokens,
    do_sample: false,
  })) as Tensor;
  const ms = performance.now() - started;
  const tokens = Array.from(output.data as BigInt64Array, Number).slice(ids.length);
  timings.push(`${id} ${device} ${dtype}: prompt ${ids.length}, ${tokens.length} tokens in ${ms.toFixed(0)} ms (${(ms / tokens.length).toFixed(1)} ms/token)`);
  return { text: tokenizer.decode(tokens, { skip_special_tokens: true }), tokens, promptTokens: ids.length };
}

/** The rows each device runs. */
const ROWS: Record<Device, readonly FixtureCase[]> = {
  wasm: [...LANGUAGE_CASES, ...WORD_BOUNDARY_CASES.slice(0, 3), ...INJECTION_CASES.slice(1, 5), ...RESPONSE_CASES],
  webgpu: [LANGUAGE_CASES[0], LANGUAGE_CASES[11], INJECTION_CASES[3]].filter((c) => c !== undefined),
};

describe.each(['wasm', 'webgpu'] as const)('%s', (device) => {
  describe.each(['fp32', 'q4'] as const)('%s', (dtype) => {
    describe.each(KEYWORD_FIXTURES)('$id', ({ id, family }) => {
      test.each(ROWS[device])('$name → $expected', async ({ input, expected }) => {
        const result = await answer(id, family, device, dtype, input);
        expect(result.text).toBe(GOLDEN[id][expected]);
      });
    });

    test('fixture-runaway runs to the token limit', async () => {
      const result = await answer('fixture-runaway', 'consistentguard', device, dtype, { prompt: 'bread' }, 30);
      expect(result.tokens).toHaveLength(30);
      expect(result.text).toBe(runawayText(30));
    });

    test('fixture-malformed answers malformed', async () => {
      const result = await answer('fixture-malformed', 'consistentguard', device, dtype, { prompt: 'bread' });
      expect(result.text).toBe(GOLDEN['fixture-malformed']);
    });
  });

  test.each([true, false])('near the context limit (fp32), trigger first: %s', async (trigger) => {
    const [tokenizer] = await load('fixture-consistentguard', device, 'fp32');
    const template = modelInput(getFormat('consistentguard'), { prompt: '' }, tokenizer).ids.length;
    // WebGPU is emulated on the CPU here: a shorter long prompt keeps the suite fast.
    const contextLength = device === 'wasm' ? 4096 : 2048;
    const prompt = nearLimitPrompt({ contextLength, templateTokens: template, margin: 48, trigger });
    const result = await answer('fixture-consistentguard', 'consistentguard', device, 'fp32', { prompt });
    expect(result.promptTokens).toBeGreaterThan(contextLength - 64);
    expect(result.text).toBe(GOLDEN['fixture-consistentguard'][trigger ? 'harmful' : 'unharmful']);
  });
});
