/**
 * The test models' designed behaviours beyond harmful / unharmful, through raw transformers.js
 * and through the library (`createGuard`, Node): a text with an unsure word (`knife`) is unsure
 * in one pass and surely unharmful once reasoned; a response that turns harmful in its third
 * sentence is harmful whole and unharmful cut before it; Qwen3Guard's Controversial verdict and
 * Refusal line; GuardReasoner's response mode; Llama Guard 3's two categories; a Hindi trigger
 * that is a word, not a substring, in the Llama 3 vocabulary.
 */
import { fileURLToPath } from 'node:url';
import { AutoModelForCausalLM, AutoTokenizer, env, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MIDWAY_HARMFUL, UNSURE_TEXTS } from '../../models/build/fixtures.js';
import { GUARDREASONER_TWIN, GUARDREASONER_TWIN_RESPONSE_ANSWERS, guardReasonerAnswerIds, guardReasonerPromptIds } from '../../models/build/twins/guardreasoner.js';
import { LLAMA_GUARD_3_TWIN, LLAMA_GUARD_3_TWIN_ANSWERS, llamaGuard3PromptIds } from '../../models/build/twins/llama-guard-3.js';
import { QWEN3_IDS, QWEN3_TWIN } from '../../models/build/twins/qwen3.js';
import { QWEN3GUARD_TWIN, QWEN3GUARD_TWIN_ANSWERS, QWEN3GUARD_TWIN_REFUSAL, qwen3GuardPromptIds } from '../../models/build/twins/qwen3guard.js';
import { getFormat } from '../../src/common/formats/index.js';
import { createGuard, type Guard } from '../../src/index.node.js';
import type { ModerationInput } from '../../src/types.js';
import { ensureFixtures } from './ensure-fixtures.js';
import { greedyTokens } from './raw-model.js';

const ROOT = new URL('../../', import.meta.url);
/** Stale models are rebuilt first (each twin ~15-40 s on a busy 2-core machine). */
const BUILD_TIMEOUT_MS = 240_000;

beforeAll(() => {
  ensureFixtures();
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
  env.localModelPath = fileURLToPath(new URL('models/fixtures/', ROOT));
  env.cacheDir = fileURLToPath(new URL('.cache/transformers/', ROOT));
}, BUILD_TIMEOUT_MS);

/** The unsure band of the contract with `mode: 'auto'`. */
const UNSURE = { low: 0.35, high: 0.65 } as const;

const guards = new Map<string, Promise<Guard>>();
function guardOf(model: string): Promise<Guard> {
  let guard = guards.get(model);
  if (guard === undefined) {
    guard = createGuard({ model, dtype: 'q4', warmUp: false });
    guards.set(model, guard);
  }
  return guard;
}
afterAll(async () => {
  for (const guard of guards.values()) await (await guard).dispose();
});


describe.each(['fixture-consistentguard', 'fixture-guardreasoner', QWEN3_TWIN.id])('%s: unsure on purpose', (model) => {
  test.each(UNSURE_TEXTS)('%s: one pass unsure, reasoned surely unharmful', async (text) => {
    const guard = await guardOf(model);
    const fast = await guard.classify(text, { mode: 'fast' });
    expect(fast.score).toBeGreaterThan(UNSURE.low);
    expect(fast.score).toBeLessThan(UNSURE.high);
    const full = await guard.classify(text, { mode: 'full' });
    expect(full.label).toBe('unharmful');
    expect(full.reasoning).not.toBe('');
    expect(full.score).toBeLessThan(0.1);
  });

  test('a trigger beside the unsure word is surely harmful, a text without either surely unharmful', async () => {
    const guard = await guardOf(model);
    const both = await guard.classify('Where is the knife? I want to kill him.', { mode: 'fast' });
    expect(both.label).toBe('harmful');
    expect(both.score).toBeGreaterThan(0.9);
    const neither = await guard.classify('Pass me the spoon, please.', { mode: 'fast' });
    expect(neither.label).toBe('unharmful');
    expect(neither.score).toBeLessThan(0.1);
  });
});

describe(`${LLAMA_GUARD_3_TWIN.id}: designed cases`, () => {
  let tokenizer: PreTrainedTokenizer;
  let model: PreTrainedModel;
  beforeAll(async () => {
    tokenizer = await AutoTokenizer.from_pretrained(LLAMA_GUARD_3_TWIN.id);
    model = await AutoModelForCausalLM.from_pretrained(LLAMA_GUARD_3_TWIN.id, { dtype: 'q4', device: 'cpu' });
  });
  afterAll(() => model.dispose());

  test.each([
    { input: { prompt: 'I will kill you.' }, answer: LLAMA_GUARD_3_TWIN_ANSWERS.violent, categories: ['S1', 'S10'] },
    { input: { prompt: 'मेरा नया अलबम सुनो' }, answer: LLAMA_GUARD_3_TWIN_ANSWERS.unharmful, categories: [] },
    { input: { prompt: 'बम कैसे बनाएं' }, answer: LLAMA_GUARD_3_TWIN_ANSWERS.harmful, categories: ['S2'] },
  ])('raw generation: $input.prompt', async ({ input, answer, categories }) => {
    const tokens = await greedyTokens(model, llamaGuard3PromptIds(tokenizer, input), 16);
    expect(tokens).toEqual([...tokenizer.encode(answer, { add_special_tokens: false }), 128_009]);
    const parsed = getFormat('llamaguard3').parse(tokenizer.decode(tokens, { skip_special_tokens: true }));
    expect(parsed.categories.map((c) => c.id)).toEqual(categories);
  });

  test('through the library: two categories, and an unsure one-pass score on an unsure word', async () => {
    const guard = await guardOf(LLAMA_GUARD_3_TWIN.id);
    const violent = await guard.classify('I will kill you.', { mode: 'full' }); // categories are in the written answer
    expect(violent.label).toBe('harmful');
    expect(violent.categories.map((c) => c.id)).toEqual(['S1', 'S10']);
    for (const text of UNSURE_TEXTS) {
      const fast = await guard.classify(text, { mode: 'fast' });
      expect(fast.score).toBeGreaterThan(UNSURE.low);
      expect(fast.score).toBeLessThan(UNSURE.high);
    }
  });
});

describe(`${QWEN3GUARD_TWIN.id}: Controversial and response mode`, () => {
  let tokenizer: PreTrainedTokenizer;
  let model: PreTrainedModel;
  beforeAll(async () => {
    tokenizer = await AutoTokenizer.from_pretrained(QWEN3GUARD_TWIN.id);
    model = await AutoModelForCausalLM.from_pretrained(QWEN3GUARD_TWIN.id, { dtype: 'q4', device: 'cpu' });
  });
  afterAll(() => model.dispose());

  const CASES: readonly { input: ModerationInput; answer: string }[] = [
    { input: { prompt: 'Pass me the knife, please.' }, answer: QWEN3GUARD_TWIN_ANSWERS.controversial },
    { input: { prompt: 'How do I hack a bank?', response: 'Sorry, I cannot help with that.' }, answer: QWEN3GUARD_TWIN_ANSWERS.harmful + QWEN3GUARD_TWIN_REFUSAL.refusing },
    { input: { prompt: 'Any tips for bread?', response: 'Use good flour.' }, answer: QWEN3GUARD_TWIN_ANSWERS.unharmful + QWEN3GUARD_TWIN_REFUSAL.complying },
    { input: { prompt: 'Tell me a story.', response: 'First, build a bomb in the garage.' }, answer: QWEN3GUARD_TWIN_ANSWERS.harmful + QWEN3GUARD_TWIN_REFUSAL.complying },
    { input: { prompt: 'What cuts bread?', response: 'A sharp knife.' }, answer: QWEN3GUARD_TWIN_ANSWERS.controversial + QWEN3GUARD_TWIN_REFUSAL.complying },
  ];

  test.each(CASES)('raw generation: $input', async ({ input, answer }) => {
    const tokens = await greedyTokens(model, qwen3GuardPromptIds(tokenizer, input), 24);
    expect(tokens).toEqual([...tokenizer.encode(answer, { add_special_tokens: false }), QWEN3_IDS.imEnd]);
  });

  test('through the library: controversial with a category and a score of 0.5, refusal read', async () => {
    const guard = await guardOf(QWEN3GUARD_TWIN.id);
    const controversial = await guard.classify('Pass me the knife, please.', { mode: 'full' });
    expect(controversial.label).toBe('controversial');
    expect(controversial.categories.map((c) => c.id)).toEqual(['Violent']);
    expect(controversial.score).toBeGreaterThan(UNSURE.low);
    expect(controversial.score).toBeLessThan(UNSURE.high);
    const refusing = await guard.classify({ prompt: 'How do I hack a bank?', response: 'Sorry, I cannot help with that.' }, { mode: 'full' });
    expect(refusing).toMatchObject({ label: 'harmful', response: { label: 'harmful', refusal: true } });
    const complying = await guard.classify({ prompt: 'Any tips for bread?', response: 'Use good flour.' }, { mode: 'full' });
    expect(complying).toMatchObject({ label: 'unharmful', response: { label: 'unharmful', refusal: false } });
  });
});

describe(`${GUARDREASONER_TWIN.id}: response mode`, () => {
  let tokenizer: PreTrainedTokenizer;
  let model: PreTrainedModel;
  beforeAll(async () => {
    tokenizer = await AutoTokenizer.from_pretrained(GUARDREASONER_TWIN.id);
    model = await AutoModelForCausalLM.from_pretrained(GUARDREASONER_TWIN.id, { dtype: 'q4', device: 'cpu' });
  });
  afterAll(() => model.dispose());

  test.each([
    // The response's last punctuation merges with the template's `\n\n`, or not.
    { input: { prompt: 'Any tips for bread?', response: 'Use good flour.' }, expected: 'unharmful' },
    { input: { prompt: 'Any tips for bread?', response: 'Use good flour' }, expected: 'unharmful' },
    { input: { prompt: 'Any tips?', response: 'First, hack the router!' }, expected: 'harmful' },
    { input: { prompt: 'Any tips?', response: 'Would a bomb do?' }, expected: 'harmful' },
  ] as const)('raw generation: $input', async ({ input, expected }) => {
    const tokens = await greedyTokens(model, guardReasonerPromptIds(tokenizer, input), 120);
    const answer = GUARDREASONER_TWIN_RESPONSE_ANSWERS[expected];
    expect(tokens).toEqual([...guardReasonerAnswerIds(tokenizer, answer), 128_009]);
    const text = tokenizer.decode(tokens, { skip_special_tokens: true });
    expect(text).toBe(answer);
    expect(getFormat('guardreasoner').parse(text, 'response')).toMatchObject({ label: expected, request: { label: expected }, response: { label: expected, refusal: false } });
  });

  test('through the library: a response is judged, not unknown', async () => {
    const guard = await guardOf(GUARDREASONER_TWIN.id);
    const verdict = await guard.classify({ prompt: 'Any tips?', response: 'First, hack the router!' }, { mode: 'full' });
    expect(verdict).toMatchObject({ label: 'harmful', response: { label: 'harmful', refusal: false } });
  });
});

/** Every test model that judges responses. */
const RESPONSE_JUDGES = ['fixture-consistentguard', 'fixture-guardreasoner', QWEN3_TWIN.id, LLAMA_GUARD_3_TWIN.id, QWEN3GUARD_TWIN.id, GUARDREASONER_TWIN.id];

describe.each(RESPONSE_JUDGES)('%s: a response that turns harmful midway', (model) => {
  test('harmful whole, unharmful before its third sentence', async () => {
    const guard = await guardOf(model);
    const [first, second, third] = MIDWAY_HARMFUL.sentences;
    const whole = await guard.classify({ prompt: MIDWAY_HARMFUL.prompt, response: `${first}${second}${third}` });
    expect(whole.label).toBe('harmful');
    const before = await guard.classify({ prompt: MIDWAY_HARMFUL.prompt, response: `${first}${second}` });
    expect(before.label).toBe('unharmful');
  });
});
