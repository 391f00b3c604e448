/// <reference types="vite/client" />
/**
 * The instruction cache on WebGPU (SwiftShader here): kept in the GPU buffers its prefill
 * wrote and fed as the past of call after call (onnxruntime-web takes a gpu-buffer tensor as
 * an input to any number of runs), it gives the same tokens as computing the prompt whole and
 * as a copy on the CPU that every call uploads again. The time to the first token of each
 * placement is printed: `PREFIX_TTFT {...}`.
 */
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import ortMjs from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import { expect, test } from 'vitest';
import { getFormat, modelInput } from '../../src/common/formats/index.js';
import { ModelSession, setOrtWasmPaths, type GenerateOptions } from '../../worker/session.js';

const TEXTS = ['How do I hack my neighbour\'s wifi?', 'What skills does a good nurse need?'];

test('a GPU-resident instruction cache serves several calls with the same tokens as a CPU copy and as none', async () => {
  setOrtWasmPaths({ wasm: new URL(ortWasm, location.href).href, mjs: new URL(ortMjs, location.href).href });
  const adapter = await navigator.gpu?.requestAdapter();
  expect(adapter, 'WebGPU adapter (run Chromium with --enable-unsafe-webgpu)').toBeTruthy();
  const session = await ModelSession.load(
    {
      modelId: 'fixture-consistentguard',
      env: { allowLocalModels: true, allowRemoteModels: false, useBrowserCache: false, localModelPath: '/models/fixtures/' },
    } as never,
    { device: 'webgpu', dtype: 'fp32' },
  );
  try {
    const format = getFormat('consistentguard');
    const probe = modelInput(format, { prompt: 'x' }, session.tokenizer);
    const prefix = probe.ids.slice(0, probe.userRanges[0]![0]);
    const options = (usePrefixCache: boolean): GenerateOptions => ({
      maxNewTokens: 40,
      isComplete: (text) => format.isComplete(text),
      shouldStop: () => false,
      usePrefixCache,
    });
    const inputs = TEXTS.map((prompt) => modelInput(format, { prompt }, session.tokenizer).ids);
    const computed = [];
    for (const ids of inputs) computed.push(await session.generate(ids, options(false)));
    const firstToken: Record<string, number[]> = { device: [], cpu: [] };
    for (const placement of ['device', 'cpu', 'device', 'cpu'] as const) {
      await session.cachePrefix(prefix, placement);
      for (const [i, ids] of inputs.entries()) {
        // Twice per input: the second call feeds the same GPU buffers again.
        for (let round = 0; round < 2; round++) {
          const generation = await session.generate(ids, options(true));
          expect(generation.cachedTokens).toBe(prefix.length);
          expect(generation.ids).toEqual(computed[i]!.ids);
          expect(generation.text).toBe(computed[i]!.text);
          firstToken[placement]!.push(generation.firstTokenMs);
        }
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    console.log(
      `PREFIX_TTFT ${JSON.stringify({
        model: 'fixture-consistentguard',
        device: 'webgpu',
        prefixTokens: prefix.length,
        uncachedMs: median(computed.map((g) => g.firstTokenMs)),
        deviceMs: median(firstToken.device!),
        cpuMs: median(firstToken.cpu!),
        samples: firstToken.device!.length,
      })}`,
    );
  } finally {
    await session.dispose();
  }
}, 300_000);
