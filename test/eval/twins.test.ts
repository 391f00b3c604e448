/**
 * `lingoguard eval` on every twin of a real export, over the committed twin sample
 * (test/fixtures/eval/twins/: our own texts in the six languages, prompts and responses): the
 * predictions it writes, F1 per language computed from them, and response moderation. Each twin
 * is loaded once: one eval run judges both sets.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { parsePredictions, type Prediction } from '../../src/eval/run.js';
import { TWINS } from '../cli/twin-cases.js';
import { ensureFixtures } from '../models/ensure-fixtures.js';

const SAMPLE = 'test/fixtures/eval/twins';
const LANGS = ['en', 'fr', 'zh-cn', 'ja', 'bn', 'hi'];

beforeAll(() => ensureFixtures(), 180_000);

/** A CSV row of this run, by set and language: its scores x100, unknown share as a fraction. */
function csvRows(path: string): Map<string, { n: number; f1: number; precision: number; recall: number; unknown: number }> {
  const rows = new Map<string, { n: number; f1: number; precision: number; recall: number; unknown: number }>();
  for (const line of readFileSync(path, 'utf8').trim().split('\n').slice(1)) {
    const [, source, set, lang, n, f1, precision, recall, , unknown] = line.split(',');
    if (source === 'this run') rows.set(`${set}/${lang}`, { n: Number(n), f1: Number(f1), precision: Number(precision), recall: Number(recall), unknown: Number(unknown) });
  }
  return rows;
}

describe.each(TWINS)('lingoguard eval on $id', (twin) => {
  let out: string;
  let table: string;
  let predictions: Prediction[];

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'lingoguard-eval-twin-'));
    const printed: string[] = [];
    const errors: string[] = [];
    // The longest designed answer is ~65 tokens: the cap only shortens a loop the twin has no answer for.
    const args = ['eval', '--model', twin.id, '--data', SAMPLE, '--out', out, '--max-new-tokens', '160'];
    const code = await main(args, { out: (t) => printed.push(t), err: (t) => errors.push(t) });
    expect(code, errors.join('')).toBe(0);
    expect(errors.join('')).toContain('judged 30, skipped 0');
    table = printed.join('');
    predictions = parsePredictions(readFileSync(join(out, 'predictions.jsonl'), 'utf8')).predictions;
  }, 180_000);

  it('writes a prediction per item, prompts and responses, each with its model, label and timings', () => {
    expect(predictions).toHaveLength(30);
    for (const p of predictions) {
      expect(p.model).toBe(twin.id);
      expect(p.timings.totalMs).toBeGreaterThan(0);
      expect(p.mode).toBe(p.dataset === 'twin_responses' ? 'response' : undefined);
      // A verdict of the model's own always comes with its score.
      if (p.label !== 'unknown') expect(p.score).toBeTypeOf('number');
    }
    const labels = (set: string, id: string) => LANGS.map((lang) => predictions.find((p) => p.dataset === set && p.lang === lang && p.id === id)?.label);
    // Keyword twins: the trigger word flags, a harmful text without one is missed, in every language.
    expect(labels('twin_prompts', 'trigger')).toEqual(LANGS.map(() => 'harmful'));
    expect(labels('twin_prompts', 'no-trigger')).toEqual(LANGS.map(() => 'unharmful'));
    expect(labels('twin_prompts', 'benign')).toEqual(LANGS.map(() => 'unharmful'));
    const prompts = predictions.filter((p) => p.dataset === 'twin_prompts');
    expect(prompts.every((p) => p.reasoningTokens > 0)).toBe(twin.reasoning);
    expect(prompts.filter((p) => p.label === 'harmful').every((p) => twin.answers.harmful.startsWith(p.raw))).toBe(true);
  });

  it('computes F1 per set and language from those predictions (unknown counted as wrong); 66.67 on the prompts everywhere', () => {
    const rows = csvRows(join(out, 'table.csv'));
    expect(rows.size).toBe(12);
    for (const [key, row] of rows) {
      const cell = predictions.filter((p) => `${p.dataset}/${p.lang}` === key);
      const tp = cell.filter((p) => p.gold === 'harmful' && p.label === 'harmful').length;
      const wrong = cell.filter((p) => p.label !== p.gold).length;
      expect([row.n, row.f1], key).toEqual([cell.length, Number(((200 * tp) / (2 * tp + wrong)).toFixed(4))]);
    }
    for (const lang of LANGS) {
      expect(rows.get(`twin_prompts/${lang}`)).toEqual({ n: 3, f1: 66.6667, precision: 100, recall: 50, unknown: 0 });
    }
    expect(table).toMatch(new RegExp(`\\| \\*\\*${twin.id} \\(this run\\)\\*\\* (\\| 66\\.67 ){6}\\|`));
    expect(table).toContain('| twin_prompts | hi | 3 | 66.67 | 100.00 | 50.00 | 66.67 | 0.0% |');
  });

  it('judges AI responses in context: the harmful one flagged, the benign one passed, F1 100', () => {
    const rows = csvRows(join(out, 'table.csv'));
    const responses = predictions.filter((p) => p.dataset === 'twin_responses');
    expect(responses).toHaveLength(12);
    expect(table).toContain('Table 1, twin_responses (AI responses judged)');
    for (const lang of LANGS) {
      const cell = responses.filter((p) => p.lang === lang);
      if (twin.responseLangs.includes(lang)) {
        expect(cell.map((p) => [p.id, p.label])).toEqual(cell.map((p) => [p.id, p.gold]));
        expect(rows.get(`twin_responses/${lang}`)).toEqual({ n: 2, f1: 100, precision: 100, recall: 100, unknown: 0 });
      } else {
        // Where the twin has no answer it says so: `unknown` with the reason, never the wrong label.
        for (const p of cell) expect(p.label === p.gold || (p.label === 'unknown' && p.problem !== undefined), `${lang}/${p.id}: ${p.label}`).toBe(true);
      }
    }
    // The CAO pairs are exactly the items right in English and wrong elsewhere: none on the prompts.
    const pairs = readFileSync(join(out, 'cao-pairs.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
    expect(pairs).toHaveLength(responses.filter((p) => p.lang !== 'en' && p.label !== p.gold).length);
  });
});
