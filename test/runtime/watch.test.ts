/**
 * `guard.watch()` in Node, on every family that judges responses: each check judges exactly
 * what a from-scratch `classify()` of the same prompt and answer so far judges (same label,
 * same score), while it costs only the new text plus the family's closing text (counted
 * tokens); a watch blocks at the first harmful check and judges nothing after it; a benign
 * answer passes every check and the final one. Also through the worker protocol (a
 * MessageChannel, as in a browser worker).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { endpointConnection } from '../../src/connection.js';
import { openGuard } from '../../src/guard.js';
import { createGuard, isGuardError, type Guard, type WatchCheck, type WatchEvent } from '../../src/index.node.js';
import { MIDWAY_HARMFUL } from '../../models/build/lexicon.js';
import { GuardRuntime } from '../../worker/runtime.js';
import { exposeRuntime } from '../../worker/expose.js';
import { ensureFixtures } from '../models/ensure-fixtures.js';

const PROMPT = 'Tell me about baking bread.';
/** Twenty benign sentences, pushed one at a time. */
const BENIGN = Array.from({ length: 20 }, (_, i) => `Step ${i + 1}: mix the flour with warm water and a pinch of salt. `);
/** Harmful in its third sentence only (a trigger word of every test model). */
const TURNS_HARMFUL = [
  'Bread needs flour and water. ',
  'Knead the dough for ten minutes. ',
  'Then build a bomb in the oven. ',
  'Bake it for half an hour. ',
  'Let it cool before slicing. ',
];

/** The models, one per family that judges responses. */
const MODELS = ['fixture-consistentguard', 'twin-qwen3', 'fixture-guardreasoner', 'twin-llama-guard-3', 'twin-qwen3guard'];

/** Forty judgements on a twin, on a machine whose cores other work shares. */
const SLOW_MS = 300_000;

/** Pushes `sentences` one by one, letting each check finish before the next push. */
async function pushAll(watch: ReturnType<Guard['watch']>, sentences: readonly string[]): Promise<void> {
  for (const sentence of sentences) {
    watch.push(sentence);
    await watch.settled();
  }
}

describe.each(MODELS)('%s', (model) => {
  let guard: Guard;
  beforeAll(async () => {
    if (model.startsWith('twin-')) ensureFixtures('--only', model);
    guard = await createGuard({ model, warmUp: false });
  });
  afterAll(() => guard.dispose());

  /** What a from-scratch judgement of the answer's first `end` characters says. */
  const fromScratch = (text: string, check: WatchCheck) =>
    guard.classify({ prompt: PROMPT, response: text.slice(0, check.end) }, { mode: 'fast' });

  test('a benign answer passes every check; each check is a from-scratch verdict at a fraction of its cost', async () => {
    const watch = guard.watch({ prompt: PROMPT });
    await pushAll(watch, BENIGN);
    const result = await watch.end();
    expect(result.blocked).toBe(false);
    // A check at each sentence end (the last one is known to end only at end()), then the final one.
    expect(result.checks.map((check) => check.final)).toEqual([...Array<boolean>(19).fill(false), true]);
    expect(result.checks.at(-1)?.end).toBe(BENIGN.join('').length);
    let incremental = 0;
    let scratch = 0;
    for (const check of result.checks) {
      const reference = await fromScratch(result.text, check);
      expect(check.verdict.label).toBe('unharmful');
      expect(check.verdict.blocked).toBe(false);
      expect(check.verdict.path).toBe('fast');
      expect(check.verdict.label).toBe(reference.label);
      if (reference.score !== undefined) expect(check.verdict.score).toBeCloseTo(reference.score, 4);
      incremental += check.verdict.timings.forwardTokens!;
      scratch += reference.timings.forwardTokens!;
    }
    // Counted tokens: each check feeds the new sentence and the family's closing text only.
    expect(incremental).toBeLessThan(0.5 * scratch);
    for (const check of result.checks.slice(1)) expect(check.verdict.timings.cachedTokens).toBeGreaterThan(result.checks[0]!.verdict.timings.cachedTokens!);
    expect(watch.passed).toBe(result.text.length);
  }, SLOW_MS);

  test('the designed answer that turns harmful midway is blocked at its third sentence', async () => {
    const { prompt, sentences } = MIDWAY_HARMFUL;
    const watch = guard.watch({ prompt });
    await pushAll(watch, sentences);
    const result = await watch.end();
    expect(result.blocked).toBe(true);
    expect(result.checks.map((check) => [check.verdict.label, check.final])).toEqual([
      ['unharmful', false],
      ['unharmful', false],
      ['harmful', true],
    ]);
    expect(result.blockedAt?.end).toBe(sentences.join('').length);
  });

  test('blocks at the first harmful check and judges nothing after it', async () => {
    const watch = guard.watch({ prompt: PROMPT });
    const events: WatchEvent[] = [];
    const collected = (async () => {
      for await (const event of watch) events.push(event);
    })();
    await pushAll(watch, TURNS_HARMFUL);
    const result = await watch.end();
    await collected;
    const third = TURNS_HARMFUL.slice(0, 3).join('').trimEnd().length;
    expect(result.blocked).toBe(true);
    expect(result.checks.map((check) => check.verdict.label)).toEqual(['unharmful', 'unharmful', 'harmful']);
    expect(result.blockedAt?.end).toBe(third);
    expect(result.blockedAt?.final).toBe(false);
    expect(watch.blocked).toBe(true);
    expect(watch.passed).toBe(TURNS_HARMFUL.slice(0, 2).join('').trimEnd().length);
    const reference = await fromScratch(result.text, result.blockedAt!);
    expect(reference.label).toBe('harmful');
    // Pushes after the block are not judged; the iterator saw each check, then the end.
    watch.push('More text. And more. ');
    await watch.settled();
    expect(watch.checks).toHaveLength(3);
    expect(events.map((event) => event.type)).toEqual(['check', 'check', 'check', 'done']);
  });
});

describe('fixture-consistentguard: scheduling, tokenization, options', () => {
  let guard: Guard;
  beforeAll(async () => {
    guard = await createGuard({ model: 'fixture-consistentguard', warmUp: false });
  });
  afterAll(() => guard.dispose());

  test('text that arrives during a check is judged in one check at its latest boundary', async () => {
    const watch = guard.watch({ prompt: PROMPT });
    for (const sentence of BENIGN) watch.push(sentence);
    const result = await watch.end();
    // One check started at the first boundary seen (the first push that completed a sentence
    // started it at once), the rest coalesced: far fewer checks than sentences.
    expect(result.checks.length).toBeLessThanOrEqual(3);
    expect(result.checks.at(-1)?.final).toBe(true);
    expect(result.blocked).toBe(false);
  });

  test('checkEvery { chars } checks at the last space before every n characters', async () => {
    const watch = guard.watch({ prompt: PROMPT }, { checkEvery: { chars: 100 } });
    await pushAll(watch, BENIGN.slice(0, 5));
    const result = await watch.end();
    const ends = result.checks.filter((check) => !check.final).map((check) => check.end);
    expect(ends.length).toBeGreaterThanOrEqual(2);
    for (const [i, end] of ends.entries()) {
      expect(end - (ends[i - 1] ?? 0)).toBeLessThanOrEqual(100);
      expect(result.text[end]).toMatch(/\s/);
    }
  });

  test('the final check can be reasoned: it gives the trace', async () => {
    const watch = guard.watch({ prompt: PROMPT }, { finalMode: 'full' });
    await pushAll(watch, BENIGN.slice(0, 3));
    const result = await watch.end();
    expect(result.checks.slice(0, -1).every((check) => check.verdict.reasoning === '')).toBe(true);
    expect(result.verdict?.path).toBe('reasoned');
    expect(result.verdict?.reasoning).not.toBe('');
    expect(result.verdict?.label).toBe('unharmful');
  });

  test('abort() stops the watch: end() rejects with AbortedError and nothing more is judged', async () => {
    const watch = guard.watch({ prompt: PROMPT });
    await pushAll(watch, BENIGN.slice(0, 3));
    watch.abort();
    watch.push('More. Text. ');
    const error = await watch.end().catch((e: unknown) => e);
    expect(isGuardError(error, 'aborted')).toBe(true);
    expect(watch.checks).toHaveLength(2);
    const signalled = new AbortController();
    const second = guard.watch({ prompt: PROMPT }, { signal: signalled.signal });
    signalled.abort();
    expect(isGuardError(await second.end().catch((e: unknown) => e), 'aborted')).toBe(true);
  });

  test('bad input and options are InvalidInputErrors', async () => {
    expect(() => guard.watch({ prompt: PROMPT }, { every: 'sentence' } as never)).toThrow(/unknown key "every"/);
    expect(() => guard.watch({ prompt: PROMPT }, { checkEvery: { chars: 0 } })).toThrow(/checkEvery/);
    expect(() => guard.watch({ prompt: PROMPT, response: 'x' } as never)).toThrow(/push/);
    expect(() => guard.watch({ prompt: PROMPT }, { mode: 'auto', confidence: { low: 0.6, high: 0.4 } })).toThrow(/low/);
    const watch = guard.watch(PROMPT);
    expect(() => watch.push(42 as never)).toThrow(/string/);
    watch.push('  ');
    // Nothing but spaces: nothing to judge, no check (a guard rejects empty text).
    expect(await watch.end()).toEqual({ blocked: false, checks: [], text: '  ' });
    expect(() => watch.push('late')).toThrow(/after end/);
  });
});

describe('twin-qwen3 (the real Qwen3 tokenizer): chunks cut anywhere', () => {
  let guard: Guard;
  beforeAll(async () => {
    ensureFixtures('--only', 'twin-qwen3');
    guard = await createGuard({ model: 'twin-qwen3', warmUp: false });
  });
  afterAll(() => guard.dispose());

  test('chunks that split words, and text that changes how earlier tokens merge, still give from-scratch verdicts', async () => {
    const answer = 'Bread needs flour, water and salt.\n\nKnead it well. Then it rests!!! Bake it hot.<|im_end|> Done now. Enjoy it warm.';
    const watch = guard.watch({ prompt: PROMPT }, { checkEvery: { chars: 7 } });
    for (let at = 0; at < answer.length; at += 3) {
      watch.push(answer.slice(at, at + 3));
      await watch.settled();
    }
    const result = await watch.end();
    expect(result.text).toBe(answer);
    expect(result.checks.length).toBeGreaterThan(10);
    for (const check of result.checks) {
      const reference = await guard.classify({ prompt: PROMPT, response: answer.slice(0, check.end) }, { mode: 'fast' });
      expect(check.verdict.label).toBe(reference.label);
      expect(check.verdict.score).toBeCloseTo(reference.score!, 4);
      expect(check.verdict.timings.promptTokens).toBe(reference.timings.promptTokens);
    }
  }, SLOW_MS);
});

describe('through the worker protocol (a MessageChannel)', () => {
  let guard: Guard;
  beforeAll(async () => {
    guard = await openGuard(() => {
      const runtime = new GuardRuntime({ readText: (path) => Promise.resolve(readFileSync(path, 'utf8')), localModelRoot: process.cwd(), isNode: true });
      const { port1, port2 } = new MessageChannel();
      exposeRuntime(runtime, port1);
      return endpointConnection(port2, { watch: () => undefined, terminate: () => { port1.close(); port2.close(); } });
    }, { model: 'fixture-consistentguard', warmUp: false }, { localModelRoot: process.cwd() });
  });
  afterAll(() => guard.dispose());

  test('a watch blocks at the harmful sentence, with incremental checks', async () => {
    const watch = guard.watch({ prompt: PROMPT });
    await pushAll(watch, TURNS_HARMFUL);
    const result = await watch.end();
    expect(result.blocked).toBe(true);
    expect(result.checks.map((check) => check.verdict.label)).toEqual(['unharmful', 'unharmful', 'harmful']);
    const [first, second] = result.checks;
    expect(second!.verdict.timings.cachedTokens).toBeGreaterThan(first!.verdict.timings.cachedTokens!);
  });
});
