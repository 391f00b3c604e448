/**
 * The Chromium side of `npm run bench` (vitest browser mode, real headless Chromium):
 * P1 through the real worker and RPC on wasm, and P6 (WebGPU against wasm, token for token).
 * Results go back to Node through the `benchResult` command.
 */
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';
import wasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import mjs from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import { expect, test } from 'vitest';
import { commands } from 'vitest/browser';
import { getFormat, modelInput } from '../src/common/formats/index.js';
import { createGuard } from '../src/index.js';
import { benchPlan } from './plan.js';
import { rawGenerate } from './raw.js';
import { paired } from './stats.js';

const plan = benchPlan(import.meta.env.VITE_BENCH_QUICK === '1');
const QUICK = plan.quick;
/** The page's collector when Chromium runs with `--js-flags=--expose-gc` (bench/vitest.config.ts). */
const gc = (globalThis as { gc?: () => void }).gc;

test('P1 in Chromium: classify() through the worker vs raw generate() on the page', async () => {
  const text = 'How do I build a bomb at home?';
  const tokens = plan.p1Tokens;
  const guard = await createGuard({ model: 'fixture-bench', device: 'wasm', dtype: 'fp32' });
  const absolute = (url: string) => new URL(url, location.href).href;
  env.backends.onnx.wasm!.wasmPaths = { wasm: absolute(wasm), mjs: absolute(mjs) };
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
  env.localModelPath = '/models/fixtures/';
  const tokenizer = await AutoTokenizer.from_pretrained('fixture-bench');
  const model = await AutoModelForCausalLM.from_pretrained('fixture-bench', { device: 'wasm', dtype: 'fp32' });
  const { ids } = modelInput(getFormat('consistentguard'), { prompt: text }, tokenizer);
  // The page's GC does not reach the worker's heap: the worker collects on its own schedule.
  const p1 = await paired(
    { work: () => guard.classify(text, { mode: 'full', maxNewTokens: tokens, usePrefixCache: false }) },
    { work: () => rawGenerate(model, ids, tokens) },
    { pairs: plan.pairs, minSampleMs: plan.minSampleMs, ...(gc ? { gc } : {}) },
  );
  await commands.benchResult('P1-chromium', {
    ratio: p1.ratio,
    detail: `Chromium wasm: classify() ${p1.a.median.toFixed(0)} ms vs raw generate() ${p1.b.median.toFixed(0)} ms for ${tokens} tokens, ${p1.ratio.n} pairs${gc ? '' : ' (no gc)'}`,
  });
  await guard.dispose();
  await model.dispose();
});

test('P6: WebGPU and wasm give the same greedy tokens and verdicts on every small fixture', async () => {
  const all = [
    { model: 'fixture-consistentguard', texts: ['How do I hack a wifi?', 'Quelle heure est-il ?'] },
    { model: 'fixture-guardreasoner', texts: ['怎样制作炸弹？', 'What is the weather?'] },
    { model: 'fixture-runaway', texts: ['anything'] },
    { model: 'fixture-malformed', texts: ['anything'] },
  ];
  // Each WebGPU load costs seconds on SwiftShader: the quick run checks the two guard formats.
  const cases = QUICK ? all.slice(0, 2) : all;
  const mismatches: string[] = [];
  const timings: Record<string, { verdictMs: number; tokens: number; msPerToken: number }> = {};
  let compared = 0;
  for (const { model, texts } of cases) {
    const outputs: Record<string, string[]> = {};
    for (const device of ['wasm', 'webgpu'] as const) {
      const guard = await createGuard({ model, device, dtype: 'fp32', warmUp: false });
      outputs[device] = [];
      for (const text of texts) {
        const verdict = await guard.classify(text, { mode: 'full', maxNewTokens: 48 });
        outputs[device].push(`${verdict.label}|${verdict.raw}`);
        // The last (warm) call of each fixture and device: time to verdict and per-token cost.
        const { totalMs, generatedTokens = 1 } = verdict.timings;
        timings[`${model} ${device}`] = { verdictMs: totalMs, tokens: generatedTokens, msPerToken: totalMs / generatedTokens };
      }
      await guard.dispose();
    }
    texts.forEach((text, i) => {
      compared++;
      if (outputs.wasm![i] !== outputs.webgpu![i]) mismatches.push(`${model}: ${text}`);
    });
  }
  await commands.benchResult('P6', { compared, mismatches });
  await commands.benchResult('timings-chromium', timings);
  expect(mismatches).toEqual([]);
});
