import { describe, expect, it } from 'vitest';
import { agreementWithEnglish, caoPairs, inputsByKey } from '../../src/eval/consistency.js';
import type { GoldLabel } from '../../src/eval/data.js';
import type { Prediction } from '../../src/eval/run.js';
import type { Label } from '../../src/types.js';

function prediction(id: string, lang: string, gold: GoldLabel, label: Label, raw = `${lang}:${id}:${label}`): Prediction {
  return { id, dataset: 's', lang, gold, label, reasoning: '', timings: { totalMs: 1 }, model: 'm', raw, reasoningTokens: 0, tokenUnit: 'words' };
}

// Item 1: right everywhere. Item 2: right in en, wrong in fr and bn. Item 3: wrong in en, right in fr.
// Item 4: fr only (no English to compare with). Item 5: right in en, bn failed without an answer.
const PREDICTIONS = [
  prediction('1', 'en', 'harmful', 'harmful'),
  prediction('1', 'fr', 'harmful', 'harmful'),
  prediction('1', 'bn', 'harmful', 'harmful'),
  prediction('2', 'en', 'harmful', 'harmful'),
  prediction('2', 'fr', 'harmful', 'unharmful'),
  prediction('2', 'bn', 'harmful', 'unknown'),
  prediction('3', 'en', 'unharmful', 'harmful'),
  prediction('3', 'fr', 'unharmful', 'unharmful'),
  prediction('4', 'fr', 'unharmful', 'unharmful'),
  prediction('5', 'en', 'unharmful', 'unharmful'),
  prediction('5', 'bn', 'unharmful', 'unknown', ''),
];

describe('cross-lingual consistency', () => {
  it('agreement with English per language', () => {
    expect(agreementWithEnglish(PREDICTIONS)).toEqual([
      { dataset: 's', lang: 'fr', pairs: 3, agree: 1, share: 1 / 3, englishOnlyRight: 1, otherOnlyRight: 1 },
      { dataset: 's', lang: 'bn', pairs: 3, agree: 1, share: 1 / 3, englishOnlyRight: 2, otherOnlyRight: 0 },
    ]);
  });

  it('CAO pairs: right in English, wrong elsewhere, with a completion to reject', () => {
    const inputs = inputsByKey(PREDICTIONS.map((p) => ({ ...p, text: `text ${p.lang} ${p.id}`, ...(p.lang === 'bn' ? { response: 'answer' } : {}) })));
    const pairs = caoPairs(PREDICTIONS, (key) => {
      const { prompt, response } = inputs(key);
      return `<prompt>${prompt}</prompt>${response === undefined ? '' : `<response>${response}</response>`}`;
    });
    expect(pairs).toEqual([
      { prompt: '<prompt>text fr 2</prompt>', chosen: 'en:2:harmful', rejected: 'fr:2:unharmful', anchor_prompt: '<prompt>text en 2</prompt>', anchor_completion: 'en:2:harmful' },
      { prompt: '<prompt>text bn 2</prompt><response>answer</response>', chosen: 'en:2:harmful', rejected: 'bn:2:unknown', anchor_prompt: '<prompt>text en 2</prompt>', anchor_completion: 'en:2:harmful' },
    ]);
  });
});
