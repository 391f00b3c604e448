import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import { demoPlugins } from './vite-plugins.js';

const root = resolve(import.meta.dirname, '..');

/**
 * The demo is served from the project root so that `/models/...` (the fixture models and any
 * model folder you drop into models/) is served by the same origin as the page: nothing is
 * fetched from elsewhere.
 */
export default defineConfig({
  root,
  server: { host: '127.0.0.1', port: 5173, strictPort: false, open: false },
  preview: { host: '127.0.0.1', port: 4173 },
  // The demo imports the library the way an app does: by its package name.
  resolve: {
    alias: [
      { find: /^lingoguard$/, replacement: resolve(root, 'src/index.ts') },
      { find: /^lingoguard\/worker$/, replacement: resolve(root, 'worker/entry.ts') },
    ],
  },
  plugins: demoPlugins(root),
  worker: { format: 'es' },
  // transformers.js must stay unbundled by the dep optimizer: its wasm `?url` imports and its
  // worker-side code are resolved by Vite itself.
  // The workers are entries too: a dependency first met in a worker (@noble/hashes) would
  // otherwise be optimized mid-load, and Vite reloads the page for it.
  optimizeDeps: { entries: ['demo/*.html', 'demo/worker.ts', 'worker/entry.ts'], exclude: ['@huggingface/transformers', 'onnxruntime-web'] },
  build: {
    outDir: resolve(root, 'dist/demo'),
    emptyOutDir: true,
    rollupOptions: { input: [resolve(root, 'demo/index.html'), resolve(root, 'demo/eval.html')] },
  },
});
