/**
 * The `Guard`: what users hold. It talks to a runtime through a `Connection` (a Web Worker in
 * browsers, the same runtime in-process in Node) and adds what callers need around it:
 * cancellation, timeouts, streaming as an async iterable, and recovery from a dead worker.
 */
import {
  AbortedError,
  BackendUnavailableError,
  GuardError,
  InvalidInputError,
  QueueFullError,
  isGuardError,
} from './errors.js';
import { DEFAULT_MODEL } from './common/constants.js';
import { EventQueue } from './event-queue.js';
import { DEFAULT_POLICY, applyPolicy, type FailPolicy } from './policy.js';
import { checkClassifyOptions, checkGuardOptions, checkWatchOptions, moderationInputOf } from './options.js';
import { deathWatch, settleFirst } from './settle.js';
import { Watch, type ResponseWatch, type WatchOptions } from './watch.js';
import type { ClassifyRequest, Connect, Connection, LoadRequest } from './protocol.js';
import type {
  ClassifyMode,
  Confidence,
  DeviceChoice,
  Dtype,
  EndpointOptions,
  GuardInfo,
  ModerationInput,
  ProgressEvent,
  StreamEvent,
  Verdict,
} from './types.js';

/** Options of {@link createGuard}. Every field is optional. */
export interface GuardOptions {
  /**
   * The model: a preset id (see `models/manifests/`), a manifest object, or the URL of a model
   * folder that holds a `lingoguard.json` manifest (a local folder path in Node).
   * @default 'qwen3-0.6b-zeroshot'
   */
  model?: string | object;
  /**
   * Where to run. `auto` picks WebGPU on a hardware adapter, and wasm where there is none or
   * only a software fallback one (such as SwiftShader, far slower than wasm); `webgpu` takes any
   * adapter. `guard.info.fallback` says why when the device is not the one asked for.
   * @default 'auto'
   */
  device?: DeviceChoice;
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
  /**
   * Most calls this guard holds at once (running and waiting); one more rejects at once with
   * `QueueFullError`, so a flood of input cannot grow memory or latency without bound.
   * @default 256
   */
  maxQueue?: number;
  /**
   * Longest input accepted, in UTF-16 code units (prompt and response together); longer input
   * rejects at once with `InvalidInputError`. Long text is judged in windows, each a full
   * generation, so this bounds the time one call can take.
   * @default 100000
   */
  maxInputChars?: number;
  /**
   * What an `unknown` verdict (no well-formed answer) does: `block` returns it with
   * `blocked: true`; `allow` returns it with `blocked: false` (fail-open); `throw` rejects with
   * `UnknownVerdictError`. Errors always reject: a call never resolves to a pass it did not earn.
   * @default 'block'
   */
  onUnknown?: FailPolicy['onUnknown'];
  /** Whether a `controversial` verdict (Qwen3Guard) has `blocked: true`. @default 'block' */
  onControversial?: FailPolicy['onControversial'];
  /** `auto` mode's thresholds for every call of this guard (a call's own `confidence` wins). */
  confidence?: Confidence;
  /**
   * Run the model on an OpenAI-compatible inference server (vLLM) instead of here. The
   * prompt is still built and tokenized here (the model's tokenizer files load from its
   * source; its weights never do) and sent as token ids to `/v1/completions`; the answer
   * streams back, is parsed and scored here, and the call rejects with a typed error
   * (`RemoteError`, `TimeoutError`) when the server fails: never a pass. The server must serve
   * this model (checked at load against `/v1/models`, and by the manifest's known answers).
   * `device` and `dtype` do not apply; `guard.info.remote` says where the text goes.
   * @example
   * const guard = await createGuard({ model: 'llama-guard-3-1b', endpoint: { url: 'http://gpu-box:8000/v1' } });
   */
  endpoint?: EndpointOptions;
}

/** Options of one call. */
export interface ClassifyOptions {
  /** Cancels the call: it rejects with `AbortedError` and generation stops at the next step. */
  signal?: AbortSignal;
  /** Cap on generated tokens (the answer is `unknown` when the cap cuts it). */
  maxNewTokens?: number;
  /** Overrides the guard's `timeoutMs` for this call. */
  timeoutMs?: number;
  /**
   * `fast`: skip the reasoning and give the verdict (and score) at once; call
   * `guard.explain(input)` later for the trace. `full`: reason, then judge. `auto`: one
   * forward pass gives the verdict and its score; when the score is confident (see
   * `confidence`) that is the verdict, with an empty trace (`explain()` gives it later), and
   * when it is unsure the model reasons from the same prefilled prompt, within
   * `maxReasoningTokens` (256 by default), and that verdict counts. `verdict.path` says which
   * ran. A family that does not reason (Llama Guard 3, Qwen3Guard-Gen) has only its one-pass
   * verdict: `auto` gives it whatever the score, with `path: 'fast'`. The default costs one
   * forward pass for a clear input (no trace: ask `explain()`, or pass `mode: 'full'`, to get
   * one) and a short reasoned verdict for an unsure one.
   * @default 'auto'
   */
  mode?: ClassifyMode;
  /**
   * `auto` mode's thresholds on the one-pass score: below `low` the verdict is taken without
   * reasoning (it is `unharmful`), above `high` too (`harmful`); from `low` to `high`, and
   * whenever the one-pass answer is not well formed, the model reasons. `0 ≤ low < high ≤ 1`;
   * `{ low: 0, high: 1 }` always reasons.
   * @default { low: 0.05, high: 0.9 } (or the guard's `confidence`)
   */
  confidence?: Confidence;
  /**
   * Cut the reasoning after this many tokens and make the model give its verdict; the
   * verdict then has `reasoningCut: true`. Reasoning families only. In `auto` mode, the
   * budget of the reasoned path. @default none; 256 in `auto` mode
   */
  maxReasoningTokens?: number;
  /**
   * Reuse the model's cached instruction (the family's fixed prompt, prefilled once at load).
   * Only benchmarks and checks turn this off: the tokens are the same either way. @default true
   */
  usePrefixCache?: boolean;
}

/**
 * A loaded guard model. Create with {@link createGuard}; release with `dispose()`.
 * Calls are judged one at a time, in the order they were made; each verdict has `blocked` set
 * by the guard's fail policy.
 */
export interface Guard {
  /** The model, device and dtype that run, and why a fallback happened. */
  readonly info: GuardInfo;
  /** Judges a user prompt (a string) or an AI response in context (`{ prompt, response }`). */
  classify(input: string | ModerationInput, options?: ClassifyOptions): Promise<Verdict>;
  /**
   * The verdict with its full reasoning trace, for an input that was judged in fast mode:
   * block or pass at once with `mode: 'fast'`, show why later with `explain`.
   */
  explain(input: string | ModerationInput, options?: ClassifyOptions): Promise<Verdict>;
  /**
   * Like `classify`, as events: reasoning text as it comes, the verdict, then `done`. In the
   * default `auto` mode a confident input streams no reasoning at all (its verdict comes from
   * one pass), and only an unsure one streams a trace; pass `mode: 'full'` to always get one.
   */
  stream(input: string | ModerationInput, options?: ClassifyOptions): AsyncIterable<StreamEvent>;
  /**
   * Moderates an AI answer while it streams: `push()` its chunks as they come; the answer so
   * far is judged (with `prompt`) at each sentence end, each check computing only the new text
   * (the KV cache of what was judged is kept), until one blocks; `end()` makes the final check
   * on the whole answer. Every family that judges responses.
   * @example
   * const watch = guard.watch({ prompt: question });
   * for await (const chunk of answer) { watch.push(chunk); if (watch.blocked) break; }
   * const { blocked, blockedAt, checks } = await watch.end();
   */
  watch(input: string | { prompt: string }, options?: WatchOptions): ResponseWatch;
  /** Frees the model and its worker. Pending calls reject with `AbortedError`; calls after this reject. */
  dispose(): Promise<void>;
}

const DEFAULTS = { timeoutMs: 300_000, loadTimeoutMs: 900_000, maxQueue: 256, maxInputChars: 100_000 } as const;

/**
 * Opens a guard over connections made by `connect`. Entry points call this with the
 * connection that suits their platform.
 */
export async function openGuard(
  connect: Connect,
  options: GuardOptions,
  defaults: Partial<LoadRequest>,
  check: { browser?: boolean } = {},
): Promise<Guard> {
  checkGuardOptions(options, check.browser);
  const request: LoadRequest = {
    ...defaults,
    model: options.model ?? defaults.model ?? DEFAULT_MODEL,
    device: options.device ?? 'auto',
    ...(options.dtype === undefined ? {} : { dtype: options.dtype }),
    ...(options.localModelRoot === undefined ? {} : { localModelRoot: options.localModelRoot }),
    ...(options.remoteHost === undefined ? {} : { remoteHost: options.remoteHost }),
    ...(options.wasmPaths === undefined ? {} : { wasmPaths: options.wasmPaths }),
    ...(options.warmUp === undefined ? {} : { warmUp: options.warmUp }),
    ...(options.endpoint === undefined ? {} : { endpoint: { ...options.endpoint } }),
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
  /** Calls made and not yet settled, waiting or running: what `maxQueue` bounds. */
  private calls = 0;
  /** One canceller per call in flight, so `dispose()` can settle every one of them. */
  private readonly cancels = new Set<(error: GuardError) => void>();
  private nextWatch = 1;
  private readonly policy: FailPolicy;
  /** The policy for stream events: an `unknown` there is marked blocked; only the call throws. */
  private readonly streamPolicy: FailPolicy;

  constructor(
    private readonly connect: Connect,
    private readonly request: LoadRequest,
    private readonly options: GuardOptions,
  ) {
    this.policy = {
      onUnknown: options.onUnknown ?? DEFAULT_POLICY.onUnknown,
      onControversial: options.onControversial ?? DEFAULT_POLICY.onControversial,
    };
    this.streamPolicy = { ...this.policy, onUnknown: this.policy.onUnknown === 'throw' ? 'block' : this.policy.onUnknown };
  }

  async start(): Promise<void> {
    await this.connection();
  }

  classify(input: string | ModerationInput, options: ClassifyOptions = {}): Promise<Verdict> {
    return this.call(input, options);
  }

  explain(input: string | ModerationInput, options: ClassifyOptions = {}): Promise<Verdict> {
    return this.call(input, { ...options, mode: 'full' });
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

  watch(input: string | { prompt: string }, options: WatchOptions = {}): ResponseWatch {
    if (this.disposed) throw new InvalidInputError('This guard was disposed; create a new one.');
    checkWatchOptions(options);
    const { prompt } = moderationInputOf(input);
    if (typeof input === 'object' && 'response' in input) {
      throw new InvalidInputError('guard.watch() takes { prompt }: the response is what you push().', { details: { key: 'response' } });
    }
    const id = this.nextWatch++;
    const { checkEvery, signal, finalMode, mode, ...call } = options;
    const judge = (response: string, check: { final: boolean; signal: AbortSignal }) =>
      this.call(
        { prompt, response },
        { ...call, mode: check.final ? (finalMode ?? mode ?? 'fast') : (mode ?? 'fast'), signal: check.signal },
        undefined,
        { id, final: check.final },
      );
    // The runtime frees a watch's cache after its final check; one that ends before is told.
    const release = () => void this.live?.endWatch?.(id).catch(() => undefined);
    return new Watch(judge, release, { ...(checkEvery === undefined ? {} : { checkEvery }), ...(signal ? { signal } : {}) });
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    // Pending calls settle now, typed, rather than hang on a worker that is going away.
    const error = new AbortedError('The guard was disposed during the call.', { details: { reason: 'disposed' } });
    for (const cancel of [...this.cancels]) cancel(error);
    const current = this.current;
    this.current = undefined;
    const connection = await current?.catch(() => undefined);
    await connection?.dispose();
  }

  private async call(
    input: string | ModerationInput,
    options: ClassifyOptions,
    onEvent?: (event: StreamEvent) => void,
    watch?: ClassifyRequest['watch'],
  ): Promise<Verdict> {
    if (this.disposed) throw new InvalidInputError('This guard was disposed; create a new one.');
    checkClassifyOptions(options);
    const maxQueue = this.options.maxQueue ?? DEFAULTS.maxQueue;
    if (this.calls >= maxQueue) {
      throw new QueueFullError(`${this.calls} calls are already pending on this guard (maxQueue ${maxQueue}).`, {
        details: { maxQueue },
      });
    }
    const moderation = toModerationInput(input, this.options.maxInputChars ?? DEFAULTS.maxInputChars);
    const { signal } = options;
    if (signal?.aborted) throw new AbortedError();
    this.calls++;
    try {
      const id = this.nextId++;
      // Waiting for a (re)load can be cancelled and disposed like the call itself.
      const connection = await settleFirst(this.connection(), { signal, cancels: this.cancels });
      const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? DEFAULTS.timeoutMs;
      const confidence = options.confidence ?? this.options.confidence;
      const request: ClassifyRequest = {
        id,
        input: moderation,
        ...(options.maxNewTokens === undefined ? {} : { maxNewTokens: options.maxNewTokens }),
        ...(options.mode === undefined ? {} : { mode: options.mode }),
        ...(confidence === undefined ? {} : { confidence }),
        ...(watch === undefined ? {} : { watch }),
        ...(options.maxReasoningTokens === undefined ? {} : { maxReasoningTokens: options.maxReasoningTokens }),
        ...(options.usePrefixCache === false ? { usePrefixCache: false } : {}),
        timeoutMs,
      };
      const relay = onEvent && ((event: StreamEvent) => this.relay(event, onEvent));
      const verdict = await settleFirst(connection.classify(request, relay), {
        signal,
        timeoutMs,
        cancels: this.cancels,
        deaths: deathWatch(connection),
        onCancel: () => connection.abort(id),
        onDead: () => this.drop(connection),
      }).catch((error: unknown) => {
        throw this.failure(error, connection);
      });
      return applyPolicy(verdict, this.policy);
    } finally {
      this.calls--;
    }
  }

  /** Passes stream events on with the policy applied; with `onUnknown: 'throw'` the error replaces `done`. */
  private relay(event: StreamEvent, onEvent: (event: StreamEvent) => void): void {
    if (event.type === 'reasoning') return onEvent(event);
    if (event.type === 'done' && event.verdict.label === 'unknown' && this.policy.onUnknown === 'throw') return;
    onEvent({ ...event, verdict: applyPolicy(event.verdict, this.streamPolicy) });
  }

  /**
   * What a failed call rejects with. An untyped error, or a backend error marked `poisoned`,
   * means the runtime itself is broken (after a WebGPU failure every later session in the same
   * worker fails): that connection is dropped, so the next call starts a fresh worker.
   */
  private failure(error: unknown, connection: Connection): unknown {
    if (isGuardError(error) && !(error.code === 'backend-unavailable' && error.details.poisoned === true)) return error;
    this.drop(connection);
    if (isGuardError(error)) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new BackendUnavailableError(`The model runtime failed; the next call starts a fresh one: ${message}`, {
      cause: error,
      details: { poisoned: true },
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
        deaths: deathWatch(connection),
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

/**
 * Accepts what `classify` accepts and rejects the rest with a typed error, before any work.
 * The length cap is checked here, on the caller's side, so an oversized input costs nothing.
 */
function toModerationInput(input: unknown, maxChars: number): ModerationInput {
  const moderation = moderationInputOf(input);
  const chars = moderation.prompt.length + (moderation.response?.length ?? 0);
  if (chars > maxChars) {
    throw new InvalidInputError(`The input is ${chars} characters long; this guard takes at most ${maxChars} (maxInputChars).`, {
      details: { chars, maxInputChars: maxChars },
    });
  }
  return moderation;
}
