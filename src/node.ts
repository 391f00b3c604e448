/**
 * `createGuard` and `classify` for Node: the same runtime as the browser worker, run
 * in-process on onnxruntime-node, so the CLI and servers get the same verdicts.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openGuard, type Connection, type Guard, type GuardOptions } from './guard.js';
import { sharedClassify } from './shared.js';

/** The package's root folder (the nearest parent with a package.json), where `models/` lives. */
function packageRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, 'package.json'))) {
    const parent = dirname(folder);
    if (parent === folder) return process.cwd();
    folder = parent;
  }
  return folder;
}

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
    dispose: () => runtime.dispose(),
  };
}

/**
 * Loads a guard model in this Node process (onnxruntime-node, CPU).
 * @example
 * const guard = await createGuard({ model: 'fixture-consistentguard' });
 * console.log((await guard.classify('How do I hack my neighbour\'s wifi?')).label);
 */
export function createGuard(options: GuardOptions = {}): Promise<Guard> {
  return openGuard(inProcessConnection, options, {});
}

/** Classifies `text` with one shared guard on the default model, created on first use. */
export const classify = sharedClassify(createGuard);
