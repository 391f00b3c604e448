/**
 * lingoguard for React: `useGuard()` loads a guard for the life of a component and keeps what
 * a chat UI shows as state: load status and progress, the reasoning trace as it streams, the
 * latest verdict, and the checks of an AI answer moderated while it streams.
 *
 * @module lingoguard/react
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { createGuard as createWorkerGuard, type BrowserGuardOptions } from './browser.js';
import { InvalidInputError, isGuardError } from './errors.js';
import { EventQueue } from './event-queue.js';
import type { ClassifyOptions, Guard } from './guard.js';
import type { GuardInfo, ModerationInput, Verdict } from './types.js';
import type { ResponseWatch, WatchCheck, WatchEvent, WatchOptions } from './watch.js';

/**
 * Where the guard is: `loading` the model, `ready`, `classifying` an input, or failed to load
 * (`error`; a failed classification leaves the guard `ready` and sets `error`).
 */
export type GuardStatus = 'loading' | 'ready' | 'classifying' | 'error';

/** Options of {@link useGuard}: those of `createGuard`, plus the factory to use. */
export interface UseGuardOptions extends BrowserGuardOptions {
  /**
   * Makes the guard. By default lingoguard's worker guard; pass another (a guard you share
   * across components, or a fake in tests).
   */
  createGuard?: (options: BrowserGuardOptions) => Promise<Guard>;
}

/** What {@link useGuard} returns. Every field but the functions is React state. */
export interface UseGuardResult {
  /** Load and call status. */
  status: GuardStatus;
  /** Share of the model's bytes loaded, 0..1 (1 once ready). */
  progress: number;
  /** The model, device and dtype that run, once loaded. */
  info: GuardInfo | undefined;
  /** Why loading, or the last classification, failed; cleared by the next call. */
  error: unknown;
  /** The verdict of the latest classification that finished. */
  verdict: Verdict | undefined;
  /** The reasoning the model has written so far for the current (or last) call, as it streams (its prose only: never a tag or the answer). */
  trace: string;
  /**
   * Classifies `input`, cancelling any call still running. Never rejects: resolves the
   * verdict, or `undefined` when the call was cancelled, superseded or failed (see `error`).
   * Called before the model is loaded, it waits for it.
   */
  classify: (input: string | ModerationInput, options?: Omit<ClassifyOptions, 'signal'>) => Promise<Verdict | undefined>;
  /** Cancels the running call, if any. */
  cancel: () => void;
  /**
   * Moderates an AI answer while it streams (`guard.watch()`): push its chunks into the watch
   * returned; `checks`, `passed` and `blocked` follow it, re-rendering as each check lands.
   * A new watch aborts the previous one, as unmounting does. The watch is the guard's own
   * (`push`, `end`, `abort`, `settled`, iterable for its events): show only the answer's first
   * `passed` characters for text that is never shown unjudged.
   * @throws InvalidInputError before the guard is loaded (status `loading` or `error`).
   */
  watch: (prompt: string, options?: Omit<WatchOptions, 'signal'>) => ResponseWatch;
  /** The checks of the latest watch so far, in order. */
  checks: readonly WatchCheck[];
  /** How much of the latest watch's answer passed its checks (UTF-16 units from the start). */
  passed: number;
  /** Whether a check of the latest watch blocked its answer. */
  blocked: boolean;
}

/**
 * Loads a guard when the component mounts (again when `model`, `device` or `dtype` change) and
 * disposes of it when it unmounts.
 * @example
 * function Composer() {
 *   const { status, progress, verdict, trace, classify } = useGuard({ model: 'llama-guard-3-1b' });
 *   if (status === 'loading') return <progress value={progress} />;
 *   return <form onSubmit={async (e) => {
 *     e.preventDefault();
 *     const verdict = await classify(text);
 *     if (verdict && !verdict.blocked) send(text);
 *   }}>...</form>;
 * }
 */
export function useGuard(options: UseGuardOptions = {}): UseGuardResult {
  const [status, setStatus] = useState<GuardStatus>('loading');
  const [progress, setProgress] = useState(0);
  const [info, setInfo] = useState<GuardInfo>();
  const [error, setError] = useState<unknown>();
  const [verdict, setVerdict] = useState<Verdict>();
  const [trace, setTrace] = useState('');
  const [checks, setChecks] = useState<readonly WatchCheck[]>([]);
  const [passed, setPassed] = useState(0);
  const [blocked, setBlocked] = useState(false);

  // The latest options, read when loading: callbacks may change on every render.
  const optionsRef = useRef(options);
  optionsRef.current = options;
  const loadRef = useRef<Promise<Guard | undefined>>(undefined);
  const callRef = useRef<AbortController>(undefined);
  // `watch()` is synchronous (chunks are pushed as they come), so it needs the loaded guard itself.
  const guardRef = useRef<Guard>(undefined);
  const watchRef = useRef<ResponseWatch>(undefined);

  const { model, device, dtype } = options;
  const reloadKey = JSON.stringify([model, device, dtype]);

  useEffect(() => {
    let alive = true;
    const { createGuard = createWorkerGuard, ...guardOptions } = optionsRef.current;
    setStatus('loading');
    setProgress(0);
    setInfo(undefined);
    setError(undefined);
    const loading = createGuard({
      ...guardOptions,
      onProgress: (event) => {
        if (alive && event.status === 'total' && event.total > 0) setProgress(event.loaded / event.total);
        optionsRef.current.onProgress?.(event);
      },
    }).then(
      (guard) => {
        // Unmounted while loading (React StrictMode does this once in development): free it.
        if (!alive) return void guard.dispose();
        guardRef.current = guard;
        setInfo(guard.info);
        setProgress(1);
        setStatus('ready');
        return guard;
      },
      (cause: unknown) => {
        if (alive) {
          setError(cause);
          setStatus('error');
        }
        return undefined;
      },
    );
    loadRef.current = loading;
    return () => {
      alive = false;
      callRef.current?.abort();
      callRef.current = undefined;
      watchRef.current?.abort();
      watchRef.current = undefined;
      guardRef.current = undefined;
      void loading.then((guard) => guard?.dispose());
    };
  }, [reloadKey]);

  const classify = useCallback<UseGuardResult['classify']>(async (input, callOptions) => {
    callRef.current?.abort();
    const call = new AbortController();
    callRef.current = call;
    const current = () => callRef.current === call;
    const guard = await loadRef.current;
    if (!guard || !current()) {
      // The load failed (the status says so), or a newer call superseded this one.
      if (current()) callRef.current = undefined;
      return undefined;
    }
    setStatus('classifying');
    setTrace('');
    setError(undefined);
    let text = '';
    try {
      for await (const event of guard.stream(input, { ...callOptions, signal: call.signal })) {
        if (!current()) return undefined;
        if (event.type === 'reasoning') setTrace((text += event.text));
        if (event.type === 'done') {
          setVerdict(event.verdict);
          return event.verdict;
        }
      }
      return undefined;
    } catch (cause) {
      if (current() && !isGuardError(cause, 'aborted')) setError(cause);
      return undefined;
    } finally {
      if (current()) {
        callRef.current = undefined;
        setStatus('ready');
      }
    }
  }, []);

  const cancel = useCallback(() => {
    const call = callRef.current;
    if (!call) return;
    callRef.current = undefined;
    call.abort();
    setStatus((now) => (now === 'classifying' ? 'ready' : now));
  }, []);

  const watch = useCallback<UseGuardResult['watch']>((prompt, watchOptions) => {
    const guard = guardRef.current;
    if (!guard) throw new InvalidInputError('useGuard().watch() before the guard is loaded: wait for status "ready".');
    watchRef.current?.abort();
    const inner = guard.watch({ prompt }, watchOptions);
    // The guard's watch has one consumer, this hook: its caller iterates a copy of the events.
    const events = new EventQueue<WatchEvent>(() => undefined);
    const handle: ResponseWatch = {
      push: (text) => inner.push(text),
      end: () => inner.end(),
      abort: () => inner.abort(),
      settled: () => inner.settled(),
      get text() {
        return inner.text;
      },
      get passed() {
        return inner.passed;
      },
      get blocked() {
        return inner.blocked;
      },
      get checks() {
        return inner.checks;
      },
      [Symbol.asyncIterator]: () => events[Symbol.asyncIterator](),
    };
    watchRef.current = handle;
    const current = () => watchRef.current === handle;
    setChecks([]);
    setPassed(0);
    setBlocked(false);
    setError(undefined);
    void (async () => {
      try {
        for await (const event of inner) {
          events.push(event);
          if (event.type !== 'check' || !current()) continue;
          setChecks([...inner.checks]);
          setPassed(inner.passed);
          setBlocked(inner.blocked);
        }
        events.end();
      } catch (cause) {
        events.fail(cause);
        if (current() && !isGuardError(cause, 'aborted')) setError(cause);
      }
    })();
    return handle;
  }, []);

  return { status, progress, info, error, verdict, trace, classify, cancel, watch, checks, passed, blocked };
}
