/**
 * The packaged form of `ort-files.ts`: the build copies onnxruntime-web's two wasm files into
 * `dist/worker/` and this module's output replaces `dist/worker/ort-files.js`.
 *
 * `new URL('./file', import.meta.url)` with a literal path is the asset reference that Vite,
 * webpack 5 (so Next.js) and Parcel follow without configuration: they copy the file into the
 * app's build and rewrite the URL. Unbundled, it resolves next to this module, where the files
 * are too.
 */

/** URLs of onnxruntime-web's wasm binary and its loader. */
export const ORT_FILES = {
  wasm: new URL('./ort-wasm-simd-threaded.asyncify.wasm', import.meta.url).href,
  mjs: new URL('./ort-wasm-simd-threaded.asyncify.mjs', import.meta.url).href,
};
