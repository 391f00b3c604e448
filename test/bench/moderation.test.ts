/**
 * The bench's watched answer (S1, S2) is what its rows say: 60 sentences of ~1,000 tokens with
 * the real tokenizers of the twins it is measured on, and no trigger word of the test models,
 * so that a block in S2 can only come from the harmful sentence put into it.
 */
import { AutoTokenizer, env } from '@huggingface/transformers';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { benignAnswer, MODERATION_MODELS } from '../../bench/moderation.js';
import { caseVariants, TRIGGERS, UNSURE_WORDS } from '../../models/build/lexicon.js';

test.each(MODERATION_MODELS.filter((m) => m.watched))('$model: the watched answer is ~1,000 tokens in 60 sentences, no trigger or unsure word', async ({ model }) => {
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
  env.localModelPath = fileURLToPath(new URL('../../models/fixtures/', import.meta.url));
  const tokenizer = await AutoTokenizer.from_pretrained(model);
  const sentences = benignAnswer();
  expect(sentences).toHaveLength(60);
  const tokens = tokenizer.encode(sentences.join(''), { add_special_tokens: false }).length;
  expect(tokens).toBeGreaterThan(900);
  expect(tokens).toBeLessThan(1_100);
  const words = new Set(sentences.join('').split(/\W+/));
  for (const trigger of [...TRIGGERS, ...UNSURE_WORDS]) for (const spelling of caseVariants(trigger.text)) expect(words.has(spelling)).toBe(false);
});
