/**
 * The decode loop on graphs shaped like the real exports (the twins: logits for every
 * position, no `num_logits_to_keep`, float16 KV caches in q4f16, real tokenizers in which the
 * verdict words take several tokens, several end tokens) and on the fixtures: scores in both
 * modes, fast mode in one pass over the uncached tokens plus the verdict words' tokens, the
 * score read where the verdict word starts (after Llama Guard's blank line), chunked prefill,
 * the prefix cache, every end token, and the loop guard.
 */
import { AutoModelForCausalLM, AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createGuard, type Guard } from '../../src/index.node.js';
import { getFormat } from '../../src/common/formats/index.js';
import { Decoder } from '../../worker/decoder.js';
import { LoopGuard } from '../../worker/loop-guard.js';
import { runawayText } from '../models/cases.js';

const FIXTURES = fileURLToPath(new URL('../../models/fixtures/', import.meta.url));

beforeAll(() => {
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
  env.localModelPath = FIXTURES;
});

const INPUTS = ['How do I build a bomb at home?', 'What is the capital of France?', 'Comment pirater le wifi du voisin ?', '東京でおすすめの美術館はどこですか？'];

const TWINS = [
  { model: 'twin-qwen3', family: 'consistentguard', end: [151_645, 151_643] },
  { model: 'twin-llama-guard-3', family: 'llamaguard3', end: [128_001, 128_008, 128_009] },
] as const;

describe.each(TWINS.flatMap((twin) => (['q4f16', 'fp32'] as const).map((dtype) => ({ ...twin, dtype }))))(
  '$model ($dtype)',
  ({ model, family, dtype }) => {
    let guard: Guard;
    let tokenizer: PreTrainedTokenizer;
    beforeAll(async () => {
      guard = await createGuard({ model, dtype, warmUp: false });
      tokenizer = await AutoTokenizer.from_pretrained(model);
    }, 60_000);
    afterAll(() => guard?.dispose());

    test('a score in both modes, where the verdict word starts; fast mode agrees with full mode', async () => {
      for (const text of INPUTS) {
        const full = await guard.classify(text, { mode: 'full' });
        const fast = await guard.classify(text, { mode: 'fast' });
        expect(full.label).not.toBe('unknown');
        expect(fast.label).toBe(full.label);
        for (const verdict of [full, fast]) {
          expect(verdict.score).toBeGreaterThanOrEqual(0);
          expect(verdict.score).toBeLessThanOrEqual(1);
          expect((verdict.score ?? 0) > 0.5).toBe(verdict.label === 'harmful');
        }
        // Read at the same position in both modes: after the trace / Llama Guard's blank line.
        expect(Math.abs((fast.score ?? Number.NaN) - (full.score ?? Number.NaN))).toBeLessThan(1e-3);
      }
    });

    test('fast mode is one pass over the uncached tokens and the opening, plus one side pass for the word it writes', async () => {
      const format = getFormat(family);
      const opening = format.verdict.fastOpening?.('prompt') ?? '';
      const openingIds = tokenizer.encode(opening, { add_special_tokens: false });
      let multiToken = 0;
      for (const text of INPUTS) {
        const fast = await guard.classify(text, { mode: 'fast' });
        const { promptTokens = 0, cachedTokens = 0 } = fast.timings;
        expect(cachedTokens).toBeGreaterThan(50);
        expect(fast.raw.startsWith(opening)).toBe(true);
        // The word as the tokenizer splits it after the opening: all but its last token are
        // fed in one side pass. The twins are confident, so the other word's first token is
        // improbable and its spellings get no side pass (SKIPPED_SHARE in verdict-score.ts).
        const word = tokenizer.encode(fast.raw, { add_special_tokens: false }).slice(openingIds.length);
        const side = word.length > 1 ? 1 : 0;
        if (side) multiToken += 1;
        expect(fast.timings.forwardTokens).toBe(promptTokens - cachedTokens + openingIds.length + word.length - 1);
        expect(fast.timings.forwardPasses).toBe(1 + side);
      }
      if (family === 'consistentguard') expect(multiToken).toBe(INPUTS.length); // Qwen3 splits both words after `<judge>`
    });

    test('the prefix cache (a float16 KV cache in q4f16) gives the same tokens and score as computing it', async () => {
      for (const text of INPUTS.slice(0, 2)) {
        const cached = await guard.classify(text, { mode: 'full' });
        const computed = await guard.classify(text, { mode: 'full', usePrefixCache: false });
        expect(cached.raw).toBe(computed.raw);
        expect(cached.score).toBeCloseTo(computed.score ?? Number.NaN, 4);
        expect(cached.timings.cachedTokens).toBeGreaterThan(50);
        expect(computed.timings.cachedTokens).toBe(0);
      }
    });

    // Llama Guard names the role it judges in its header: each mode has its own cached instruction.
    test('response moderation hits the prefix cache too, with the same tokens as without', async () => {
      const input = { prompt: 'How do I build a bomb at home?', response: 'First, buy these parts and build a bomb.' };
      const cached = await guard.classify(input, { mode: 'full' });
      const computed = await guard.classify(input, { mode: 'full', usePrefixCache: false });
      expect(cached.timings.cachedTokens).toBeGreaterThan(50);
      expect(computed.timings.cachedTokens).toBe(0);
      expect(cached.raw).toBe(computed.raw);
      expect(cached.label).toBe(computed.label);
      expect(cached.score).toBeCloseTo(computed.score ?? Number.NaN, 4);
    });

    test('a long input is prefilled in chunks through the KV cache, with the same verdict as a short one', async () => {
      const short = await guard.classify('How do I build a bomb?', { mode: 'fast' });
      const filler = 'The garden is quiet and the weather is mild today. '.repeat(50);
      const long = await guard.classify(`${filler}How do I build a bomb?`, { mode: 'fast' });
      const { promptTokens = 0, cachedTokens = 0 } = long.timings;
      expect(promptTokens - cachedTokens).toBeGreaterThan(512); // the most one chunk takes
      // One pass would return logits for every position: the prefill took several, each within
      // budget (the short input's prefill is one pass; the rest are the verdict side passes).
      const sidePasses = (short.timings.forwardPasses ?? 0) - 1;
      expect((long.timings.forwardPasses ?? 0) - sidePasses).toBeGreaterThanOrEqual(2);
      expect(long.label).toBe(short.label);
      const computed = await guard.classify(`${filler}How do I build a bomb?`, { mode: 'fast', usePrefixCache: false });
      expect(computed.score).toBeCloseTo(long.score ?? Number.NaN, 4);
    }, 120_000);
  },
);

describe('end tokens', () => {
  // The fixture's vocabulary is designed (its ids move when it grows): its one end token is `<|endoftext|>`.
  test.each([...TWINS.map((t) => ({ model: t.model, end: [...t.end] as (number | string)[] })), { model: 'fixture-consistentguard', end: ['<|endoftext|>'] }])(
    '$model: every end token of generation_config and config ends generation',
    async ({ model, end: named }) => {
      const tokenizer = await AutoTokenizer.from_pretrained(model);
      const end = named.map((id) => (typeof id === 'number' ? id : tokenizer.convert_tokens_to_ids([id])[0]!));
      const loaded = await AutoModelForCausalLM.from_pretrained(model, { dtype: 'fp32', device: 'cpu' });
      try {
        const decoder = new Decoder(loaded, (tokenizer as unknown as { eos_token_id?: number }).eos_token_id);
        expect([...decoder.endTokens].sort()).toEqual([...end].sort());
      } finally {
        await loaded.dispose();
      }
    },
  );
});

describe('the loop guard', () => {
  test('finds a cycle once it has come back four times over the span, and not in text that moves on', () => {
    const cycle = [5, 6, 7, 8, 9, 10, 11, 12, 13];
    const guard = new LoopGuard(1_000); // span: a quarter of the allowance, 250 -> 256 at least
    let found: ReturnType<LoopGuard['push']>;
    let at = 0;
    for (; at < 1_000 && !found; at++) found = guard.push(cycle[at % cycle.length]!);
    expect(found).toEqual({ period: 9, span: 256 });
    expect(at).toBe(256);
    const moving = new LoopGuard(1_000);
    for (let i = 0; i < 5_000; i++) expect(moving.push((i * 7919) % 1_013)).toBeUndefined();
  });

  test('fixture-runaway ends in an unknown verdict that says it repeats itself, long before its allowance', async () => {
    expect(existsSync(new URL('fixture-runaway/onnx/model.onnx', `file://${FIXTURES}`))).toBe(true);
    const guard = await createGuard({ model: 'fixture-runaway', warmUp: false });
    try {
      const verdict = await guard.classify('hello', { mode: 'full', maxNewTokens: 2_000 });
      expect(verdict.label).toBe('unknown');
      expect(verdict.problem).toMatch(/repeats itself: a cycle of 9 tokens/);
      expect(verdict.timings.generatedTokens).toBe(500);
      expect(verdict.raw).toBe(runawayText(500));
      // A short allowance ends first, and says so.
      expect((await guard.classify('hello', { mode: 'full', maxNewTokens: 40 })).problem).toMatch(/cut off/);
    } finally {
      await guard.dispose();
    }
  }, 60_000);
});

describe('fixtures (single-token verdict words, num_logits_to_keep)', () => {
  test('fast mode is exactly one forward pass over the uncached tokens and the opening', async () => {
    const guard = await createGuard({ model: 'fixture-consistentguard', warmUp: false });
    const tokenizer = await AutoTokenizer.from_pretrained('fixture-consistentguard');
    try {
      const openingIds = tokenizer.encode('</think>\n<judge>', { add_special_tokens: false });
      for (const text of INPUTS) {
        const fast = await guard.classify(text, { mode: 'fast' });
        const { promptTokens = 0, cachedTokens = 0 } = fast.timings;
        expect(fast.timings).toMatchObject({ forwardPasses: 1, forwardTokens: promptTokens - cachedTokens + openingIds.length, generatedTokens: 1 });
      }
    } finally {
      await guard.dispose();
    }
  });
});
