/**
 * Typed errors. Every failure a user must tell apart has a class and a stable `code`; the
 * guards below match by `code` and `name`, not by `instanceof`, because errors that crossed a
 * worker boundary (or another copy of this module) are not instances of these classes.
 */
import type { Verdict } from './types.js';

/** Stable codes of every lingoguard error. */
export const ERROR_CODES = {
  invalidInput: 'invalid-input',
  modelLoadFailed: 'model-load-failed',
  backendUnavailable: 'backend-unavailable',
  aborted: 'aborted',
  timedOut: 'timed-out',
  workerCrashed: 'worker-crashed',
  queueFull: 'queue-full',
  integrity: 'integrity',
  storageQuota: 'storage-quota',
  unknownVerdict: 'unknown-verdict',
  remote: 'remote',
} as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** Options every lingoguard error accepts. */
export interface GuardErrorOptions {
  /** The underlying error. */
  cause?: unknown;
  /** Structured context (a field name, a URL, a limit...), safe to log: never the user's text. */
  details?: Record<string, unknown>;
}

/** Base class of every error lingoguard throws. Check with {@link isGuardError}. */
export class GuardError extends Error {
  /** Stable, machine-readable reason. */
  readonly code: ErrorCode;
  /** Structured context, safe to log. */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: GuardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GuardError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** The input cannot be classified as given (not a string, empty, unusable characters...). */
export class InvalidInputError extends GuardError {
  constructor(message: string, options?: GuardErrorOptions) {
    super(ERROR_CODES.invalidInput, message, options);
    this.name = 'InvalidInputError';
  }
}

/** The model's files could not be fetched, verified or loaded. */
export class ModelLoadError extends GuardError {
  constructor(message: string, options?: GuardErrorOptions) {
    super(ERROR_CODES.modelLoadFailed, message, options);
    this.name = 'ModelLoadError';
  }
}

/** No backend can run the model here (no WebGPU adapter, missing feature, broken session). */
export class BackendUnavailableError extends GuardError {
  constructor(message: string, options?: GuardErrorOptions) {
    super(ERROR_CODES.backendUnavailable, message, options);
    this.name = 'BackendUnavailableError';
  }
}

/** The call was cancelled through its `AbortSignal`. */
export class AbortedError extends GuardError {
  constructor(message = 'The classification was aborted.', options?: GuardErrorOptions) {
    super(ERROR_CODES.aborted, message, options);
    this.name = 'AbortedError';
  }
}

/** The call did not finish within its timeout. */
export class TimeoutError extends GuardError {
  constructor(message: string, options?: GuardErrorOptions) {
    super(ERROR_CODES.timedOut, message, options);
    this.name = 'TimeoutError';
  }
}

/** The worker running the model died; the next call starts a fresh one. */
export class WorkerCrashedError extends GuardError {
  constructor(message: string, options?: GuardErrorOptions) {
    super(ERROR_CODES.workerCrashed, message, options);
    this.name = 'WorkerCrashedError';
  }
}

/** Too many calls are waiting on this guard (`maxQueue`); retry later or shed load. */
export class QueueFullError extends GuardError {
  constructor(message: string, options?: GuardErrorOptions) {
    super(ERROR_CODES.queueFull, message, options);
    this.name = 'QueueFullError';
  }
}

/**
 * A model file's bytes do not match the SHA-256 its manifest gives (`details`: `file`,
 * `expected`, `actual`). Nothing was loaded or run.
 */
export class IntegrityError extends GuardError {
  constructor(message: string, options?: GuardErrorOptions) {
    super(ERROR_CODES.integrity, message, options);
    this.name = 'IntegrityError';
  }
}

/**
 * The model's files would not fit in the storage left to this origin (`details`: `model`,
 * `needed`, `available`, `usage`, `quota` in bytes). Thrown before the download starts, so
 * nothing was half-stored; free space (e.g. `modelStorage.remove()` another model) and retry.
 */
export class StorageQuotaError extends GuardError {
  constructor(message: string, options?: GuardErrorOptions) {
    super(ERROR_CODES.storageQuota, message, options);
    this.name = 'StorageQuotaError';
  }
}

/**
 * The model gave no well-formed answer and the guard was created with `onUnknown: 'throw'`.
 * `verdict` is the `unknown` verdict (it may quote the model's output, so it is kept out of
 * `details`, which are safe to log).
 */
export class UnknownVerdictError extends GuardError {
  /** The verdict, when the error was made on this side of the worker boundary. */
  readonly verdict: Verdict | undefined;

  constructor(message: string, options?: GuardErrorOptions & { verdict?: Verdict }) {
    super(ERROR_CODES.unknownVerdict, message, options);
    this.name = 'UnknownVerdictError';
    this.verdict = options?.verdict;
  }
}

/**
 * The inference server behind an `endpoint` guard failed the call. `details.reason`:
 * `unreachable` (nothing answers at the URL), `connection` (dropped before an answer; what
 * browsers report for both), `http` (an error `status`), `rate-limited` (429, or 503 with
 * `Retry-After`, past the call's deadline), `malformed` or `cut` (the answer or stream breaks
 * the completions contract or ends early), `server` (an error event in the stream),
 * `vocabulary` (a token id the model's tokenizer does not have: another model). `details.url`
 * is the origin and path, never the key. Never a pass: the call rejects. A call that runs out
 * of time is a `TimeoutError`, as in-process.
 */
export class RemoteError extends GuardError {
  /** The HTTP status, when the server answered with an error. */
  readonly status: number | undefined;

  constructor(message: string, options?: GuardErrorOptions) {
    super(ERROR_CODES.remote, message, options);
    this.name = 'RemoteError';
    const status = options?.details?.status;
    this.status = typeof status === 'number' ? status : undefined;
  }
}

const CLASS_BY_CODE: Record<ErrorCode, new (message: string, options?: GuardErrorOptions) => GuardError> = {
  'invalid-input': InvalidInputError,
  'model-load-failed': ModelLoadError,
  'backend-unavailable': BackendUnavailableError,
  aborted: AbortedError,
  'timed-out': TimeoutError,
  'worker-crashed': WorkerCrashedError,
  'queue-full': QueueFullError,
  integrity: IntegrityError,
  'storage-quota': StorageQuotaError,
  'unknown-verdict': UnknownVerdictError,
  remote: RemoteError,
};

const ERROR_NAMES = new Set([
  'GuardError',
  'InvalidInputError',
  'ModelLoadError',
  'BackendUnavailableError',
  'AbortedError',
  'TimeoutError',
  'WorkerCrashedError',
  'QueueFullError',
  'IntegrityError',
  'StorageQuotaError',
  'UnknownVerdictError',
  'RemoteError',
]);

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(CLASS_BY_CODE, value);
}

/**
 * Whether `value` is a lingoguard error, optionally with the given code. Works on errors that
 * crossed a worker boundary, where `instanceof` does not.
 * @example
 * try { await guard.classify(text, { signal }) }
 * catch (error) { if (isGuardError(error, 'aborted')) return; throw error }
 */
export function isGuardError(value: unknown, code?: ErrorCode): value is GuardError {
  if (typeof value !== 'object' || value === null) return false;
  const { code: actual, name } = value as { code?: unknown; name?: unknown };
  if (!isErrorCode(actual)) return false;
  // Compared with literal names, not `constructor.name`, which minifiers rename.
  const named = typeof name === 'string' && ERROR_NAMES.has(name);
  return named && (code === undefined || actual === code);
}

/** The plain fields of a lingoguard error: what survives `structuredClone` across a worker. */
export interface SerializedGuardError {
  code: ErrorCode;
  message: string;
  details: Record<string, unknown>;
  stack?: string;
}

/** Turns a lingoguard error into plain fields that can be posted across a worker boundary. */
export function serializeGuardError(error: GuardError): SerializedGuardError {
  return { code: error.code, message: error.message, details: error.details, stack: error.stack };
}

/** Rebuilds the typed error (same class and code) from {@link serializeGuardError}'s fields. */
export function reviveGuardError(fields: SerializedGuardError): GuardError {
  const ErrorClass = CLASS_BY_CODE[fields.code];
  const error = new ErrorClass(fields.message, { details: fields.details });
  if (fields.stack !== undefined) error.stack = fields.stack;
  return error;
}
