/**
 * The worker contract: what the main thread and the guard worker say to each other. It
 * depends on the public types and errors only, so either side can import it without pulling
 * in the other. Everything that crosses here is plain data (structured-clonable) or a comlink
 * proxy.
 */
import { transferHandlers, type TransferHandler } from 'comlink';
import {
  isGuardError,
  reviveGuardError,
  serializeGuardError,
  type SerializedGuardError,
} from './errors.js';
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

/** What the runtime was asked to load, as the main thread resolved it. */
export interface LoadRequest {
  /** A preset id, a manifest object, a URL of a model folder, or a local path (Node). */
  model: string | object;
  device: DeviceChoice;
  dtype?: Dtype;
  /** Base URL (browser) or folder (Node) that `local` model sources are relative to. */
  localModelRoot?: string;
  /** Absolute URLs of onnxruntime-web's wasm files, served by the app (never a CDN). */
  wasmPaths?: { wasm: string; mjs: string };
  /** Host that `hub` model sources are fetched from. */
  remoteHost?: string;
  /** Run one tiny generation after loading so the first real call is not slow. */
  warmUp?: boolean;
  /** Run the model on this inference server instead of loading it here. */
  endpoint?: EndpointOptions;
}

/** One classification, as sent to the runtime. */
export interface ClassifyRequest {
  /** Caller-chosen id, used to abort this request. */
  id: number;
  input: ModerationInput;
  maxNewTokens?: number;
  /** Compute the instruction again instead of reusing its cache (for benchmarks). */
  usePrefixCache?: boolean;
  /** `fast`: no reasoning; `auto`: reason only when unsure (see `ClassifyOptions.mode`). */
  mode?: ClassifyMode;
  /** `auto` mode's thresholds; the runtime's defaults when absent. */
  confidence?: Confidence;
  /** Cut the reasoning after this many tokens and ask for the verdict. */
  maxReasoningTokens?: number;
  /**
   * A check of a response watch: the input is the prompt and the response so far, and the
   * runtime keeps the KV cache of what it judged under `id` so the next check of the same
   * watch computes only the new text. A pure cache: a check always judges exactly its input.
   * `final` frees that cache after the check.
   */
  watch?: { id: number; final?: boolean };
  /**
   * The call's time limit in ms, from when the runtime receives it. The caller enforces it;
   * the runtime uses it to give up early on what cannot finish in time (a server's
   * `Retry-After` longer than the time left).
   */
  timeoutMs?: number;
}

/** What the worker exposes; implemented by `GuardRuntime`. */
export interface WorkerApi {
  load(request: LoadRequest, onProgress?: (event: ProgressEvent) => void): Promise<GuardInfo>;
  classify(request: ClassifyRequest, onEvent?: (event: StreamEvent) => void): Promise<Verdict>;
  /** Stops request `id` at the next decode step, or drops it from the queue. */
  abort(id: number): void;
  /**
   * Frees the KV cache that watch `id` keeps (a watch blocked, aborted or failed before its
   * final check). Optional so that minimal runtimes need not keep watches; without it a
   * runtime still bounds how many it keeps.
   */
  endWatch?(id: number): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * A live link to a runtime, as the main thread holds it: the worker's API (over comlink, or
 * the runtime itself in-process in Node) and a promise that rejects when the runtime dies
 * under its calls (the worker crashed, or was disposed with calls pending).
 */
export interface Connection extends WorkerApi {
  readonly dead: Promise<never>;
}

/** Opens a fresh connection; called again after a crash. */
export type Connect = () => Connection | Promise<Connection>;

/**
 * Keys of the two raw messages (outside comlink, which ignores them) by which the worker takes
 * a Web Lock for its whole life: the main thread learns the worker ended when it gets the lock.
 */
export const LIFELINE = {
  hold: 'lingoguardLifelineHold',
  held: 'lingoguardLifelineHeld',
  /**
   * A tab of a shared worker tells it the name of a lock the tab holds while it lives; the
   * worker waits for that lock to learn the tab is gone (MessagePort has no close event).
   */
  tab: 'lingoguardTabHold',
  /** A shared worker that is closing tells its tabs why, so their `WorkerCrashedError` can. */
  ended: 'lingoguardWorkerEnded',
} as const;

/** A lifeline message: a lock's name (or, for `ended`, the reason) under one of {@link LIFELINE}'s keys. */
export type LifelineMessage = Partial<Record<(typeof LIFELINE)[keyof typeof LIFELINE], string>>;

type ThrownValue = { value: unknown };
type WireError =
  | { guard: true; fields: SerializedGuardError }
  | { guard: false; name: string; message: string; stack?: string };

/**
 * comlink sends thrown errors as plain `{ name, message, stack }`: class, `code` and `details`
 * would be lost. This handler carries lingoguard errors whole, so callers can tell an abort
 * from a crash. Both sides must install it.
 */
const errorTransfer: TransferHandler<ThrownValue, WireError> = {
  // comlink marks a thrown value with a private symbol (`Comlink.thrown`) that it does not
  // export; it is the only symbol key on that wrapper.
  canHandle: (value): value is ThrownValue =>
    typeof value === 'object' &&
    value !== null &&
    Object.getOwnPropertySymbols(value).some((key) => key.description === 'Comlink.thrown'),
  serialize({ value }) {
    const wire: WireError = isGuardError(value)
      ? { guard: true, fields: serializeGuardError(value) }
      : { guard: false, ...plainError(value) };
    return [wire, []];
  },
  deserialize(wire) {
    if (wire.guard) throw reviveGuardError(wire.fields);
    throw Object.assign(new Error(wire.message), { name: wire.name, stack: wire.stack });
  },
};

function plainError(value: unknown): { name: string; message: string; stack?: string } {
  const error = value instanceof Error ? value : new Error(String(value));
  return { name: error.name, message: error.message, stack: error.stack };
}

/** Installs the error transfer on this side of the boundary (idempotent). */
export function installErrorTransfer(): void {
  transferHandlers.set('throw', errorTransfer as TransferHandler<unknown, unknown>);
}

