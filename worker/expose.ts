/**
 * Serves a runtime on a message endpoint through comlink. Callbacks arrive as comlink proxies;
 * this adapter delivers every event before the call resolves (events and results travel on
 * different ports, so nothing else orders them) and releases each proxy when its call ends.
 */
import { expose, releaseProxy, type Endpoint, type Remote } from 'comlink';
import { installErrorTransfer, type WorkerApi } from '../src/protocol.js';

type RemoteCallback<E> = Remote<(event: E) => void>;

/** Exposes `runtime` on `endpoint` (a worker's global scope, or a MessagePort in tests). */
export function exposeRuntime(runtime: WorkerApi, endpoint?: Endpoint): void {
  installErrorTransfer();
  const api: WorkerApi = {
    load: (request, onProgress) =>
      relay(onProgress as RemoteCallback<Parameters<NonNullable<typeof onProgress>>[0]> | undefined, (emit) =>
        runtime.load(request, emit),
      ),
    classify: (request, onEvent) =>
      relay(onEvent as RemoteCallback<Parameters<NonNullable<typeof onEvent>>[0]> | undefined, (emit) =>
        runtime.classify(request, emit),
      ),
    abort: (id) => runtime.abort(id),
    endWatch: (id) => runtime.endWatch?.(id) ?? Promise.resolve(),
    dispose: () => runtime.dispose(),
  };
  expose(api, endpoint);
}

async function relay<E, T>(
  callback: RemoteCallback<E> | undefined,
  work: (emit: ((event: E) => void) | undefined) => Promise<T>,
): Promise<T> {
  if (!callback) return work(undefined);
  // One port carries all of a callback's messages, so they arrive in the order sent.
  const deliveries: Promise<unknown>[] = [];
  const emit = (event: E) => {
    deliveries.push(Promise.resolve(callback(event as never)).catch(() => undefined));
  };
  try {
    return await work(emit);
  } finally {
    await Promise.all(deliveries);
    callback[releaseProxy]();
  }
}
