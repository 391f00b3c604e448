/**
 * The `Guard`: what users hold. It talks to a runtime through a `Connection` (a Web Worker in
 * browsers, the same runtime in-process in Node) and adds what callers need around it:
 * cancellation, timeouts, streaming as an async iterable, and recovery from a dead worker.
 */
import {
  AbortedError,
  GuardError,
  InvalidInputError,
  TimeoutError,
  WorkerCrashedError,
  isGuardError,
} from './errors.js';
import type { ModerationInput, Verdict } from './types.js';
import type {
  ClassifyRequest,
  Dtype,
  GuardInfo,
  LoadRequest,
  ProgressEvent,
  StreamEvent,
} from '../worker/protocol.js';

export type { Device, Dtype, GuardInfo, ProgressEvent, StreamEvent } from '../worker/protocol.js';

/** Options of {@link createGuard}. Every field is optional. */
export interface GuardOptions {
  /**
   * The model: a preset id (see `models/manifests/`), a manifest object, or the URL of a model
   * folder that holds a `lingoguard.json` manifest (a local folder path in Node).
   * @default 'qwen3-0.6b-zeroshot'
   */
  model?: string | object;
  /** Where to run: `auto` picks WebGPU when an adapter exists, else wasm. @default 'auto' */
  device?: 'auto' | 'webgpu' | 'wasm';
  /** Weight format; by default the best the device supports (never f16 without `shader-f16`). */
  dtype?: Dtype;
  /** Download and load progress. */
  onProgress?: (event: ProgressEvent) => void;
  /** Per-call time limit in ms; a call that exceeds it rejects with `TimeoutError`. @default 300000 */
  timeoutMs?: number;
  /** Time limit for loading the model (download included), in ms. @default 900000 */
  loadTimeoutMs?: number;
  /**
   * Base URL (browser) or folder (Node) that `local` model paths (such as `models/my-guard`)
   * are relative to. @default '/' in browsers (the page's own origin), the package root in Node
   */
  localModelRoot?: string;
  /** Host of `hub` models. @default 'https://huggingface.co/' */
  remoteHost?: string;
  /** Absolute URLs of onnxruntime-web's wasm files; by default the ones bundled with the worker. */
  wasmPaths?: { wasm: string; mjs: string };
  /** Run one tiny generation after loading. @default true */
  warmUp?: boolean;
}

/** Options of one call. */
export interface ClassifyOptions {
  /** Cancels the call: it rejects with `AbortedError` and generation stops at the next step. */
  signal?: AbortSignal;
  /** Cap on generated tokens (the answer is `unknown` when the cap cuts it). */
  maxNewTokens?: number;
  /** Overrides the guard's `timeoutMs` for this call. */
  timeoutMs?: number;
}

/** A loaded guard model. Create with {@link createGuard}; release with `dispose()`. */
export interface Guard {
  /** The model, device and dtype that run, and why a fallback happened. */
  readonly info: GuardInfo;
  /** Judges a user prompt (a string) or an AI response in context (`{ prompt, response }`). */
  classify(input: string | ModerationInput, options?: ClassifyOptions): Promise<Verdict>;
  /** Like `classify`, as events: reasoning text as it comes, the verdict, then `done`. */
  stream(input: string | ModerationInput, options?: ClassifyOptions): AsyncIterable<StreamEvent>;
  /** Frees the model and its worker. Calls after this reject. */
  dispose(): Promise<void>;
}

/** A live link to a runtime: a worker, or the runtime itself in-process. */
export interface Connection {
  load(request: LoadRequest, onProgress?: (event: ProgressEvent) => void): Promise<GuardInfo>;
  classify(request: ClassifyRequest, onEvent?: (event: StreamEvent) => void): Promise<Verdict>;
  abort(id: number): void;
  dispose(): Promise<void>;
  /** Settles (rejects) when the connection dies on its own, e.g. the worker crashed. */
  readonly dead: Promise<never>;
}

/** Opens a fresh connection; called again after a crash. */
export type Connect = () => Connection | Promise<Connection>;

const DEFAULTS = { timeoutMs: 300_000, loadTimeoutMs: 900_000 } as const;

/**
 * Opens a guard over connections made by `connect`. Entry points call this with the
 * connection that suits their platform.
 */
export async function openGuard(connect: Connect, options: GuardOptions, defaults: Partial<LoadRequest>): Promise<Guard> {
  const request: LoadRequest = {
    ...defaults,
    model: options.model ?? defaults.model ?? 'qwen3-0.6b-zeroshot',
    device: options.device ?? 'auto',
    ...(options.dtype === undefined ? {} : { dtype: options.dtype }),
    ...(options.localModelRoot === undefined ? {} : { localModelRoot: options.localModelRoot }),
    ...(options.remoteHost === undefined ? {} : { remoteHost: options.remoteHost }),
    ...(options.wasmPaths === undefined ? {} : { wasmPaths: options.wasmPaths }),
    ...(options.warmUp === undefined ? {} : { warmUp: options.warmUp }),
  };
  const guard = new ConnectedGuard(connect, request, options);
  await guard.start();
  return guard;
}

class ConnectedGuard implements Guard {
  info!: GuardInfo;
  private current: Promise<Connection> | undefined;
  private live: Connection | undefined;
  private nextId = 1;
  private disposed = false;

  constructor(
    private readonly connect: Connect,
    private readonly request: LoadRequest,
    private readonly options: GuardOptions,
  ) {}

  async start(): Promise<void> {
    await this.connection();
  }

  classify(input: string | ModerationInput, options: ClassifyOptions = {}): Promise<Verdict> {
    return this.call(input, options);
  }

  stream(input: string | ModerationInput, options: ClassifyOptions = {}): AsyncIterable<StreamEvent> {
    // Leaving the loop early (break, throw) cancels the generation too.
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    const queue = new EventQueue<StreamEvent>(() => stop.abort());
    this.call(input, { ...options, signal }, (event) => queue.push(event)).then(
      () => queue.end(),
      (error: unknown) => queue.fail(error),
    );
    return queue;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const current = this.current;
    this.current = undefined;
    const connection = await current?.catch(() => undefined);
    await connection?.dispose();
  }

  private async call(
    input: string | ModerationInput,
    options: ClassifyOptions,
    onEvent?: (event: StreamEvent) => void,
  ): Promise<Verdict> {
    if (this.disposed) throw new InvalidInputError('This guard was disposed; create a new one.');
    const moderation = toModerationInput(input);
    const { signal } = options;
    if (signal?.aborted) throw new AbortedError();
    const id = this.nextId++;
    const connection = await this.connection();
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? DEFAULTS.timeoutMs;
    const request: ClassifyRequest = {
      id,
      input: moderation,
      ...(options.maxNewTokens === undefined ? {} : { maxNewTokens: options.maxNewTokens }),
    };
    return settleFirst(connection.classify(request, onEvent), {
      signal,
      timeoutMs,
      dead: connection.dead,
      onCancel: () => connection.abort(id),
      onDead: () => this.drop(connection),
    });
  }

  /** The live connection; a new one (model loaded again) after the last one died. */
  private connection(): Promise<Connection> {
    this.current ??= this.open();
    return this.current;
  }

  /** Connects and loads the model, within the load deadline. */
  private async open(): Promise<Connection> {
    const connection = await this.connect();
    try {
      this.info = await settleFirst(connection.load(this.request, this.options.onProgress), {
        timeoutMs: this.options.loadTimeoutMs ?? DEFAULTS.loadTimeoutMs,
        dead: connection.dead,
        onCancel: () => undefined,
        onDead: () => undefined,
      });
      this.live = connection;
      return connection;
    } catch (error) {
      this.current = undefined;
      await connection.dispose().catch(() => undefined);
      throw error;
    }
  }

  private drop(connection: Connection): void {
    if (this.live === connection) {
      this.live = undefined;
      this.current = undefined;
    }
    connection.dispose().catch(() => undefined);
  }
}

/** Accepts what `classify` accepts and rejects the rest with a typed error, before any work. */
function toModerationInput(input: unknown): ModerationInput {
  if (typeof input === 'string') return { prompt: input };
  if (typeof input === 'object' && input !== null && 'prompt' in input) {
    const { prompt, response } = input as { prompt: unknown; response?: unknown };
    if (typeof prompt === 'string' && (response === undefined || typeof response === 'string')) {
      return response === undefined ? { prompt } : { prompt, response };
    }
  }
  throw new InvalidInputError('classify() takes a string, or { prompt: string, response?: string }.', {
    details: { type: input === null ? 'null' : typeof input },
  });
}

/**
 * Resolves with `work`, unless the signal aborts, the deadline passes or the connection dies
 * first: then rejects with the matching typed error, and tells the runtime to stop.
 */
function settleFirst<T>(
  work: Promise<T>,
  race: {
    signal?: AbortSignal;
    timeoutMs: number;
    dead: Promise<never>;
    onCancel: () => void;
    onDead: () => void;
  },
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      race.signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const onAbort = () => {
      race.onCancel();
      finish(() => reject(new AbortedError()));
    };
    const timer = setTimeout(() => {
      race.onCancel();
      finish(() => reject(new TimeoutError(`No verdict within ${race.timeoutMs} ms.`, { details: { timeoutMs: race.timeoutMs } })));
    }, race.timeoutMs);
    race.signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    );
    race.dead.catch((error: unknown) => {
      race.onDead();
      finish(() => reject(isGuardError(error) ? error : new WorkerCrashedError('The guard worker died.', { cause: error })));
    });
  });
}

/** A push-based async iterable: the runtime pushes events, the caller iterates them. */
class EventQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private failWaiting: ((error: unknown) => void) | undefined;
  private ended = false;
  private error: unknown;

  constructor(private readonly onReturn: () => void) {}

  push(item: T): void {
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = this.failWaiting = undefined;
      resolve({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  end(): void {
    this.ended = true;
    this.waiting?.({ value: undefined, done: true });
    this.waiting = this.failWaiting = undefined;
  }

  fail(error: unknown): void {
    this.error = error ?? new GuardError('worker-crashed', 'The stream failed.');
    this.ended = true;
    this.failWaiting?.(this.error);
    this.waiting = this.failWaiting = undefined;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.error !== undefined) return Promise.reject(this.error);
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiting = resolve;
          this.failWaiting = reject;
        });
      },
      return: () => {
        if (!this.ended) this.onReturn();
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
