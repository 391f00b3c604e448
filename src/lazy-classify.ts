/**
 * The one-line path: a module-level `classify` that lazily opens one shared guard.
 */
import type { ClassifyOptions, Guard, GuardOptions } from './guard.js';
import type { ModerationInput, Verdict } from './types.js';

/** Makes a `classify(input, options)` that opens one guard on first use and reuses it. */
export function lazyClassify(create: (options?: GuardOptions) => Promise<Guard>) {
  let shared: Promise<Guard> | undefined;
  return async function classify(input: string | ModerationInput, options?: ClassifyOptions): Promise<Verdict> {
    // A failed start is not kept: the next call tries again.
    shared ??= create().catch((error: unknown) => {
      shared = undefined;
      throw error;
    });
    return (await shared).classify(input, options);
  };
}
