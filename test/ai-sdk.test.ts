/**
 * The AI SDK middleware with the real guard (fixture model, in-process) and the SDK's own mock
 * model: blocks and passes, for generateText and streamText, before and after the model; then
 * the same on every twin of a real export; then `checkResponse: 'stream'`, the answer judged
 * while it streams, on a fixture and a twin.
 */
import { generateText, streamText, wrapLanguageModel, type LanguageModel } from 'ai';
import { convertArrayToReadableStream, MockLanguageModelV3, simulateReadableStream } from 'ai/test';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { MIDWAY_HARMFUL } from '../models/build/lexicon.js';
import { createGuard, isGuardError, type Guard, type ResponseWatch } from '../src/index.node.js';
import {
  guardMiddleware,
  isGuardBlockedError,
  readGuardMetadata,
  type GuardMiddlewareOptions,
} from '../src/ai-sdk.js';
import { TWINS } from './cli/twin-cases.js';
import { ensureFixtures } from './models/ensure-fixtures.js';

const HARMFUL = "How do I hack my neighbour's wifi?";
const BENIGN = 'What skills does a good nurse need?';
const REPLACEMENT = 'Sorry, I cannot help with that.';

let guard: Guard;
let malformed: Guard;
beforeAll(async () => {
  ensureFixtures();
  [guard, malformed] = await Promise.all([
    createGuard({ model: 'fixture-consistentguard', dtype: 'q4' }),
    createGuard({ model: 'fixture-malformed' }),
  ]);
}, 120_000);
afterAll(() => Promise.all([guard.dispose(), malformed.dispose()]));

type GenerateResult = Awaited<ReturnType<MockLanguageModelV3['doGenerate']>>;
type StreamPart = Awaited<ReturnType<MockLanguageModelV3['doStream']>>['stream'] extends ReadableStream<infer P> ? P : never;

const USAGE = {
  inputTokens: { total: 5, noCache: 5, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 4, text: 4, reasoning: 0 },
};

/** A mock model that answers `answer`, and records whether it was called. */
function mockModel(answer: string): MockLanguageModelV3 {
  const generated: GenerateResult = {
    content: [{ type: 'text', text: answer }],
    finishReason: { unified: 'stop', raw: 'stop' },
    usage: USAGE,
    warnings: [],
  };
  const parts: StreamPart[] = [
    { type: 'stream-start', warnings: [] },
    { type: 'text-start', id: 't' },
    ...answer.split(/(?<= )/).map((delta): StreamPart => ({ type: 'text-delta', id: 't', delta })),
    { type: 'text-end', id: 't' },
    { type: 'finish', usage: USAGE, finishReason: { unified: 'stop', raw: 'stop' } },
  ];
  return new MockLanguageModelV3({
    doGenerate: async () => generated,
    doStream: async () => ({ stream: convertArrayToReadableStream(parts) }),
  });
}

/** The fixture guard around `model`, reasoned (`mode: 'full'`): these tests read the traces. */
function guarded(model: MockLanguageModelV3, options: Partial<GuardMiddlewareOptions> = {}): LanguageModel {
  return wrapLanguageModel({ model, middleware: guardMiddleware({ guard, classifyOptions: { mode: 'full' }, ...options }) });
}

/** Runs streamText to the end: the text, the error it reported (if any), the metadata. */
async function streamAll(model: LanguageModel, prompt: string) {
  let error: unknown;
  const result = streamText({ model, prompt, onError: ({ error: e }) => void (error = e) });
  let text = '';
  for await (const delta of result.textStream) text += delta;
  const finishReason = await Promise.resolve(result.finishReason).catch(() => undefined);
  const metadata = readGuardMetadata(await Promise.resolve(result.providerMetadata).catch(() => undefined));
  return { text, error, finishReason, metadata };
}

describe('generateText', () => {
  test('passes a benign prompt, with the verdict and trace in providerMetadata', async () => {
    const model = mockModel('Patience, empathy and attention to detail.');
    const result = await generateText({ model: guarded(model), prompt: BENIGN });
    expect(result.text).toBe('Patience, empathy and attention to detail.');
    expect(model.doGenerateCalls).toHaveLength(1);
    const metadata = readGuardMetadata(result.providerMetadata);
    expect(metadata).toMatchObject({ blocked: false, prompt: { label: 'unharmful', model: 'fixture-consistentguard' } });
    expect(metadata?.prompt?.reasoning).toMatch(/ordinary request/);
    expect(metadata?.response).toBeUndefined();
    // Plain JSON: it survives structured cloning and serialization unchanged.
    expect(structuredClone(metadata)).toEqual(JSON.parse(JSON.stringify(metadata)));
  });

  test('blocks a harmful prompt with a typed error, and never calls the model', async () => {
    const model = mockModel('never');
    const error = await generateText({ model: guarded(model), prompt: HARMFUL, maxRetries: 0 }).catch((e: unknown) => e);
    expect(isGuardBlockedError(error)).toBe(true);
    if (!isGuardBlockedError(error)) return;
    expect(error.stage).toBe('prompt');
    expect(error.verdict).toMatchObject({ label: 'harmful', categories: [{ id: 'S2' }] });
    expect(error.verdict.reasoning).toMatch(/illegal act/);
    expect(model.doGenerateCalls).toHaveLength(0);
  });

  test('blocks with a replacement message instead, finish reason content-filter', async () => {
    const model = mockModel('never');
    const result = await generateText({ model: guarded(model, { onBlock: { replacement: REPLACEMENT } }), prompt: HARMFUL });
    expect(result.text).toBe(REPLACEMENT);
    expect(result.finishReason).toBe('content-filter');
    expect(readGuardMetadata(result.providerMetadata)).toMatchObject({ blocked: true, stage: 'prompt', prompt: { label: 'harmful' } });
    expect(model.doGenerateCalls).toHaveLength(0);
  });

  test('judges only the last user message of a conversation', async () => {
    const model = mockModel('Sure.');
    const result = await generateText({
      model: guarded(model),
      messages: [
        { role: 'user', content: HARMFUL },
        { role: 'assistant', content: 'I cannot help with that.' },
        { role: 'user', content: BENIGN },
      ],
    });
    expect(result.text).toBe('Sure.');
    expect(readGuardMetadata(result.providerMetadata)?.prompt?.label).toBe('unharmful');
  });

  test('checkResponse blocks a harmful answer to a benign prompt, and passes a benign one', async () => {
    const bad = await generateText({
      model: guarded(mockModel('First, build a bomb from these parts.'), { checkResponse: true, onBlock: { replacement: REPLACEMENT } }),
      prompt: BENIGN,
    });
    expect(bad.text).toBe(REPLACEMENT);
    expect(readGuardMetadata(bad.providerMetadata)).toMatchObject({
      blocked: true,
      stage: 'response',
      prompt: { label: 'unharmful' },
      response: { label: 'harmful' },
    });

    const error = await generateText({
      model: guarded(mockModel('First, build a bomb from these parts.'), { checkResponse: true }),
      prompt: BENIGN,
      maxRetries: 0,
    }).catch((e: unknown) => e);
    expect(isGuardBlockedError(error) && error.stage).toBe('response');

    const good = await generateText({ model: guarded(mockModel('Patience and empathy.'), { checkResponse: true }), prompt: BENIGN });
    expect(good.text).toBe('Patience and empathy.');
    expect(readGuardMetadata(good.providerMetadata)).toMatchObject({ blocked: false, response: { label: 'unharmful' } });
  });

  test("the guard's fail policy decides: unknown blocks by default, passes with the guard's onUnknown: 'allow'", async () => {
    const blocked = await generateText({
      model: wrapLanguageModel({ model: mockModel('Hi!'), middleware: guardMiddleware({ guard: malformed }) }),
      prompt: BENIGN,
      maxRetries: 0,
    }).catch((e: unknown) => e);
    expect(isGuardBlockedError(blocked) && blocked.verdict.label).toBe('unknown');

    // The middleware has no rule of its own: a guard that lets `unknown` pass is followed.
    const lenient = await createGuard({ model: 'fixture-malformed', onUnknown: 'allow' });
    try {
      const allowed = await generateText({
        model: wrapLanguageModel({ model: mockModel('Hi!'), middleware: guardMiddleware({ guard: lenient }) }),
        prompt: BENIGN,
      });
      expect(allowed.text).toBe('Hi!');
      expect(readGuardMetadata(allowed.providerMetadata)?.prompt).toMatchObject({ label: 'unknown', blocked: false });
    } finally {
      await lenient.dispose();
    }
  });

  test('a verdict that says nothing of blocked (a hand-made Guard) blocks: the middleware fails closed', async () => {
    const silent: Guard = {
      ...guard,
      info: guard.info,
      classify: async (input, options) => {
        const { blocked: _, ...verdict } = await guard.classify(input, options);
        return verdict;
      },
    };
    const error = await generateText({
      model: wrapLanguageModel({ model: mockModel('Hi!'), middleware: guardMiddleware({ guard: silent }) }),
      prompt: BENIGN,
      maxRetries: 0,
    }).catch((e: unknown) => e);
    expect(isGuardBlockedError(error) && error.verdict.label).toBe('unharmful');
  });

  test('a guard factory is called once, and a guard failure rejects the call (never a silent pass)', async () => {
    let made = 0;
    const model = wrapLanguageModel({
      model: mockModel('Hi!'),
      middleware: guardMiddleware({ guard: () => (made++, guard) }),
    });
    await generateText({ model, prompt: BENIGN });
    await generateText({ model, prompt: 'Hello there' });
    expect(made).toBe(1);

    const failing = wrapLanguageModel({
      model: mockModel('Hi!'),
      middleware: guardMiddleware({ guard: () => createGuard({ model: 'no-such-model' }) }),
    });
    const error = await generateText({ model: failing, prompt: BENIGN, maxRetries: 0 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'model-load-failed' });
  });
});

describe('streamText', () => {
  test('passes a benign prompt as it streams, with the metadata on finish', async () => {
    const model = mockModel('Patience, empathy and attention to detail.');
    const { text, error, metadata } = await streamAll(guarded(model), BENIGN);
    expect(error).toBeUndefined();
    expect(text).toBe('Patience, empathy and attention to detail.');
    expect(metadata).toMatchObject({ blocked: false, prompt: { label: 'unharmful' } });
  });

  test('blocks a harmful prompt with the typed error, and never calls the model', async () => {
    const model = mockModel('never');
    const { text, error } = await streamAll(guarded(model), HARMFUL);
    expect(text).toBe('');
    expect(isGuardBlockedError(error) && error.stage).toBe('prompt');
    expect(model.doStreamCalls).toHaveLength(0);
  });

  test('streams the replacement instead, with the verdict in the metadata', async () => {
    const model = mockModel('never');
    const { text, finishReason, metadata } = await streamAll(guarded(model, { onBlock: { replacement: REPLACEMENT } }), HARMFUL);
    expect(text).toBe(REPLACEMENT);
    expect(finishReason).toBe('content-filter');
    expect(metadata).toMatchObject({ blocked: true, stage: 'prompt', prompt: { label: 'harmful' } });
    expect(model.doStreamCalls).toHaveLength(0);
  });

  test('checkResponse holds the answer back: a harmful one never reaches the reader', async () => {
    const bad = await streamAll(
      guarded(mockModel('First, build a bomb from these parts.'), { checkResponse: true, onBlock: { replacement: REPLACEMENT } }),
      BENIGN,
    );
    expect(bad.text).toBe(REPLACEMENT);
    expect(bad.metadata).toMatchObject({ blocked: true, stage: 'response', response: { label: 'harmful' } });

    const thrown = await streamAll(guarded(mockModel('First, build a bomb from these parts.'), { checkResponse: true }), BENIGN);
    expect(thrown.text).toBe('');
    expect(isGuardBlockedError(thrown.error) && thrown.error.stage).toBe('response');

    const good = await streamAll(guarded(mockModel('Patience and empathy.'), { checkResponse: true }), BENIGN);
    expect(good.text).toBe('Patience and empathy.');
    expect(good.metadata).toMatchObject({ blocked: false, response: { label: 'unharmful' } });
  });
});

/** The reasoned path, explicitly: these tests compare categories and raw outputs, which the default (auto) leaves out of confident verdicts. */
const FULL = { mode: 'full' } as const;

describe.each(TWINS)('on $id (q4f16)', (twin) => {
  let twinGuard: Guard;
  beforeAll(async () => {
    twinGuard = await createGuard({ model: twin.id, dtype: 'q4f16', warmUp: false });
  }, 120_000);
  afterAll(() => twinGuard?.dispose());

  const wrapped = (model: MockLanguageModelV3, options: Partial<GuardMiddlewareOptions> = {}) =>
    wrapLanguageModel({ model, middleware: guardMiddleware({ guard: twinGuard, classifyOptions: FULL, ...options }) });

  test("a harmful prompt is blocked and a benign one passes, as the guard's own verdict.blocked says", async () => {
    const direct = await Promise.all([twinGuard.classify(HARMFUL, FULL), twinGuard.classify(BENIGN, FULL)]);
    expect(direct.map((v) => [v.label, v.blocked])).toEqual([['harmful', true], ['unharmful', false]]);

    const model = mockModel('never');
    const error = await generateText({ model: wrapped(model), prompt: HARMFUL, maxRetries: 0 }).catch((e: unknown) => e);
    expect(isGuardBlockedError(error)).toBe(true);
    if (!isGuardBlockedError(error)) return;
    expect(error.stage).toBe('prompt');
    expect(error.verdict).toMatchObject({ label: 'harmful', blocked: true, model: twin.id, raw: direct[0]?.raw });
    expect(error.verdict.categories.map((c) => c.id)).toEqual(twin.categories);
    expect(model.doGenerateCalls).toHaveLength(0);

    const passed = await generateText({ model: wrapped(mockModel('Patience and empathy.')), prompt: BENIGN });
    expect(passed.text).toBe('Patience and empathy.');
    expect(readGuardMetadata(passed.providerMetadata)).toMatchObject({ blocked: false, prompt: { label: 'unharmful', blocked: false, raw: direct[1]?.raw } });

    const streamed = await streamAll(wrapped(mockModel('never'), { onBlock: { replacement: REPLACEMENT } }), HARMFUL);
    expect(streamed.text).toBe(REPLACEMENT);
    expect(streamed.metadata).toMatchObject({ blocked: true, stage: 'prompt', prompt: { label: 'harmful' } });
  });

  test('checkResponse: a harmful answer is blocked and a benign one passes, as the guard decides for that very input', async () => {
    for (const [answer, label] of [['First, build a bomb from these parts.', 'harmful'], ['Patience and empathy.', 'unharmful']] as const) {
      const direct = await twinGuard.classify({ prompt: BENIGN, response: answer }, FULL);
      expect([direct.label, direct.blocked]).toEqual([label, label === 'harmful']);
      const result = await generateText({ model: wrapped(mockModel(answer), { checkResponse: true, onBlock: { replacement: REPLACEMENT } }), prompt: BENIGN });
      const metadata = readGuardMetadata(result.providerMetadata);
      expect(metadata?.response).toMatchObject({ label, blocked: direct.blocked, raw: direct.raw });
      expect([metadata?.blocked, metadata?.stage]).toEqual(direct.blocked ? [true, 'response'] : [false, undefined]);
      expect(result.text).toBe(direct.blocked ? REPLACEMENT : answer);
    }
  });
});

/** A stream the test writes part by part, and whether its reader cancelled it. */
function scriptedStream() {
  let controller!: ReadableStreamDefaultController<StreamPart>;
  const state = { cancelled: false };
  const stream = new ReadableStream<StreamPart>({
    start: (c) => void (controller = c),
    cancel: () => void (state.cancelled = true),
  });
  const send = (...parts: StreamPart[]) => {
    for (const part of parts) controller.enqueue(part);
  };
  return { stream, send, controller, state };
}

const deltas = (text: string, size: number): StreamPart[] =>
  Array.from({ length: Math.ceil(text.length / size) }, (_, i) => ({ type: 'text-delta', id: 't', delta: text.slice(i * size, (i + 1) * size) }));

const FINISH: StreamPart = { type: 'finish', usage: USAGE, finishReason: { unified: 'stop', raw: 'stop' } };

/** The answer of MIDWAY_HARMFUL (harmful in its third sentence), then more text after it. */
const [S0, S1, S2] = MIDWAY_HARMFUL.sentences as [string, string, string];
const BEFORE_HARM = S0 + S1;
const AFTER_HARM = ' Bake it for half an hour. Let it cool before slicing.';

describe.each([
  ['fixture-consistentguard', 'q4'],
  ['twin-qwen3', 'q4f16'],
] as const)("checkResponse: 'stream' on %s (%s)", (id, dtype) => {
  let base: Guard;
  /** `base`, recording every watch the middleware opens: the test reads how far each passed. */
  let recorded: Guard;
  const watches: ResponseWatch[] = [];
  beforeAll(async () => {
    if (id.startsWith('twin-')) ensureFixtures('--only', id);
    base = await createGuard({ model: id, dtype, warmUp: false });
    recorded = {
      info: base.info,
      classify: (input, options) => base.classify(input, options),
      explain: (input, options) => base.explain(input, options),
      stream: (input, options) => base.stream(input, options),
      dispose: () => base.dispose(),
      watch: (input, options) => {
        const watch = base.watch(input, options);
        watches.push(watch);
        return watch;
      },
    };
  }, 120_000);
  afterAll(() => base?.dispose());

  const middleware = (options: Partial<GuardMiddlewareOptions>) => guardMiddleware({ guard: recorded, checkResponse: 'stream', ...options });
  const streamModel = (stream: () => ReadableStream<StreamPart>) =>
    new MockLanguageModelV3({ doStream: async () => ({ stream: stream() }) });
  const userPrompt = [{ role: 'user' as const, content: [{ type: 'text' as const, text: MIDWAY_HARMFUL.prompt }] }];

  /**
   * Reads the middleware's own stream (what streamText gets), checking at every text part that
   * it is within what the watch passed: with 'stream', nothing unjudged is sent.
   */
  async function readGuarded(stream: ReadableStream<StreamPart>, held: boolean) {
    const parts: StreamPart[] = [];
    let text = '';
    for await (const part of stream) {
      parts.push(part);
      if (part.type !== 'text-delta' || part.id !== 't') continue;
      text += part.delta;
      if (held) expect(text.length).toBeLessThanOrEqual(watches.at(-1)!.passed);
    }
    return { parts, text };
  }

  /** What a reader may have been sent before a cut: nothing, or the text up to a check that passed. */
  const expectCutAtAPass = (text: string, watch: ResponseWatch) => {
    expect(BEFORE_HARM.startsWith(text)).toBe(true);
    expect([0, ...watch.checks.filter((check) => !check.verdict.blocked).map((check) => check.end)]).toContain(text.length);
  };

  test('paced like a model slower than the guard, the answer that turns harmful is cut after exactly the text before the harmful sentence, then the replacement', async () => {
    const direct = await base.classify({ prompt: MIDWAY_HARMFUL.prompt, response: S0 + S1 + S2 });
    expect([direct.label, direct.blocked]).toEqual(['harmful', true]);
    const upstream = scriptedStream();
    const wrapped = wrapLanguageModel({ model: streamModel(() => upstream.stream), middleware: middleware({ onBlock: { replacement: REPLACEMENT } }) });
    const { stream } = await wrapped.doStream({ prompt: userPrompt });
    const watch = watches.at(-1)!;
    const reading = readGuarded(stream, true);
    // Deltas cut mid-word, so a check's end falls inside a delta, which is split there; each
    // sentence's check lands before the model goes on.
    upstream.send({ type: 'stream-start', warnings: [] }, { type: 'text-start', id: 't' });
    for (const [from, to] of [[0, S0.length + 3], [S0.length + 3, BEFORE_HARM.length + 3]] as const) {
      upstream.send(...deltas((S0 + S1 + S2).slice(from, to), 7));
      await vi.waitFor(() => expect(watch.text.length).toBe(to));
      await watch.settled();
    }
    upstream.send(...deltas(S2.slice(3), 7), { type: 'text-end', id: 't' }, FINISH);
    upstream.controller.close();
    const { text, parts: out } = await reading;
    expect(text).toBe(BEFORE_HARM);
    expect(watch.checks.map((check) => [check.end, check.final, check.verdict.label])).toEqual([
      [S0.length, false, 'unharmful'],
      [BEFORE_HARM.length, false, 'unharmful'],
      [(S0 + S1 + S2).length, true, 'harmful'],
    ]);
    // The open text part is closed, then the replacement follows as its own part.
    expect(out.slice(-5).map((p) => p.type)).toEqual(['text-end', 'text-start', 'text-delta', 'text-end', 'finish']);
    expect(out.at(-3)).toMatchObject({ type: 'text-delta', delta: REPLACEMENT });
    const finish = out.at(-1) as Extract<StreamPart, { type: 'finish' }>;
    expect(finish.finishReason.unified).toBe('content-filter');
    const metadata = readGuardMetadata(finish.providerMetadata);
    expect(metadata).toMatchObject({ blocked: true, stage: 'response', prompt: { label: 'unharmful' }, response: { label: 'harmful', blocked: true } });
    expect(metadata?.responseChecks).toBe(3);
  });

  test('all at once, through streamText: the reader gets at most the text before the harmful sentence, then the replacement or the GuardBlockedError', async () => {
    const parts: StreamPart[] = [{ type: 'stream-start', warnings: [] }, { type: 'text-start', id: 't' }, ...deltas(S0 + S1 + S2, 5), { type: 'text-end', id: 't' }, FINISH];
    const model = streamModel(() => simulateReadableStream({ chunks: parts, initialDelayInMs: null, chunkDelayInMs: null }));
    const replaced = await streamAll(wrapLanguageModel({ model, middleware: middleware({ onBlock: { replacement: REPLACEMENT } }) }), MIDWAY_HARMFUL.prompt);
    expect(replaced.text.endsWith(REPLACEMENT)).toBe(true);
    expectCutAtAPass(replaced.text.slice(0, -REPLACEMENT.length), watches.at(-1)!);
    expect(replaced.finishReason).toBe('content-filter');

    const { text, error } = await streamAll(wrapLanguageModel({ model, middleware: middleware({}) }), MIDWAY_HARMFUL.prompt);
    expectCutAtAPass(text, watches.at(-1)!);
    expect(isGuardBlockedError(error)).toBe(true);
    if (!isGuardBlockedError(error)) return;
    expect([error.stage, error.verdict.label]).toEqual(['response', 'harmful']);
  });

  test('a block midway cancels the model: nothing after the harmful sentence reaches the reader', async () => {
    const upstream = scriptedStream();
    const wrapped = wrapLanguageModel({ model: streamModel(() => upstream.stream), middleware: middleware({ onBlock: { replacement: REPLACEMENT } }) });
    const { stream } = await wrapped.doStream({ prompt: userPrompt });
    const reading = readGuarded(stream, true);
    // The whole answer but its finish: the harmful sentence is followed by more, so a check
    // (not the final one) blocks while the model is still streaming.
    upstream.send({ type: 'stream-start', warnings: [] }, { type: 'text-start', id: 't' }, ...deltas(S0 + S1 + S2 + AFTER_HARM, 6));
    const { text, parts } = await reading;
    const watch = watches.at(-1)!;
    expectCutAtAPass(text, watch);
    expect(parts.at(-3)).toMatchObject({ type: 'text-delta', delta: REPLACEMENT });
    expect(upstream.state.cancelled).toBe(true);
    expect(watch.blocked).toBe(true);
    expect(watch.checks.at(-1)).toMatchObject({ final: false, verdict: { label: 'harmful' } });
    expect(watch.checks.at(-1)!.end).toBeGreaterThanOrEqual((S0 + S1 + S2).length);
  });

  test('a benign stream passes unchanged: the same text and parts in the same order, the finish after the last text', async () => {
    const answer = S0 + S1 + ' Dry it with a soft cloth.';
    const parts: StreamPart[] = [
      { type: 'stream-start', warnings: [] },
      { type: 'response-metadata', id: 'r', modelId: 'mock' },
      { type: 'reasoning-start', id: 'r1' },
      { type: 'reasoning-delta', id: 'r1', delta: 'The user wants cleaning tips.' },
      { type: 'reasoning-end', id: 'r1' },
      { type: 'text-start', id: 't' },
      ...deltas(S0 + S1, 9),
      { type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', input: '{"q":"oven"}' },
      ...deltas(' Dry it with a soft cloth.', 9),
      { type: 'text-end', id: 't' },
      FINISH,
    ];
    const model = streamModel(() => convertArrayToReadableStream(parts));
    const { stream } = await wrapLanguageModel({ model, middleware: middleware({}) }).doStream({ prompt: userPrompt });
    const { text, parts: out } = await readGuarded(stream, true);
    expect(text).toBe(answer);
    // Deltas may be split where a check ended; joined again, the parts are the model's own.
    const joined = out.reduce<StreamPart[]>((all, part) => {
      const last = all.at(-1);
      if (part.type === 'text-delta' && last?.type === 'text-delta') all[all.length - 1] = { ...last, delta: last.delta + part.delta };
      else all.push(part);
      return all;
    }, []);
    const joinedIn = parts.reduce<StreamPart[]>((all, part) => {
      const last = all.at(-1);
      if (part.type === 'text-delta' && last?.type === 'text-delta') all[all.length - 1] = { ...last, delta: last.delta + part.delta };
      else all.push(part);
      return all;
    }, []);
    expect(joined.slice(0, -1)).toEqual(joinedIn.slice(0, -1));
    const finish = out.at(-1) as Extract<StreamPart, { type: 'finish' }>;
    expect(finish).toMatchObject({ type: 'finish', finishReason: { unified: 'stop' }, usage: USAGE });
    const metadata = readGuardMetadata(finish.providerMetadata);
    expect(metadata).toMatchObject({ blocked: false, response: { label: 'unharmful', blocked: false } });
    expect(metadata?.responseChecks).toBe(watches.at(-1)!.checks.length);
    expect(watches.at(-1)!.checks.at(-1)).toMatchObject({ final: true, end: answer.length });

    const viaSdk = await streamAll(wrapLanguageModel({ model, middleware: middleware({}) }), MIDWAY_HARMFUL.prompt);
    expect(viaSdk.text).toBe(answer);
    expect(viaSdk.error).toBeUndefined();
  });

  test("'stream-first' sends text before its check, and still cuts the stream at the block", async () => {
    const upstream = scriptedStream();
    const wrapped = wrapLanguageModel({ model: streamModel(() => upstream.stream), middleware: middleware({ checkResponse: 'stream-first', onBlock: { replacement: REPLACEMENT } }) });
    const { stream } = await wrapped.doStream({ prompt: userPrompt });
    const reader = stream.getReader();
    upstream.send({ type: 'stream-start', warnings: [] }, { type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: S0 });
    const received: StreamPart[] = [];
    while (received.at(-1)?.type !== 'text-delta') received.push((await reader.read()).value!);
    // The first sentence is out while no check has run (its end is not known yet).
    expect(received.at(-1)).toMatchObject({ delta: S0 });
    expect(watches.at(-1)!.checks).toHaveLength(0);
    upstream.send(...deltas(S1 + S2 + AFTER_HARM, 6));
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received.push(value);
    }
    const sent = received.flatMap((p) => (p.type === 'text-delta' && p.id === 't' ? [p.delta] : [])).join('');
    // The weaker guarantee: what was sent before the block may hold the harmful part; the cut
    // comes at the block, the model is cancelled, and the replacement ends the answer.
    expect((S0 + S1 + S2 + AFTER_HARM).startsWith(sent)).toBe(true);
    expect(sent.length).toBeGreaterThanOrEqual(S0.length);
    expect(received.at(-3)).toMatchObject({ type: 'text-delta', delta: REPLACEMENT });
    expect(upstream.state.cancelled).toBe(true);
    expect(watches.at(-1)!.blocked).toBe(true);
  });

  test('the call aborted mid-stream ends the watch and cancels the model; a model error errors the stream', async () => {
    const upstream = scriptedStream();
    const abort = new AbortController();
    const wrapped = wrapLanguageModel({ model: streamModel(() => upstream.stream), middleware: middleware({}) });
    const { stream } = await wrapped.doStream({ prompt: userPrompt, abortSignal: abort.signal });
    const reading = readGuarded(stream, true).catch((e: unknown) => e);
    upstream.send({ type: 'stream-start', warnings: [] }, { type: 'text-start', id: 't' }, ...deltas(S0, 8));
    abort.abort();
    expect(isGuardError(await reading, 'aborted')).toBe(true);
    expect(upstream.state.cancelled).toBe(true);
    expect(isGuardError(await watches.at(-1)!.end().catch((e: unknown) => e), 'aborted')).toBe(true);

    const failing = scriptedStream();
    const second = wrapLanguageModel({ model: streamModel(() => failing.stream), middleware: middleware({}) });
    const { stream: failed } = await second.doStream({ prompt: userPrompt });
    const read = readGuarded(failed, true).catch((e: unknown) => e);
    failing.send({ type: 'stream-start', warnings: [] }, { type: 'text-start', id: 't' }, ...deltas(S0 + S1, 8));
    failing.controller.error(new Error('model went away'));
    expect(await read).toMatchObject({ message: 'model went away' });
    expect(isGuardError(await watches.at(-1)!.end().catch((e: unknown) => e), 'aborted')).toBe(true);

    // The reader going away cancels the model and the watch too.
    const left = scriptedStream();
    const third = wrapLanguageModel({ model: streamModel(() => left.stream), middleware: middleware({}) });
    const { stream: abandoned } = await third.doStream({ prompt: userPrompt });
    left.send({ type: 'stream-start', warnings: [] });
    await abandoned.cancel('gone');
    expect(left.state.cancelled).toBe(true);
    expect(isGuardError(await watches.at(-1)!.end().catch((e: unknown) => e), 'aborted')).toBe(true);
  });

  test("generateText with 'stream' judges the whole answer, as true does", async () => {
    const model = mockModel(S0 + S1 + S2);
    const result = await generateText({ model: wrapLanguageModel({ model, middleware: middleware({ onBlock: { replacement: REPLACEMENT } }) }), prompt: MIDWAY_HARMFUL.prompt });
    expect(result.text).toBe(REPLACEMENT);
    expect(readGuardMetadata(result.providerMetadata)).toMatchObject({ blocked: true, stage: 'response', response: { label: 'harmful' } });
  });
});

test("checkResponse and watchOptions are checked: a misspelt value is an error", () => {
  expect(() => guardMiddleware({ guard, checkResponse: 'streaming' as never })).toThrow(/checkResponse/);
  expect(() => guardMiddleware({ guard, checkResponse: 'stream', watchOptions: { every: 'sentence' } as never })).toThrow(/every/);
  expect(() => guardMiddleware({ guard, checkResponse: 'stream', watchOptions: { checkEvery: { chars: 0 } } })).toThrow(/checkEvery/);
  expect(() => guardMiddleware({ guard, watchOptions: { signal: new AbortController().signal } as never })).toThrow(/signal/);
  expect(() => guardMiddleware({ guard, classifyOptions: { mode: 'reasoned' as never } })).toThrow(/mode/);
  expect(() => guardMiddleware({ guard, checkResponse: 'stream', watchOptions: { checkEvery: { chars: 80 }, mode: 'fast', finalMode: 'full' } })).not.toThrow();
});
