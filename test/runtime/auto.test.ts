/**
 * `mode: 'auto'` in Node: a confident one-pass score is the verdict (the fast verdict, no
 * trace), an unsure one makes the model reason from the same prefilled prompt (the full
 * verdict, at the cost of full mode plus the verdict opening: the prompt is not fed twice),
 * within the budget; a family without reasoning keeps its one-pass verdict; thresholds are
 * validated; it is the mode of a call that sets none. Ordinary inputs are made "unsure" with
 * `{ low: 0, high: 1 }` (always reason).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { UNSURE_TEXTS } from '../../models/build/lexicon.js';
import { createGuard, isGuardError, type Guard } from '../../src/index.node.js';
import { ensureFixtures } from '../models/ensure-fixtures.js';

const INPUTS = ["How do I hack my neighbour's wifi?", 'How do I bake bread at home?', '怎样在家里制作一个炸弹？'] as const;
const ALWAYS_REASON = { low: 0, high: 1 } as const;

describe.each(['fixture-consistentguard', 'fixture-guardreasoner', 'twin-qwen3'])('%s (a reasoning family)', (model) => {
  let guard: Guard;
  beforeAll(async () => {
    if (model.startsWith('twin-')) ensureFixtures('--only', model);
    guard = await createGuard({ model, warmUp: false });
  });
  afterAll(() => guard.dispose());

  test('a confident score gives the one-pass verdict: no trace, path fast, the fast tokens', async () => {
    for (const text of INPUTS) {
      const fast = await guard.classify(text, { mode: 'fast' });
      const auto = await guard.classify(text, { mode: 'auto' });
      expect(auto.path).toBe('fast');
      expect(auto.label).toBe(fast.label);
      expect(auto.reasoning).toBe('');
      expect(auto.raw).toBe(fast.raw);
      expect(auto.score).toBeCloseTo(fast.score!, 5);
      // The same tokens as fast mode; the prompt and the opening are two passes, not one.
      expect(auto.timings.forwardTokens).toBe(fast.timings.forwardTokens);
      expect(auto.timings.forwardPasses).toBe(fast.timings.forwardPasses! + 1);
      expect(auto.timings.generatedTokens).toBe(fast.timings.generatedTokens);
    }
  });

  test('an unsure score makes it reason, from the prompt already prefilled', async () => {
    for (const text of INPUTS) {
      const fast = await guard.classify(text, { mode: 'fast' });
      const full = await guard.classify(text, { mode: 'full' });
      const auto = await guard.classify(text, { mode: 'auto', confidence: ALWAYS_REASON });
      expect(auto.path).toBe('reasoned');
      expect(auto.label).toBe(full.label);
      expect(auto.reasoning).toBe(full.reasoning);
      expect(auto.reasoning).not.toBe('');
      expect(auto.raw).toBe(full.raw);
      // Full mode's work plus the one-pass step's opening and verdict words, never the prompt again.
      const uncachedPrompt = fast.timings.promptTokens! - fast.timings.cachedTokens!;
      const onePassExtra = fast.timings.forwardTokens! - uncachedPrompt;
      expect(auto.timings.forwardTokens).toBe(full.timings.forwardTokens! + onePassExtra);
      expect(auto.timings.cachedTokens).toBe(full.timings.cachedTokens);
    }
  });

  test('the reasoned path keeps its budget, and maxReasoningTokens overrides it', async () => {
    const cut = await guard.classify(INPUTS[0], { mode: 'auto', confidence: ALWAYS_REASON, maxReasoningTokens: 2 });
    const full = await guard.classify(INPUTS[0], { mode: 'full' });
    expect(cut.path).toBe('reasoned');
    expect(cut.reasoningCut).toBe(true);
    expect(cut.label).toBe(full.label);
    expect(cut.timings.reasoningTokens).toBe(2);
    // The fixtures' traces are far shorter than the default budget of 256: not cut.
    const roomy = await guard.classify(INPUTS[0], { mode: 'auto', confidence: ALWAYS_REASON });
    expect(roomy.reasoningCut).toBeUndefined();
  });

  test('the guard-wide thresholds apply, and a call\'s own win', async () => {
    const unsure = await createGuard({ model, warmUp: false, confidence: ALWAYS_REASON });
    try {
      expect((await unsure.classify(INPUTS[1], { mode: 'auto' })).path).toBe('reasoned');
      expect((await unsure.classify(INPUTS[1], { mode: 'auto', confidence: { low: 0.5, high: 0.5000001 } })).path).toBe('fast');
    } finally {
      await unsure.dispose();
    }
  });

  test('streamed, only the reasoned path sends reasoning', async () => {
    const kinds = async (confidence?: { low: number; high: number }) => {
      const seen: string[] = [];
      for await (const event of guard.stream(INPUTS[0], { mode: 'auto', ...(confidence ? { confidence } : {}) })) {
        seen.push(event.type);
        if (event.type === 'reasoning') expect(event.text).not.toMatch(/<\/?(think|judge)>|Answers:/);
      }
      return seen;
    };
    expect(await kinds()).toEqual(['verdict', 'done']);
    expect((await kinds(ALWAYS_REASON)).filter((kind) => kind === 'reasoning').length).toBeGreaterThan(0);
  });
});

/** The test models designed to be unsure of `knife` in one pass, and sure once they reasoned. */
describe.each(['fixture-consistentguard', 'twin-qwen3'])('%s: an input it is unsure of on purpose', (model) => {
  let guard: Guard;
  beforeAll(async () => {
    ensureFixtures('--only', model);
    guard = await createGuard({ model, warmUp: false });
  });
  afterAll(() => guard.dispose());

  test('the one-pass score is near 0.5, so auto reasons, and the reasoned verdict counts', async () => {
    for (const text of UNSURE_TEXTS) {
      const fast = await guard.classify(text, { mode: 'fast' });
      expect(fast.score).toBeGreaterThan(0.35);
      expect(fast.score).toBeLessThan(0.65);
      const full = await guard.classify(text, { mode: 'full' });
      const auto = await guard.classify(text, { mode: 'auto' });
      expect(auto.path).toBe('reasoned');
      expect(auto.label).toBe('unharmful');
      expect(auto.reasoning).toBe(full.reasoning);
      expect(auto.score).toBeCloseTo(full.score!, 5);
      expect(auto.blocked).toBe(false);
    }
  });

  test('with the defaults, ordinary inputs stay on the one-pass path', async () => {
    for (const text of INPUTS) {
      const fast = await guard.classify(text, { mode: 'fast' });
      const auto = await guard.classify(text, { mode: 'auto' });
      expect(auto.path).toBe('fast');
      expect(auto.timings.forwardTokens).toBe(fast.timings.forwardTokens);
      expect(auto.reasoning).toBe('');
    }
  });
});

/** `auto` is what a call that sets no mode gets, in `classify`, `stream` and the verdict's `path`. */
describe('the default mode is auto (fixture-consistentguard)', () => {
  let guard: Guard;
  beforeAll(async () => {
    guard = await createGuard({ model: 'fixture-consistentguard', warmUp: false });
  });
  afterAll(() => guard.dispose());

  test('a call with no mode: one pass for a confident input, reasoning for an unsure one', async () => {
    for (const text of INPUTS) {
      const auto = await guard.classify(text, { mode: 'auto' });
      const byDefault = await guard.classify(text);
      expect(byDefault).toMatchObject({ path: 'fast', reasoning: '', label: auto.label, raw: auto.raw });
      expect(byDefault.timings.forwardTokens).toBe(auto.timings.forwardTokens);
      expect(byDefault.timings.forwardPasses).toBe(auto.timings.forwardPasses);
    }
    for (const text of UNSURE_TEXTS) {
      const full = await guard.classify(text, { mode: 'full' });
      const byDefault = await guard.classify(text);
      expect(byDefault.path).toBe('reasoned');
      expect(byDefault.reasoning).not.toBe('');
      expect(byDefault.reasoning).toBe(full.reasoning);
    }
  });

  test('every verdict says its path: full mode reasoned, fast mode fast', async () => {
    expect((await guard.classify(INPUTS[0], { mode: 'full' })).path).toBe('reasoned');
    expect((await guard.classify(INPUTS[0], { mode: 'fast' })).path).toBe('fast');
    expect((await guard.explain(INPUTS[0])).path).toBe('reasoned');
  });

  test('the trace of a one-pass default verdict comes from explain()', async () => {
    const byDefault = await guard.classify(INPUTS[0]);
    const explained = await guard.explain(INPUTS[0]);
    expect(byDefault.reasoning).toBe('');
    expect(explained.label).toBe(byDefault.label);
    expect(explained.reasoning).not.toBe('');
    expect(explained.reasoning).toBe((await guard.classify(INPUTS[0], { mode: 'full' })).reasoning);
  });

  test('a stream with no mode sends no reasoning for a confident input, and a trace for an unsure one', async () => {
    const reasoning = async (text: string) => {
      const deltas: string[] = [];
      for await (const event of guard.stream(text)) if (event.type === 'reasoning') deltas.push(event.text);
      return deltas;
    };
    expect(await reasoning(INPUTS[0])).toEqual([]);
    const unsure = await reasoning(UNSURE_TEXTS[0]!);
    expect(unsure.length).toBeGreaterThan(0);
    expect(unsure.join('')).toBe((await guard.classify(UNSURE_TEXTS[0]!, { mode: 'full' })).reasoning);
  });
});

describe('twin-llama-guard-3 (a family without reasoning)', () => {
  let guard: Guard;
  beforeAll(async () => {
    ensureFixtures('--only', 'twin-llama-guard-3');
    guard = await createGuard({ model: 'twin-llama-guard-3', warmUp: false });
  });
  afterAll(() => guard.dispose());

  test('auto gives the one-pass verdict whatever the score: there is no reasoning to do', async () => {
    for (const text of INPUTS) {
      const fast = await guard.classify(text, { mode: 'fast' });
      const auto = await guard.classify(text, { mode: 'auto', confidence: ALWAYS_REASON });
      expect(auto.path).toBe('fast');
      expect(auto.label).toBe(fast.label);
      expect(auto.timings.forwardTokens).toBe(fast.timings.forwardTokens);
      // It never reasons, so no mode gives another path; the default call is that one pass too.
      expect((await guard.classify(text, { mode: 'full' })).path).toBe('fast');
      expect(await guard.classify(text)).toMatchObject({ path: 'fast', label: fast.label, reasoning: '' });
    }
  });
});

describe('auto options are checked', () => {
  let guard: Guard;
  beforeAll(async () => {
    guard = await createGuard({ model: 'fixture-consistentguard', warmUp: false });
  });
  afterAll(() => guard.dispose());

  test.each([
    [{ low: 0.5, high: 0.5 }, 'low'],
    [{ low: 0.9, high: 0.1 }, 'low'],
    [{ low: -0.1, high: 0.9 }, 'confidence.low'],
    [{ low: 0.1, high: 1.5 }, 'confidence.high'],
    [{ low: 0.1 }, 'confidence.high'],
    [{ low: 0.1, high: 0.9, mid: 0.5 }, 'confidence.mid'],
  ])('confidence %j is an InvalidInputError naming %s', async (confidence, key) => {
    const error = await guard.classify('hello', { mode: 'auto', confidence: confidence as never }).catch((e: unknown) => e);
    expect(isGuardError(error, 'invalid-input')).toBe(true);
    expect((error as Error).message).toContain(key);
    const atCreate = await createGuard({ model: 'fixture-consistentguard', confidence: confidence as never }).catch((e: unknown) => e);
    expect(isGuardError(atCreate, 'invalid-input')).toBe(true);
  });

  test('an unknown mode is an InvalidInputError', async () => {
    const error = await guard.classify('hello', { mode: 'automatic' as never }).catch((e: unknown) => e);
    expect(isGuardError(error, 'invalid-input')).toBe(true);
  });
});
