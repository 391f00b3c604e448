/**
 * The stand-in's engine modes besides vLLM (tests only): what llama.cpp's `llama-server` and TGI
 * accept and answer, as docs/remote-engines.md records them from their docs and server source.
 * stand-in.ts keeps the HTTP side, the faults and the decoding loop; this file says how each
 * engine names the request's fields, validates them and lays out its answers.
 *
 * llama-server (`tools/server`: `oaicompat_completion_params_parse`, `to_json_oaicompat`):
 * - `/v1/completions` takes `prompt` as text or token ids (no BOS added to ids); `logprobs: N`
 *   (or the native `n_probs`) answers in the chat shape, `logprobs.content[] = { id, token,
 *   logprob, bytes, top_logprobs[{ id, token, logprob, bytes }] }`, one entry per streamed chunk;
 *   a stream ends with a chunk holding only `finish_reason`, then `data: [DONE]`;
 * - `echo: true` is a 400 "Only no echo is supported", `best_of` and `suffix` are rejected;
 *   there is no `stop_token_ids` (an unknown field, ignored): the vocabulary's end-of-generation
 *   tokens end it (here: the tokenizer's eos and generation_config's);
 * - errors `{ error: { code, message, type } }`; `/v1/models` lists one model, `owned_by: llamacpp`.
 *
 * TGI (`router/src/lib.rs`, `server.rs`, `validation.rs`):
 * - text only: `/v1/completions` takes `prompt` as a string (or list of strings) and answers
 *   `logprobs: null`; `/generate_stream` (at the server's root) takes `inputs` (a string) and
 *   `parameters`; anything else in those places is a 422 (serde's deserialization error); text is
 *   tokenized with special tokens (Llama's BOS added, special-token text parsed as special);
 * - `/generate_stream` events `{ index, token: { id, text, logprob, special }, top_tokens,
 *   generated_text, details }`, the last with the whole text and (`details`) `{ finish_reason:
 *   eos_token | stop_sequence | length, generated_tokens, seed, input_length }`; no `[DONE]`;
 * - greedy is `do_sample: false` without `temperature` (a temperature must be > 0); `top_n_tokens`
 *   ≤ 5 (`--max-top-n-tokens`), at most 4 `stop` strings; `decoder_input_details` is refused
 *   (prefill logprobs are off by default, and never with a stream);
 * - errors `{ error, error_type }`; `/v1/models` lists the `--model-id`.
 *
 * Does not: TGI's non-streamed `/generate`, `/info`, `/tokenize`; llama-server's native
 * `/completion`, `/tokenize`, `post_sampling_probs`, slots. Fields either engine would ignore are
 * ignored and recorded, as for vLLM.
 */
import type { Scores, Twin } from './stand-in-model.js';

/** Which engine's contract a stand-in follows. */
export type StandInEngine = 'vllm' | 'llama.cpp' | 'tgi';

/** TGI's default `--max-top-n-tokens` and `--max-stop-sequences`. */
const TGI_MAX_TOP_N_TOKENS = 5;
const TGI_MAX_STOP_SEQUENCES = 4;

/** An error answer: its status, the engine's words, and (vLLM) the field it is about. */
export class EngineHttpError extends Error {
  constructor(readonly status: number, message: string, readonly param: string | null = null) {
    super(message);
  }
}

/** One scored token: the id reported, the id computed, and the distribution it came from. */
export interface ScoredToken {
  id: number;
  real: number;
  dist: Scores | undefined;
}

/** An error response's body in the engine's layout. */
export function errorBody(engine: StandInEngine, error: EngineHttpError): unknown {
  const types: Record<number, string> = { 400: 'BadRequestError', 404: 'NotFoundError', 429: 'RateLimitError', 500: 'InternalServerError', 503: 'ServiceUnavailableError' };
  if (engine === 'tgi') return { error: error.message, error_type: error.status === 422 ? 'validation' : error.status === 429 ? 'overloaded' : 'generation' };
  if (engine === 'llama.cpp') {
    const type = error.status === 401 ? 'authentication_error' : error.status === 404 ? 'not_found_error' : error.status >= 500 ? 'server_error' : 'invalid_request_error';
    return { error: { code: error.status, message: error.message, type } };
  }
  return { error: { message: error.message, type: types[error.status] ?? 'Error', param: error.param, code: error.status } };
}

/** The 401 an engine started with `--api-key` answers a request without the key. */
export function unauthorizedBody(engine: StandInEngine): unknown {
  if (engine === 'llama.cpp') return { error: { code: 401, message: 'Invalid API Key', type: 'authentication_error' } };
  if (engine === 'tgi') return { error: 'Unauthorized', error_type: 'authentication' };
  return { error: 'Unauthorized' };
}

/** `/v1/models`' entry for the served model. */
export function modelEntry(engine: StandInEngine, served: string, root: string, twin: Twin, created: number): Record<string, unknown> {
  if (engine === 'llama.cpp') return { id: served, object: 'model', created, owned_by: 'llamacpp', meta: { n_vocab: twin.vocabSize, n_ctx_train: twin.maxModelLen } };
  if (engine === 'tgi') return { id: served, object: 'model', created, owned_by: served };
  return { id: served, object: 'model', created, owned_by: 'vllm', root, parent: null, max_model_len: twin.maxModelLen, permission: [] };
}

/** llama-server's logprobs: `{ content: [{ id, token, logprob, bytes, top_logprobs }] }` for `tokens`. */
export function llamaCppLogprobs(twin: Twin, tokens: readonly ScoredToken[], n: number): { content: unknown[] } {
  const entry = (id: number, logprob: number) => {
    const token = id < twin.vocabSize ? twin.tokenizer.decode([id], { skip_special_tokens: false }) : '';
    return { id, token, logprob, bytes: [...Buffer.from(token, 'utf8')] };
  };
  return {
    content: tokens.map(({ id, real, dist }) => ({
      ...entry(id, dist ? dist.logprob(real) : 0),
      top_logprobs: dist ? dist.top(n).map(([t, lp]) => entry(t, lp)) : [],
    })),
  };
}

/** TGI's `Token`: `{ id, text, logprob, special }`. */
export function tgiToken(twin: Twin, id: number, logprob: number): Record<string, unknown> {
  const special = id < twin.vocabSize && twin.tokenizer.decode([id], { skip_special_tokens: true }) === '' && twin.tokenizer.decode([id], { skip_special_tokens: false }) !== '';
  return { id, text: id < twin.vocabSize ? twin.tokenizer.decode([id], { skip_special_tokens: false }) : '', logprob, special };
}

/** What a TGI request asks, checked as TGI's router validates it. */
export interface TgiAsk {
  inputs: string;
  maxNewTokens: number;
  topN: number;
  details: boolean;
  stop: string[];
  /** Fields TGI (serde without `deny_unknown_fields`) ignores. */
  ignored: string[];
}

const TGI_PARAMETERS = new Set([
  'best_of', 'temperature', 'repetition_penalty', 'frequency_penalty', 'top_k', 'top_p', 'typical_p', 'do_sample', 'max_new_tokens', 'return_full_text',
  'stop', 'truncate', 'watermark', 'details', 'decoder_input_details', 'seed', 'top_n_tokens', 'grammar', 'adapter_id',
]);

/** A `/generate_stream` body, checked: `{ inputs, parameters, stream }`. */
export function parseTgiGenerate(body: Record<string, unknown>, twin: Twin): TgiAsk {
  const unprocessable = (message: string) => new EngineHttpError(422, message);
  const inputs = body['inputs'];
  if (typeof inputs !== 'string') {
    throw unprocessable(`Failed to deserialize the JSON body into the target type: inputs: invalid type: ${Array.isArray(inputs) ? 'sequence' : typeof inputs}, expected a string`);
  }
  const parameters = (body['parameters'] ?? {}) as Record<string, unknown>;
  if (typeof parameters !== 'object' || Array.isArray(parameters)) throw unprocessable('Failed to deserialize the JSON body into the target type: parameters: invalid type, expected struct GenerateParameters');
  const ignored = [
    ...Object.keys(body).filter((k) => !['inputs', 'parameters', 'stream'].includes(k)),
    ...Object.keys(parameters).filter((k) => !TGI_PARAMETERS.has(k)).map((k) => `parameters.${k}`),
  ];
  const temperature = parameters['temperature'];
  if (temperature !== undefined && temperature !== null) {
    if (typeof temperature !== 'number' || temperature <= 0) throw unprocessable('`temperature` must be strictly positive');
    throw unprocessable('The stand-in decodes greedily only: leave `temperature` out.');
  }
  if (parameters['do_sample'] === true) throw unprocessable('The stand-in decodes greedily only: `do_sample` must be false.');
  for (const key of ['best_of', 'repetition_penalty', 'frequency_penalty', 'top_k', 'top_p', 'typical_p', 'truncate', 'grammar', 'adapter_id']) {
    if (parameters[key] !== undefined && parameters[key] !== null) throw unprocessable(`The stand-in does not implement \`${key}\`.`);
  }
  if (parameters['decoder_input_details'] === true) throw unprocessable('`decoder_input_details` == true is not supported when streaming tokens');
  if (parameters['return_full_text'] === true) throw unprocessable('The stand-in does not implement `return_full_text`.');
  const maxNewTokens = parameters['max_new_tokens'] ?? 100;
  if (!Number.isInteger(maxNewTokens) || (maxNewTokens as number) <= 0) throw unprocessable('`max_new_tokens` must be strictly positive');
  const inputLength = twin.tokenizer.encode(inputs, { add_special_tokens: true }).length;
  if (inputLength + (maxNewTokens as number) > twin.maxModelLen) {
    throw unprocessable(`\`inputs\` tokens + \`max_new_tokens\` must be <= ${twin.maxModelLen}. Given: ${inputLength} \`inputs\` tokens and ${String(maxNewTokens)} \`max_new_tokens\``);
  }
  const topN = parameters['top_n_tokens'] ?? 0;
  if (!Number.isInteger(topN) || (topN as number) < 0 || (topN as number) > TGI_MAX_TOP_N_TOKENS) {
    throw unprocessable(`\`top_n_tokens\` must be >= 0 and <= ${TGI_MAX_TOP_N_TOKENS}. Given: ${String(topN)}`);
  }
  const stop = parameters['stop'] ?? [];
  if (!Array.isArray(stop) || !stop.every((s) => typeof s === 'string')) throw unprocessable('Failed to deserialize the JSON body into the target type: parameters.stop: expected a sequence of strings');
  if (stop.length > TGI_MAX_STOP_SEQUENCES) throw unprocessable(`\`stop\` supports up to ${TGI_MAX_STOP_SEQUENCES} stop sequences. Given: ${stop.length}`);
  return { inputs, maxNewTokens: maxNewTokens as number, topN: topN as number, details: parameters['details'] === true, stop: stop as string[], ignored };
}

/** TGI's `/v1/completions` `prompt`: a string, or a list of one string; ids are a 422. */
export function tgiCompletionPrompt(prompt: unknown): string {
  const one = Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string' ? prompt[0] : prompt;
  if (typeof one === 'string') return one;
  const what = Array.isArray(one) ? `sequence of ${typeof one[0]}` : typeof one;
  throw new EngineHttpError(422, `Failed to deserialize the JSON body into the target type: prompt: invalid type: ${what}, expected a string or a list of strings`);
}

/** TGI's name for why generation ended. */
export function tgiFinishReason(finish: 'stop' | 'length', stopReason: string | number | null): 'eos_token' | 'stop_sequence' | 'length' {
  return finish === 'length' ? 'length' : typeof stopReason === 'string' ? 'stop_sequence' : 'eos_token';
}
