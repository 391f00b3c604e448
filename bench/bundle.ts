/**
 * P5: what a page loads on its main thread before the worker starts: the app's import of
 * `createGuard` and `classify`, bundled by Vite as a user's app would be, gzipped. The worker
 * and the wasm are separate files fetched later, so they are not counted.
 */
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build, type Rollup } from 'vite';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Gzipped bytes of the entry chunk and every chunk it imports statically. */
export async function mainThreadBundleBytes(): Promise<{ gzip: number; raw: number; files: string[] }> {
  const output = (await build({
    root: ROOT,
    configFile: false,
    logLevel: 'silent',
    resolve: { alias: { lingoguard: `${ROOT}src/index.ts` } },
    worker: { format: 'es' },
    build: {
      write: false,
      minify: true,
      rollupOptions: { input: { app: `${ROOT}bench/app-entry.ts` } },
    },
  })) as Rollup.RollupOutput | Rollup.RollupOutput[];
  const chunks = (Array.isArray(output) ? output : [output]).flatMap((o) => o.output);
  const byName = new Map(chunks.map((c) => [c.fileName, c]));
  const seen = new Set<string>();
  const visit = (fileName: string) => {
    const chunk = byName.get(fileName);
    if (!chunk || chunk.type !== 'chunk' || seen.has(fileName)) return;
    seen.add(fileName);
    chunk.imports.forEach(visit);
  };
  for (const chunk of chunks) if (chunk.type === 'chunk' && chunk.isEntry) visit(chunk.fileName);
  let gzip = 0;
  let raw = 0;
  for (const name of seen) {
    const code = (byName.get(name) as Rollup.OutputChunk).code;
    raw += Buffer.byteLength(code);
    gzip += gzipSync(code).length;
  }
  return { gzip, raw, files: [...seen] };
}
