/**
 * Finishes `dist/` after `tsc -p tsconfig.build.json`, so the package works in any bundler.
 *
 * The worker's source finds onnxruntime-web's wasm files with Vite-only `?url` imports. In
 * `dist/` it gets `ort-files.package.ts`' output instead, which refers to copies of the files
 * next to it with `new URL('./…', import.meta.url)`: an app's bundler (Vite, webpack 5,
 * Next.js) then serves them with no copying or configuration on the app's side.
 *
 * The copies come from the onnxruntime-web that @huggingface/transformers itself resolves, so
 * the wasm matches the JavaScript that loads it (transformers.js pins an exact version).
 */
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORKER = join(ROOT, 'dist', 'worker');
/** Both builds: asyncify for WebGPU, the plain one for wasm (which has kernels asyncify lacks). */
const ORT_FILES = [
  'ort-wasm-simd-threaded.asyncify.wasm',
  'ort-wasm-simd-threaded.asyncify.mjs',
  'ort-wasm-simd-threaded.wasm',
  'ort-wasm-simd-threaded.mjs',
] as const;

function ortFile(name: string): string {
  const fromTransformers = createRequire(createRequire(join(ROOT, 'package.json')).resolve('@huggingface/transformers'));
  return fromTransformers.resolve(`onnxruntime-web/${name}`);
}

if (!existsSync(join(WORKER, 'ort-files.package.js'))) {
  throw new Error('dist/worker/ort-files.package.js is missing: run `tsc -p tsconfig.build.json` first.');
}
for (const name of ORT_FILES) copyFileSync(ortFile(name), join(WORKER, name));

// The packaged module takes the source module's place (same exports, same .d.ts shape).
for (const ext of ['.js', '.d.ts']) {
  const packaged = join(WORKER, `ort-files.package${ext}`);
  const text = readFileSync(packaged, 'utf8').replace(/\n\/\/# sourceMappingURL=.*$/, '\n');
  writeFileSync(join(WORKER, `ort-files${ext}`), text);
}
for (const leftover of ['ort-files.package.js', 'ort-files.package.d.ts', 'ort-files.package.js.map', 'ort-files.js.map']) {
  rmSync(join(WORKER, leftover), { force: true });
}
console.log(`dist/worker: ${ORT_FILES.join(', ')} (from ${dirname(ortFile(ORT_FILES[0]))})`);
