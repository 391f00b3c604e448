import { defineConfig } from 'vite';

/** What an app adds to its Vite config for lingoguard (see the README's "Use in a chat UI"). */
export default defineConfig({
  // The guard worker is an ES module worker (it loads transformers.js with dynamic imports).
  worker: { format: 'es' },
  // Dev server only: pre-bundling would move lingoguard away from its worker and wasm files.
  optimizeDeps: { exclude: ['lingoguard'] },
  preview: { host: '127.0.0.1' },
});
