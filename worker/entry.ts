/**
 * The guard worker (browser). It exposes the runtime and nothing else; the main thread loads
 * the model by an explicit `load()` call (calls made before a top-level await reaches
 * `expose()` can deadlock).
 */
import { env } from '@huggingface/transformers';
// onnxruntime-web's wasm is served by the app, never fetched from a CDN.
import wasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import mjs from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import { exposeRuntime } from './expose.js';
import { GuardRuntime } from './runtime.js';

const absolute = (url: string) => new URL(url, self.location.href).href;
const onnx = env.backends.onnx;
if (onnx.wasm) onnx.wasm.wasmPaths = { wasm: absolute(wasm), mjs: absolute(mjs) };

exposeRuntime(
  new GuardRuntime({
    readText: async (location) => {
      const response = await fetch(new URL(location, self.location.href));
      if (!response.ok) throw new Error(`${response.status} ${response.statusText} for ${location}`);
      return response.text();
    },
    localModelRoot: '/',
    isNode: false,
  }),
);
