/**
 * lingoguard for the Vercel AI SDK (`ai` 6): a language-model middleware that runs the guard on
 * the last user message before the model is called, and optionally on the model's answer after
 * it, for `generateText` and `streamText` alike.
 *
 * Only types come from `ai`: this module has no runtime dependency on it, so it works with
 * whatever copy of the SDK the app has, in the browser (worker guard) or in Node (in-process).
 *
 * @module lingoguard/ai-sdk
 */
import type { LanguageModelMiddleware } from 'ai';
import * as v from 'valibot';
import type { ClassifyOptions, Guard } from './guard.js';
import { checked } from './options.js';
import type { ModerationInput, Verdict } from './types.js';

// `ai` exports the middleware type but not the provider types it is made of (they live in
// `@ai-sdk/provider`, which an app does not always see): take them from the middleware type.
type WrapGenerate = NonNullable<LanguageModelMiddleware['wrapGenerate']>;
type LanguageModelV3CallOptions = Parameters<WrapGenerate>[0]['params'];
type LanguageModelV3GenerateResult = Awaited<ReturnType<WrapGenerate>>;
type LanguageModelV3StreamResult = Awaited<ReturnType<NonNullable<LanguageModelMiddleware['wrapStream']>>>;
type LanguageModelV3StreamPart = LanguageModelV3StreamResult['stream'] extends ReadableStream<infer Part> ? Part : never;
type LanguageModelV3Prompt = LanguageModelV3CallOptions['prompt'];
type LanguageModelV3Content = LanguageModelV3GenerateResult['content'][number];
type LanguageModelV3Usage = LanguageModelV3GenerateResult['usage'];
type SharedV3ProviderMetadata = NonNullable<LanguageModelV3GenerateResult['providerMetadata']>;
type JSONObject = SharedV3ProviderMetadata[string];

/** Key of lingoguard's entry in `providerMetadata`. */
export const METADATA_KEY = 'lingoguard';

/** Which check blocked: the user's message, or the model's answer to it. */
export type GuardStage = 'prompt' | 'response';

/** Options of {@link guardMiddleware}. */
export interface GuardMiddlewareOptions {
  /**
   * The guard, or a function that makes it. A function is called on the first model call and
   * its guard reused; a failed start is not kept, so the next call tries again.
   * @example guard: () => createGuard({ model: 'llama-guard-3-1b' })
   */
  guard: Guard | (() => Guard | Promise<Guard>);
  /**
   * What a block does: throw a {@link GuardBlockedError}, or answer with `replacement` as the
   * assistant's text (finish reason `content-filter`) without calling the model.
   * @default 'throw'
   */
  onBlock?: 'throw' | { replacement: string };
  /**
   * Also judge the model's answer (in the context of the user's message). When streaming, the
   * answer is then held back until it has been judged: nothing unjudged reaches the UI.
   * @default false
   */
  checkResponse?: boolean;
  /** Passed to every `guard.classify()` call; the call's own `abortSignal` is passed too. */
  classifyOptions?: Pick<ClassifyOptions, 'maxNewTokens' | 'timeoutMs'>;
}

/** The options' shape, checked when the middleware is made: a misspelt key is an error. */
const MiddlewareOptionsSchema = v.strictObject({
  guard: v.union([v.function(), v.looseObject({ classify: v.function() })]),
  onBlock: v.optional(v.union([v.literal('throw'), v.strictObject({ replacement: v.string() })])),
  checkResponse: v.optional(v.boolean()),
  classifyOptions: v.optional(
    v.strictObject({
      maxNewTokens: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
      timeoutMs: v.optional(v.pipe(v.number(), v.minValue(1))),
    }),
  ),
});

/**
 * What the middleware puts in `providerMetadata.lingoguard` of every result: plain JSON (it
 * structured-clones and serializes). Read it typed with {@link readGuardMetadata}.
 */
export interface GuardMetadata {
  /** Whether a check blocked this call. */
  blocked: boolean;
  /** The check that blocked, when one did. */
  stage?: GuardStage;
  /**
   * The verdict on the last user message, with its reasoning trace (`reasoning`) and the raw
   * model output. `null` when that message holds no text (e.g. only an image): nothing was judged.
   */
  prompt: Verdict | null;
  /** The verdict on the model's answer, with `checkResponse`; `null` when it holds no text. */
  response?: Verdict | null;
}

/** Thrown (with `onBlock: 'throw'`) when the guard blocks a call. */
export class GuardBlockedError extends Error {
  /** The check that blocked. */
  readonly stage: GuardStage;
  /** The verdict that blocked, with its reasoning trace. */
  readonly verdict: Verdict;

  constructor(stage: GuardStage, verdict: Verdict) {
    super(`lingoguard blocked the ${stage === 'prompt' ? 'user message' : 'model answer'}: ${verdict.label}.`);
    this.name = 'GuardBlockedError';
    this.stage = stage;
    this.verdict = verdict;
  }
}

/**
 * Whether `value` is a {@link GuardBlockedError}. Matches by name, so it also works on an error
 * that another copy of this module made or that was re-thrown by the SDK.
 */
export function isGuardBlockedError(value: unknown): value is GuardBlockedError {
  return value instanceof Error && value.name === 'GuardBlockedError' && 'verdict' in value && 'stage' in value;
}

/**
 * lingoguard's metadata in a result's `providerMetadata` (from `generateText`, or awaited from
 * `streamText`), or `undefined` when the middleware did not run.
 * @example
 * const { text, providerMetadata } = await generateText({ model, prompt });
 * const trace = readGuardMetadata(providerMetadata)?.prompt?.reasoning;
 */
export function readGuardMetadata(providerMetadata: SharedV3ProviderMetadata | undefined): GuardMetadata | undefined {
  const entry = providerMetadata?.[METADATA_KEY];
  return entry === undefined ? undefined : (entry as unknown as GuardMetadata);
}

/**
 * A middleware for `wrapLanguageModel` that guards every call of the wrapped model.
 *
 * The last user message is classified before the model runs; a verdict the guard blocks
 * (`verdict.blocked`: `harmful`, and by the guard's own fail policy `unknown` and
 * `controversial`) blocks the call: the model is not called, and
 * the call throws a {@link GuardBlockedError} or answers with the replacement text. Guard
 * failures (load, timeout) reject the call with their typed `GuardError`: never a silent pass.
 * @example
 * import { streamText, wrapLanguageModel } from 'ai';
 * import { createGuard } from 'lingoguard';
 * import { guardMiddleware } from 'lingoguard/ai-sdk';
 *
 * const model = wrapLanguageModel({
 *   model: openai('gpt-4o-mini'),
 *   middleware: guardMiddleware({
 *     guard: () => createGuard({ model: 'llama-guard-3-1b' }),
 *     onBlock: { replacement: 'Sorry, I can\'t help with that.' },
 *   }),
 * });
 * const result = streamText({ model, prompt: userText });
 */
export function guardMiddleware(options: GuardMiddlewareOptions): LanguageModelMiddleware {
  checked(MiddlewareOptionsSchema, options, 'guardMiddleware() options');
  const judge = createJudge(options);
  const block = options.onBlock ?? 'throw';

  return {
    specificationVersion: 'v3',

    async wrapGenerate({ doGenerate, params }) {
      const { metadata, userText } = await judge.prompt(params);
      if (metadata.blocked) return blockedResult(block, metadata);
      const result = await doGenerate();
      if (options.checkResponse) {
        await judge.response(params, userText, textOf(result.content), metadata);
        if (metadata.blocked) return blockedResult(block, metadata, result);
      }
      return { ...result, providerMetadata: withMetadata(result.providerMetadata, metadata) };
    },

    async wrapStream({ doStream, params }) {
      const { metadata, userText } = await judge.prompt(params);
      if (metadata.blocked) return blockedStream(block, metadata);
      const result = await doStream();
      const stream = options.checkResponse
        ? result.stream.pipeThrough(judgedAtEnd(block, (text) => judge.response(params, userText, text, metadata), metadata))
        : result.stream.pipeThrough(mapFinish((part) => ({ ...part, providerMetadata: withMetadata(part.providerMetadata, metadata) })));
      return { ...result, stream };
    },
  };
}

/**
 * Whether `verdict` blocks: the guard's own decision (`verdict.blocked`, set by its fail
 * policy, `onUnknown` / `onControversial`), never a rule of the middleware's. A verdict without
 * `blocked` (a hand-made `Guard` that sets none) blocks: the middleware fails closed.
 */
function blocks(verdict: Verdict | null): boolean {
  return verdict !== null && verdict.blocked !== false;
}

/** The guard calls of one middleware: lazy guard, a one-entry memo. */
function createJudge(options: GuardMiddlewareOptions) {
  let guard: Promise<Guard> | undefined;
  // A tool loop calls the model several times for one user message: judge it once.
  let last: { key: string; verdict: Verdict } | undefined;

  const getGuard = (): Promise<Guard> => {
    const source = options.guard;
    guard ??= Promise.resolve(typeof source === 'function' ? source() : source).catch((error: unknown) => {
      guard = undefined;
      throw error;
    });
    return guard;
  };

  const classify = async (input: ModerationInput, signal: AbortSignal | undefined): Promise<Verdict> => {
    const key = JSON.stringify(input);
    if (last?.key === key) return last.verdict;
    const verdict = await (await getGuard()).classify(input, { ...options.classifyOptions, ...(signal ? { signal } : {}) });
    last = { key, verdict };
    return verdict;
  };

  return {
    async prompt(params: LanguageModelV3CallOptions): Promise<{ metadata: GuardMetadata; userText: string }> {
      const userText = lastUserText(params.prompt);
      const verdict = userText === '' ? null : await classify({ prompt: userText }, params.abortSignal);
      const metadata: GuardMetadata = { blocked: false, prompt: verdict };
      if (blocks(verdict)) Object.assign(metadata, { blocked: true, stage: 'prompt' });
      return { metadata, userText };
    },

    /** Judges `answer` in the context of `userText`; records the verdict in `metadata`. */
    async response(params: LanguageModelV3CallOptions, userText: string, answer: string, metadata: GuardMetadata): Promise<void> {
      // A response is judged in context; without any user text the context is said to be empty.
      const input = { prompt: userText === '' ? '[no text]' : userText, response: answer };
      const verdict = answer.trim() === '' ? null : await classify(input, params.abortSignal);
      metadata.response = verdict;
      if (blocks(verdict)) Object.assign(metadata, { blocked: true, stage: 'response' });
    },
  };
}

/** The text of the last user message (its text parts, joined); `''` when it has none. */
function lastUserText(prompt: LanguageModelV3Prompt): string {
  const message = prompt.findLast((m) => m.role === 'user');
  if (message?.role !== 'user') return '';
  return message.content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('\n').trim();
}

function textOf(content: readonly LanguageModelV3Content[]): string {
  return content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
}

function withMetadata(existing: SharedV3ProviderMetadata | undefined, metadata: GuardMetadata): SharedV3ProviderMetadata {
  // A JSON round trip drops `undefined` fields: what remains is exactly what serializes.
  return { ...existing, [METADATA_KEY]: JSON.parse(JSON.stringify(metadata)) as JSONObject };
}

function blockedError(metadata: GuardMetadata): GuardBlockedError {
  const stage = metadata.stage ?? 'prompt';
  const verdict = stage === 'prompt' ? metadata.prompt : metadata.response;
  // Only a verdict can block, so it is there; the check keeps the types honest.
  if (!verdict) throw new Error('lingoguard: a block without a verdict.');
  return new GuardBlockedError(stage, verdict);
}

const NO_USAGE: LanguageModelV3Usage = {
  inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 0, text: 0, reasoning: 0 },
};

const CONTENT_FILTER = { unified: 'content-filter', raw: METADATA_KEY } as const;

/** The result of a blocked `generate` call: thrown, or the replacement text as the answer. */
function blockedResult(
  block: NonNullable<GuardMiddlewareOptions['onBlock']>,
  metadata: GuardMetadata,
  generated?: LanguageModelV3GenerateResult,
): LanguageModelV3GenerateResult {
  if (block === 'throw') throw blockedError(metadata);
  return {
    ...generated,
    content: [{ type: 'text', text: block.replacement }],
    finishReason: CONTENT_FILTER,
    usage: generated?.usage ?? NO_USAGE,
    warnings: generated?.warnings ?? [],
    providerMetadata: withMetadata(generated?.providerMetadata, metadata),
  };
}

/** The replacement answer as stream parts, ending with the metadata. */
function replacementParts(replacement: string, metadata: GuardMetadata, usage: LanguageModelV3Usage): LanguageModelV3StreamPart[] {
  const id = `${METADATA_KEY}-replacement`;
  return [
    { type: 'text-start', id },
    { type: 'text-delta', id, delta: replacement },
    { type: 'text-end', id },
    { type: 'finish', usage, finishReason: CONTENT_FILTER, providerMetadata: withMetadata(undefined, metadata) },
  ];
}

/** The result of a blocked `stream` call, made without calling the model. */
function blockedStream(block: NonNullable<GuardMiddlewareOptions['onBlock']>, metadata: GuardMetadata): LanguageModelV3StreamResult {
  if (block === 'throw') throw blockedError(metadata);
  const parts: LanguageModelV3StreamPart[] = [{ type: 'stream-start', warnings: [] }, ...replacementParts(block.replacement, metadata, NO_USAGE)];
  return {
    stream: new ReadableStream({
      start(controller) {
        for (const part of parts) controller.enqueue(part);
        controller.close();
      },
    }),
  };
}

function mapFinish(map: (part: Extract<LanguageModelV3StreamPart, { type: 'finish' }>) => LanguageModelV3StreamPart) {
  return new TransformStream<LanguageModelV3StreamPart, LanguageModelV3StreamPart>({
    transform(part, controller) {
      controller.enqueue(part.type === 'finish' ? map(part) : part);
    },
  });
}

/**
 * Holds the whole answer back, judges it when the model finishes, then lets it through, or
 * replaces it (or ends with the block error) when the guard blocks it.
 */
function judgedAtEnd(
  block: NonNullable<GuardMiddlewareOptions['onBlock']>,
  judgeAnswer: (text: string) => Promise<void>,
  metadata: GuardMetadata,
) {
  const held: LanguageModelV3StreamPart[] = [];
  let text = '';
  return new TransformStream<LanguageModelV3StreamPart, LanguageModelV3StreamPart>({
    transform(part, controller) {
      // Stream-level parts carry no answer text and pass at once.
      if (part.type === 'stream-start' || part.type === 'response-metadata') controller.enqueue(part);
      else held.push(part);
      if (part.type === 'text-delta') text += part.delta;
    },
    async flush(controller) {
      await judgeAnswer(text);
      const finish = held.find((part) => part.type === 'finish');
      if (!metadata.blocked) {
        for (const part of held) {
          controller.enqueue(part.type === 'finish' ? { ...part, providerMetadata: withMetadata(part.providerMetadata, metadata) } : part);
        }
        return;
      }
      const usage = finish?.usage ?? NO_USAGE;
      if (block === 'throw') {
        controller.enqueue({ type: 'error', error: blockedError(metadata) });
        controller.enqueue({ type: 'finish', usage, finishReason: CONTENT_FILTER, providerMetadata: withMetadata(undefined, metadata) });
        return;
      }
      for (const part of replacementParts(block.replacement, metadata, usage)) controller.enqueue(part);
    },
  });
}
