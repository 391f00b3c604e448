/**
 * `createGuard` and `classify` for browsers: the model runs in a dedicated module Worker.
 */
import { endpointConnection, workerLifecycle } from './connection.js';
import { openGuard, type Guard, type GuardOptions } from './guard.js';
import { lazyClassify } from './lazy-classify.js';

/** Options of the browser {@link createGuard}. */
export interface BrowserGuardOptions extends GuardOptions {
  /**
   * Makes the worker. By default lingoguard's own worker module; pass your own when your
   * bundler needs the worker URL spelled out.
   */
  createWorker?: () => Worker;
}

function defaultWorker(): Worker {
  // Kept literal so bundlers (Vite, webpack 5) see the worker and bundle it.
  return new Worker(new URL('../worker/entry.js', import.meta.url), { type: 'module', name: 'lingoguard' });
}

/**
 * Loads a guard model in a Web Worker and resolves when it is ready to classify.
 * @example
 * const guard = await createGuard({ model: 'llama-guard-3-1b', onProgress: console.log });
 * const verdict = await guard.classify('Comment pirater le wifi du voisin ?');
 * if (verdict.blocked) refuse(verdict); // the guard's decision, by its fail policy
 * await guard.dispose();
 */
export function createGuard(options: BrowserGuardOptions = {}): Promise<Guard> {
  const makeWorker = options.createWorker ?? defaultWorker;
  return openGuard(() => {
    const worker = makeWorker();
    return endpointConnection(worker, workerLifecycle(worker));
  }, options, {}, { browser: true });
}

/**
 * Classifies `text` with one shared guard on the default model, created on first use.
 * @example
 * const { blocked, label, reasoning } = await classify(userMessage);
 */
export const classify = lazyClassify(createGuard);
