/**
 * The AI SDK middleware with the real guard (fixture model, in-process) and the SDK's own mock
 * model: blocks and passes, for generateText and streamText, before and after the model.
 */
import { generateText, streamText, wrapLanguageModel, type LanguageModel } from 'ai';
import { convertArrayToReadableStream, MockLanguageModelV3 } from 'ai/test';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createGuard, type Guard } from '../src/index.node.js';
import {
  guardMiddleware,
  isGuardBlockedError,
  readGuardMetadata,
  type GuardMiddlewareOptions,
} from '../src/ai-sdk.js';
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

function guarded(model: MockLanguageModelV3, options: Partial<GuardMiddlewareOptions> = {}): LanguageModel {
  return wrapLanguageModel({ model, middleware: guardMiddleware({ guard, ...options }) });
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
