/**
 * The runtime as the browser's workers (dedicated and shared) make it: onnxruntime-web's wasm
 * served by the app, never fetched from a CDN, and manifests read over `fetch`.
 */
import { ORT_FILES } from './ort-files.js';
import { GuardRuntime } from './runtime.js';

/** A runtime for this worker; call once, at the worker's start. */
export function browserRuntime(): GuardRuntime {
  const absolute = (url: string) => new URL(url, self.location.href).href;
  return new GuardRuntime({
    // The build for the chosen device (see ort-files.ts); a guard's `wasmPaths` replaces it.
    ortFiles: (device) => {
      const files = ORT_FILES[device === 'webgpu' ? 'webgpu' : 'wasm'];
      return { wasm: absolute(files.wasm), mjs: absolute(files.mjs) };
    },
    readText: async (location) => {
      const response = await fetch(new URL(location, self.location.href));
      if (!response.ok) throw new Error(`${response.status} ${response.statusText} for ${location}`);
      return response.text();
    },
    localModelRoot: '/',
    isNode: false,
  });
}
