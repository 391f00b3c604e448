/**
 * The default preset's graph on wasm, in real headless Chromium: onnxruntime-genai exports
 * (Qwen3-0.6B-ONNX, and its twin here) keep the tied embedding in 4 bits with
 * `GatherBlockQuantized`, a CPU kernel that onnxruntime-web's asyncify (WebGPU) build lacks.
 * The worker loads the plain build on wasm, so `auto` without a hardware GPU (here SwiftShader,
 * a software adapter, so wasm) runs the model's q4 weights, the default dtype there.
 */
import { afterEach, expect, test } from 'vitest';
import { commands } from 'vitest/browser';
import type { Guard } from '../../src/guard.js';
import { onePassCheck, twinSpecs } from '../twins/feature-table.js';

const SPECS = twinSpecs(await commands.twinDesign());
const { createGuard } = await import('../../src/index.js');

let guard: Guard | undefined;
afterEach(() => guard?.dispose());

/**
 * The onnxruntime wasm binaries the page and its workers fetched, by file name (Vite's dev
 * server answers the `?url` imports of both builds too, with a module that holds the URL: those
 * carry a query and are not the binary).
 */
async function ortBinaries(): Promise<string[]> {
  const fetched = (await commands.networkLog()).map((url) => new URL(url)).filter((url) => url.search === '');
  const names = fetched.map((url) => url.pathname.split('/').at(-1) ?? '');
  return [...new Set(names.filter((name) => name.startsWith('ort-wasm-simd-threaded') && name.endsWith('.wasm')))];
}

/**
 * Forgets the onnxruntime binaries that an earlier guard of this origin left in Cache Storage:
 * transformers.js keeps them there (`env.useWasmCache`), and a worker that finds them there
 * fetches nothing, so which build it loaded would not show on the network.
 */
async function forgetCachedOrtBinaries(): Promise<void> {
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      if (request.url.includes('/ort-wasm-simd-threaded')) await cache.delete(request);
    }
  }
}

test('auto without a hardware GPU runs the Qwen3 graph in q4 on wasm, with the plain onnxruntime build', async () => {
  await forgetCachedOrtBinaries();
  await commands.startNetworkLog();
  guard = await createGuard({ model: 'twin-qwen3', warmUp: false });
  // The reason for wasm is the software adapter, not the dtype: q4 loaded as asked.
  expect(guard.info).toMatchObject({ model: 'twin-qwen3', device: 'wasm', dtype: 'q4' });
  expect(guard.info.fallback).toMatch(/software fallback/);
  expect(guard.info.fallback).not.toMatch(/q4/);
  await onePassCheck(SPECS['twin-qwen3'], guard);
  expect(await ortBinaries()).toEqual(['ort-wasm-simd-threaded.wasm']);
});

test('q4f16, asked for by name, runs on wasm too (the plain build has the float16 CPU kernels)', async () => {
  guard = await createGuard({ model: 'twin-qwen3', device: 'wasm', dtype: 'q4f16', warmUp: false });
  expect(guard.info).toMatchObject({ device: 'wasm', dtype: 'q4f16' });
  expect(guard.info.fallback).toBeUndefined();
  await onePassCheck(SPECS['twin-qwen3'], guard);
});
