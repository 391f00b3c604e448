/**
 * A {@link GuardSession} on an inference server: the tokenizer loads here (from the model's
 * source, as for any model) and the prompt goes out as token ids (as text to an engine that
 * takes none: TGI) in the engine's dialect (worker/remote-engines.ts: vLLM, llama.cpp's
 * `llama-server`, TGI), streamed. The answer is decoded by the same {@link Answer} as
 * in-process, so text, end tokens and stops mean the same; the stream is cancelled the moment
 * the answer is complete. The verdict score comes from the top logprobs where the verdict word
 * starts and, for words of several tokens, the later tokens' logprobs: one echo request per
 * spelling that could move it (vLLM), or one request per later token, after the prompt and the
 * spelling so far (engines without echo; see {@link RemoteSession.position}).
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
import { engineDialect, vllmTokenId, type CompletionAsk, type EngineDialect, type ReportedChunk, type ReportedStep } from './remote-engines.js';
import { Answer, type GenerateOptions, type Generation, type GuardSession, type Prefilled, type VerdictRead, type Work } from './session.js';
import type { VerdictPosition, VerdictReader, VerdictReading } from './verdict-score.js';

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


/** The work of one call, counted as in-process: requests as passes, tokens sent or generated. */
interface Count {
  passes: number;
  tokens: number;
}

/** The endpoint's URL as shown to users: origin and path, never credentials or query. */
export function publicUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

/** A model served by an inference server (vLLM, llama-server or TGI). */
export class RemoteSession implements GuardSession {
  readonly endTokens: ReadonlySet<number>;
  /** One past the largest id the tokenizer knows: ids from the server must stay below it. */
  private readonly vocabSize: number;
  /**
   * The ids the tokenizer puts before any text (Llama's BOS), which a server that tokenizes
   * text prompts adds itself: they are left out of the text sent (see {@link promptOf}).
   */
  private readonly addedBefore: readonly number[];

  private constructor(
    readonly tokenizer: PreTrainedTokenizer,
    endTokens: ReadonlySet<number>,
    private readonly server: Server,
    /** The name the server serves the model under. */
    readonly servedModel: string,
    private readonly dialect: EngineDialect,
  ) {
    this.endTokens = endTokens;
    let max = 0;
    for (const id of tokenizer.get_vocab().values()) if (id > max) max = id;
    this.vocabSize = max + 1;
    const bare = tokenizer.encode('a', { add_special_tokens: false });
    const special = tokenizer.encode('a', { add_special_tokens: true });
    this.addedBefore = special.slice(0, Math.max(0, special.length - bare.length));
  }

  /** The endpoint as `info` shows it. */
  get url(): string {
    return this.server.shown;
  }

  /**
   * What differs from running the model here, in words, for `info.remote.notes` (after the
   * runtime's note of where the text goes): what the server receives, how scores are read.
   */
  get notes(): string[] {
    const n = this.dialect.topLogprobs;
    const cache = 'no instruction cache is kept here: timings.cachedTokens is 0 (the server may cache prefixes itself), and forwardPasses counts requests';
    const ids = 'the prompt is built and tokenized here and sent as token ids: the server\'s chat template and its parsing of special tokens never apply';
    const perToken = `the server has no echo, so a verdict word of several tokens costs one more request per token after its first (full mode reuses the tokens it streamed); a spelling with a token outside the top ${n} there counts as 0 (it is less likely than the ${n}th)`;
    switch (this.dialect.name) {
      case 'vllm':
        return ['engine: vLLM (/v1/completions, token ids)', ids, cache, `scores come from the server's top-${n} logprobs where the verdict word starts, and echoed prompt logprobs for verdict words of several tokens`];
      case 'llama.cpp':
        return [
          'engine: llama.cpp\'s llama-server (/v1/completions, token ids, logprobs in its chat shape)',
          ids,
          cache,
          `scores come from the server's top-${n} logprobs at each token of the verdict word: ${perToken}`,
          'llama-server takes no stop token ids: it stops at its GGUF\'s end-of-generation tokens, and lingoguard ends the stream at the model\'s own end tokens as they come',
        ];
      case 'tgi': {
        const bos = this.addedBefore.length > 0 ? `, without the leading ${JSON.stringify(this.tokenizer.decode([...this.addedBefore], { skip_special_tokens: false }))} that TGI adds itself` : '';
        return [
          'engine: TGI (/generate_stream, text prompts)',
          `TGI takes no token ids: the prompt is sent as the text of the ids built here${bos}, and the server tokenizes it: special-token text in the user's input (such as "<|eot_id|>" or "<|im_end|>") becomes special tokens there, so the injection safety of exact token ids is lost, and a prompt whose text tokenizes otherwise is computed on other ids`,
          cache,
          `scores come from TGI's top ${n} tokens (top_n_tokens, its default --max-top-n-tokens) at each token of the verdict word: ${perToken}; no verdict word in the top ${n} is no score`,
        ];
      }
    }
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
    return new RemoteSession(tokenizer, endTokens, server, match, engineDialect(endpoint.engine ?? 'vllm'));
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
    // The verdict position, and the steps streamed from it on (what a verdict word's later tokens are read from first).
    let verdictAt: { context: string; prefix: readonly number[]; path: ReportedStep[] } | undefined;
    let ended = false;
    const request = this.request(ids, { maxTokens: options.maxNewTokens, stream: true, topLogprobs: this.dialect.topLogprobs, stopIds: [...this.endTokens] });
    const limits = { shouldStop: options.shouldStop, ...(options.deadline === undefined ? {} : { deadline: options.deadline }) };
    const outcome = await this.server.stream(request, limits, (event) => {
      const chunk = this.read(event, answer.tokens);
      if (chunk === undefined) return 'more';
      for (const step of chunk.steps) {
        const verdict = options.verdict;
        if (verdict && verdict.opening.test(answer.full) && !verdict.opening.test(answer.fullWith(step.id))) {
          verdictAt = { context: answer.full, prefix: [...ids, ...answer.ids], path: [] };
        }
        verdictAt?.path.push(step);
        work.tokens++;
        if (answer.push(step.id, this.endTokens.has(step.id))) return (ended = true), 'stop';
        const loop = guard.push(step.id);
        if (loop) {
          answer.stop('loop', `the model repeats itself: a cycle of ${loop.period} tokens over the last ${loop.span}`);
          return (ended = true), 'stop';
        }
        if (answer.tokens >= options.maxNewTokens) return (ended = true), 'stop';
      }
      // The server stopped at an end token it did not report (vLLM's `stop_reason` names it, or null for its eos).
      if (chunk.finish === 'stop') answer.stop('eos');
      return chunk.finish === null ? 'more' : 'last';
    });
    if (outcome === 'stopped' && !ended) answer.stop('aborted');
    let score: number | undefined;
    if (verdictAt && !options.shouldStop()) {
      const [first, ...later] = verdictAt.path;
      // The streamed path: after the spelling so far `path[0..j)`, the server said `path[j].top`.
      const known = new Map<string, ReadonlyMap<number, number>>();
      later.forEach((step, j) => known.set(verdictAt!.path.slice(0, j + 1).map((s) => s.id).join(','), step.top));
      const reading = await options.verdict!.reader.read(verdictAt.context, this.position(first!.top, verdictAt.prefix, limits, work, known));
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
    try {
      const first = await this.nextStep(prefix, limits);
      if (first === undefined) return result(true);
      return result(false, await reader.read(opening.text, this.position(first.top, prefix, limits, work, new Map())));
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
   * as the least likely one listed. A spelling's whole probability is one echo request (vLLM),
   * or, without echo, its first token's logprob here times each later token's after the prompt
   * and the spelling so far: from `known` (the steps full mode streamed past this position) or
   * one request per token (remembered in `known`, which spellings sharing a start share). That
   * equals the in-process probability wherever every token is among the server's top N; a token
   * outside them makes the spelling count as 0, since its logprob is not told.
   */
  private position(top: ReadonlyMap<number, number>, prefix: readonly number[], limits: Limits, work: Count, known: Map<string, ReadonlyMap<number, number>>): VerdictPosition {
    return {
      logP: (id) => top.get(id),
      unknownBound: Math.min(...top.values()),
      sequence: async (spelling) => {
        if (this.dialect.echo) return this.echoed(prefix, spelling, limits, work);
        let logP = top.get(spelling[0]!) ?? -Infinity;
        for (let i = 1; i < spelling.length && logP > -Infinity; i++) {
          const key = spelling.slice(0, i).join(',');
          let next = known.get(key);
          if (next === undefined) {
            const prompt = [...prefix, ...spelling.slice(0, i)];
            work.passes++;
            work.tokens += prompt.length;
            const step = await this.nextStep(prompt, limits);
            if (step === undefined) throw new AbortedError();
            known.set(key, (next = step.top));
          }
          logP += next.get(spelling[i]!) ?? -Infinity;
        }
        return logP;
      },
    };
  }

  /** log P of `spelling` after `prefix` from one echo request: the prompt tokens' logprobs (vLLM). */
  private async echoed(prefix: readonly number[], spelling: readonly number[], limits: Limits, work: Count): Promise<number> {
    work.passes++;
    work.tokens += prefix.length + spelling.length;
    const json = await this.server.request(this.request([...prefix, ...spelling], { maxTokens: 1, stream: false, topLogprobs: 1, echo: true }), limits);
    if (json === undefined) throw new AbortedError();
    const logprobs = (json as { choices?: { logprobs?: { tokens?: unknown; token_logprobs?: unknown } | null }[] }).choices?.[0]?.logprobs;
    const tokens = logprobs?.tokens;
    const values = logprobs?.token_logprobs;
    if (!Array.isArray(tokens) || !Array.isArray(values) || values.length < prefix.length + spelling.length) {
      throw this.server.malformed('an echo request came back without the prompt tokens\' logprobs (does the server take `echo` with `logprobs`?)');
    }
    let logP = 0;
    spelling.forEach((id, i) => {
      const at = prefix.length + i;
      const value = values[at];
      if (vllmTokenId(tokens[at]) !== id || typeof value !== 'number') throw this.server.malformed('an echo request came back with other prompt tokens than were sent');
      logP += value;
    });
    return logP;
  }

  /** The first generated step after `prompt`, with its top logprobs; undefined when the call stopped. */
  private async nextStep(prompt: readonly number[], limits: Limits): Promise<ReportedStep | undefined> {
    const request = this.request(prompt, { maxTokens: 1, stream: !this.dialect.bodies, topLogprobs: this.dialect.topLogprobs });
    let first: ReportedStep | undefined;
    if (this.dialect.bodies) {
      const json = await this.server.request(request, limits);
      if (json === undefined) return undefined;
      first = this.read(json, 0)?.steps[0];
    } else {
      const outcome = await this.server.stream(request, limits, (event) => {
        const chunk = this.read(event, 0);
        first ??= chunk?.steps[0];
        return first ? 'stop' : chunk?.finish ? 'last' : 'more';
      });
      if (outcome === 'stopped' && first === undefined) return undefined;
    }
    if (!first) throw this.server.malformed('the answer holds no logprobs (does the server take `logprobs`?)');
    return first;
  }

  /** The request for one completion after `ids`, in the engine's dialect (as text where it takes no ids). */
  private request(ids: readonly number[], ask: Omit<CompletionAsk, 'prompt'>): { url: string; body: Record<string, unknown> } {
    return this.dialect.request(this.server.base, this.servedModel, { ...ask, prompt: this.dialect.idPrompts ? ids : this.promptOf(ids) });
  }

  /**
   * `ids` as the text a server that tokenizes text prompts is sent: decoded whole, special
   * tokens written out (the template's are meant as special), without the ids the server's
   * tokenizer adds before any text itself (Llama's BOS), which would otherwise come twice.
   */
  private promptOf(ids: readonly number[]): string {
    const added = this.addedBefore;
    const own = added.length > 0 && added.every((id, i) => ids[i] === id) ? ids.slice(added.length) : ids;
    return this.tokenizer.decode([...own], { skip_special_tokens: false });
  }

  /** One body or stream event, read in the engine's dialect and checked: ids inside the vocabulary, top logprobs given. */
  private read(json: unknown, offset: number): ReportedChunk | undefined {
    serverError(json, this.url);
    const chunk = this.dialect.read(json, (what) => this.server.malformed(what));
    if (chunk === undefined) return undefined;
    const steps = chunk.steps.map(({ id, top }, i) => {
      if (id >= this.vocabSize) {
        throw new RemoteError(`${this.url} generated token ${id}, beyond this model's vocabulary (${this.vocabSize} tokens): it serves another model.`, {
          details: { url: this.url, reason: 'vocabulary', token: id, vocabSize: this.vocabSize, step: offset + i },
        });
      }
      // Ids past the vocabulary can be no verdict word's; they are left out of the map.
      const inside = new Map([...top].filter(([topId]) => topId < this.vocabSize));
      if (inside.size === 0) throw this.server.malformed('a step came without top logprobs');
      return { id, top: inside };
    });
    return { steps, finish: chunk.finish };
  }
}

/** An inference server's HTTP side: requests, streams, their limits, their faults (the same for every engine). */
class Server {
  /** The endpoint as `info` and errors show it (never the key). */
  readonly shown: string;
  /** The endpoint's URL without trailing slashes: up to `/v1`. */
  readonly base: string;

  constructor(private readonly endpoint: EndpointOptions) {
    this.base = endpoint.url.replace(/\/+$/, '');
    this.shown = publicUrl(endpoint.url);
  }

  /** The models the server lists at `/v1/models`: each one's served name and (vLLM) the path it was loaded from. */
  async servedModels(): Promise<{ id: string; root?: string }[]> {
    const json = (await this.request({ url: `${this.base}/models` }, { shouldStop: () => false })) as { data?: unknown } | undefined;
    const data = json?.data;
    if (!Array.isArray(data)) throw this.malformed('`/v1/models` did not answer a model list');
    return data.flatMap((entry: { id?: unknown; root?: unknown }) =>
      typeof entry.id === 'string' ? [{ id: entry.id, ...(typeof entry.root === 'string' ? { root: entry.root } : {}) }] : [],
    );
  }

  /**
   * One non-streamed request (`body` undefined: a `GET`), parsed JSON; undefined when the call
   * stopped.
   */
  async request(request: { url: string; body?: Record<string, unknown> }, limits: Limits): Promise<unknown> {
    return this.withResponse(request, limits, async (response, watch) => {
      const text = await watch.during(response.text());
      try {
        return JSON.parse(text) as unknown;
      } catch (cause) {
        throw this.malformed(`the answer is not JSON${text.length === 0 ? ' (empty)' : ''}`, cause);
      }
    });
  }

  /**
   * Streams a completion, handing each SSE event's JSON to `onEvent`: `'stop'` cancels the
   * stream, `'last'` says the completion has ended (its last event came), `'more'` reads on.
   * `'done'` when the server finished (`data: [DONE]`, or the body's end after a last event:
   * TGI sends no `[DONE]`), `'stopped'` when `onEvent` or the call's abort ended it first; a
   * stream that ends before its last event is `cut`.
   */
  async stream(
    request: { url: string; body: Record<string, unknown> },
    limits: Limits,
    onEvent: (event: unknown) => 'stop' | 'last' | 'more',
  ): Promise<'done' | 'stopped'> {
    const outcome = await this.withResponse(request, limits, async (response, watch) => {
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
            const next = onEvent(chunk);
            if (next === 'stop') return 'stopped' as const;
            if (next === 'last') finished = true;
          }
        }
      } finally {
        // Cancelling the body closes the connection: the server stops generating.
        reader.cancel().catch(() => undefined);
      }
      if (finished) return 'done' as const; // the server's last event came, only `[DONE]` is missing (TGI sends none)
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
    { url, body }: { url: string; body?: Record<string, unknown> },
    limits: Limits,
    read: (response: Response, watch: { during: <V>(promise: Promise<V>) => Promise<V> }) => Promise<T>,
  ): Promise<T | undefined> {
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
            fetch(url, {
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

/** Throws the failure that a server reports as an event or body with `error` (vLLM and llama-server: `{ error: { message } }`, TGI: `{ error, error_type }`). */
function serverError(json: unknown, url: string): void {
  const value = json as { error?: unknown } | null;
  if (!value || typeof value !== 'object' || value.error === undefined) return;
  throw new RemoteError(`${url} failed during the answer: ${messageOf((value.error as { message?: unknown })?.message ?? value.error)}`, {
    details: { url, reason: 'server' },
  });
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
