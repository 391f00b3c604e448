/**
 * The tab's side of the shared guard worker (issue 14): tabs of one origin that ask for the same
 * model configuration connect to one SharedWorker, named after that configuration, so the model
 * is downloaded, loaded and held in memory once. Where it cannot be shared, the guard runs in
 * a dedicated worker and `guard.info.sharing` says why.
 */
import { DEFAULT_MODEL } from './common/constants.js';
import { endpointConnection, type EndpointLifecycle } from './connection.js';
import { WorkerCrashedError } from './errors.js';
import { LIFELINE, type Connection, type LifelineMessage } from './protocol.js';
import type { GuardOptions } from './guard.js';

/** Why this page cannot share a worker with its other tabs, or `undefined` when it can. */
export function sharingUnavailable(): string | undefined {
  if (typeof SharedWorker === 'undefined') return 'this browser has no SharedWorker (Chrome for Android, for one)';
  // Without Web Locks the worker cannot learn that a tab closed, and would hold its calls forever.
  if (!(globalThis.navigator as Navigator | undefined)?.locks) return 'no Web Locks here (an insecure context?)';
  return undefined;
}

/**
 * The shared worker's name: everything that changes what it runs. A tab that asks for another
 * model, device or dtype gets a worker of its own.
 */
export function sharedWorkerName(options: GuardOptions): string {
  const { model, device, dtype, localModelRoot, remoteHost, wasmPaths, endpoint } = options;
  // An endpoint guard and an in-process one of the same model run different sessions.
  const server = endpoint === undefined ? null : [endpoint.url, endpoint.model ?? null, endpoint.timeoutMs ?? null, endpoint.apiKey === undefined ? null : 'key'];
  return `lingoguard ${JSON.stringify([model ?? DEFAULT_MODEL, device ?? 'auto', dtype ?? null, localModelRoot ?? null, remoteHost ?? null, wasmPaths ?? null, server])}`;
}

/**
 * A connection to the shared worker `worker`, holding this tab's place in it while it lives;
 * `started` resolves once the worker answered (its script loaded and ran), and rejects with the
 * reason when it reports an error first (a script that could not load, a CSP that forbids it).
 */
export function sharedConnection(worker: SharedWorker): { connection: Connection; started: Promise<void> } {
  const port = worker.port;
  port.start();
  let answered!: () => void;
  let failed!: (reason: Error) => void;
  const started = new Promise<void>((resolve, reject) => {
    answered = resolve;
    failed = reject;
  });
  started.catch(() => undefined); // a caller that does not wait for it is told by `dead`
  const connection = endpointConnection(port, sharedLifecycle(worker, holdTab(port), { answered, failed }));
  return {
    started,
    connection: {
      ...connection,
      dead: connection.dead,
      load: async (request, onProgress) => {
        const info = await connection.load(request, onProgress);
        return { ...info, sharing: { ...info.sharing, shared: true } };
      },
    },
  };
}

/**
 * Takes a lock for as long as this tab keeps the connection, then tells the worker its name:
 * the worker queues on it, and is granted it when the tab closed or let go. Returns the release.
 */
function holdTab(port: MessagePort): () => void {
  const name = `lingoguard-tab-${crypto.randomUUID()}`;
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  void navigator.locks.request(name, () => {
    port.postMessage({ [LIFELINE.tab]: name });
    return held;
  });
  return release;
}

/**
 * Watches the shared worker: an error reported on it, an unreadable message, or its end (the
 * lifeline lock it holds for this tab is released) means it is gone. Terminating leaves the
 * worker to the other tabs: this tab only lets go of its port and its lock.
 */
function sharedLifecycle(worker: SharedWorker, releaseTab: () => void, start: { answered: () => void; failed: (reason: Error) => void }): EndpointLifecycle {
  const port = worker.port;
  let why = 'killed by the browser';
  port.addEventListener('message', (event: MessageEvent) => {
    const reason = (event.data as LifelineMessage | null)?.[LIFELINE.ended];
    if (typeof reason === 'string') why = reason;
  });
  return {
    watch(onDeath) {
      const name = `lingoguard-lifeline-${crypto.randomUUID()}`;
      const onHeld = (event: MessageEvent) => {
        if ((event.data as LifelineMessage | null)?.[LIFELINE.held] !== name) return;
        port.removeEventListener('message', onHeld);
        start.answered();
        void navigator.locks.request(name, () => onDeath(new WorkerCrashedError(`The shared guard worker ended (${why}).`)));
      };
      port.addEventListener('message', onHeld);
      port.postMessage({ [LIFELINE.hold]: name });
      worker.addEventListener('error', (event) => {
        event.preventDefault();
        const error = new WorkerCrashedError(`The shared guard worker failed: ${(event as ErrorEvent).message || 'it could not start'}`);
        start.failed(error);
        onDeath(error);
      });
      port.addEventListener('messageerror', () => {
        onDeath(new WorkerCrashedError('The shared guard worker sent a message that could not be read.'));
      });
    },
    terminate() {
      releaseTab();
      port.close();
    },
  };
}
