/**
 * A `Connection` to a runtime on the other side of a message endpoint (a Web Worker, or a
 * MessagePort in tests), through comlink.
 */
import { proxy, wrap, type Endpoint, type Remote } from 'comlink';
import { WorkerCrashedError } from './errors.js';
import type { Connection } from './guard.js';
import { installErrorTransfer, type WorkerApi } from '../worker/protocol.js';

/** How the endpoint's owner is watched and ended. */
export interface EndpointLifecycle {
  /** Calls `onDeath` once if the other side dies (a worker's `error` or `messageerror`). */
  watch(onDeath: (error: WorkerCrashedError) => void): void;
  /** Ends the other side for good (e.g. `worker.terminate()`). */
  terminate(): void;
}

/** Wraps `endpoint` as a `Connection`; every call made after a death rejects at once. */
export function endpointConnection(endpoint: Endpoint, lifecycle: EndpointLifecycle): Connection {
  installErrorTransfer();
  // Held for the life of the connection: a collected comlink proxy closes its port.
  const remote: Remote<WorkerApi> = wrap<WorkerApi>(endpoint);
  let declareDead!: (error: WorkerCrashedError) => void;
  const dead = new Promise<never>((_, reject) => {
    declareDead = reject;
  });
  dead.catch(() => undefined); // observed by callers; never an unhandled rejection
  let alive = true;
  lifecycle.watch((error) => {
    if (!alive) return;
    alive = false;
    lifecycle.terminate();
    declareDead(error);
  });

  return {
    dead,
    load: (request, onProgress) => remote.load(request, onProgress && proxy(onProgress)),
    classify: (request, onEvent) => remote.classify(request, onEvent && proxy(onEvent)),
    abort: (id) => {
      if (alive) void remote.abort(id).catch(() => undefined);
    },
    async dispose() {
      if (!alive) return;
      alive = false;
      try {
        await Promise.race([remote.dispose(), new Promise((resolve) => setTimeout(resolve, 2_000))]);
      } catch {
        // A runtime that cannot dispose cleanly is terminated all the same.
      }
      lifecycle.terminate();
    },
  };
}

/** Watches a Web Worker: an uncaught error or an unreadable message means it is gone. */
export function workerLifecycle(worker: Worker): EndpointLifecycle {
  return {
    watch(onDeath) {
      worker.addEventListener('error', (event) => {
        event.preventDefault();
        onDeath(new WorkerCrashedError(`The guard worker crashed: ${event.message || 'uncaught error'}`));
      });
      worker.addEventListener('messageerror', () => {
        onDeath(new WorkerCrashedError('The guard worker sent a message that could not be read.'));
      });
    },
    terminate: () => worker.terminate(),
  };
}
