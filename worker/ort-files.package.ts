/**
 * The packaged form of `ort-files.ts`: the build copies onnxruntime-web's four wasm files (two
 * builds: see `ort-files.ts`) into `dist/worker/` and this module's output replaces
 * `dist/worker/ort-files.js`.
 *
 * `new URL('./file', import.meta.url)` with a literal path is the asset reference that Vite,
 * webpack 5 (so Next.js) and Parcel follow without configuration: they copy the file into the
 * app's build and rewrite the URL. Unbundled, it resolves next to this module, where the files
 * are too. A page downloads only the build of the device it runs on.
 */

/** URLs of onnxruntime-web's wasm binary and its loader for each browser device. */
export const ORT_FILES = {
  webgpu: {
    wasm: new URL('./ort-wasm-simd-threaded.asyncify.wasm', import.meta.url).href,
    mjs: new URL('./ort-wasm-simd-threaded.asyncify.mjs', import.meta.url).href,
  },
  wasm: {
    wasm: new URL('./ort-wasm-simd-threaded.wasm', import.meta.url).href,
    mjs: new URL('./ort-wasm-simd-threaded.mjs', import.meta.url).href,
  },
};
