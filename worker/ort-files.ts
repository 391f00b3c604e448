/**
 * Where the worker finds onnxruntime-web's wasm files: served by the app, never by a CDN.
 *
 * This is the source form, for Vite on `src/` (the demo, the browser tests): Vite resolves the
 * `?url` imports through onnxruntime-web's exports. Only Vite understands `?url`, so the package
 * build (`scripts/build-package.ts`) puts `ort-files.package.ts`' output in this module's place
 * in `dist/`, with copies of the two files next to it.
 */
import wasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import mjs from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';

/** URLs of onnxruntime-web's wasm binary and its loader, possibly relative to the page. */
export const ORT_FILES = { wasm, mjs };
