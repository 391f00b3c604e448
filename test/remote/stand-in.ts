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
import { loadTwin, MAX_LOGPROBS, type Scores, type Twin } from './stand-in-model.js';

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
const ERROR_TYPES: Record<number, string> = { 400: 'BadRequestError', 404: 'NotFoundError', 429: 'RateLimitError', 500: 'InternalServerError', 503: 'ServiceUnavailableError' };
const KNOWN = new Set([
  'model', 'prompt', 'max_tokens', 'temperature', 'top_p', 'top_k', 'seed', 'user', 'n', 'stream', 'stream_options', 'stop', 'stop_token_ids',
  'logprobs', 'echo', 'return_tokens_as_token_ids', 'return_token_ids', 'prompt_logprobs', 'include_stop_str_in_output', 'skip_special_tokens',
  'ignore_eos', 'add_special_tokens',
]);
const UNSUPPORTED = [
  'best_of', 'suffix', 'logit_bias', 'presence_penalty', 'frequency_penalty', 'repetition_penalty', 'min_tokens', 'use_beam_search', 'min_p',
  'logprob_token_ids', 'allowed_token_ids', 'bad_words', 'prompt_embeds', 'structured_outputs', 'response_format', 'truncate_prompt_tokens',
];

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly param: string | null = null) {
    super(message);
  }
}

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
      if (!res.headersSent) sendError(res, error instanceof HttpError ? error : new HttpError(500, String(error)));
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
    const route = path === '/v1/models' ? 'models' : path === '/v1/completions' ? 'completions' : undefined;
    const fault = route && takeFault(route);
    if (fault?.kind === 'refuse') return void req.socket.destroy();
    if (fault?.kind === 'delay') await sleep(fault.ms);
    if (options.apiKey !== undefined && path.startsWith('/v1/') && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return void sendJson(res, 401, { error: 'Unauthorized' });
    }
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) };
      return sendError(res, new HttpError(fault.status, fault.message ?? `stand-in fault: ${fault.status}`), headers);
    }
    if (route === 'models' && req.method === 'GET') {
      const created = Math.floor(Date.now() / 1000);
      const data = [{ id: served, object: 'model', created, owned_by: 'vllm', root: options.root ?? served, parent: null, max_model_len: twin.maxModelLen, permission: [] }];
      return sendBody(res, JSON.stringify({ object: 'list', data }), fault);
    }
    if (route !== 'completions' || req.method !== 'POST') return sendJson(res, 404, { detail: 'Not Found' });
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw new HttpError(400, 'The request body is not valid JSON.');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'The request body must be a JSON object.');
    record.body = body as Record<string, unknown>;
    record.ignored = Object.keys(body).filter((k) => !KNOWN.has(k) && !UNSUPPORTED.includes(k));
    const request = parseRequest(record.body, twin, served);
    await complete(request, twin, served, res, fault);
  }

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
}

function parseRequest(body: Record<string, unknown>, twin: Twin, served: string): Request {
  const bad = (param: string, message: string) => new HttpError(400, message, param);
  if (body['model'] !== undefined && body['model'] !== served) throw new HttpError(404, `The model \`${String(body['model'])}\` does not exist.`, 'model');
  if (body['temperature'] !== 0) throw bad('temperature', 'The stand-in decodes greedily only: send temperature 0.');
  for (const key of UNSUPPORTED) if (body[key] !== undefined && body[key] !== null) throw bad(key, `The stand-in does not implement \`${key}\`.`);
  if (body['n'] !== undefined && body['n'] !== 1) throw bad('n', 'The stand-in serves n = 1 only.');
  const flag = (key: string, fallback: boolean) => {
    const v = body[key] ?? fallback;
    if (typeof v !== 'boolean') throw bad(key, `\`${key}\` must be a boolean.`);
    return v;
  };
  const count = (key: string, max: number): number | undefined => {
    const v = body[key];
    if (v === undefined || v === null) return undefined;
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > max) throw bad(key, `\`${key}\` must be an integer from 0 to ${max}.`);
    return v as number;
  };
  let prompt = body['prompt'];
  if (Array.isArray(prompt) && prompt.length === 1 && (typeof prompt[0] === 'string' || Array.isArray(prompt[0]))) prompt = prompt[0];
  let ids: number[];
  let promptText: string | undefined;
  if (typeof prompt === 'string') {
    promptText = prompt;
    ids = twin.tokenizer.encode(prompt, { add_special_tokens: flag('add_special_tokens', true) });
  } else if (Array.isArray(prompt) && prompt.length > 0 && prompt.every((t) => Number.isInteger(t))) {
    ids = prompt as number[];
    const outside = ids.find((t) => t < 0 || t >= twin.vocabSize);
    if (outside !== undefined) throw bad('prompt', `Token id ${outside} is out of vocabulary (size ${twin.vocabSize}).`);
  } else {
    throw bad('prompt', '`prompt` must be a non-empty string or token id list (one prompt: the stand-in serves no batches).');
  }
  const maxTokens = count('max_tokens', Number.MAX_SAFE_INTEGER) ?? 16;
  if (ids.length + maxTokens > twin.maxModelLen) {
    throw bad('max_tokens', `This model's maximum context length is ${twin.maxModelLen} tokens; the request asks for ${ids.length + maxTokens}.`);
  }
  const rawStop = body['stop'] ?? [];
  const stop = typeof rawStop === 'string' ? [rawStop] : rawStop;
  if (!Array.isArray(stop) || !stop.every((s) => typeof s === 'string' && s.length > 0)) throw bad('stop', '`stop` must be a string or a list of strings.');
  const rawStopIds = body['stop_token_ids'] ?? [];
  if (!Array.isArray(rawStopIds) || !rawStopIds.every((t) => Number.isInteger(t))) throw bad('stop_token_ids', '`stop_token_ids` must be a list of token ids.');
  const ignoreEos = flag('ignore_eos', false);
  const stream = flag('stream', false);
  const streamOptions = body['stream_options'] as { include_usage?: unknown } | undefined;
  // Both as vLLM's CompletionRequest validators have them.
  if (streamOptions && !stream) throw bad('stream_options', 'Stream options can only be defined when `stream=True`.');
  const promptLogprobs = count('prompt_logprobs', MAX_LOGPROBS);
  if (stream && promptLogprobs) throw bad('prompt_logprobs', '`prompt_logprobs` are not available when `stream=True`.');
  return {
    ids,
    promptText,
    maxTokens,
    stream,
    includeUsage: streamOptions?.include_usage === true,
    stop: stop as string[],
    // vLLM adds generation_config's eos ids to the stop ids unless ignore_eos.
    stopIds: new Set([...(rawStopIds as number[]), ...(ignoreEos ? [] : twin.endIds.filter((t) => t !== twin.eosId))]),
    logprobs: count('logprobs', MAX_LOGPROBS),
    promptLogprobs,
    echo: flag('echo', false),
    asTokenIds: flag('return_tokens_as_token_ids', false),
    returnTokenIds: flag('return_token_ids', false),
    includeStop: flag('include_stop_str_in_output', false),
    skipSpecial: flag('skip_special_tokens', true),
    ignoreEos,
  };
}

/** One token of the answer (or of the echoed prompt): the id reported, and the distribution it came from. */
interface Scored {
  id: number;
  real: number;
  dist: Scores | undefined;
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
  const lp = (tokens: Scored[], offset: number) =>
    request.logprobs === undefined ? null : completionLogprobs(twin, tokens, request.logprobs, request.asTokenIds, offset);

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
  const chunk = (delta: string, tokens: Scored[], offset: number) =>
    emit({ id, object: 'text_completion', created, model: served, choices: [{ index: 0, text: delta, logprobs: lp(tokens, offset), finish_reason: finish, stop_reason: stopReason }] });

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
    if (request.includeUsage) emit({ id, object: 'text_completion', created, model: served, choices: [], usage });
    if (!aborted) res.end('data: [DONE]\n\n');
    return;
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

function sendError(res: ServerResponse, error: HttpError, headers: Record<string, string> = {}): void {
  const type = ERROR_TYPES[error.status] ?? 'Error';
  sendRaw(res, error.status, JSON.stringify({ error: { message: error.message, type, param: error.param, code: error.status } }), headers);
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
