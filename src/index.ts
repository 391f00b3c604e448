/**
 * lingoguard: client-side moderation with a reasoning guard model.
 * This is the browser entry (the model runs in a Web Worker); Node gets `index.node.ts`
 * through the package's `node` export condition, with the same API.
 *
 * @module lingoguard
 */

// The guard
export { createGuard, classify, type BrowserGuardOptions } from './browser.js';
export type { ClassifyOptions, Guard, GuardOptions } from './guard.js';
export type { ResponseWatch, WatchCheck, WatchEvent, WatchOptions, WatchResult } from './watch.js';
export { DEVICES, DEVICE_CHOICES, DTYPES } from './types.js';
export type { Device, DeviceChoice, Dtype, EndpointOptions, GuardInfo, ProgressEvent, StreamEvent } from './types.js';

// Verdicts
export { LABELS, FAMILIES } from './types.js';
export type {
  Category,
  ClassifyMode,
  CommonCategory,
  Confidence,
  Family,
  Label,
  LanguageInfo,
  ModerationInput,
  ResponseAssessment,
  Timings,
  Verdict,
  VerdictPath,
} from './types.js';

// Errors
export {
  AbortedError,
  BackendUnavailableError,
  ERROR_CODES,
  GuardError,
  IntegrityError,
  InvalidInputError,
  ModelLoadError,
  QueueFullError,
  RemoteError,
  StorageQuotaError,
  TimeoutError,
  UnknownVerdictError,
  WorkerCrashedError,
  isGuardError,
  type ErrorCode,
  type GuardErrorOptions,
} from './errors.js';

// Models
export { DEFAULT_CONFIDENCE, DEFAULT_MODEL } from './common/constants.js';
export { findPreset, listPresets } from './common/presets.js';
export { parseManifest, type ModelManifest } from './common/manifest.js';

// Model storage (browsers: the origin private file system)
export { modelStorage, type StorageEstimate, type StoredModel } from './storage.js';

// Languages
export { detectLanguage } from './common/language.js';
