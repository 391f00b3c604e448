/**
 * `createGuard` and `classify` for Node: the same runtime as the browser worker, run
 * in-process on onnxruntime-node, so the CLI and servers get the same verdicts.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { openGuard, type Guard, type GuardOptions } from './guard.js';
import { ensureTestModel, packageRoot } from './test-models.js';
import type { Connection } from './protocol.js';
import { lazyClassify } from './lazy-classify.js';

async function readText(location: string): Promise<string> {
  if (/^https?:\/\//.test(location)) {
    const response = await fetch(location);
    if (!response.ok) throw new Error(`${response.status} ${response.statusText} for ${location}`);
    return response.text();
  }
  return readFile(resolve(location), 'utf8');
}

async function inProcessConnection(): Promise<Connection> {
  const [{ GuardRuntime }, { env }] = await Promise.all([
    import('../worker/runtime.js'),
    import('@huggingface/transformers'),
  ]);
  const root = packageRoot();
  // Keep downloads inside the package's ignored .cache rather than next to node_modules.
  env.cacheDir = join(root, '.cache', 'transformers');
  const runtime = new GuardRuntime({ readText, localModelRoot: root, isNode: true });
  return {
    dead: new Promise<never>(() => undefined),
    load: (request, onProgress) => runtime.load(request, onProgress),
    classify: (request, onEvent) => runtime.classify(request, onEvent),
    abort: (id) => runtime.abort(id),
    endWatch: (id) => runtime.endWatch(id),
    dispose: () => runtime.dispose(),
  };
}

/**
 * Loads a guard model in this Node process (onnxruntime-node, CPU).
 * @example
 * const guard = await createGuard({ model: 'fixture-consistentguard' });
 * console.log((await guard.classify('How do I hack my neighbour\'s wifi?')).label);
 */
export async function createGuard(options: GuardOptions = {}): Promise<Guard> {
  // A `fixture-*` test model never built in this clone is built now, with one line on stderr.
  if (options.localModelRoot === undefined) await ensureTestModel(options.model);
  return openGuard(inProcessConnection, options, {});
}

/** Classifies `text` with one shared guard on the default model, created on first use. */
export const classify = lazyClassify(createGuard);
