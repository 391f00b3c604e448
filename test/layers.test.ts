/**
 * The layers depend one way. From the bottom:
 * 1. `src/types.ts`, `src/errors.ts`: the public types and errors; they import nothing else.
 * 2. `src/protocol.ts`: the worker contract; types and errors only.
 * 3. `src/common/`: the pure code both threads run (formats, input, language, manifests).
 * 4. `worker/`: the model runtime; layers 1-3 only.
 * 5. The rest of `src/`: the main thread; never `worker/`.
 * The two entries that join a main thread to its runtime (`src/browser.ts` names the worker's
 * URL, `src/node.ts` runs the runtime in-process) are the only exception, and no module may
 * import itself back through a cycle.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function sources(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Repo-relative paths of the repo files that `file` imports (static, dynamic and `new URL`). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specifiers = [
    ...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g),
    ...text.matchAll(/new URL\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*,\s*import\.meta\.url/g),
  ].map((match) => match[1]!);
  return specifiers.map((specifier) =>
    relative(ROOT, resolve(ROOT, dirname(file), specifier)).replace(/\.js$/, '.ts'),
  );
}

const FILES = [...sources('src'), ...sources('worker')];
const GRAPH = new Map(FILES.map((file) => [file, importsOf(file)]));

const isBase = (path: string) => path === 'src/types.ts' || path === 'src/errors.ts';
const isCommon = (path: string) => path.startsWith('src/common/');
const isJsonManifest = (path: string) => path.startsWith('models/manifests/') && path.endsWith('.json');
const ENTRIES = new Set(['src/browser.ts', 'src/node.ts']);

/** What each layer may import, as a predicate on the imported path. */
function allowed(file: string): (path: string) => boolean {
  if (isBase(file)) return isBase;
  if (file === 'src/protocol.ts') return isBase;
  if (isCommon(file)) return (path) => isBase(path) || isCommon(path) || isJsonManifest(path);
  if (file.startsWith('worker/')) {
    return (path) => isBase(path) || isCommon(path) || path === 'src/protocol.ts' || path.startsWith('worker/');
  }
  if (ENTRIES.has(file)) return () => true;
  return (path) => !path.startsWith('worker/');
}

describe('layers', () => {
  test('the graph was read (a broken scan would pass everything)', () => {
    expect(GRAPH.get('worker/runtime.ts')).toContain('src/protocol.ts');
    expect(GRAPH.get('src/browser.ts')).toContain('worker/entry.ts');
    expect(FILES.length).toBeGreaterThan(40);
  });

  test.each(FILES)('%s imports only from the layers below it', (file) => {
    const ok = allowed(file);
    expect(GRAPH.get(file)!.filter((path) => !ok(path))).toEqual([]);
  });

  test('no import cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const next of GRAPH.get(file) ?? []) if (GRAPH.has(next)) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of FILES) visit(file, []);
    expect(cycles).toEqual([]);
  });
});
