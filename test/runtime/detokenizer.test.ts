/**
 * The incremental decode of an answer: equal to a whole decode at every step, and empty (not a
 * tokenizer error) for an answer stopped before its first token, as an abort during the
 * prefill leaves it.
 */
import { AutoTokenizer, env } from '@huggingface/transformers';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, test } from 'vitest';
import { IncrementalText } from '../../worker/detokenizer.js';
import { ensureFixtures } from '../models/ensure-fixtures.js';

beforeAll(() => {
  ensureFixtures('--only', 'twin-qwen3');
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
  env.localModelPath = fileURLToPath(new URL('../../models/fixtures/', import.meta.url));
});

test('no token yet: the text is empty, also decoded whole', async () => {
  const text = new IncrementalText(await AutoTokenizer.from_pretrained('twin-qwen3'));
  expect(text.text).toBe('');
  expect(text.whole()).toBe('');
  expect(text.tokens).toEqual([]);
});

test('token by token, the text is the whole decode, across the settle points', async () => {
  const tokenizer = await AutoTokenizer.from_pretrained('twin-qwen3');
  const sentence = 'The user asks how to build a bomb. কীভাবে একটি বোমা? 東京でおすすめの美術館 — that is harmful, and the answer is long enough to settle twice.';
  const ids = tokenizer.encode(sentence, { add_special_tokens: false });
  const text = new IncrementalText(tokenizer);
  for (const [index, id] of ids.entries()) {
    text.push(id);
    expect(text.text).toBe(tokenizer.decode(ids.slice(0, index + 1), { skip_special_tokens: true }));
  }
  expect(ids.length).toBeGreaterThan(32);
  expect(text.whole()).toBe(sentence);
});
