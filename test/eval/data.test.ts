import { describe, expect, it } from 'vitest';
import { itemKey, parseBenchmarkFile, parseFileName, selectItems, sortLangs, type BenchmarkFile } from '../../src/eval/data.js';
import { parsePredictions } from '../../src/eval/run.js';

const row = (fields: Record<string, unknown>) => JSON.stringify(fields);

describe('benchmark files', () => {
  it('reads the set and language from the file name', () => {
    expect(parseFileName('openai_moderation_zh-cn.jsonl')).toEqual({ dataset: 'openai_moderation', lang: 'zh-cn' });
    expect(parseFileName('data/benchmarks/toxicchat_en.jsonl')).toEqual({ dataset: 'toxicchat', lang: 'en' });
    expect(parseFileName('my_set_v2_hi.jsonl')).toEqual({ dataset: 'my_set_v2', lang: 'hi' });
    expect(parseFileName('predictions.jsonl')).toBeUndefined();
    expect(parseFileName('toxicchat_en.json')).toBeUndefined();
  });

  it('ignores unknown fields, and reports each bad row with its line number', () => {
    const text = [
      row({ id: 'a-1', dataset: 'demo', lang: 'en', text: 'fine', label: 'harmful', extra: { nested: true } }),
      '',
      '{"id": "a-2", "text": "cut',
      row({ id: 'a-3', text: 'what', label: 'maybe' }),
      row({ id: 'a-4', lang: 'fr', text: 'wrong file', label: 'unharmful' }),
      row({ id: 'a-1', text: 'again', label: 'unharmful' }),
      row({ text: 'no id', label: 'unharmful' }),
      row({ id: 7, text: 'numeric id', label: 'unharmful' }),
      '[1, 2]',
      '',
    ].join('\n');
    const file = parseBenchmarkFile('demo_en.jsonl', `\uFEFF${text}`);
    expect(file?.items).toEqual([
      { id: 'a-1', dataset: 'demo', lang: 'en', text: 'fine', gold: 'harmful' },
      { id: '7', dataset: 'demo', lang: 'en', text: 'numeric id', gold: 'unharmful' },
    ]);
    expect(file?.problems.map((p) => [p.line, p.message])).toEqual([
      [3, 'not valid JSON'],
      [4, expect.stringMatching(/^label: /)],
      [5, 'lang "fr" does not match the file name\'s "en"'],
      [6, 'duplicate id "a-1"'],
      [7, expect.stringMatching(/^id: /)],
      [9, 'not a JSON object'],
    ]);
    expect(file?.problems.every((p) => p.source === 'demo_en.jsonl')).toBe(true);
  });

  it('a row with a response is a response-moderation item; an empty response is a bad row', () => {
    const text = [
      row({ id: 'r', text: 'How do I fix a drain?', response: 'Build a bomb.', label: 'harmful' }),
      row({ id: 'e', text: 'How do I fix a drain?', response: '', label: 'unharmful' }),
      row({ id: 'n', text: 'How do I fix a drain?', response: 5, label: 'unharmful' }),
    ].join('\n');
    const file = parseBenchmarkFile('answers_en.jsonl', text);
    expect(file?.items).toEqual([{ id: 'r', dataset: 'answers', lang: 'en', text: 'How do I fix a drain?', response: 'Build a bomb.', gold: 'harmful' }]);
    expect(file?.problems.map((p) => [p.line, p.message])).toEqual([
      [2, expect.stringMatching(/^response: /)],
      [3, expect.stringMatching(/^response: /)],
    ]);
  });

  it('selects sets, languages and the first N items, item by item across languages', () => {
    const file = (dataset: string, lang: string, ids: string[]): BenchmarkFile => ({
      dataset,
      lang,
      problems: [],
      items: ids.map((id) => ({ id, dataset, lang, text: `${id} in ${lang}`, gold: 'unharmful' })),
    });
    const files = [file('s', 'hi', ['1', '2', '3']), file('s', 'en', ['1', '2', '3']), file('t', 'en', ['9']), file('s', 'xx', ['1'])];
    const keys = (selection: Parameters<typeof selectItems>[1]) => selectItems(files, selection).map((i) => `${i.dataset}/${i.lang}/${i.id}`);
    expect(keys({ limit: 2 })).toEqual(['s/en/1', 's/hi/1', 's/xx/1', 's/en/2', 's/hi/2', 't/en/9']);
    expect(keys({ sets: ['s'], langs: ['hi', 'en'], limit: 1 })).toEqual(['s/en/1', 's/hi/1']);
    expect(sortLangs(['xx', 'hi', 'aa', 'en', 'zh-cn'])).toEqual(['en', 'zh-cn', 'hi', 'aa', 'xx']);
    expect(itemKey({ dataset: 's', lang: 'en', id: '1' })).not.toBe(itemKey({ dataset: 's', lang: 'en', id: '10' }));
  });
});

describe('predictions files', () => {
  it('reads them back, reporting a last line cut by an interruption', () => {
    const prediction = { id: '1', dataset: 's', lang: 'en', gold: 'harmful', label: 'unknown', reasoning: '', timings: { totalMs: 3, generatedTokens: 2 }, model: 'm', raw: 'x', reasoningTokens: 0, tokenUnit: 'words', problem: 'p' };
    const text = `${JSON.stringify(prediction)}\n${JSON.stringify({ ...prediction, id: '2' }).slice(0, 30)}`;
    const { predictions, problems } = parsePredictions(text, 'p.jsonl');
    expect(predictions).toEqual([prediction]);
    expect(problems).toEqual([{ source: 'p.jsonl', line: 2, message: 'incomplete last line (interrupted write?)' }]);
  });
});
