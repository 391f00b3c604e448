/**
 * lingoguard: client-side moderation with a reasoning guard model.
 * This is the browser entry (the model runs in a Web Worker); Node gets `index.node.ts`
 * through the package's `node` export condition, with the same API.
 *
 * @module lingoguard
 */

// The guard
export { createGuard, classify, type BrowserGuardOptions } from './browser.js';
export type {
  ClassifyOptions,
  Device,
  Dtype,
  Guard,
  GuardInfo,
  GuardOptions,
  ProgressEvent,
  StreamEvent,
} from './guard.js';

// Verdicts
export { LABELS, FAMILIES } from './types.js';
export type {
  Category,
  CommonCategory,
  Family,
  Label,
  LanguageInfo,
  ModerationInput,
  ResponseAssessment,
  Timings,
  Verdict,
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
  TimeoutError,
  UnknownVerdictError,
  WorkerCrashedError,
  isGuardError,
  type ErrorCode,
  type GuardErrorOptions,
} from './errors.js';

// Models
export { DEFAULT_MODEL, findPreset, listPresets } from './presets.js';
export { parseManifest, type ModelManifest } from './manifest.js';

// Languages
export { detectLanguage } from './language.js';
