/**
 * lingoguard for the Vercel AI SDK (`ai` 6): a language-model middleware that runs the guard on
 * the last user message before the model is called, and optionally on the model's answer, after
 * it or while it streams, for `generateText` and `streamText` alike.
 *
 * Only types come from `ai`: this module has no runtime dependency on it, so it works with
 * whatever copy of the SDK the app has, in the browser (worker guard) or in Node (in-process).
 *
 * @module lingoguard/ai-sdk
 */
import type { LanguageModelMiddleware } from 'ai';
import * as v from 'valibot';
import { InvalidInputError } from './errors.js';
import type { ClassifyOptions, Guard } from './guard.js';
import { checkClassifyOptions, checked, checkWatchOptions } from './options.js';
import type { ModerationInput, Verdict } from './types.js';
import type { ResponseWatch, WatchOptions } from './watch.js';

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
   * Also judge the model's answer (in the context of the user's message).
   * - `true`: the whole answer is judged once the model has finished. When streaming, the
   *   answer is held back until then: nothing unjudged reaches the UI, and nothing reaches it
   *   before the end.
   * - `'stream'`: when streaming, the answer reaches the UI as it is generated, each piece of
   *   text once a check covering it passed (`guard.watch()`: the answer so far is judged at each
   *   sentence end, see `watchOptions`), and the whole answer is judged at the end before its
   *   last piece and the finish are sent. When a check blocks, the stream ends there with the
   *   replacement text or a {@link GuardBlockedError}, the model's stream is cancelled, and
   *   nothing after the last passed check reaches the UI. Other parts (tool calls, reasoning,
   *   sources) keep their place among the text: a part waits for the text before it.
   * - `'stream-first'`: like `'stream'`, but every part is sent at once, before it is judged;
   *   a block only cuts the stream. The weaker guarantee: the harmful sentence itself (and
   *   what the model wrote while it was being judged) has reached the UI by then; use it where
   *   latency matters more than never showing a harmful sentence.
   *
   * `generateText` has no stream to release: with `'stream'` or `'stream-first'` it judges the
   * whole answer, as `true` does.
   * @default false
   */
  checkResponse?: boolean | 'stream' | 'stream-first';
  /**
   * Passed to every `guard.classify()` call; the call's own `abortSignal` is passed too. With
   * the default `mode` (`auto`), a confident verdict has no reasoning trace: pass
   * `mode: 'full'` for a trace in every verdict of the metadata.
   */
  classifyOptions?: Pick<ClassifyOptions, 'maxNewTokens' | 'timeoutMs' | 'mode' | 'confidence' | 'maxReasoningTokens'>;
  /**
   * Passed to `guard.watch()` with `checkResponse: 'stream'` or `'stream-first'` (after
   * `classifyOptions`' `maxNewTokens` and `timeoutMs`, which apply too): where the answer is checked (`checkEvery`), how each
   * check and the final one judge (`mode`, by default `'fast'`; `finalMode`). The call's own
   * `abortSignal` ends the watch.
   */
  watchOptions?: Omit<WatchOptions, 'signal'>;
}

/** The options' shape, checked when the middleware is made: a misspelt key is an error. */
const MiddlewareOptionsSchema = v.strictObject({
  guard: v.union([v.function(), v.looseObject({ classify: v.function() })]),
  onBlock: v.optional(v.union([v.literal('throw'), v.strictObject({ replacement: v.string() })])),
  checkResponse: v.optional(v.union([v.boolean(), v.literal('stream'), v.literal('stream-first')])),
  classifyOptions: v.optional(
    v.strictObject({
      maxNewTokens: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
      timeoutMs: v.optional(v.pipe(v.number(), v.minValue(1))),
      // Their values are checked by the guard's own schema, the one `guard.classify()` uses.
      mode: v.optional(v.unknown()),
      confidence: v.optional(v.unknown()),
      maxReasoningTokens: v.optional(v.unknown()),
    }),
  ),
  // Its fields are checked by the watch's own schema (below), the one `guard.watch()` uses.
  watchOptions: v.optional(v.looseObject({})),
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
  /**
   * The verdict on the model's answer, with `checkResponse`; `null` when it holds no text.
   * Streamed with `'stream'` / `'stream-first'`: the verdict of the last check, the one that
   * blocked or the final one on the whole answer.
   */
  response?: Verdict | null;
  /** With `checkResponse: 'stream'` / `'stream-first'` on a stream: how many checks the answer had. */
  responseChecks?: number;
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
  if (options.watchOptions !== undefined) {
    if ('signal' in options.watchOptions) {
      throw new InvalidInputError('guardMiddleware() options: watchOptions.signal: the call\'s own abortSignal ends the watch.', {
        details: { key: 'signal' },
      });
    }
    checkWatchOptions(options.watchOptions);
  }
  if (options.classifyOptions !== undefined) checkClassifyOptions(options.classifyOptions);
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
      if (options.checkResponse === 'stream' || options.checkResponse === 'stream-first') {
        const watch = await judge.watch(params, userText);
        let result: LanguageModelV3StreamResult;
        try {
          result = await doStream();
        } catch (error) {
          watch.abort();
          throw error;
        }
        const release = options.checkResponse === 'stream' ? 'checked' : 'first';
        return { ...result, stream: judgedAsItStreams(result.stream, watch, release, block, metadata) };
      }
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

    /** A watch on the answer to `userText`, for `checkResponse: 'stream'`. */
    async watch(params: LanguageModelV3CallOptions, userText: string): Promise<ResponseWatch> {
      const guard = await getGuard();
      // Only the limits carry over: a watch judges in its own mode ('fast'), not the prompt's.
      const { maxNewTokens, timeoutMs } = options.classifyOptions ?? {};
      const limits = { ...(maxNewTokens === undefined ? {} : { maxNewTokens }), ...(timeoutMs === undefined ? {} : { timeoutMs }) };
      if (typeof guard.watch !== 'function') {
        throw new InvalidInputError("checkResponse: 'stream' needs a guard with watch() (lingoguard's createGuard makes one).");
      }
      return guard.watch(
        { prompt: userText === '' ? '[no text]' : userText },
        { ...limits, ...options.watchOptions, ...(params.abortSignal ? { signal: params.abortSignal } : {}) },
      );
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

type TextDelta = Extract<LanguageModelV3StreamPart, { type: 'text-delta' }>;

/**
 * The model's stream under a watch (`checkResponse: 'stream'`): every text delta is pushed to
 * `watch` as it arrives; what is sent is decided by `release`. `checked`: parts are held, and
 * each passing check sends the held parts up to its end (splitting the delta it ends in), so a
 * part is sent once the text before it passed. `first`: parts are sent at once. In both, the
 * finish part waits for the final check, and a blocking check ends the stream there: the held
 * parts are dropped, the model's stream is cancelled, open text parts are closed, and the
 * replacement or the block error follows. A guard failure errors the stream (never a pass).
 */
function judgedAsItStreams(
  upstream: ReadableStream<LanguageModelV3StreamPart>,
  watch: ResponseWatch,
  release: 'checked' | 'first',
  block: NonNullable<GuardMiddlewareOptions['onBlock']>,
  metadata: GuardMetadata,
): ReadableStream<LanguageModelV3StreamPart> {
  const reader = upstream.getReader();
  /** Parts not sent yet, in order; `at` is where a text delta starts in the watched text. */
  const held: Array<{ part: LanguageModelV3StreamPart; at: number }> = [];
  /** Text and reasoning parts sent open: a cut closes them, so the UI's parts stay well formed. */
  const open = new Map<string, 'text-end' | 'reasoning-end'>();
  let pushed = 0;
  let cleared = 0;
  let closed = false;
  let out!: ReadableStreamDefaultController<LanguageModelV3StreamPart>;

  const send = (part: LanguageModelV3StreamPart) => {
    if (part.type === 'text-start') open.set(part.id, 'text-end');
    if (part.type === 'reasoning-start') open.set(part.id, 'reasoning-end');
    if (part.type === 'text-end' || part.type === 'reasoning-end') open.delete(part.id);
    out.enqueue(part);
  };

  /** Sends the held parts before `end` in the text; the finish waits for the final check. */
  const releaseUpTo = (end: number) => {
    while (held[0] && held[0].part.type !== 'finish') {
      const { part, at } = held[0];
      if (part.type === 'text-delta' && at + part.delta.length > end) {
        if (at < end) {
          send({ ...part, delta: part.delta.slice(0, end - at) });
          held[0] = { part: { ...part, delta: part.delta.slice(end - at) } satisfies TextDelta, at: end };
        }
        return;
      }
      held.shift();
      send(part);
    }
  };

  const stop = (reason: unknown) => {
    closed = true;
    held.length = 0;
    watch.abort();
    void reader.cancel(reason).catch(() => undefined);
  };

  const cut = (verdict: Verdict) => {
    if (closed) return;
    stop('lingoguard blocked the answer');
    Object.assign(metadata, { blocked: true, stage: 'response', response: verdict, responseChecks: watch.checks.length });
    for (const [id, type] of open) out.enqueue({ type, id });
    if (block === 'throw') {
      out.enqueue({ type: 'error', error: blockedError(metadata) });
      out.enqueue({ type: 'finish', usage: NO_USAGE, finishReason: CONTENT_FILTER, providerMetadata: withMetadata(undefined, metadata) });
    } else {
      for (const part of replacementParts(block.replacement, metadata, NO_USAGE)) out.enqueue(part);
    }
    out.close();
  };

  const fail = (error: unknown) => {
    if (closed) return;
    stop(error);
    out.error(error);
  };

  const accept = (part: LanguageModelV3StreamPart) => {
    if (part.type === 'text-delta') {
      held.push({ part, at: pushed });
      pushed += part.delta.length;
      watch.push(part.delta);
    } else if (part.type === 'stream-start' || part.type === 'response-metadata') {
      // Stream-level parts carry no answer text: they pass at once, as without a check.
      return void out.enqueue(part);
    } else {
      held.push({ part, at: pushed });
    }
    releaseUpTo(release === 'first' ? Infinity : cleared);
  };

  /** Reads the model's stream to its end, then makes the final check before the finish. */
  const read = async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (closed) return;
      if (done) break;
      accept(value);
    }
    const result = await watch.end();
    if (closed) return;
    const verdict = result.verdict ?? null;
    if (blocks(verdict)) return cut(verdict!);
    Object.assign(metadata, { response: verdict, responseChecks: result.checks.length });
    releaseUpTo(Infinity);
    for (const { part } of held.splice(0)) {
      send(part.type === 'finish' ? { ...part, providerMetadata: withMetadata(part.providerMetadata, metadata) } : part);
    }
    closed = true;
    out.close();
  };

  /** Follows the checks as they land: a pass sends what it covered, a block cuts. */
  const follow = async () => {
    for await (const event of watch) {
      if (closed || event.type !== 'check') continue;
      const { verdict, end, final } = event.check;
      // The guard's own decision, failing closed on a verdict that says nothing of blocked.
      if (blocks(verdict)) return cut(verdict);
      if (!final) {
        metadata.response = verdict;
        cleared = end;
        releaseUpTo(release === 'first' ? Infinity : cleared);
      }
    }
  };

  return new ReadableStream<LanguageModelV3StreamPart>({
    start(controller) {
      out = controller;
      void read().catch(fail);
      void follow().catch(fail);
    },
    cancel(reason) {
      // The reader went away (or the call was aborted): stop the model and the checks.
      if (!closed) stop(reason);
    },
  });
}
