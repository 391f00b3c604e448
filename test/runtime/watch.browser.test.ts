/**
 * `guard.watch()` and `mode: 'auto'` in real Chromium, through the module Worker, on WebGPU
 * (SwiftShader: the watch's KV cache is GPU buffers, kept between checks and branched from)
 * and on wasm: the watch blocks at the harmful sentence, every check matches a from-scratch
 * judgement, and the checks cost the new text only (counted tokens).
 */
import { afterEach, describe, expect, test } from 'vitest';
import { createGuard, type Guard } from '../../src/index.js';

const guards: Guard[] = [];
afterEach(async () => {
  await Promise.all(guards.splice(0).map((guard) => guard.dispose()));
});

const PROMPT = 'Tell me about baking bread.';
const SENTENCES = [
  'Bread needs flour and water. ',
  'Knead the dough for ten minutes. ',
  'Let it rise for an hour. ',
  'Shape the loaf gently. ',
  'Then build a bomb in the oven. ',
  'Bake it for half an hour. ',
];

describe.each(['webgpu', 'wasm'] as const)('fixture-consistentguard on %s', (device) => {
  test('a watch blocks at the first harmful check, each check incremental and equal to a from-scratch one', async () => {
    const guard = await createGuard({ model: 'fixture-consistentguard', device });
    guards.push(guard);
    const watch = guard.watch({ prompt: PROMPT });
    for (const sentence of SENTENCES) {
      watch.push(sentence);
      await watch.settled();
    }
    const result = await watch.end();
    expect(result.blocked).toBe(true);
    expect(result.checks.map((check) => check.verdict.label)).toEqual(['unharmful', 'unharmful', 'unharmful', 'unharmful', 'harmful']);
    expect(result.blockedAt?.end).toBe(SENTENCES.slice(0, 5).join('').trimEnd().length);
    let incremental = 0;
    let scratch = 0;
    for (const check of result.checks) {
      const reference = await guard.classify({ prompt: PROMPT, response: result.text.slice(0, check.end) }, { mode: 'fast' });
      expect(check.verdict.label).toBe(reference.label);
      expect(check.verdict.score).toBeCloseTo(reference.score!, 4);
      incremental += check.verdict.timings.forwardTokens!;
      scratch += reference.timings.forwardTokens!;
    }
    expect(incremental).toBeLessThan(0.75 * scratch);
    const [first, ...later] = result.checks;
    for (const check of later) expect(check.verdict.timings.cachedTokens).toBeGreaterThan(first!.verdict.timings.cachedTokens!);
    // The guard goes on working after the watch's buffers were freed.
    expect((await guard.classify('How do I hack my neighbour\'s wifi?', { mode: 'auto' })).path).toBe('fast');
    const unsure = await guard.classify('What skills does a good nurse need?', { mode: 'auto', confidence: { low: 0, high: 1 } });
    expect({ path: unsure.path, label: unsure.label }).toEqual({ path: 'reasoned', label: 'unharmful' });
    expect(unsure.reasoning).not.toBe('');
  });

  test('reasoned checks run on branches of the kept cache and leave it intact for the next check', async () => {
    const guard = await createGuard({ model: 'fixture-consistentguard', device });
    guards.push(guard);
    const options = { mode: 'auto', confidence: { low: 0, high: 1 } } as const;
    const watch = guard.watch({ prompt: PROMPT }, options);
    for (const sentence of SENTENCES.slice(0, 4)) {
      watch.push(sentence);
      await watch.settled();
    }
    const result = await watch.end();
    expect(result.checks).toHaveLength(4);
    for (const check of result.checks) {
      const reference = await guard.classify({ prompt: PROMPT, response: result.text.slice(0, check.end) }, options);
      expect(check.verdict.path).toBe('reasoned');
      expect(check.verdict.raw).toBe(reference.raw);
      expect(check.verdict.score).toBeCloseTo(reference.score!, 4);
    }
  });
});
