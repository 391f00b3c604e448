/**
 * Settling a pending operation first by whatever ends it: the caller's signal, a deadline,
 * `dispose()`, or the death of the connection it waits on. Every listener goes when it settles.
 */
import { AbortedError, TimeoutError, WorkerCrashedError, isGuardError, type GuardError } from './errors.js';
import type { Connection } from './protocol.js';

/** What can end a pending operation before it settles on its own. */
export interface Interrupts {
  signal?: AbortSignal | undefined;
  /** No deadline when absent. */
  timeoutMs?: number;
  /** Registers a canceller here for the life of the operation (how `dispose()` reaches it). */
  cancels?: Set<(error: GuardError) => void>;
  /** Where to register for the connection's death (see {@link deathWatch}). */
  deaths?: Set<(error: unknown) => void>;
  /** Tells the runtime to stop (abort, timeout, cancel). */
  onCancel?: () => void;
  onDead?: () => void;
}

/**
 * Resolves with `work`, unless the signal aborts, the deadline passes, a canceller fires or
 * the connection dies first: then rejects with the matching typed error, and tells the runtime
 * to stop. Every listener is removed when it settles, so nothing accumulates over many calls.
 */
export function settleFirst<T>(work: Promise<T>, interrupts: Interrupts): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      interrupts.signal?.removeEventListener('abort', onAbort);
      interrupts.cancels?.delete(cancel);
      interrupts.deaths?.delete(onDeath);
      outcome();
    };
    const cancel = (error: GuardError) => {
      interrupts.onCancel?.();
      finish(() => reject(error));
    };
    const onAbort = () => cancel(new AbortedError());
    const onDeath = (error: unknown) => {
      interrupts.onDead?.();
      finish(() => reject(isGuardError(error) ? error : new WorkerCrashedError('The guard worker died.', { cause: error })));
    };
    const timeoutMs = interrupts.timeoutMs;
    const timer = timeoutMs === undefined ? undefined : setTimeout(
      () => cancel(new TimeoutError(`No verdict within ${timeoutMs} ms.`, { details: { timeoutMs } })),
      timeoutMs,
    );
    interrupts.signal?.addEventListener('abort', onAbort, { once: true });
    interrupts.cancels?.add(cancel);
    interrupts.deaths?.add(onDeath);
    work.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}

const deathWatchers = new WeakMap<Connection, Set<(error: unknown) => void>>();

/**
 * The calls waiting on `connection`, told when it dies. One handler per connection on its
 * `dead` promise, fanned out: a handler per call on a promise that may never settle would stay
 * attached for the connection's life, a leak of one closure per call.
 */
export function deathWatch(connection: Connection): Set<(error: unknown) => void> {
  let watchers = deathWatchers.get(connection);
  if (!watchers) {
    const pending = new Set<(error: unknown) => void>();
    connection.dead.catch((error: unknown) => {
      for (const onDeath of [...pending]) onDeath(error);
    });
    deathWatchers.set(connection, pending);
    watchers = pending;
  }
  return watchers;
}
