/**
 * A local stand-in for an inference engine, for tests only (no product feature): an HTTP server
 * that follows vLLM's documented OpenAI-compatible `/v1/completions` and `/v1/models`, computing
 * with a real twin model from models/fixtures/ (see stand-in-model.ts).
 *
 * Follows vLLM (docs.vllm.ai "OpenAI-Compatible Server", its completion serving code):
 * - `prompt` as a string (tokenized with special tokens, as vLLM does), an array of token ids, or
 *   a one-element list of either; ids outside the vocabulary are a 400;
 * - `max_tokens` (default 16; prompt + max_tokens beyond the context is a 400), `stop` strings
 *   (text cut before them, `stop_reason` = the string), `stop_token_ids`, the tokenizer's eos
 *   (`stop_reason: null`) and generation_config's other eos ids (`stop_reason` = the id),
 *   `ignore_eos`, `include_stop_str_in_output`, `skip_special_tokens`;
 * - `stream` as SSE `data: {json}\n\n` chunks, one per token, ending `data: [DONE]`; streamed text
 *   holds back what could start a stop string, as vLLM does; `stream_options.include_usage`
 *   adds a last chunk with `choices: []` and `usage`;
 * - `logprobs: N` in the legacy completions shape `{ tokens, token_logprobs, top_logprobs,
 *   text_offset }`: each step's dict holds the chosen token first and then the top N (so N or
 *   N+1 entries), logprobs floored at -9999, `text_offset` advanced by each token string's
 *   length; `return_tokens_as_token_ids` names tokens `token_id:<id>`;
 * - `echo` (prompt text and, with logprobs, the prompt tokens' logprobs, the first null);
 *   `prompt_logprobs: N` (choice.prompt_logprobs, `{ "<id>": { logprob, rank, decoded_token } }`);
 *   `return_token_ids` (choice.prompt_token_ids and choice.token_ids);
 * - `usage`; `--api-key` (401 `{"error":"Unauthorized"}`); a wrong `model` is a 404; errors as
 *   `{ error: { message, type, param, code } }`; `stream_options` without `stream`, and
 *   `prompt_logprobs` with `stream`, are 400s (vLLM's request validators);
 * - prefix caching, as vLLM's V1 engine does by default: a prompt reuses the KV cache of the
 *   longest prompt prefix seen before (echo / prompt_logprobs: and what each shared position
 *   said of the token after it).
 *
 * With `engine: 'llama.cpp'` or `'tgi'` it follows those engines' contracts instead, as far as
 * they differ (stand-in-engines.ts: llama-server's chat-shaped logprobs and no echo; TGI's text
 * prompts, 422s and native `/generate_stream`), on the same decoding loop.
 *
 * Faults (`Fault`, per server or per next request) are the stand-in's own, for client tests.
 * Docs for the engines: docs/remote-engines.md.
 *
 * Does not: sample (only `temperature: 0` is served; any other value, or none, is a 400, since
 * vLLM would then sample with the model's generation_config), `n`/`best_of` > 1, several prompts,
 * penalties, `logit_bias`, `logprob_token_ids`, `suffix`, beam search, `logprobs: -1`, batching
 * (requests take turns step by step on one model), `stream_interval`, the chat endpoint, the
 * model's numerics (fp32 ONNX on CPU, not an engine's bf16 kernels). Fields it does not know are
 * ignored, as vLLM ignores them, and recorded in `requests[i].ignored`; fields it knows but does
 * not implement are a 400.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { ensureFixtures } from '../models/ensure-fixtures.js';
import { loadTwin, MAX_LOGPROBS, type Twin } from './stand-in-model.js';
import {
  EngineHttpError as HttpError,
  errorBody,
  llamaCppLogprobs,
  modelEntry,
  parseTgiGenerate,
  tgiCompletionPrompt,
  tgiFinishReason,
  tgiToken,
  unauthorizedBody,
  type ScoredToken as Scored,
  type StandInEngine,
} from './stand-in-engines.js';

export type { StandInEngine } from './stand-in-engines.js';

/** A fault the stand-in plays instead of (or within) a normal answer. */
export type Fault = (
  | { kind: 'delay'; ms: number } // wait, then answer normally
  | { kind: 'status'; status: number; retryAfter?: number | string; message?: string } // an error response
  | { kind: 'refuse' } // close the socket without a response
  | { kind: 'malformed'; afterChunks?: number } // a chunk (or body) that is not JSON
  | { kind: 'cut'; afterChunks?: number; clean?: boolean } // the stream stops: socket destroyed, or (clean) ended without [DONE]; a body: half, then destroyed
  | { kind: 'stall'; afterChunks?: number } // stop sending, keep the connection open
  | { kind: 'foreign-token'; id?: number } // the first generated token reported with an id beyond the vocabulary
) & {
  /** Which route it hits. @default 'completions' */
  on?: 'completions' | 'models' | 'any';
};

/** What a test sees of one request. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** The parsed JSON body (completions only). */
  body?: Record<string, unknown>;
  /** Body fields the stand-in (like vLLM) ignored. */
  ignored: string[];
  /** The prompt's token ids as the stand-in computed on them (a text prompt: as it tokenized it). */
  promptIds?: number[];
}

/** Options of {@link startStandIn}. */
export interface StandInOptions {
  /** A twin in models/fixtures/, e.g. `twin-llama-guard-3`. */
  model: string;
  /** The name `/v1/models` lists and `model` must match (vLLM's `--served-model-name`). @default model */
  servedModelName?: string;
  /** `/v1/models`' `root` (vLLM: the path or repo the model was loaded from). @default servedModelName */
  root?: string;
  /** Require `Authorization: Bearer <apiKey>` (vLLM's `--api-key`). */
  apiKey?: string;
  /** A fault on every request until changed with `setFault`. */
  fault?: Fault;
  /** Answer pages of these origins (vLLM's `--allowed-origins`): CORS headers and preflights. */
  allowedOrigins?: string;
  /**
   * Whose contract to follow: vLLM's, llama.cpp's `llama-server`'s or TGI's (stand-in-engines.ts
   * says what differs). @default 'vllm'
   */
  engine?: StandInEngine;
}

/** A running stand-in. */
export interface StandIn {
  /** The base URL, ending `/v1`, as a client is configured with. */
  url: string;
  servedModelName: string;
  twin: Twin;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Plays `fault` on the next `times` requests of its route (queued after earlier ones). */
  inject(fault: Fault, times?: number): void;
  /** Plays `fault` on every request from now on; `undefined` clears it. */
  setFault(fault: Fault | undefined): void;
  /** Stops listening and drops open connections (a stalled stream ends). */
  close(): Promise<void>;
}

const twins = new Map<string, Promise<Twin>>();
let fixturesChecked = false;
const KNOWN = new Set([
  'model', 'prompt', 'max_tokens', 'temperature', 'top_p', 'top_k', 'seed', 'user', 'n', 'stream', 'stream_options', 'stop', 'stop_token_ids',
  'logprobs', 'echo', 'return_tokens_as_token_ids', 'return_token_ids', 'prompt_logprobs', 'include_stop_str_in_output', 'skip_special_tokens',
  'ignore_eos', 'add_special_tokens',
]);
const UNSUPPORTED = [
  'best_of', 'suffix', 'logit_bias', 'presence_penalty', 'frequency_penalty', 'repetition_penalty', 'min_tokens', 'use_beam_search', 'min_p',
  'logprob_token_ids', 'allowed_token_ids', 'bad_words', 'prompt_embeds', 'structured_outputs', 'response_format', 'truncate_prompt_tokens',
];

/**
 * Starts a stand-in on 127.0.0.1 at a free port, serving the twin `model` (loaded once per
 * process and shared by every stand-in of that twin; the first start may build it, call it
 * from a `beforeAll` with a long hook timeout).
 *
 * @example
 * const standIn = await startStandIn({ model: 'twin-llama-guard-3', servedModelName: 'meta-llama/Llama-Guard-3-1B' });
 * standIn.inject({ kind: 'status', status: 429, retryAfter: 1 }); // the next completion only
 * // ... createGuard({ model: 'twin-llama-guard-3', endpoint: { url: standIn.url } }) ...
 * await standIn.close();
 */
export async function startStandIn(options: StandInOptions): Promise<StandIn> {
  let twinLoad = twins.get(options.model);
  if (!twinLoad) {
    // Builds what is missing or stale, as the twin tests do (models/fixtures/ is not committed):
    // once per process for every model, since each check is a child process (~0.5 s, more under load).
    if (!fixturesChecked) ensureFixtures();
    fixturesChecked = true;
    twins.set(options.model, (twinLoad = loadTwin(options.model)));
  }
  const twin = await twinLoad;
  const served = options.servedModelName ?? options.model;
  const engine = options.engine ?? 'vllm';
  const requests: RecordedRequest[] = [];
  const queued: { fault: Fault; times: number }[] = [];
  let standing = options.fault;
  const sockets = new Set<Socket>();

  const takeFault = (route: 'completions' | 'models'): Fault | undefined => {
    const hits = (f: Fault) => (f.on ?? 'completions') === route || f.on === 'any';
    const entry = queued.find((q) => hits(q.fault));
    if (entry) {
      if (--entry.times <= 0) queued.splice(queued.indexOf(entry), 1);
      return entry.fault;
    }
    return standing && hits(standing) ? standing : undefined;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, engine, error instanceof HttpError ? error : new HttpError(500, String(error)));
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
    if (options.allowedOrigins !== undefined) {
      res.setHeader('access-control-allow-origin', options.allowedOrigins);
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'authorization, content-type', 'access-control-max-age': '600' });
        return void res.end();
      }
    }
    const record: RecordedRequest = { method: req.method ?? '', path, headers: req.headers, ignored: [] };
    requests.push(record);
    const raw = await readBody(req);
    // TGI's native route sits at the server's root; faults on `completions` hit it too.
    const generate = engine === 'tgi' && path === '/generate_stream';
    const route = path === '/v1/models' ? 'models' : path === '/v1/completions' || generate ? 'completions' : undefined;
    const fault = route && takeFault(route);
    if (fault?.kind === 'refuse') return void req.socket.destroy();
    if (fault?.kind === 'delay') await sleep(fault.ms);
    if (options.apiKey !== undefined && (path.startsWith('/v1/') || generate) && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return void sendJson(res, 401, unauthorizedBody(engine));
    }
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) };
      return sendError(res, engine, new HttpError(fault.status, fault.message ?? `stand-in fault: ${fault.status}`), headers);
    }
    if (route === 'models' && req.method === 'GET') {
      const created = Math.floor(Date.now() / 1000);
      const data = [modelEntry(engine, served, options.root ?? served, twin, created)];
      return sendBody(res, JSON.stringify({ object: 'list', data }), fault);
    }
    if (route !== 'completions' || req.method !== 'POST') return sendJson(res, 404, { detail: 'Not Found' });
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw new HttpError(engine === 'tgi' ? 422 : 400, 'The request body is not valid JSON.');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(engine === 'tgi' ? 422 : 400, 'The request body must be a JSON object.');
    record.body = body as Record<string, unknown>;
    const request = generate ? tgiRequest(record.body, twin) : parseRequest(record.body, twin, served, engine);
    record.ignored = request.ignored;
    record.promptIds = [...request.ids];
    await complete(request, twin, served, res, fault);
  }

  // Idle keep-alive sockets stay open a minute (Node's default, like uvicorn's, is 5 s): a guard's
  // worker busy loading a tokenizer for seconds cannot see the server's close in time and reuses the
  // socket as it closes, a dropped connection that tests would read as the server's fault.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    servedModelName: served,
    twin,
    requests,
    inject: (fault, times = 1) => void queued.push({ fault, times }),
    setFault: (fault) => void (standing = fault),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** A completions request, checked. */
interface Request {
  /** Which engine's answer to lay out, and (TGI) on which route. */
  shape: 'vllm' | 'llama.cpp' | 'tgi-completions' | 'tgi-generate';
  ids: number[];
  promptText: string | undefined;
  maxTokens: number;
  stream: boolean;
  includeUsage: boolean;
  stop: string[];
  stopIds: Set<number>;
  logprobs: number | undefined;
  promptLogprobs: number | undefined;
  echo: boolean;
  asTokenIds: boolean;
  returnTokenIds: boolean;
  includeStop: boolean;
  skipSpecial: boolean;
  ignoreEos: boolean;
  /** TGI: the last event carries `details`. */
  details: boolean;
  /** Body fields the engine ignores. */
  ignored: string[];
}

/** The fields each engine's `/v1/completions` reads (others are ignored), and those it refuses. */
const FIELDS: Record<StandInEngine, { known: Set<string>; unsupported: readonly string[] }> = {
  vllm: { known: KNOWN, unsupported: UNSUPPORTED },
  'llama.cpp': {
    known: new Set(['model', 'prompt', 'max_tokens', 'n_predict', 'temperature', 'stream', 'stream_options', 'stop', 'logprobs', 'n_probs', 'seed', 'top_k', 'top_p', 'cache_prompt', 'ignore_eos', 'n', 'echo']),
    unsupported: ['best_of', 'suffix'],
  },
  tgi: { known: new Set(['model', 'prompt', 'max_tokens', 'temperature', 'top_p', 'stream', 'seed', 'stop']), unsupported: ['suffix', 'repetition_penalty', 'frequency_penalty', 'presence_penalty'] },
};

/** A TGI `/generate_stream` request as the decoding loop takes it: the text tokenized with special tokens. */
function tgiRequest(body: Record<string, unknown>, twin: Twin): Request {
  const ask = parseTgiGenerate(body, twin);
  return {
    shape: 'tgi-generate',
    ids: twin.tokenizer.encode(ask.inputs, { add_special_tokens: true }),
    promptText: ask.inputs,
    maxTokens: ask.maxNewTokens,
    stream: true,
    includeUsage: false,
    stop: ask.stop,
    // TGI stops at the model's eos ids: the tokenizer's and generation_config's.
    stopIds: new Set(twin.endIds),
    logprobs: ask.topN,
    promptLogprobs: undefined,
    echo: false,
    asTokenIds: false,
    returnTokenIds: false,
    includeStop: false,
    skipSpecial: true,
    ignoreEos: false,
    details: ask.details,
    ignored: ask.ignored,
  };
}

function parseRequest(body: Record<string, unknown>, twin: Twin, served: string, engine: StandInEngine): Request {
  const invalid = engine === 'tgi' ? 422 : 400;
  const bad = (param: string, message: string) => new HttpError(invalid, message, param);
  const { known, unsupported } = FIELDS[engine];
  if (body['model'] !== undefined && body['model'] !== served && engine === 'vllm') throw new HttpError(404, `The model \`${String(body['model'])}\` does not exist.`, 'model');
  if (engine === 'tgi' ? body['temperature'] !== undefined && body['temperature'] !== 0 : body['temperature'] !== 0) {
    throw bad('temperature', 'The stand-in decodes greedily only: send temperature 0.');
  }
  for (const key of unsupported) {
    if (body[key] !== undefined && body[key] !== null) throw bad(key, engine === 'llama.cpp' ? `Unsupported param: ${key}` : `The stand-in does not implement \`${key}\`.`);
  }
  if (engine === 'llama.cpp' && body['echo'] === true) throw bad('echo', 'Only no echo is supported');
  if (body['n'] !== undefined && body['n'] !== 1) throw bad('n', 'The stand-in serves n = 1 only.');
  const read = (key: string) => (known.has(key) ? body[key] : undefined);
  const flag = (key: string, fallback: boolean) => {
    const v = read(key) ?? fallback;
    if (typeof v !== 'boolean') throw bad(key, `\`${key}\` must be a boolean.`);
    return v;
  };
  const count = (key: string, max: number): number | undefined => {
    const v = read(key);
    if (v === undefined || v === null) return undefined;
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > max) throw bad(key, `\`${key}\` must be an integer from 0 to ${max}.`);
    return v as number;
  };
  let prompt = engine === 'tgi' ? tgiCompletionPrompt(body['prompt']) : body['prompt'];
  if (Array.isArray(prompt) && prompt.length === 1 && (typeof prompt[0] === 'string' || Array.isArray(prompt[0]))) prompt = prompt[0];
  let ids: number[];
  let promptText: string | undefined;
  if (typeof prompt === 'string') {
    promptText = prompt;
    ids = twin.tokenizer.encode(prompt, { add_special_tokens: engine === 'vllm' ? flag('add_special_tokens', true) : true });
  } else if (Array.isArray(prompt) && prompt.length > 0 && prompt.every((t) => Number.isInteger(t))) {
    ids = prompt as number[];
    const outside = ids.find((t) => t < 0 || t >= twin.vocabSize);
    if (outside !== undefined) throw bad('prompt', `Token id ${outside} is out of vocabulary (size ${twin.vocabSize}).`);
  } else {
    throw bad('prompt', '`prompt` must be a non-empty string or token id list (one prompt: the stand-in serves no batches).');
  }
  const maxTokens = count('max_tokens', Number.MAX_SAFE_INTEGER) ?? count('n_predict', Number.MAX_SAFE_INTEGER) ?? 16;
  if (ids.length + maxTokens > twin.maxModelLen) {
    throw bad('max_tokens', `This model's maximum context length is ${twin.maxModelLen} tokens; the request asks for ${ids.length + maxTokens}.`);
  }
  const rawStop = read('stop') ?? [];
  const stop = typeof rawStop === 'string' ? [rawStop] : rawStop;
  if (!Array.isArray(stop) || !stop.every((s) => typeof s === 'string' && s.length > 0)) throw bad('stop', '`stop` must be a string or a list of strings.');
  const rawStopIds = read('stop_token_ids') ?? [];
  if (!Array.isArray(rawStopIds) || !rawStopIds.every((t) => Number.isInteger(t))) throw bad('stop_token_ids', '`stop_token_ids` must be a list of token ids.');
  const ignoreEos = flag('ignore_eos', false);
  const stream = flag('stream', false);
  const streamOptions = read('stream_options') as { include_usage?: unknown } | undefined;
  // Both as vLLM's CompletionRequest validators have them.
  if (streamOptions && !stream) throw bad('stream_options', 'Stream options can only be defined when `stream=True`.');
  const promptLogprobs = count('prompt_logprobs', MAX_LOGPROBS);
  if (stream && promptLogprobs) throw bad('prompt_logprobs', '`prompt_logprobs` are not available when `stream=True`.');
  // vLLM adds generation_config's eos ids to the client's stop ids (its tokenizer's eos is checked apart);
  // llama-server and TGI stop at the model's end tokens and take no ids from the client.
  const endIds = ignoreEos ? [] : engine === 'vllm' ? twin.endIds.filter((t) => t !== twin.eosId) : twin.endIds;
  return {
    shape: engine === 'tgi' ? 'tgi-completions' : engine,
    ids,
    promptText,
    maxTokens,
    stream,
    includeUsage: streamOptions?.include_usage === true,
    stop: stop as string[],
    stopIds: new Set([...(rawStopIds as number[]), ...endIds]),
    // TGI's /v1/completions answers `logprobs: null` whatever is asked.
    logprobs: engine === 'tgi' ? undefined : (count('logprobs', MAX_LOGPROBS) ?? count('n_probs', MAX_LOGPROBS)),
    promptLogprobs,
    echo: flag('echo', false),
    asTokenIds: flag('return_tokens_as_token_ids', false),
    returnTokenIds: flag('return_token_ids', false),
    includeStop: flag('include_stop_str_in_output', false),
    skipSpecial: flag('skip_special_tokens', true),
    ignoreEos,
    details: false,
    ignored: Object.keys(body).filter((k) => !known.has(k) && !unsupported.includes(k)),
  };
}

/** The legacy completions logprobs of `tokens`, as vLLM's `_create_completion_logprobs` lays them out. */
function completionLogprobs(twin: Twin, tokens: readonly Scored[], n: number, asIds: boolean, offset: number) {
  const name = (id: number) => (asIds ? `token_id:${id}` : id < twin.vocabSize ? twin.tokenizer.decode([id]) : '');
  const out = { text_offset: [] as number[], token_logprobs: [] as (number | null)[], tokens: [] as string[], top_logprobs: [] as (Record<string, number> | null)[] };
  let last = 0;
  for (const { id, real, dist } of tokens) {
    const token = name(id);
    out.tokens.push(token);
    if (!dist) {
      out.token_logprobs.push(null);
      out.top_logprobs.push(null);
    } else {
      out.token_logprobs.push(Math.max(dist.logprob(real), -9999));
      // The chosen token first, then the top n: at most n + 1 entries (OpenAI's rule).
      const entries = new Map<number, number>([[id, dist.logprob(real)], ...dist.top(n)]);
      out.top_logprobs.push(Object.fromEntries([...entries].slice(0, n + 1).map(([t, lp]) => [name(t), Math.max(lp, -9999)])));
    }
    out.text_offset.push(out.text_offset.length === 0 ? offset : (out.text_offset.at(-1) as number) + last);
    last = token.length;
  }
  return out;
}

async function complete(request: Request, twin: Twin, served: string, res: ServerResponse, fault: Fault | undefined): Promise<void> {
  const id = `cmpl-${randomBytes(12).toString('hex')}`;
  const created = Math.floor(Date.now() / 1000);
  const wantPrompt = (request.echo && request.logprobs !== undefined) || request.promptLogprobs !== undefined;
  const { cache, last, prompt } = await twin.prefill(request.ids, wantPrompt);
  const promptScored: Scored[] = request.ids.map((t, i) => ({ id: t, real: t, dist: i === 0 ? undefined : prompt?.[i - 1] }));
  const promptText = request.promptText ?? twin.tokenizer.decode(request.ids);
  let dist = last;
  const generated: Scored[] = [];
  const maxStop = Math.max(0, ...request.stop.map((s) => s.length));
  const holdBack = request.stream && !request.includeStop ? Math.max(0, maxStop - 1) : 0;
  let finish: 'stop' | 'length' | null = request.maxTokens === 0 ? 'length' : null;
  let stopReason: string | number | null = null;
  let text = '';
  let sent = 0;
  let chunks = 0;
  let aborted = false;
  res.on('close', () => (aborted = !res.writableFinished));
  const lp = (tokens: Scored[], offset: number) => {
    if (request.logprobs === undefined) return null;
    return request.shape === 'llama.cpp' ? llamaCppLogprobs(twin, tokens, request.logprobs) : completionLogprobs(twin, tokens, request.logprobs, request.asTokenIds, offset);
  };
  const fingerprint = 'b0000-stand-in';

  if (request.stream) res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  /** Writes one SSE event, playing a stream fault when its turn comes; false once the stream is over. */
  const emit = (payload: unknown): boolean => {
    if (aborted) return false;
    const after = fault && 'afterChunks' in fault ? (fault.afterChunks ?? 1) : -1;
    if (chunks++ === after) {
      if (fault?.kind === 'malformed') res.write('data: {"id": "cmpl-broken", "choices": [{"text": \n\n');
      if (fault?.kind === 'cut') fault.clean ? res.end() : res.destroy();
      if (fault?.kind === 'cut' || fault?.kind === 'stall') return (aborted = true), false;
    }
    res.write(`data: ${JSON.stringify(payload)}\n\n`);
    return true;
  };
  /** One streamed chunk of `tokens` (the last generated one, or the echoed prompt too) in the engine's layout. */
  const chunk = (delta: string, tokens: Scored[], offset: number) => {
    switch (request.shape) {
      case 'vllm':
        return emit({ id, object: 'text_completion', created, model: served, choices: [{ index: 0, text: delta, logprobs: lp(tokens, offset), finish_reason: finish, stop_reason: stopReason }] });
      case 'llama.cpp': // the finish comes in a chunk of its own, after the last token's
        return emit({ choices: [{ text: delta, index: 0, logprobs: lp(tokens, offset), finish_reason: null }], created, id, model: served, system_fingerprint: fingerprint, object: 'text_completion' });
      case 'tgi-completions':
        return emit({ id, object: 'text_completion', created, model: served, system_fingerprint: fingerprint, choices: [{ index: 0, text: delta, logprobs: null, finish_reason: finish }] });
      case 'tgi-generate': {
        const { id: reported, real, dist: at } = tokens.at(-1) as Scored;
        const n = request.logprobs ?? 0;
        return emit({
          index: generated.length,
          token: tgiToken(twin, reported, at ? at.logprob(real) : 0),
          ...(n > 0 && at ? { top_tokens: at.top(n).map(([t, logprob]) => tgiToken(twin, t, logprob)) } : {}),
          generated_text: finish ? text : null,
          details: finish && request.details ? { finish_reason: tgiFinishReason(finish, stopReason), generated_tokens: generated.length, seed: null, input_length: request.ids.length } : null,
        });
      }
    }
  };

  if (request.stream && request.echo && request.maxTokens === 0) {
    chunk(promptText, promptScored, 0);
    sent = promptText.length;
  }
  while (finish === null && !aborted) {
    const real = dist.argmax;
    const reported = fault?.kind === 'foreign-token' && generated.length === 0 ? (fault.id ?? twin.vocabSize + 7) : real;
    generated.push({ id: reported, real, dist });
    const byToken = request.stopIds.has(real) || (!request.ignoreEos && real === twin.eosId);
    const textIds = generated.map((g) => g.real).slice(0, byToken && !request.includeStop ? -1 : undefined);
    const full = twin.tokenizer.decode(textIds, { skip_special_tokens: request.skipSpecial });
    text = full;
    if (byToken) {
      finish = 'stop';
      // vLLM checks the eos before the stop ids: the eos reports null even when also listed.
      stopReason = !request.ignoreEos && real === twin.eosId ? null : real;
    }
    // The earliest stop string wins; it cannot have been there a token earlier, or we had stopped.
    const hit = request.stop.map((s) => ({ s, at: full.indexOf(s) })).filter((h) => h.at >= 0).sort((a, b) => a.at - b.at)[0];
    if (hit) {
      text = full.slice(0, request.includeStop ? hit.at + hit.s.length : hit.at);
      finish = 'stop';
      stopReason = hit.s;
    }
    if (finish === null && generated.length >= request.maxTokens) finish = 'length';
    if (request.stream) {
      // Hold back a possible stop-string start and an unfinished UTF-8 sequence, as vLLM does.
      const visible = finish ? text : text.replace(/\uFFFD+$/, '').slice(0, Math.max(sent, text.length - holdBack));
      const echoFirst = request.echo && generated.length === 1;
      const delta = (echoFirst ? promptText : '') + visible.slice(sent);
      chunk(delta, echoFirst ? [...promptScored, generated.at(-1) as Scored] : [generated.at(-1) as Scored], (echoFirst ? 0 : sent + (request.echo ? promptText.length : 0)));
      sent = Math.max(sent, visible.length);
    }
    if (finish === null) dist = await twin.step(cache, real);
  }
  if (aborted) return;
  const usage = { prompt_tokens: request.ids.length, completion_tokens: generated.length, total_tokens: request.ids.length + generated.length, prompt_tokens_details: null };
  if (request.stream) {
    if (request.shape === 'llama.cpp') emit({ choices: [{ text: '', index: 0, logprobs: null, finish_reason: finish }], created, id, model: served, system_fingerprint: fingerprint, object: 'text_completion', usage });
    if (request.includeUsage) emit({ id, object: 'text_completion', created, model: served, choices: [], usage });
    // TGI's native stream just ends after its last event.
    if (!aborted) res.end(request.shape === 'tgi-generate' ? undefined : 'data: [DONE]\n\n');
    return;
  }
  if (request.shape !== 'vllm') {
    const choice = { text, index: 0, logprobs: lp(generated, 0), finish_reason: finish };
    return sendBody(res, JSON.stringify({ choices: [choice], created, model: served, system_fingerprint: fingerprint, object: 'text_completion', usage, id }), fault);
  }
  const choice = {
    index: 0,
    text: request.echo ? promptText + text : text,
    logprobs: lp(request.echo ? [...promptScored, ...generated] : generated, 0),
    finish_reason: finish,
    stop_reason: stopReason,
    prompt_logprobs: request.promptLogprobs === undefined ? null : promptLogprobsOf(twin, promptScored, request.promptLogprobs),
    ...(request.returnTokenIds ? { prompt_token_ids: request.ids, token_ids: generated.map((g) => g.id) } : {}),
  };
  sendBody(res, JSON.stringify({ id, object: 'text_completion', created, model: served, choices: [choice], usage }), fault);
}

/** A 200 JSON body, or the body fault: none (stall), half of it (malformed), or half and then the socket closed (cut). */
function sendBody(res: ServerResponse, json: string, fault: Fault | undefined): void {
  const half = json.slice(0, Math.floor(json.length / 2));
  if (fault?.kind === 'stall') return;
  if (fault?.kind === 'malformed') return sendRaw(res, 200, half);
  if (fault?.kind === 'cut') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    res.write(half);
    return void res.destroy(); // `clean` means nothing here: fewer bytes than content-length is a cut either way
  }
  sendRaw(res, 200, json);
}

/** vLLM's `prompt_logprobs`: per prompt position, the actual token and the top n, with ranks. */
function promptLogprobsOf(twin: Twin, prompt: readonly Scored[], n: number) {
  return prompt.map(({ real, dist }) => {
    if (!dist) return null;
    const ids = [...new Set([real, ...dist.top(n).map(([t]) => t)])];
    return Object.fromEntries(ids.map((t) => [String(t), { logprob: Math.max(dist.logprob(t), -9999), rank: dist.rank(t), decoded_token: twin.tokenizer.decode([t]) }]));
  });
}

function sendRaw(res: ServerResponse, status: number, json: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(json);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  sendRaw(res, status, JSON.stringify(value));
}

function sendError(res: ServerResponse, engine: StandInEngine, error: HttpError, headers: Record<string, string> = {}): void {
  sendRaw(res, error.status, JSON.stringify(errorBody(engine, error)), headers);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
