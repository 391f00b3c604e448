/**
 * The defaults that more than one part of lingoguard needs, each written once here.
 */
import type { ClassifyMode } from '../types.js';

/** The model `classify()` and `createGuard()` use when none is given (a preset id). */
export const DEFAULT_MODEL = 'qwen3-0.6b-zeroshot';

/** Where `hub` model sources are fetched from unless `remoteHost` says otherwise. */
export const DEFAULT_HUB_HOST = 'https://huggingface.co/';

/** The file in a model folder that says what the model is (its manifest). */
export const MANIFEST_FILE = 'lingoguard.json';

/**
 * The `mode` of a call that sets none (see `ClassifyOptions.mode`): `auto`, one forward pass
 * for a confident input and reasoning only for an unsure one, because a trace costs seconds
 * and most inputs are clear. Written once here and applied by the runtime, so the library,
 * the CLI, the worker and Node agree.
 */
export const DEFAULT_MODE: ClassifyMode = 'auto';

/**
 * `auto` mode's thresholds on the one-pass score: below `low` the verdict is taken as
 * `unharmful`, above `high` as `harmful`, without reasoning; from `low` to `high` the model
 * reasons. Asymmetric on purpose: a wrong confident pass lets harm through unexplained, a wrong
 * confident block is visible and can be appealed, so passing on one pass needs more certainty.
 * See the README ("Reason only when unsure") for the figures behind them.
 */
export const DEFAULT_CONFIDENCE = { low: 0.05, high: 0.9 } as const;

/** `auto` mode's reasoning budget when the call sets no `maxReasoningTokens` (the paper's trace length). */
export const AUTO_REASONING_TOKENS = 256;
