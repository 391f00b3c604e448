/**
 * What differs between the inference engines the remote backend drives (docs/remote-engines.md
 * records each one's contract): the request for one completion, and how its answer (a body or
 * one streamed event) names the tokens and their top logprobs. Everything else (the HTTP side,
 * limits, faults, the answer's decoding, the verdict reading) is worker/remote-session.ts's and
 * the same for all three.
 *
 * - `vllm`: token-id prompts on `/v1/completions`, legacy `logprobs` named `token_id:<id>`,
 *   `echo` for prompt logprobs, `stop_token_ids`.
 * - `llama.cpp` (`llama-server`): token-id prompts on `/v1/completions`, `logprobs` in the chat
 *   shape (`logprobs.content[] = { id, logprob, top_logprobs[{ id, logprob }] }`); no echo, no
 *   `stop_token_ids`.
 * - `tgi`: text only (its `/v1/completions` also gives `logprobs: null`), so the native
 *   `/generate_stream` with `details` and `top_n_tokens` (at most 5 by default): each event one
 *   token `{ id, logprob }` and its `top_tokens`.
 */
import type { EndpointEngine } from '../src/types.js';

/** One generated token as the server reports it, and the likeliest ids at its position (the chosen one among them). */
export interface ReportedStep {
  id: number;
  /** Token id → logprob; ids may lie beyond the model's vocabulary (the session checks). */
  top: ReadonlyMap<number, number>;
}

/**
 * What one body or stream event says: its tokens, and how the completion ended: `stop` (an end
 * token or stop string), `length`, `other` (a reason of the server's own, such as `abort`), null
 * while it goes on.
 */
export interface ReportedChunk {
  steps: ReportedStep[];
  finish: 'stop' | 'length' | 'other' | null;
}

/** What one completion request asks for. */
export interface CompletionAsk {
  /** The prompt: token ids, or (an engine without {@link EngineDialect.idPrompts}) their text. */
  prompt: readonly number[] | string;
  maxTokens: number;
  stream: boolean;
  /** Top logprobs at each step (at most {@link EngineDialect.topLogprobs}). */
  topLogprobs: number;
  /** Ids that end generation, for an engine that takes them. */
  stopIds?: readonly number[];
  /** Prompt tokens' logprobs too (engines with {@link EngineDialect.echo} only). */
  echo?: boolean;
}

/** One engine's dialect of the completion contract. */
export interface EngineDialect {
  readonly name: EndpointEngine;
  /** The most top logprobs a step is asked for: what the engine's default limit allows. */
  readonly topLogprobs: number;
  /** Whether the prompt goes as token ids; false: as text, tokenized by the server. */
  readonly idPrompts: boolean;
  /** Whether the engine returns prompt logprobs (`echo`): a verdict word's later tokens in one request. */
  readonly echo: boolean;
  /** Whether one completion's answer may be a plain JSON body; false: always streamed. */
  readonly bodies: boolean;
  /** The URL and body of one completion. @param base the endpoint's URL without trailing slashes (up to `/v1`). */
  request(base: string, model: string, ask: CompletionAsk): { url: string; body: Record<string, unknown> };
  /**
   * One body or stream event (an error event already ruled out), read; undefined for an event
   * that carries no completion (vLLM's usage chunk). `malformed` makes the error to throw.
   */
  read(json: unknown, malformed: (what: string) => Error): ReportedChunk | undefined;
}

/** vLLM's default `--max-logprobs`; llama-server sets no lower limit. */
const OPENAI_TOP_LOGPROBS = 20;
/** TGI's default `--max-top-n-tokens`. */
const TGI_TOP_N_TOKENS = 5;

/** The first choice of an OpenAI-style completion and its finish; undefined for an empty `choices` (a usage chunk). */
function firstChoice(json: unknown, malformed: (what: string) => Error): { logprobs: unknown; finish: ReportedChunk['finish'] } | undefined {
  const choices = (json as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices)) throw malformed('no `choices`');
  if (choices.length === 0) return undefined;
  const choice = choices[0] as { logprobs?: unknown; finish_reason?: unknown } | undefined;
  if (!choice || typeof choice !== 'object') throw malformed('an empty `choices`');
  const reason = choice.finish_reason;
  return { logprobs: choice.logprobs, finish: typeof reason !== 'string' ? null : reason === 'stop' || reason === 'length' ? reason : 'other' };
}

/** A logprob as sent (a number; vLLM floors them at -9999), else undefined. */
function logprobOf(value: unknown): number | undefined {
  return typeof value === 'number' && !Number.isNaN(value) ? value : undefined;
}

/** The id in vLLM's `token_id:<id>` token names. */
export function vllmTokenId(name: unknown): number | undefined {
  const match = typeof name === 'string' ? /^token_id:(\d+)$/.exec(name) : null;
  return match ? Number(match[1]) : undefined;
}

const vllm: EngineDialect = {
  name: 'vllm',
  topLogprobs: OPENAI_TOP_LOGPROBS,
  idPrompts: true,
  echo: true,
  bodies: true,
  request: (base, model, ask) => ({
    url: `${base}/completions`,
    body: {
      model,
      prompt: [...(ask.prompt as readonly number[])],
      temperature: 0,
      return_tokens_as_token_ids: true,
      max_tokens: ask.maxTokens,
      ...(ask.stream ? { stream: true } : {}),
      logprobs: ask.echo ? 1 : ask.topLogprobs,
      ...(ask.echo ? { echo: true } : {}),
      ...(ask.stopIds ? { stop_token_ids: [...ask.stopIds] } : {}),
    },
  }),
  read(json, malformed) {
    const choice = firstChoice(json, malformed);
    if (!choice) return undefined;
    const logprobs = choice.logprobs;
    if (logprobs === null || logprobs === undefined) return { steps: [], finish: choice.finish };
    const { tokens, top_logprobs: tops } = logprobs as { tokens?: unknown; top_logprobs?: unknown };
    if (!Array.isArray(tokens) || !Array.isArray(tops) || tops.length !== tokens.length) throw malformed('its `logprobs` are not in the completions shape');
    const steps = tokens.map((token, i): ReportedStep => {
      const id = vllmTokenId(token);
      if (id === undefined) throw malformed(`token ${JSON.stringify(token)} is not named by id (does the server take \`return_tokens_as_token_ids\`?)`);
      const top = new Map<number, number>();
      for (const [name, value] of Object.entries((tops[i] ?? {}) as Record<string, unknown>)) {
        const topId = vllmTokenId(name);
        const logprob = logprobOf(value);
        if (topId !== undefined && logprob !== undefined) top.set(topId, logprob);
      }
      return { id, top };
    });
    return { steps, finish: choice.finish };
  },
};

/** A token entry with an `id` and a `logprob`: llama-server's `{ id, token, logprob, bytes }`, TGI's `{ id, text, logprob, special }`. */
function tokenEntry(entry: unknown, malformed: (what: string) => Error): { id: number; logprob: number | undefined } {
  const { id, logprob } = (entry ?? {}) as { id?: unknown; logprob?: unknown };
  if (!Number.isInteger(id) || (id as number) < 0) throw malformed(`a logprobs entry has no token \`id\` (${JSON.stringify(entry)?.slice(0, 80)})`);
  return { id: id as number, logprob: logprobOf(logprob) };
}

/**
 * A step from its chosen token's entry and the entries of the likeliest ones (llama-server's
 * `top_logprobs`, TGI's `top_tokens`): the chosen token's own logprob counts among the top.
 */
function stepOf(chosenEntry: unknown, topEntries: readonly unknown[], malformed: (what: string) => Error): ReportedStep {
  const chosen = tokenEntry(chosenEntry, malformed);
  const top = new Map<number, number>();
  for (const entry of topEntries) {
    const { id, logprob } = tokenEntry(entry, malformed);
    if (logprob !== undefined) top.set(id, logprob);
  }
  if (chosen.logprob !== undefined) top.set(chosen.id, chosen.logprob);
  return { id: chosen.id, top };
}

const llamaCpp: EngineDialect = {
  name: 'llama.cpp',
  topLogprobs: OPENAI_TOP_LOGPROBS,
  idPrompts: true,
  echo: false,
  bodies: true,
  request: (base, model, ask) => ({
    url: `${base}/completions`,
    // No echo (llama-server rejects it), no stop_token_ids (it has none: its GGUF's end tokens end it).
    body: { model, prompt: [...(ask.prompt as readonly number[])], temperature: 0, max_tokens: ask.maxTokens, ...(ask.stream ? { stream: true } : {}), logprobs: ask.topLogprobs },
  }),
  read(json, malformed) {
    const choice = firstChoice(json, malformed);
    if (!choice) return undefined;
    const logprobs = choice.logprobs;
    if (logprobs === null || logprobs === undefined) return { steps: [], finish: choice.finish };
    const content = (logprobs as { content?: unknown }).content;
    if (!Array.isArray(content)) throw malformed('its `logprobs` are not in llama-server\'s shape (`logprobs.content[]`)');
    const steps = content.map((entry): ReportedStep => {
      const tops = (entry as { top_logprobs?: unknown } | null)?.top_logprobs;
      if (!Array.isArray(tops)) throw malformed('a logprobs entry has no `top_logprobs`');
      return stepOf(entry, tops, malformed);
    });
    return { steps, finish: choice.finish };
  },
};

const tgi: EngineDialect = {
  name: 'tgi',
  topLogprobs: TGI_TOP_N_TOKENS,
  idPrompts: false,
  echo: false,
  bodies: false,
  request: (base, _model, ask) => ({
    // The native route sits beside /v1, at the server's root.
    url: `${base.replace(/\/v1$/, '')}/generate_stream`,
    body: {
      inputs: ask.prompt as string,
      // Greedy: do_sample false and no temperature (TGI rejects a temperature of 0).
      parameters: { max_new_tokens: ask.maxTokens, do_sample: false, details: true, top_n_tokens: ask.topLogprobs, return_full_text: false },
      stream: true,
    },
  }),
  read(json, malformed) {
    const event = (json ?? {}) as { token?: unknown; top_tokens?: unknown; generated_text?: unknown; details?: { finish_reason?: unknown } | null };
    if (typeof event !== 'object' || event.token === undefined) throw malformed('a stream event has no `token`');
    const step = stepOf(event.token, Array.isArray(event.top_tokens) ? event.top_tokens : [], malformed);
    const reason = event.details?.finish_reason;
    // The last event carries the whole text (and, asked for, the details): `eos_token`, `stop_sequence` or `length`.
    const last = typeof event.generated_text === 'string' || typeof reason === 'string';
    const finish = !last ? null : reason === 'length' ? 'length' : reason === 'eos_token' || reason === 'stop_sequence' ? 'stop' : 'other';
    return { steps: [step], finish };
  },
};

/** The dialect of `engine`. */
export function engineDialect(engine: EndpointEngine): EngineDialect {
  return engine === 'llama.cpp' ? llamaCpp : engine === 'tgi' ? tgi : vllm;
}
