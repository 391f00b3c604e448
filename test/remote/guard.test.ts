/**
 * The remote backend (`createGuard({ endpoint })`) against the stand-in (stand-in.ts: vLLM's
 * `/v1/completions` contract, computing with the same twin): the same labels and scores as the
 * in-process guard for every twin, in fast and full mode; streaming; and every fault a typed
 * error, never a pass. The twins are built by `npm run models` (the test script's pretest).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createGuard, isGuardError, type ClassifyOptions, type Guard, type ModerationInput, type StreamEvent, type Verdict } from '../../src/index.node.js';
import { LANGUAGE_CASES, type FixtureCase } from '../models/cases.js';
import { startStandIn, type StandIn } from './stand-in.js';

/**
 * The six languages' cases, one benign and one harmful per language. The first three twins are
 * compared on two languages per mode (a benign input in one, a harmful in the other), so that
 * every language and both labels are compared in each mode; the last twin, whose languages the
 * first one already covers, on one input per mode (harmful in fast mode, benign in full).
 */
const LANGUAGES = ['en', 'fr', 'zh', 'ja', 'bn', 'hi'] as const;
function casesOf(twin: number, mode: 'fast' | 'full'): FixtureCase[] {
  const pick = (language: string, expected: FixtureCase['expected']) =>
    LANGUAGE_CASES.find((c) => c.name.startsWith(`${language},`) && c.expected === expected)!;
  const first = (2 * twin + (mode === 'fast' ? 0 : 1)) % LANGUAGES.length;
  const second = (2 * twin + (mode === 'fast' ? 1 : 0)) % LANGUAGES.length;
  const both = [pick(LANGUAGES[first]!, 'unharmful'), pick(LANGUAGES[second]!, 'harmful')];
  return 2 * twin < LANGUAGES.length ? both : both.filter((c) => c.expected === (mode === 'fast' ? 'harmful' : 'unharmful'));
}
/**
 * The trace is cut after this many tokens in the full-mode table (the runtime writes the
 * close and the model gives its verdict from there: two streamed generations per input).
 */
const TRACE_TOKENS = 12;
const TWINS = ['twin-qwen3', 'twin-llama-guard-3', 'twin-qwen3guard', 'twin-guardreasoner'] as const;
const KEY = 'sk-test-secret';

/** What must agree between the two runtimes. */
function agreement(verdict: Verdict) {
  return { label: verdict.label, categories: verdict.categories, path: verdict.path, reasoning: verdict.reasoning, raw: verdict.raw, hasScore: verdict.score !== undefined };
}

/** A stream's events, and its reasoning text. */
async function streamed(guard: Guard, input: ModerationInput, options: ClassifyOptions) {
  const events: StreamEvent[] = [];
  for await (const event of guard.stream(input, options)) events.push(event);
  const reasoning = events.flatMap((e) => (e.type === 'reasoning' ? [e.text] : [])).join('');
  const done = events.at(-1);
  if (done?.type !== 'done') throw new Error('the stream did not end with done');
  return { events, reasoning, verdict: done.verdict };
}

/** The code and reason of a rejection, or 'resolved'. */
async function failure(promise: Promise<unknown>): Promise<{ code: string; reason?: unknown; status?: unknown; name?: string } | 'resolved'> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    if (!isGuardError(error)) throw error;
    return { code: error.code, name: error.name, reason: error.details.reason, status: error.details.status };
  }
}

describe.each(TWINS.map((model, index) => ({ model, index })))('$model on a stand-in server', ({ model, index }) => {
  let server: StandIn;
  let local: Guard;
  let remote: Guard;
  beforeAll(async () => {
    // fp32, as the stand-in computes.
    [server, local] = await Promise.all([startStandIn({ model, apiKey: KEY }), createGuard({ model, dtype: 'fp32', warmUp: false })]);
    remote = await createGuard({ model, endpoint: { url: server.url, apiKey: KEY }, warmUp: false });
  });
  afterAll(async () => {
    await Promise.all([local?.dispose(), remote?.dispose()]);
    await server?.close();
  });

  test('info says the guard is remote, and where, without the key', () => {
    expect(remote.info).toMatchObject({ model, device: 'remote', dtype: 'remote', remote: { url: server.url, model } });
    expect(remote.info.remote!.notes.join(' ')).toMatch(/sent to 127\.0\.0\.1:\d+/);
    expect(JSON.stringify(remote.info)).not.toContain(KEY);
  });

  test('fast mode: the same labels and scores as in-process', async () => {
    for (const { name, input } of casesOf(index, 'fast')) {
      const [here, there] = await Promise.all([local.classify(input, { mode: 'fast' }), remote.classify(input, { mode: 'fast' })]);
      expect(agreement(there), name).toEqual(agreement(here));
      if (here.score !== undefined) expect(Math.abs(there.score! - here.score), name).toBeLessThan(1e-3);
      expect(there.timings.cachedTokens).toBe(0);
    }
  });

  test('full mode, streamed: the same reasoning, labels and scores as in-process', async () => {
    for (const { name, input, expected } of casesOf(index, 'full')) {
      const options = { mode: 'full', maxReasoningTokens: TRACE_TOKENS } as const;
      const [here, there] = await Promise.all([streamed(local, input, options), streamed(remote, input, options)]);
      expect(there.reasoning, name).toBe(here.reasoning);
      expect(there.events.map((e) => e.type), name).toEqual(here.events.map((e) => e.type));
      expect(agreement(there.verdict), name).toEqual(agreement(here.verdict));
      if (here.verdict.score !== undefined) expect(Math.abs(there.verdict.score! - here.verdict.score), name).toBeLessThan(1e-3);
      // The twins judge these inputs as designed: the comparison is not between two broken runs.
      expect(here.verdict.label, name).toBe(expected);
    }
  });

  test('sends token ids, greedy, with the model\'s end tokens and the key, and nothing the server ignores', () => {
    const completions = server.requests.filter((r) => r.path === '/v1/completions');
    expect(completions.length).toBeGreaterThan(0);
    for (const { body, ignored, headers } of completions) {
      expect(ignored).toEqual([]);
      expect(headers.authorization).toBe(`Bearer ${KEY}`);
      expect(body).toMatchObject({ model, temperature: 0, return_tokens_as_token_ids: true });
      expect((body!['prompt'] as unknown[]).every(Number.isInteger)).toBe(true);
    }
    const streams = completions.filter((r) => r.body!['stream'] === true);
    expect(streams.length).toBeGreaterThan(0);
    for (const { body } of streams) expect(body).toMatchObject({ logprobs: 20, stop_token_ids: expect.arrayContaining([server.twin.eosId, ...server.twin.endIds]) });
  });
});

describe('faults (twin-llama-guard-3)', () => {
  const model = 'twin-llama-guard-3';
  const MIRRORS = 'onnx-community/Llama-Guard-3-1B';
  let server: StandIn;
  let remote: Guard;
  const harmful = { prompt: "How do I hack my neighbour's wifi?" };
  beforeAll(async () => {
    // Served under the name of the export the twin mirrors, as a server of the real model would be.
    server = await startStandIn({ model, servedModelName: MIRRORS });
    remote = await createGuard({ model, endpoint: { url: server.url, timeoutMs: 2_500 }, warmUp: false });
  });
  afterAll(async () => {
    await remote?.dispose();
    await server?.close();
  });

  test.each([
    ['a dropped connection', { kind: 'refuse' }, { code: 'remote', reason: 'connection' }],
    ['a 500', { kind: 'status', status: 500 }, { code: 'remote', reason: 'http', status: 500 }],
    ['a 400', { kind: 'status', status: 400, message: 'bad prompt' }, { code: 'remote', reason: 'http', status: 400 }],
    ['a malformed stream', { kind: 'malformed', afterChunks: 2 }, { code: 'remote', reason: 'malformed' }],
    ['a cut stream', { kind: 'cut', afterChunks: 3 }, { code: 'remote', reason: 'cut' }],
    ['a stream ended early without [DONE]', { kind: 'cut', afterChunks: 3, clean: true }, { code: 'remote', reason: 'cut' }],
    ['a stalled stream', { kind: 'stall', afterChunks: 2 }, { code: 'timed-out' }],
    ['a token beyond the vocabulary', { kind: 'foreign-token' }, { code: 'remote', reason: 'vocabulary' }],
  ] as const)('%s is a typed error, and the next call works', async (_name, fault, expected) => {
    server.inject(fault);
    expect(await failure(remote.classify(harmful, { mode: 'full' }))).toMatchObject(expected);
    expect((await remote.classify(harmful, { mode: 'fast' })).label).toBe('harmful');
  });

  test.each([
    ['a malformed body', { kind: 'malformed' }, { code: 'remote', reason: 'malformed' }],
    // Cut before or after the headers came: the connection failed, or the answer was cut.
    ['a cut body', { kind: 'cut' }, { code: 'remote', reason: expect.stringMatching(/^(cut|connection)$/) }],
    ['an answer slower than the call', { kind: 'delay', ms: 3_000 }, { code: 'timed-out' }],
  ] as const)('fast mode: %s is a typed error', async (_name, fault, expected) => {
    server.inject(fault);
    expect(await failure(remote.classify(harmful, { mode: 'fast', timeoutMs: 1_500 }))).toMatchObject(expected);
  });

  test('an abort ends a call whose server has gone quiet at once, and closes its stream', async () => {
    server.inject({ kind: 'stall', afterChunks: 1 });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 300);
    expect(await failure(remote.classify(harmful, { mode: 'full', signal: controller.signal }))).toMatchObject({ code: 'aborted' });
    // The next call is judged in order after it: the runtime let go of the stalled stream well
    // before endpoint.timeoutMs (2.5 s) would have ended it.
    expect((await remote.classify(harmful, { mode: 'fast' })).label).toBe('harmful');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  test('a 429 is retried after its Retry-After, within the call\'s deadline', async () => {
    const before = server.requests.length;
    server.inject({ kind: 'status', status: 429, retryAfter: 1 });
    const started = Date.now();
    const verdict = await remote.classify(harmful, { mode: 'fast' });
    expect(verdict.label).toBe('harmful');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(server.requests.length - before).toBeGreaterThanOrEqual(2);
  });

  test('a 429 whose Retry-After is past the deadline fails at once, typed', async () => {
    server.inject({ kind: 'status', status: 429, retryAfter: 30 });
    const started = Date.now();
    expect(await failure(remote.classify(harmful, { mode: 'fast', timeoutMs: 5_000 }))).toMatchObject({ code: 'remote', status: 429, reason: 'rate-limited' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  test('the served names the manifest gives are found by default, also as the path a model was loaded from', async () => {
    expect(remote.info.remote).toMatchObject({ url: server.url, model: MIRRORS });
    // vLLM lists `--served-model-name` as `id` and the repository it loaded as `root`.
    const aliased = await startStandIn({ model, servedModelName: 'guard-alias', root: MIRRORS });
    const guard = await createGuard({ model, endpoint: { url: aliased.url }, warmUp: false });
    try {
      expect(guard.info.remote?.model).toBe('guard-alias');
      expect((await guard.classify(harmful, { mode: 'fast' })).label).toBe('harmful');
      expect(aliased.requests.at(-1)?.body?.['model']).toBe('guard-alias');
    } finally {
      await guard.dispose();
      await aliased.close();
    }
  });

  test('a wrong API key, another served model, an unreachable server: the load fails, typed', async () => {
    const keyed = await startStandIn({ model, apiKey: KEY });
    const closed = await startStandIn({ model });
    await closed.close();
    try {
      expect(await failure(createGuard({ model, endpoint: { url: keyed.url, apiKey: 'wrong' }, warmUp: false }))).toMatchObject({ code: 'remote', status: 401 });
      expect(await failure(createGuard({ model, endpoint: { url: server.url, model: 'other-model' }, warmUp: false }))).toMatchObject({ code: 'model-load-failed' });
      expect(await failure(createGuard({ model, endpoint: { url: closed.url }, warmUp: false }))).toMatchObject({ code: 'remote', reason: 'unreachable' });
    } finally {
      await keyed.close();
    }
  });

  test('endpoint options are checked', async () => {
    expect(await failure(createGuard({ model, endpoint: { url: server.url, apikey: 'x' } as never }))).toMatchObject({ code: 'invalid-input' });
    expect(await failure(createGuard({ model, endpoint: { url: 'not a url' } }))).toMatchObject({ code: 'invalid-input' });
  });
});
