/**
 * The defaults that more than one part of lingoguard needs, each written once here.
 */

/** The model `classify()` and `createGuard()` use when none is given (a preset id). */
export const DEFAULT_MODEL = 'qwen3-0.6b-zeroshot';

/** Where `hub` model sources are fetched from unless `remoteHost` says otherwise. */
export const DEFAULT_HUB_HOST = 'https://huggingface.co/';

/** The file in a model folder that says what the model is (its manifest). */
export const MANIFEST_FILE = 'lingoguard.json';
