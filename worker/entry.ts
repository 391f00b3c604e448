/**
 * The guard worker (browser). It exposes the runtime and nothing else; the main thread loads
 * the model by an explicit `load()` call (calls made before a top-level await reaches
 * `expose()` can deadlock).
 */
import { exposeRuntime } from './expose.js';
import { serveLifeline } from './lifeline.js';
// onnxruntime-web's wasm is served by the app, never fetched from a CDN.
import { ORT_FILES } from './ort-files.js';
import { GuardRuntime } from './runtime.js';
import { setOrtWasmPaths } from './session.js';

const absolute = (url: string) => new URL(url, self.location.href).href;
// The default; a guard created with `wasmPaths` replaces it at load.
setOrtWasmPaths({ wasm: absolute(ORT_FILES.wasm), mjs: absolute(ORT_FILES.mjs) });

serveLifeline();
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
