/**
 * A {@link GuardSession} on an inference server: the tokenizer loads here (from the model's
 * source, as for any model) and the prompt goes out as token ids to an OpenAI-compatible
 * `/v1/completions` (vLLM's contract: `prompt` as ids, SSE streaming, legacy `logprobs` with
 * `return_tokens_as_token_ids`, `echo` with prompt logprobs, `stop_token_ids`). The answer is
 * decoded by the same {@link Answer} as in-process, so text, end tokens and stops mean the same;
 * the stream is cancelled the moment the answer is complete. The verdict score comes from the
 * top logprobs where the verdict word starts, and, for words of several tokens, one echo
 * request per spelling that could move it (see {@link VerdictReader}).
 *
 * The server keeps no state for us: a {@link Prefilled} holds only ids, every request sends the
 * whole prompt, and `cachedTokens` is 0 (the server may cache prefixes on its side).
 */
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import { AbortedError, ModelLoadError, RemoteError, TimeoutError, isGuardError } from '../src/errors.js';
import type { ModelManifest } from '../src/common/manifest.js';
import type { EndpointOptions } from '../src/types.js';
import { LoopGuard } from './loop-guard.js';
import type { ResolvedSource } from './model-source.js';
import { Answer, type GenerateOptions, type Generation, type GuardSession, type Prefilled, type VerdictRead, type Work } from './session.js';
import type { VerdictPosition, VerdictReader, VerdictReading } from './verdict-score.js';

/** Top logprobs asked for at each step: vLLM's default `--max-logprobs`. */
const TOP_LOGPROBS = 20;
/** Default longest wait for the server's answer to start, or for its next chunk. */
const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** How often a request in flight checks whether its call was aborted. */
const STOP_POLL_MS = 20;
/** Most attempts of one request that the server rate-limits (`429`, or `503` with `Retry-After`). */
const MAX_ATTEMPTS = 8;
/** The wait before retrying a rate-limited request that gives no `Retry-After`. */
const DEFAULT_RETRY_MS = 1_000;

/** What one request may wait for, and when its call gives up. */
interface Limits {
  shouldStop: () => boolean;
  /** `Date.now()` past which the call has failed (its `timeoutMs`). */
  deadline?: number;
}

/** One step of a completion: the token chosen and what the server said of that position. */
interface StepLogprobs {
  id: number;
  /** Token id → logprob, the likeliest ones at the position (the chosen one among them). */
  top: ReadonlyMap<number, number>;
}

/** The endpoint's URL as shown to users: origin and path, never credentials or query. */
export function publicUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

/** A model served by an OpenAI-compatible inference server. */
export class RemoteSession implements GuardSession {
  readonly endTokens: ReadonlySet<number>;
  /** One past the largest id the tokenizer knows: ids from the server must stay below it. */
  private readonly vocabSize: number;

  private constructor(
    readonly tokenizer: PreTrainedTokenizer,
    endTokens: ReadonlySet<number>,
    private readonly server: Server,
    /** The name the server serves the model under. */
    readonly servedModel: string,
  ) {
    this.endTokens = endTokens;
    let max = 0;
    for (const id of tokenizer.get_vocab().values()) if (id > max) max = id;
    this.vocabSize = max + 1;
  }

  /** The endpoint as `info` shows it. */
  get url(): string {
    return this.server.shown;
  }

  /**
   * Loads the tokenizer from `source` and checks that the server serves the model: `/v1/models`
   * must list `endpoint.model`, or (none given) one of the manifest's names for it.
   * @param generationEos `generation_config.json`'s `eos_token_id`, read by the caller.
   */
  static async load(
    source: ResolvedSource,
    manifest: ModelManifest,
    endpoint: EndpointOptions,
    config: { eos?: unknown; generationEos?: unknown },
  ): Promise<RemoteSession> {
    // The server first: a wrong URL, key or model fails before the tokenizer loads.
    const server = new Server(endpoint);
    const served = await server.servedModels();
    const wanted = endpoint.model === undefined ? [manifest.upstream?.repo, manifest.mirrors, manifest.id].filter((name): name is string => !!name) : [endpoint.model];
    // A model is named by its served name, or (vLLM) by the repository it was loaded from; requests use the served name.
    const found = wanted.map((name) => served.find((entry) => entry.id === name || entry.root === name)).find(Boolean);
    const match = found?.id;
    if (match === undefined) {
      throw new ModelLoadError(
        `The server at ${server.shown} does not serve ${manifest.id}: it lists ${served.map((entry) => JSON.stringify(entry.id)).join(', ') || 'no model'}, not ${wanted.map((name) => JSON.stringify(name)).join(' or ')}${endpoint.model === undefined ? ' (set endpoint.model to the name it serves the model under)' : ''}.`,
        { details: { url: server.shown, model: manifest.id, served: served.map((entry) => entry.id), wanted } },
      );
    }
    let tokenizer: PreTrainedTokenizer;
    Object.assign(env, source.env); // transformers.js reads its sources from this global
    try {
      tokenizer = await AutoTokenizer.from_pretrained(source.modelId, { revision: source.revision ?? 'main' });
    } catch (cause) {
      throw new ModelLoadError(`Could not load the tokenizer of "${source.modelId}": ${cause instanceof Error ? cause.message : String(cause)}`, {
        cause,
        details: { model: source.modelId },
      });
    }
    const tokenizerEos = (tokenizer as unknown as { eos_token_id?: number }).eos_token_id;
    // The same end tokens as in-process (worker/decoder.ts): the tokenizer's, config's, generation config's.
    const endTokens = new Set([...idList(tokenizerEos), ...idList(config.eos), ...idList(config.generationEos)]);
    return new RemoteSession(tokenizer, endTokens, server, match);
  }

  /**
   * Greedy generation after `ids`, streamed: each token is pushed to the answer as it comes,
   * and the stream is cancelled as soon as the answer is complete, the call stops, or greedy
   * decoding loops. The score is read after the stream, at the last position where the
   * verdict's opening held before the next token broke it (as in-process).
   */
  async generate(ids: readonly number[], options: GenerateOptions): Promise<Generation> {
    const started = performance.now();
    const answer = new Answer(this.tokenizer, options, started);
    const guard = new LoopGuard(options.maxNewTokens);
    const work = { passes: 1, tokens: ids.length };
    let verdictAt: { context: string; top: ReadonlyMap<number, number>; prefix: readonly number[] } | undefined;
    let ended = false;
    const body = this.completion(ids, { max_tokens: options.maxNewTokens, stream: true, logprobs: TOP_LOGPROBS, stop_token_ids: [...this.endTokens] });
    const limits = { shouldStop: options.shouldStop, ...(options.deadline === undefined ? {} : { deadline: options.deadline }) };
    const outcome = await this.server.stream(body, limits, (choice) => {
      const steps = this.steps(choice.logprobs, answer.tokens);
      const finish = typeof choice.finish_reason === 'string' ? choice.finish_reason : null;
      for (const step of steps) {
        const verdict = options.verdict;
        if (verdict && verdict.opening.test(answer.full) && !verdict.opening.test(answer.fullWith(step.id))) {
          verdictAt = { context: answer.full, top: step.top, prefix: [...ids, ...answer.ids] };
        }
        work.tokens++;
        if (answer.push(step.id, this.endTokens.has(step.id))) return (ended = true);
        const loop = guard.push(step.id);
        if (loop) {
          answer.stop('loop', `the model repeats itself: a cycle of ${loop.period} tokens over the last ${loop.span}`);
          return (ended = true);
        }
        if (answer.tokens >= options.maxNewTokens) return (ended = true);
      }
      // The server stopped at an end token it did not report (`stop_reason` names it, or null for its eos).
      if (finish === 'stop') answer.stop('eos');
      return false;
    });
    if (outcome === 'stopped' && !ended) answer.stop('aborted');
    let score: number | undefined;
    if (verdictAt && !options.shouldStop()) {
      const reading = await options.verdict!.reader.read(verdictAt.context, this.position(verdictAt.top, verdictAt.prefix, limits, work));
      score = reading?.score;
    }
    return {
      ...answer.result(),
      cachedTokens: 0,
      forwardPasses: work.passes,
      forwardTokens: work.tokens,
      ...(score === undefined ? {} : { score }),
    };
  }

  /** Fast mode's one request: the prompt and the opening, one token, its top logprobs. */
  async readVerdict(
    ids: readonly number[],
    opening: { text: string; ids: readonly number[] },
    reader: VerdictReader,
    options: Pick<GenerateOptions, 'shouldStop' | 'usePrefixCache' | 'deadline'>,
  ): Promise<VerdictRead> {
    const started = performance.now();
    const prefix = [...ids, ...opening.ids];
    const work = { passes: 1, tokens: prefix.length };
    const limits = { shouldStop: options.shouldStop, ...(options.deadline === undefined ? {} : { deadline: options.deadline }) };
    const result = (aborted: boolean, reading?: VerdictReading): VerdictRead => ({
      aborted,
      ...(reading ? { reading } : {}),
      cachedTokens: 0,
      forwardPasses: work.passes,
      forwardTokens: work.tokens,
      firstTokenMs: performance.now() - started,
    });
    const json = await this.server.request(this.completion(prefix, { max_tokens: 1, logprobs: TOP_LOGPROBS }), limits);
    if (json === undefined) return result(true);
    const [first] = this.steps(choiceOf(json, this.url).logprobs, 0);
    if (!first) throw this.server.malformed('the answer holds no logprobs (does the server take `logprobs`?)');
    try {
      return result(false, await reader.read(opening.text, this.position(first.top, prefix, limits, work)));
    } catch (error) {
      if (isGuardError(error, 'aborted')) return result(true);
      throw error;
    }
  }

  /** Nothing to compute ahead: the server gets the whole prompt with every request. */
  async extend(ids: readonly number[], options: Pick<GenerateOptions, 'shouldStop'>): Promise<{ prefilled?: Prefilled } & Work> {
    const work = { cachedTokens: 0, forwardPasses: 0, forwardTokens: 0 };
    return options.shouldStop() ? work : { prefilled: { ids: [...ids] }, ...work };
  }

  /** A remote {@link Prefilled} holds nothing but ids. */
  async release(): Promise<void> {}

  /** No instruction cache is kept here (the server may keep its own). */
  async cachePrefixes(): Promise<void> {}

  async dispose(): Promise<void> {}

  /**
   * A verdict position from a step's top logprobs: tokens outside them are at most as likely
   * as the least likely one listed; a spelling's whole probability is one echo request.
   */
  private position(top: ReadonlyMap<number, number>, prefix: readonly number[], limits: Limits, work: { passes: number; tokens: number }): VerdictPosition {
    return {
      logP: (id) => top.get(id),
      unknownBound: Math.min(...top.values()),
      sequence: async (spelling) => {
        work.passes++;
        work.tokens += prefix.length + spelling.length;
        const json = await this.server.request(this.completion([...prefix, ...spelling], { max_tokens: 1, echo: true, logprobs: 1 }), limits);
        if (json === undefined) throw new AbortedError();
        const logprobs = choiceOf(json, this.url).logprobs as { tokens?: unknown; token_logprobs?: unknown } | null | undefined;
        const tokens = logprobs?.tokens;
        const values = logprobs?.token_logprobs;
        if (!Array.isArray(tokens) || !Array.isArray(values) || values.length < prefix.length + spelling.length) {
          throw this.server.malformed('an echo request came back without the prompt tokens\' logprobs (does the server take `echo` with `logprobs`?)');
        }
        let logP = 0;
        spelling.forEach((id, i) => {
          const at = prefix.length + i;
          const value = values[at];
          if (tokenId(tokens[at]) !== id || typeof value !== 'number') throw this.server.malformed('an echo request came back with other prompt tokens than were sent');
          logP += value;
        });
        return logP;
      },
    };
  }

  /** The body of a completions request for `prompt`, greedy, naming tokens by id. */
  private completion(prompt: readonly number[], extra: Record<string, unknown>): Record<string, unknown> {
    return { model: this.servedModel, prompt: [...prompt], temperature: 0, return_tokens_as_token_ids: true, ...extra };
  }

  /** A completion's logprobs as steps, checked: ids by `token_id:<id>`, inside the vocabulary. */
  private steps(logprobs: unknown, offset: number): StepLogprobs[] {
    if (logprobs === null || logprobs === undefined) return [];
    const { tokens, top_logprobs: tops } = logprobs as { tokens?: unknown; top_logprobs?: unknown };
    if (!Array.isArray(tokens) || !Array.isArray(tops) || tops.length !== tokens.length) throw this.server.malformed('its `logprobs` are not in the completions shape');
    return tokens.map((token, i) => {
      const id = tokenId(token);
      if (id === undefined) throw this.server.malformed(`token ${JSON.stringify(token)} is not named by id (does the server take \`return_tokens_as_token_ids\`?)`);
      if (id >= this.vocabSize) {
        throw new RemoteError(`${this.url} generated token ${id}, beyond this model's vocabulary (${this.vocabSize} tokens): it serves another model.`, {
          details: { url: this.url, reason: 'vocabulary', token: id, vocabSize: this.vocabSize, step: offset + i },
        });
      }
      const top = new Map<number, number>();
      for (const [name, value] of Object.entries((tops[i] ?? {}) as Record<string, unknown>)) {
        const topId = tokenId(name);
        // Ids past the vocabulary can be no verdict word's; they are left out of the map.
        if (topId !== undefined && topId < this.vocabSize && typeof value === 'number') top.set(topId, value);
      }
      if (top.size === 0) throw this.server.malformed('a step came without top logprobs');
      return { id, top };
    });
  }
}

/** An OpenAI-compatible server's HTTP side: requests, streams, their limits, their faults. */
class Server {
  /** The endpoint as `info` and errors show it (never the key). */
  readonly shown: string;
  private readonly base: string;

  constructor(private readonly endpoint: EndpointOptions) {
    this.base = endpoint.url.replace(/\/+$/, '');
    this.shown = publicUrl(endpoint.url);
  }

  /** The models the server lists at `/v1/models`: each one's served name and (vLLM) the path it was loaded from. */
  async servedModels(): Promise<{ id: string; root?: string }[]> {
    const json = (await this.request(undefined, { shouldStop: () => false })) as { data?: unknown } | undefined;
    const data = json?.data;
    if (!Array.isArray(data)) throw this.malformed('`/v1/models` did not answer a model list');
    return data.flatMap((entry: { id?: unknown; root?: unknown }) =>
      typeof entry.id === 'string' ? [{ id: entry.id, ...(typeof entry.root === 'string' ? { root: entry.root } : {}) }] : [],
    );
  }

  /**
   * One non-streamed request (`body` undefined: `GET /v1/models`), parsed JSON; undefined when
   * the call stopped.
   */
  async request(body: Record<string, unknown> | undefined, limits: Limits): Promise<unknown> {
    return this.withResponse(body, limits, async (response, watch) => {
      const text = await watch.during(response.text());
      try {
        return JSON.parse(text) as unknown;
      } catch (cause) {
        throw this.malformed(`the answer is not JSON${text.length === 0 ? ' (empty)' : ''}`, cause);
      }
    });
  }

  /**
   * Streams a completion, handing each event's choice to `onChoice` until it returns true
   * (then the stream is cancelled). `'done'` when the server finished, `'stopped'` when
   * `onChoice` or the call's abort ended it first.
   */
  async stream(
    body: Record<string, unknown>,
    limits: Limits,
    onChoice: (choice: Choice) => boolean,
  ): Promise<'done' | 'stopped'> {
    const outcome = await this.withResponse(body, limits, async (response, watch) => {
      if (!response.body) throw this.malformed('the stream has no body');
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      let finished = false;
      try {
        for (;;) {
          const { done, value } = await watch.during(reader.read());
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let cut: number;
          while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
            const event = buffer.slice(0, cut);
            buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, '');
            const data = event.split(/\r?\n/).filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trimStart()).join('\n');
            if (data === '') continue;
            if (data === '[DONE]') return 'done' as const;
            let chunk: unknown;
            try {
              chunk = JSON.parse(data);
            } catch (cause) {
              throw this.malformed('a stream event is not JSON', cause);
            }
            const choice = choiceOf(chunk, this.shown, true);
            if (choice === undefined) continue; // a usage chunk
            if (typeof choice.finish_reason === 'string') finished = true;
            if (onChoice(choice)) return 'stopped' as const;
          }
        }
      } finally {
        // Cancelling the body closes the connection: the server stops generating.
        reader.cancel().catch(() => undefined);
      }
      if (finished) return 'done' as const; // the server's last event came, only `[DONE]` is missing
      throw new RemoteError(`The stream from ${this.shown} ended before the completion did (cut).`, { details: { url: this.shown, reason: 'cut' } });
    });
    return outcome ?? 'stopped';
  }

  /**
   * Sends one request and hands the response to `read`, within the request timeout (for the
   * answer to start and between chunks) and the call's deadline, retrying a rate-limited one
   * after its `Retry-After` when that fits before the deadline. Undefined when the call
   * stopped (aborted) first. Every failure is typed: `RemoteError`, `TimeoutError`.
   */
  private async withResponse<T>(
    body: Record<string, unknown> | undefined,
    limits: Limits,
    read: (response: Response, watch: { during: <V>(promise: Promise<V>) => Promise<V> }) => Promise<T>,
  ): Promise<T | undefined> {
    const path = body === undefined ? '/models' : '/completions';
    const requestTimeout = this.endpoint.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    for (let attempt = 1; ; attempt++) {
      const controller = new AbortController();
      let why: 'stopped' | 'idle' | 'deadline' | undefined;
      const end = (reason: typeof why) => {
        why ??= reason;
        controller.abort();
      };
      let idle: ReturnType<typeof setTimeout> | undefined;
      const touch = () => {
        clearTimeout(idle);
        idle = setTimeout(() => end('idle'), requestTimeout);
      };
      const poll = setInterval(() => {
        if (limits.shouldStop()) end('stopped');
        else if (limits.deadline !== undefined && Date.now() >= limits.deadline) end('deadline');
      }, STOP_POLL_MS);
      // Every wait on the server ends with the controller: an abort rejects it at once.
      const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }));
      aborted.catch(() => undefined);
      const during = <V>(promise: Promise<V>): Promise<V> => {
        touch();
        return Promise.race([promise, aborted]).finally(touch);
      };
      try {
        if (limits.shouldStop()) return undefined;
        let response: Response;
        try {
          response = await during(
            fetch(`${this.base}${path}`, {
              method: body === undefined ? 'GET' : 'POST',
              headers: {
                ...(body === undefined ? {} : { 'content-type': 'application/json' }),
                ...(this.endpoint.apiKey === undefined ? {} : { authorization: `Bearer ${this.endpoint.apiKey}` }),
              },
              ...(body === undefined ? {} : { body: JSON.stringify(body) }),
              signal: controller.signal,
            }),
          );
        } catch (cause) {
          if (why !== undefined) throw cause;
          // Refused (nothing listens there) or dropped (the server closed it before answering).
          const refused = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH/.test(messageOf(cause));
          throw new RemoteError(`${refused ? 'Could not reach' : 'The connection failed before an answer from'} ${this.shown}: ${messageOf(cause)}.`, {
            cause,
            details: { url: this.shown, reason: refused ? 'unreachable' : 'connection' },
          });
        }
        if (!response.ok) {
          const wait = retryAfterMs(response);
          const retryable = response.status === 429 || (response.status === 503 && wait !== undefined);
          const message = await errorMessage(response);
          const waitMs = wait ?? DEFAULT_RETRY_MS;
          const fits = limits.deadline === undefined ? waitMs <= requestTimeout : Date.now() + waitMs < limits.deadline;
          if (retryable && attempt < MAX_ATTEMPTS && fits) {
            clearInterval(poll);
            clearTimeout(idle);
            if (await pause(waitMs, limits)) continue;
            return undefined;
          }
          const limited = retryable ? ` (rate-limited${wait === undefined ? '' : `, Retry-After ${Math.ceil(wait / 1000)} s`}${fits ? `, ${attempt} attempts` : ', past the call\'s deadline'})` : '';
          throw new RemoteError(`${this.shown} answered ${response.status}${limited}: ${message}`, {
            details: { url: this.shown, status: response.status, reason: retryable ? 'rate-limited' : 'http', ...(wait === undefined ? {} : { retryAfterMs: wait }) },
          });
        }
        return await read(response, { during });
      } catch (error) {
        if (why === 'stopped') return undefined;
        if (why === 'idle') {
          throw new TimeoutError(`${this.shown} sent nothing for ${requestTimeout} ms (endpoint.timeoutMs).`, { details: { url: this.shown, timeoutMs: requestTimeout } });
        }
        if (why === 'deadline') throw new TimeoutError(`The call ran past its timeoutMs waiting for ${this.shown}.`, { details: { url: this.shown } });
        if (isGuardError(error)) throw error;
        throw new RemoteError(`The connection to ${this.shown} failed during the answer: ${messageOf(error)}.`, { cause: error, details: { url: this.shown, reason: 'cut' } });
      } finally {
        clearInterval(poll);
        clearTimeout(idle);
        controller.abort(); // whatever is still open of this request closes
      }
    }
  }

  /** A `RemoteError` for an answer that does not follow the contract. */
  malformed(what: string, cause?: unknown): RemoteError {
    return new RemoteError(`${this.shown} sent a malformed answer: ${what}.`, { cause, details: { url: this.shown, reason: 'malformed' } });
  }
}

/** One choice of a completion, as far as it is read here. */
interface Choice {
  logprobs?: unknown;
  finish_reason?: unknown;
}

/** The first choice of a completion (undefined for a usage-only chunk when `optional`). */
function choiceOf(json: unknown, url: string, optional?: false): Choice;
function choiceOf(json: unknown, url: string, optional: true): Choice | undefined;
function choiceOf(json: unknown, url: string, optional = false): Choice | undefined {
  const value = json as { choices?: unknown; error?: unknown } | null;
  if (value && typeof value === 'object' && value.error !== undefined) {
    // vLLM reports a failure inside a stream as an event with `error`.
    throw new RemoteError(`${url} failed during the answer: ${messageOf((value.error as { message?: unknown })?.message ?? value.error)}`, {
      details: { url, reason: 'server' },
    });
  }
  const choices = value?.choices;
  if (!Array.isArray(choices)) throw new RemoteError(`${url} sent a malformed answer: no \`choices\`.`, { details: { url, reason: 'malformed' } });
  if (choices.length === 0 && optional) return undefined;
  const choice = choices[0] as Choice | undefined;
  if (!choice || typeof choice !== 'object') throw new RemoteError(`${url} sent a malformed answer: an empty \`choices\`.`, { details: { url, reason: 'malformed' } });
  return choice;
}

/** The id in vLLM's `token_id:<id>` token names. */
function tokenId(name: unknown): number | undefined {
  const match = typeof name === 'string' ? /^token_id:(\d+)$/.exec(name) : null;
  return match ? Number(match[1]) : undefined;
}

/** `Retry-After` in ms: delay-seconds or an HTTP date. */
function retryAfterMs(response: Response): number | undefined {
  const value = response.headers.get('retry-after');
  if (value === null) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The server's own words for an error response (OpenAI's `{ error: { message } }`), shortened. */
async function errorMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  let message = text;
  try {
    const json = JSON.parse(text) as { error?: { message?: unknown } | string; detail?: unknown; message?: unknown };
    const inner = typeof json.error === 'object' ? json.error?.message : json.error;
    message = String(inner ?? json.detail ?? json.message ?? text);
  } catch {
    // not JSON: the text as it came
  }
  message = message.trim() || response.statusText || 'no message';
  return message.length > 300 ? `${message.slice(0, 300)}…` : message;
}

/** Waits `ms`, or less when the call stops; true when the wait ran out (retry), false when stopped. */
function pause(ms: number, limits: Limits): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      clearInterval(poll);
      resolve(true);
    }, ms);
    const poll = setInterval(() => {
      if (!limits.shouldStop()) return;
      clearTimeout(timer);
      clearInterval(poll);
      resolve(false);
    }, STOP_POLL_MS);
  });
}

function idList(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.filter((v): v is number => typeof v === 'number');
  return [];
}

function messageOf(error: unknown): string {
  if (error instanceof Error) {
    // Node's fetch says "fetch failed" and keeps the reason (ECONNREFUSED...) in its cause.
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
