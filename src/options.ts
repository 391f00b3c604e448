/**
 * The shapes of what callers pass in, checked once at the entry. A misspelt key must never be
 * dropped: `{ prompt, respone }` would judge the prompt alone and pass the response unjudged,
 * and `{ onUnkown: 'throw' }` would leave a fail policy other than the one asked for. So every
 * object here is strict, and any mismatch is an `InvalidInputError` that names the key.
 */
import * as v from 'valibot';
import { InvalidInputError } from './errors.js';
import { DEVICE_CHOICES, DTYPES, ENDPOINT_ENGINES, type ModerationInput } from './types.js';

const positiveInteger = v.pipe(v.number(), v.integer(), v.minValue(1));
const milliseconds = v.pipe(v.number(), v.finite(), v.minValue(1));
/** `auto` mode's thresholds: two probabilities, `low` below `high`. */
const confidence = v.pipe(
  v.strictObject({
    low: v.pipe(v.number(), v.minValue(0), v.maxValue(1)),
    high: v.pipe(v.number(), v.minValue(0), v.maxValue(1)),
  }),
  v.check((value) => value.low < value.high, 'Invalid confidence: "low" must be below "high"'),
);
const classifyMode = v.picklist(['full', 'fast', 'auto']);
const abortSignal = v.custom<AbortSignal>(
  (value) => typeof AbortSignal !== 'undefined' && value instanceof AbortSignal,
  'Invalid type: Expected an AbortSignal',
);

/** What `classify()` accepts besides a plain string. */
const ModerationInputSchema = v.strictObject({ prompt: v.string(), response: v.optional(v.string()) });

/** The keys of `GuardOptions` (see `src/guard.ts` for what each means). */
export const GUARD_OPTION_ENTRIES = {
  model: v.optional(v.union([v.string(), v.looseObject({})])),
  device: v.optional(v.picklist(DEVICE_CHOICES)),
  dtype: v.optional(v.picklist(DTYPES)),
  onProgress: v.optional(v.function()),
  timeoutMs: v.optional(milliseconds),
  loadTimeoutMs: v.optional(milliseconds),
  localModelRoot: v.optional(v.string()),
  remoteHost: v.optional(v.string()),
  wasmPaths: v.optional(v.strictObject({ wasm: v.string(), mjs: v.string() })),
  warmUp: v.optional(v.boolean()),
  maxQueue: v.optional(positiveInteger),
  maxInputChars: v.optional(positiveInteger),
  onUnknown: v.optional(v.picklist(['block', 'allow', 'throw'])),
  onControversial: v.optional(v.picklist(['block', 'allow'])),
  confidence: v.optional(confidence),
  endpoint: v.optional(
    v.strictObject({
      url: v.pipe(v.string(), v.url()),
      engine: v.optional(v.picklist(ENDPOINT_ENGINES)),
      apiKey: v.optional(v.string()),
      model: v.optional(v.pipe(v.string(), v.minLength(1))),
      timeoutMs: v.optional(milliseconds),
    }),
  ),
};

const GuardOptionsSchema = v.strictObject(GUARD_OPTION_ENTRIES);

/** The browser's options: the common ones, the worker factory, and worker sharing. */
const BrowserGuardOptionsSchema = v.strictObject({ ...GUARD_OPTION_ENTRIES, createWorker: v.optional(v.function()), share: v.optional(v.boolean()) });

const ClassifyOptionsSchema = v.strictObject({
  signal: v.optional(abortSignal),
  maxNewTokens: v.optional(positiveInteger),
  timeoutMs: v.optional(milliseconds),
  mode: v.optional(classifyMode),
  confidence: v.optional(confidence),
  maxReasoningTokens: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  usePrefixCache: v.optional(v.boolean()),
});

const WatchOptionsSchema = v.strictObject({
  checkEvery: v.optional(v.union([v.literal('sentence'), v.strictObject({ chars: positiveInteger })])),
  mode: v.optional(classifyMode),
  finalMode: v.optional(classifyMode),
  confidence: v.optional(confidence),
  maxReasoningTokens: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  maxNewTokens: v.optional(positiveInteger),
  timeoutMs: v.optional(milliseconds),
  signal: v.optional(abortSignal),
});

/**
 * Checks `value` against `schema` and returns it, or throws an `InvalidInputError` whose
 * message names the first wrong key and what was expected there.
 * @param what who is asking, for the message (e.g. `createGuard() options`).
 */
export function checked<S extends v.GenericSchema>(schema: S, value: unknown, what: string): v.InferOutput<S> {
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  const { issue, keys } = deepest(result.issues[0]);
  const path = keys.join('.');
  const message = isUnknownKey(issue)
    ? `${what}: unknown key "${path}" (a misspelling?). Known keys: ${knownKeys(schema, keys.slice(0, -1))}.`
    : `${what}: ${path ? `"${path}": ` : ''}${issue.message}.`;
  throw new InvalidInputError(message, { details: { key: path, received: issue.received } });
}

/**
 * The most specific issue and its full key path: for a value that matches no branch of a
 * union, the branch issue that got into the value (`onBlock.replacment`, an unknown key, rather
 * than "neither `throw` nor an object"). Branch issues' paths are relative to the union.
 */
function deepest(issue: v.BaseIssue<unknown>, parents: string[] = []): { issue: v.BaseIssue<unknown>; keys: string[] } {
  const keys = [...parents, ...(issue.path?.map((item) => String(item.key)) ?? [])];
  const branches = (issue.issues ?? []).filter((branch) => (branch.path?.length ?? 0) > 0);
  const best = branches.find(isUnknownKey) ?? branches[0];
  return best ? deepest(best, keys) : { issue, keys };
}

const isUnknownKey = (issue: v.BaseIssue<unknown>) => issue.type === 'strict_object' && issue.expected === 'never';

/** The keys of the object schema at `parents` inside `schema`, for an error message. */
function knownKeys(schema: unknown, parents: readonly string[]): string {
  let current = schema as { entries?: Record<string, unknown>; wrapped?: unknown } | undefined;
  for (const key of parents) {
    current = current?.entries?.[key] as typeof current;
    while (current?.wrapped) current = current.wrapped as typeof current; // v.optional(...)
  }
  return current?.entries ? Object.keys(current.entries).join(', ') : '(see the type)';
}

/** `classify()`'s input as `{ prompt, response? }`, or an `InvalidInputError`. */
export function moderationInputOf(input: unknown): ModerationInput {
  if (typeof input === 'string') return { prompt: input };
  if (typeof input !== 'object' || input === null) {
    throw new InvalidInputError('classify() takes a string, or { prompt: string, response?: string }.', {
      details: { type: input === null ? 'null' : typeof input },
    });
  }
  const { prompt, response } = checked(ModerationInputSchema, input, 'classify() input');
  return response === undefined ? { prompt } : { prompt, response };
}

/** Checks `createGuard()`'s options (the browser's, with `createWorker`, when `browser`). */
export function checkGuardOptions(options: unknown, browser = false): void {
  checked(browser ? BrowserGuardOptionsSchema : GuardOptionsSchema, options ?? {}, 'createGuard() options');
}

/** Checks the options of one `classify()` / `explain()` / `stream()` call. */
export function checkClassifyOptions(options: unknown): void {
  checked(ClassifyOptionsSchema, options ?? {}, 'classify() options');
}

/** Checks the options of `guard.watch()`. */
export function checkWatchOptions(options: unknown): void {
  checked(WatchOptionsSchema, options ?? {}, 'watch() options');
}
