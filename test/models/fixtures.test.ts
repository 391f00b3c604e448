/**
 * The fixture models through the real runtime stack in Node: transformers.js 4.x with
 * onnxruntime-node, prompts built and encoded by `src/common/formats`, greedy decoding. Every
 * fixture, both dtypes, the whole table of inputs: the generated text must be exactly the
 * golden answer.
 */
import { fileURLToPath } from 'node:url';
import { AutoModelForCausalLM, AutoTokenizer, env, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';
import { beforeAll, describe, expect, test } from 'vitest';
import { getFormat, modelInput } from '../../src/common/formats/index.js';
import type { ModerationInput } from '../../src/types.js';
import { ALL_CASES, GOLDEN, KEYWORD_FIXTURES, nearLimitPrompt, runawayText } from './cases.js';
import { ensureFixtures } from './ensure-fixtures.js';
import { greedyTokens } from './raw-model.js';

const DTYPES = ['fp32', 'q4'] as const;

beforeAll(() => {
  ensureFixtures();
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
  env.localModelPath = fileURLToPath(new URL('../../models/fixtures/', import.meta.url));
  env.cacheDir = fileURLToPath(new URL('../../.cache/transformers/', import.meta.url));
});

interface Loaded {
  tokenizer: PreTrainedTokenizer;
  model: PreTrainedModel;
}

const loaded = new Map<string, Promise<Loaded>>();
function load(id: string, dtype: (typeof DTYPES)[number]): Promise<Loaded> {
  const key = `${id}/${dtype}`;
  let entry = loaded.get(key);
  if (entry === undefined) {
    entry = (async () => ({
      tokenizer: await AutoTokenizer.from_pretrained(id),
      model: await AutoModelForCausalLM.from_pretrained(id, { dtype, device: 'cpu' }),
    }))();
    loaded.set(key, entry);
  }
  return entry;
}

/** Greedy answer of a fixture to `input`, as the runtime would encode it. */
async function answer(
  id: string,
  family: 'consistentguard' | 'guardreasoner',
  dtype: (typeof DTYPES)[number],
  input: ModerationInput,
  maxNewTokens = 80,
): Promise<{ text: string; tokens: number[]; promptTokens: number; endsWithEos: boolean }> {
  const { tokenizer, model } = await load(id, dtype);
  const { ids } = modelInput(getFormat(family), input, tokenizer);
  const tokens = await greedyTokens(model, ids, maxNewTokens);
  return {
    text: tokenizer.decode(tokens, { skip_special_tokens: true }),
    tokens,
    promptTokens: ids.length,
    endsWithEos: tokens.at(-1) === tokenizer.eos_token_id,
  };
}

describe.each(KEYWORD_FIXTURES)('$id', ({ id, family }) => {
  describe.each(DTYPES)('%s', (dtype) => {
    test.each(ALL_CASES)('$name → $expected', async ({ input, expected }) => {
      const result = await answer(id, family, dtype, input);
      expect(result.text).toBe(GOLDEN[id][expected]);
      expect(result.endsWithEos).toBe(true);
      expect(getFormat(family).parse(result.text).label).toBe(expected);
    });

    test.each([true, false])('near the context limit, trigger first: %s', async (trigger) => {
      const { tokenizer } = await load(id, dtype);
      const template = modelInput(getFormat(family), { prompt: '' }, tokenizer).ids.length;
      const prompt = nearLimitPrompt({ contextLength: 4096, templateTokens: template, margin: 48, trigger });
      const result = await answer(id, family, dtype, { prompt });
      expect(result.promptTokens).toBeGreaterThan(4096 - 64);
      expect(result.promptTokens + result.tokens.length).toBeLessThanOrEqual(4096);
      expect(result.text).toBe(GOLDEN[id][trigger ? 'harmful' : 'unharmful']);
    });
  });
});

describe.each(DTYPES)('failure fixtures, %s', (dtype) => {
  test('fixture-runaway never closes its answer: it runs to the token limit', async () => {
    for (const input of [{ prompt: 'How do I bake bread?' }, { prompt: 'How do I hack a bank?' }]) {
      const result = await answer('fixture-runaway', 'consistentguard', dtype, input, 50);
      expect(result.tokens).toHaveLength(50);
      expect(result.endsWithEos).toBe(false);
      expect(result.text).toBe(runawayText(50));
      expect(getFormat('consistentguard').isComplete(result.text)).toBe(false);
      expect(getFormat('consistentguard').parse(result.text).label).toBe('unknown');
    }
  });

  test('fixture-malformed answers in a malformed way, whatever the input', async () => {
    for (const input of [{ prompt: 'How do I bake bread?' }, { prompt: 'How do I hack a bank?' }]) {
      const result = await answer('fixture-malformed', 'consistentguard', dtype, input);
      expect(result.text).toBe(GOLDEN['fixture-malformed']);
      expect(result.endsWithEos).toBe(true);
      const parsed = getFormat('consistentguard').parse(result.text);
      expect(parsed.label).toBe('unknown');
      expect(parsed.problem).toBeDefined();
    }
  });
});
