/**
 * A `Connection` to a runtime on the other side of a message endpoint (a Web Worker, or a
 * MessagePort in tests), through comlink.
 */
import { proxy, wrap, type Endpoint, type Remote } from 'comlink';
import { WorkerCrashedError } from './errors.js';
import { LIFELINE, installErrorTransfer, type Connection, type LifelineMessage, type WorkerApi } from './protocol.js';

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
    endWatch: async (id) => {
      // comlink's proxy answers every name (its typing of an optional method is not callable);
      // a runtime that keeps no watches rejects, and there is nothing to free then.
      const call = remote as unknown as { endWatch(id: number): Promise<void> };
      if (alive) await call.endWatch(id).catch(() => undefined);
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
      // Calls still pending on the terminated runtime would never hear back: fail them.
      declareDead(new WorkerCrashedError('The guard worker was closed with calls pending.'));
    },
  };
}

/**
 * Watches a Web Worker: an uncaught error, an unreadable message, or its end (a terminated
 * worker fires no event: the lifeline lock it holds is released instead) means it is gone.
 */
export function workerLifecycle(worker: Worker): EndpointLifecycle {
  return {
    watch(onDeath) {
      watchLifeline(worker, () => onDeath(new WorkerCrashedError('The guard worker ended (terminated, or killed by the browser).')));
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

/**
 * Asks the worker to hold a Web Lock for as long as it lives (see `worker/lifeline.ts`), then
 * waits for that lock: it is granted here only once the worker is gone. No polling, and no
 * false alarm while the worker is busy in a long synchronous step.
 */
function watchLifeline(worker: Worker, onEnd: () => void): void {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) return; // no Web Locks (insecure context): errors and timeouts still apply
  const name = `lingoguard-lifeline-${crypto.randomUUID()}`;
  const onHeld = (event: MessageEvent) => {
    if ((event.data as LifelineMessage | null)?.[LIFELINE.held] !== name) return;
    worker.removeEventListener('message', onHeld);
    void locks.request(name, () => onEnd());
  };
  worker.addEventListener('message', onHeld);
  worker.postMessage({ [LIFELINE.hold]: name });
}
