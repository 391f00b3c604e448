/**
 * `createGuard` and `classify` for browsers: the model runs in a module Worker, shared by the
 * origin's tabs that ask for the same model (a SharedWorker) where the browser can, else
 * dedicated to this guard.
 */
import { endpointConnection, workerLifecycle } from './connection.js';
import { openGuard, type Guard, type GuardOptions } from './guard.js';
import { lazyClassify } from './lazy-classify.js';
import type { Connection } from './protocol.js';
import { sharedConnection, sharedWorkerName, sharingUnavailable } from './shared-worker.js';
import { persistOnDownload } from './storage.js';

/** Options of the browser {@link createGuard}. */
export interface BrowserGuardOptions extends GuardOptions {
  /**
   * Makes the worker. By default lingoguard's own worker module; pass your own when your
   * bundler needs the worker URL spelled out. A guard made with it runs in that dedicated worker.
   */
  createWorker?: () => Worker;
  /**
   * Share one worker and one loaded model with the origin's other tabs that ask for the same
   * model, device and dtype (a SharedWorker): downloaded, loaded and held in memory once; calls
   * from all tabs are judged in the order they came; a tab that closes or disposes lets go of
   * its own hold only. Where the browser has no SharedWorker (Chrome for Android), the guard
   * runs in a dedicated worker, as it does when the shared worker cannot start (its script
   * missing, a CSP that forbids it). `guard.info.sharing` says which, and why. `false` gives this
   * guard a worker of its own (its model loaded again, in memory twice).
   * @default true
   */
  share?: boolean;
}

function defaultWorker(): Worker {
  // Kept literal so bundlers (Vite, webpack 5) see the worker and bundle it.
  return new Worker(new URL('../worker/entry.js', import.meta.url), { type: 'module', name: 'lingoguard' });
}

/** The shared worker of one model configuration, kept literal so that bundlers bundle it too. */
function defaultSharedWorker(name: string): SharedWorker {
  return new SharedWorker(new URL('../worker/shared-entry.js', import.meta.url), { type: 'module', name });
}

/** Why this guard runs in a dedicated worker, or `undefined` when it shares one. */
function dedicatedBecause(options: BrowserGuardOptions): string | undefined {
  if (options.share === false) return 'share: false asks for a worker of its own';
  if (options.createWorker) return 'createWorker makes a dedicated worker';
  return sharingUnavailable();
}

/**
 * Set once a shared worker failed to start in this page: its later guards go straight to a
 * dedicated worker, for the same reason.
 */
let sharedWorkerFailed: string | undefined;

/** How long a shared worker may take to answer before this page stops waiting for it. */
const SHARED_START_MS = 60_000;

/**
 * A connection to the shared worker of `name` once it answered; a dedicated worker's when it
 * could not start (or did not answer in {@link SHARED_START_MS}), whose info says so.
 */
async function sharedOrDedicated(name: string, makeWorker: () => Worker): Promise<Connection> {
  if (sharedWorkerFailed === undefined) {
    const { connection, started } = sharedConnection(defaultSharedWorker(name));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`it did not answer in ${SHARED_START_MS / 1000} s`)), SHARED_START_MS);
    });
    try {
      await Promise.race([started, late]);
      return connection;
    } catch (error) {
      sharedWorkerFailed = `the shared worker could not start (${error instanceof Error ? error.message : String(error)}): a dedicated one runs instead`;
      await connection.dispose().catch(() => undefined);
    } finally {
      clearTimeout(timer);
    }
  }
  return dedicatedConnection(makeWorker(), sharedWorkerFailed);
}

/** A dedicated worker's connection, whose info says why it is not shared. */
function dedicatedConnection(worker: Worker, reason: string): Connection {
  const connection = endpointConnection(worker, workerLifecycle(worker));
  return {
    ...connection,
    load: async (request, onProgress) => ({ ...(await connection.load(request, onProgress)), sharing: { shared: false, reason } }),
  };
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
  const reason = dedicatedBecause(options);
  const connect =
    reason === undefined
      ? () => sharedOrDedicated(sharedWorkerName(options), makeWorker)
      : () => dedicatedConnection(makeWorker(), reason);
  return openGuard(connect, { ...options, onProgress: persistOnDownload(options.onProgress) }, {}, { browser: true });
}

/**
 * Classifies `text` with one shared guard on the default model, created on first use.
 * @example
 * const { blocked, label, reasoning } = await classify(userMessage);
 */
export const classify = lazyClassify(createGuard);
