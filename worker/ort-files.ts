/**
 * Where the worker finds onnxruntime-web's wasm files: served by the app, never by a CDN.
 *
 * Two builds, one per device, because neither runs everything: the asyncify build carries the
 * WebGPU execution provider but lacks CPU kernels that the plain build has (measured:
 * `GatherBlockQuantized`, the tied 4-bit embedding of onnxruntime-genai exports such as
 * Qwen3-0.6B-ONNX, so their q4 and q4f16 cannot load on wasm with it), and the plain build has
 * no WebGPU. A worker loads one of them, chosen by the device before its first session.
 *
 * This is the source form, for Vite on `src/` (the demo, the browser tests): Vite resolves the
 * `?url` imports through onnxruntime-web's exports. Only Vite understands `?url`, so the package
 * build (`scripts/build-package.ts`) puts `ort-files.package.ts`' output in this module's place
 * in `dist/`, with copies of the four files next to it.
 */
import webgpuWasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import webgpuMjs from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import wasmWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import wasmMjs from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';

/** URLs of onnxruntime-web's wasm binary and its loader for each browser device, possibly relative to the page. */
export const ORT_FILES = {
  webgpu: { wasm: webgpuWasm, mjs: webgpuMjs },
  wasm: { wasm: wasmWasm, mjs: wasmMjs },
};
