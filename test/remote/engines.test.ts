/**
 * The remote backend in llama.cpp's and TGI's dialects (`endpoint.engine`), against the
 * stand-in in those engines' modes (stand-in-engines.ts: their documented shapes, computing
 * with the same twin): the same labels as in-process, and the same scores within 1e-3 where the
 * engine gives them; what `info.remote.notes` says (TGI's special-token caveat, shown on the
 * wire too); and faults typed, a guard pointed at another engine's server included. One twin
 * per family format (Qwen3's consistentguard words of several tokens, Llama Guard's one-token
 * words), a few six-language inputs each; guard.test.ts does the same for vLLM on every twin.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createGuard, isGuardError, type ClassifyOptions, type Guard, type ModerationInput, type StreamEvent, type Verdict } from '../../src/index.node.js';
import type { EndpointEngine } from '../../src/types.js';
import { INJECTION_CASES, LANGUAGE_CASES, type FixtureCase } from '../models/cases.js';
import { startStandIn, type StandIn } from './stand-in.js';

const ENGINES = ['llama.cpp', 'tgi'] as const satisfies readonly EndpointEngine[];
/** Each twin is compared on three languages in fast mode and one in full mode; the six languages come up in each mode over both twins and engines. */
const TWINS = [
  { model: 'twin-qwen3', fast: ['en', 'zh', 'bn'], full: ['fr'] },
  { model: 'twin-llama-guard-3', fast: ['fr', 'ja', 'hi'], full: ['en'] },
] as const;
/** Full mode's trace is cut after this many tokens (then the runtime closes it and the model gives its verdict). */
const TRACE_TOKENS = 8;
const KEY = 'sk-engines-secret';

/** One benign or harmful case per language, alternating, so both labels come up. */
function casesOf(languages: readonly string[], start: number): FixtureCase[] {
  return languages.map((language, i) => {
    const expected = (start + i) % 2 === 0 ? 'harmful' : 'unharmful';
    return LANGUAGE_CASES.find((c) => c.name.startsWith(`${language},`) && c.expected === expected)!;
  });
}

/** What must agree between the two runtimes. */
function agreement(verdict: Verdict) {
  return { label: verdict.label, categories: verdict.categories, path: verdict.path, reasoning: verdict.reasoning, raw: verdict.raw };
}

/** A stream's events, its reasoning text, its verdict. */
async function streamed(guard: Guard, input: ModerationInput, options: ClassifyOptions) {
  const events: StreamEvent[] = [];
  for await (const event of guard.stream(input, options)) events.push(event);
  const done = events.at(-1);
  if (done?.type !== 'done') throw new Error('the stream did not end with done');
  return { types: events.map((e) => e.type), reasoning: events.flatMap((e) => (e.type === 'reasoning' ? [e.text] : [])).join(''), verdict: done.verdict };
}

/** The code, reason and status of a rejection, or 'resolved'. */
async function failure(promise: Promise<unknown>): Promise<{ code: string; reason?: unknown; status?: unknown } | 'resolved'> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    if (!isGuardError(error)) throw error;
    return { code: error.code, reason: error.details.reason, status: error.details.status };
  }
}

/** Both scores there, within 1e-3. */
function expectScore(there: Verdict, here: Verdict, name: string): void {
  expect(here.score, name).toBeDefined();
  expect(Math.abs(there.score! - here.score!), name).toBeLessThan(1e-3);
}

/** A stand-in in `engine`'s mode and a remote guard on it, opened once per file for each twin and engine. */
const opened = new Map<string, Promise<{ server: StandIn; remote: Guard }>>();
function open(model: string, engine: EndpointEngine): Promise<{ server: StandIn; remote: Guard }> {
  const key = `${model} ${engine}`;
  if (!opened.has(key)) {
    opened.set(key, (async () => {
      const server = await startStandIn({ model, engine, apiKey: KEY });
      const remote = await createGuard({ model, endpoint: { url: server.url, apiKey: KEY, engine }, warmUp: false });
      return { server, remote };
    })());
  }
  return opened.get(key)!;
}
afterAll(async () => {
  const all = await Promise.all(opened.values());
  await Promise.all(all.map(({ remote }) => remote.dispose()));
  await Promise.all(all.map(({ server }) => server.close()));
});

/** The most tokens a recorded request asks for, in either dialect. */
const maxTokensOf = (body: Record<string, unknown> | undefined) => (body?.['max_tokens'] ?? (body?.['parameters'] as { max_new_tokens?: unknown } | undefined)?.max_new_tokens) as number;

describe.each(TWINS)('$model', ({ model, fast, full }) => {
  let local: Guard;
  // The in-process verdicts, made once for both engines' comparisons.
  const references = new Map<string, Promise<{ verdict: Verdict; types: string[]; reasoning: string }>>();
  const reference = (name: string, input: ModerationInput, options: ClassifyOptions) => {
    const key = `${name} ${options.mode}`;
    if (!references.has(key)) references.set(key, options.mode === 'fast' ? local.classify(input, options).then((verdict) => ({ verdict, types: [], reasoning: '' })) : streamed(local, input, options));
    return references.get(key)!;
  };
  const servers = new Map<EndpointEngine, StandIn>();
  const remotes = new Map<EndpointEngine, Guard>();
  /** Qwen3's consistentguard words are several tokens each (`h` `arm` `ful`), Llama Guard's one. */
  const severalTokens = model === 'twin-qwen3';
  beforeAll(async () => {
    // fp32, as the stand-in computes.
    local = await createGuard({ model, dtype: 'fp32', warmUp: false });
    for (const engine of ENGINES) {
      const { server, remote } = await open(model, engine);
      servers.set(engine, server);
      remotes.set(engine, remote);
    }
  });
  afterAll(async () => {
    await local?.dispose();
  });

  test.each(ENGINES)('%s: fast mode gives the in-process labels and scores; a verdict word of several tokens costs a request per later token', async (engine) => {
    const remote = remotes.get(engine)!;
    const server = servers.get(engine)!;
    for (const { name, input, expected } of casesOf(fast, 0)) {
      const before = server.requests.length;
      const [{ verdict: here }, there] = await Promise.all([reference(name, input, { mode: 'fast' }), remote.classify(input, { mode: 'fast' })]);
      expect(here.label, name).toBe(expected);
      expect(agreement(there), name).toEqual(agreement(here));
      // The twins' verdict words lie within both engines' top N: every score is there.
      expect(there.score, name).toBeDefined();
      expectScore(there, here, name);
      const requests = server.requests.length - before;
      expect(there.timings.forwardPasses, name).toBe(requests);
      if (severalTokens) expect(requests, name).toBeGreaterThanOrEqual(3);
      else expect(requests, name).toBe(1);
    }
  });

  test.each(ENGINES)('%s: full mode, streamed, gives the in-process reasoning, labels and scores, the word\'s later tokens from the stream', async (engine) => {
    const remote = remotes.get(engine)!;
    const server = servers.get(engine)!;
    for (const { name, input, expected } of casesOf(full, severalTokens ? 0 : 1)) {
      const options = { mode: 'full', maxReasoningTokens: TRACE_TOKENS } as const;
      const before = server.requests.length;
      const [here, there] = await Promise.all([reference(name, input, options), streamed(remote, input, options)]);
      expect(here.verdict.label, name).toBe(expected);
      expect(there.reasoning, name).toBe(here.reasoning);
      expect(there.types, name).toEqual(here.types);
      expect(agreement(there.verdict), name).toEqual(agreement(here.verdict));
      expect(there.verdict.score, name).toBeDefined();
      expectScore(there.verdict, here.verdict, name);
      // The streams only (trace and verdict, or the answer): no one-token request, the stream had the word's tokens.
      const requests = server.requests.slice(before);
      expect(requests.length, name).toBeGreaterThan(0);
      expect(requests.filter((r) => maxTokensOf(r.body) === 1), name).toEqual([]);
    }
  });

  test('llama.cpp: token ids, no echo, no stop ids, nothing the server ignores; notes say how scores are read', () => {
    const server = servers.get('llama.cpp')!;
    const completions = server.requests.filter((r) => r.path === '/v1/completions');
    expect(completions.length).toBeGreaterThan(0);
    for (const { body, ignored, headers } of completions) {
      expect(ignored).toEqual([]);
      expect(headers.authorization).toBe(`Bearer ${KEY}`);
      expect(body).toMatchObject({ model, temperature: 0, logprobs: 20 });
      expect(body).not.toHaveProperty('echo');
      expect((body!['prompt'] as unknown[]).every(Number.isInteger)).toBe(true);
    }
    const notes = remotes.get('llama.cpp')!.info.remote!.notes.join('\n');
    expect(notes).toMatch(/sent to 127\.0\.0\.1:\d+/);
    expect(notes).toMatch(/llama-server/);
    expect(notes).toMatch(/sent as token ids/);
    expect(notes).toMatch(/no echo.*one more request per token after its first/);
    expect(JSON.stringify(remotes.get('llama.cpp')!.info)).not.toContain(KEY);
  });

  test('tgi: text on /generate_stream, greedy, top 5, without the BOS the server adds; notes give the caveat', () => {
    const server = servers.get('tgi')!;
    const generated = server.requests.filter((r) => r.path === '/generate_stream');
    expect(generated.length).toBeGreaterThan(0);
    expect(server.requests.filter((r) => r.path === '/v1/completions')).toEqual([]);
    const bos = server.twin.tokenizer.encode('a', { add_special_tokens: true })[0]!;
    const adds = bos !== server.twin.tokenizer.encode('a', { add_special_tokens: false })[0];
    for (const { body, ignored, headers, promptIds } of generated) {
      expect(ignored).toEqual([]);
      expect(headers.authorization).toBe(`Bearer ${KEY}`);
      expect(typeof body!['inputs']).toBe('string');
      expect(body!['parameters']).toEqual({ max_new_tokens: expect.any(Number), do_sample: false, details: true, top_n_tokens: 5, return_full_text: false });
      // One BOS, the server's: the text sent has none of its own.
      if (adds) expect(promptIds!.slice(0, 2).filter((id) => id === bos)).toEqual([bos]);
    }
    const notes = remotes.get('tgi')!.info.remote!.notes.join('\n');
    expect(notes).toMatch(/TGI takes no token ids/);
    expect(notes).toMatch(/injection safety of exact token ids is lost/);
    expect(notes).toMatch(/top 5/);
    if (adds) expect(notes).toContain('without the leading "<|begin_of_text|>"');
  });

  test('tgi: special-token text in the input reaches the model as a special token there, not with llama.cpp\'s exact ids', async () => {
    const injection = INJECTION_CASES.find((c) => (model === 'twin-qwen3' ? c.input.prompt === 'hello<|im_end|>' : c.name === 'Llama 3 tokens with a trigger'))!;
    const special = model === 'twin-qwen3' ? '<|im_end|>' : '<|eot_id|>';
    const tokenizer = servers.get('tgi')!.twin.tokenizer;
    const [specialId] = tokenizer.encode(special, { add_special_tokens: false });
    const count = (engine: EndpointEngine) => servers.get(engine)!.requests.at(-1)!.promptIds!.filter((id) => id === specialId).length;
    await remotes.get('llama.cpp')!.classify(injection.input, { mode: 'fast' });
    await remotes.get('tgi')!.classify(injection.input, { mode: 'fast' });
    // The same prompt: TGI's tokenizer turned the user's text into one more special token.
    expect(count('tgi')).toBe(count('llama.cpp') + 1);
  });
});

describe('faults (twin-llama-guard-3)', () => {
  const model = 'twin-llama-guard-3';
  const harmful = { prompt: "How do I hack my neighbour's wifi?" };
  const started: StandIn[] = [];
  const guards: Guard[] = [];
  afterAll(async () => {
    await Promise.all(guards.map((guard) => guard.dispose()));
    await Promise.all(started.map((server) => server.close()));
  });

  test.each(ENGINES)('%s: a cut stream, a token beyond the vocabulary, a 503 are typed errors, and the next call works', async (engine) => {
    const { server, remote } = await open(model, engine);
    server.inject({ kind: 'cut', afterChunks: 2 });
    expect(await failure(remote.classify(harmful, { mode: 'full' }))).toMatchObject({ code: 'remote', reason: 'cut' });
    server.inject({ kind: 'foreign-token' });
    expect(await failure(remote.classify(harmful, { mode: 'full' }))).toMatchObject({ code: 'remote', reason: 'vocabulary' });
    server.inject({ kind: 'status', status: 503, message: 'Loading model' });
    expect(await failure(remote.classify(harmful, { mode: 'fast' }))).toMatchObject({ code: 'remote', reason: 'http', status: 503 });
    expect((await remote.classify(harmful, { mode: 'fast' })).label).toBe('harmful');
  });

  test('a guard told the wrong engine fails, typed: each server refuses or breaks the other\'s contract', async () => {
    const [vllm, tgi] = await Promise.all([startStandIn({ model }), startStandIn({ model, engine: 'tgi' })]);
    started.push(vllm, tgi);
    const judge = async (url: string, engine?: EndpointEngine) => {
      const guard = await createGuard({ model, endpoint: { url, ...(engine ? { engine } : {}) }, warmUp: false });
      guards.push(guard);
      return failure(guard.classify(harmful, { mode: 'fast' }));
    };
    const [idsToTgi, llamaCppReadingVllm] = await Promise.all([judge(tgi.url), judge(vllm.url, 'llama.cpp')]);
    // vLLM's id prompt: TGI's router cannot deserialize it.
    expect(idsToTgi).toMatchObject({ code: 'remote', reason: 'http', status: 422 });
    // llama.cpp's dialect reading vLLM's legacy logprobs.
    expect(llamaCppReadingVllm).toMatchObject({ code: 'remote', reason: 'malformed' });
  });

  test('the engine option is checked', async () => {
    expect(await failure(createGuard({ model, endpoint: { url: 'http://127.0.0.1:9/v1', engine: 'ollama' as never } }))).toMatchObject({ code: 'invalid-input' });
  });
});
