/**
 * `lingoguard eval --mode`: each mode is passed to every call and written into each prediction,
 * and the scores table gives tokens per verdict beside F1, with the share that reasoned in
 * `auto`. On fixture-consistentguard over a five-item sample (test/fixtures/eval/modes/): two
 * inputs it is sure of, three it is unsure of on purpose, so `auto` reasons on exactly those.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { UNSURE_TEXTS } from '../../models/build/lexicon.js';
import { main } from '../../src/cli/main.js';
import { parsePredictions, type Prediction } from '../../src/eval/run.js';
import type { ClassifyMode } from '../../src/types.js';

const SAMPLE = 'test/fixtures/eval/modes';
const MODEL = 'fixture-consistentguard';

interface Run {
  out: string;
  table: string;
  predictions: Prediction[];
  /** The CSV row of this run, by column name. */
  csv: Record<string, string>;
}

async function evalIn(mode: ClassifyMode, out = mkdtempSync(join(tmpdir(), `lingoguard-eval-${mode}-`))): Promise<Run> {
  const printed: string[] = [];
  const errors: string[] = [];
  const code = await main(['eval', '--model', MODEL, '--data', SAMPLE, '--out', out, '--mode', mode], {
    out: (t) => printed.push(t),
    err: (t) => errors.push(t),
  });
  expect(code, errors.join('')).toBe(0);
  const [header, row] = readFileSync(join(out, 'table.csv'), 'utf8').trim().split('\n');
  const names = header!.split(',');
  const values = row!.split(',');
  return {
    out,
    table: printed.join(''),
    predictions: parsePredictions(readFileSync(join(out, 'predictions.jsonl'), 'utf8')).predictions,
    csv: Object.fromEntries(names.map((name, i) => [name, values[i] ?? ''])),
  };
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

describe(`lingoguard eval --mode on ${MODEL}`, () => {
  const runs = {} as Record<ClassifyMode, Run>;
  beforeAll(async () => {
    for (const mode of ['full', 'fast', 'auto'] as const) runs[mode] = await evalIn(mode);
  }, 120_000);

  it('the sample holds the designed unsure inputs', () => {
    const texts = readFileSync(join(SAMPLE, 'modes_en.jsonl'), 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { id: string; text: string }));
    expect(texts.filter((t) => t.id.startsWith('unsure')).map((t) => t.text)).toEqual([...UNSURE_TEXTS]);
  });

  it('auto reasons on the unsure items only, and the table says which share reasoned', () => {
    const { predictions, table, csv } = runs.auto;
    expect(predictions.map((p) => [p.id, p.classifyMode, p.path])).toEqual([
      ['trigger', 'auto', 'fast'],
      ['benign', 'auto', 'fast'],
      ['unsure-1', 'auto', 'reasoned'],
      ['unsure-2', 'auto', 'reasoned'],
      ['unsure-3', 'auto', 'reasoned'],
    ]);
    for (const p of predictions) expect(p.reasoningTokens > 0).toBe(p.path === 'reasoned');
    expect(csv.mode).toBe('auto');
    expect(Number(csv.reasoned_share)).toBe(0.6);
    expect(table).toContain('mode auto, and tokens per verdict');
    expect(table).toMatch(/\| tokens decoded \| tokens fed \| reasoned \|/);
    expect(table).toMatch(/\| 60\.0% \|/);
  });

  it('gives tokens per verdict beside F1: the means of the counts in the predictions', () => {
    for (const mode of ['full', 'fast', 'auto'] as const) {
      const { predictions, csv, table } = runs[mode];
      expect(predictions.every((p) => p.classifyMode === mode)).toBe(true);
      const decoded = mean(predictions.map((p) => p.timings.generatedTokens!));
      const fed = mean(predictions.map((p) => p.timings.forwardTokens!));
      expect([Number(csv.tokens_decoded), Number(csv.tokens_fed)], mode).toEqual([Number(decoded.toFixed(3)), Number(fed.toFixed(3))]);
      expect(table).toContain(`| ${decoded.toFixed(1)} | ${fed.toFixed(1)} |`);
      // Only auto has a share that reasoned: full always does, fast never.
      expect(csv.reasoned_share).toBe(mode === 'auto' ? '0.6' : '');
      expect(table.includes('| reasoned |')).toBe(mode === 'auto');
    }
    // What auto is for: fewer tokens than full, for the same verdicts on this sample.
    const decoded = (mode: ClassifyMode) => Number(runs[mode].csv.tokens_decoded);
    expect(decoded('fast')).toBeLessThan(decoded('auto'));
    expect(decoded('auto')).toBeLessThan(decoded('full'));
    expect(runs.auto.predictions.map((p) => p.label)).toEqual(runs.full.predictions.map((p) => p.label));
    expect(runs.auto.csv.f1).toBe(runs.full.csv.f1);
    expect(runs.fast.predictions.every((p) => p.reasoningTokens === 0 && p.path !== 'reasoned')).toBe(true);
  });

  it('refuses to resume a folder judged in another mode, and an unknown mode', async () => {
    const errors: string[] = [];
    const output = { out: () => undefined, err: (t: string) => errors.push(t) };
    expect(await main(['eval', '--model', MODEL, '--data', SAMPLE, '--out', runs.full.out, '--mode', 'auto'], output)).not.toBe(0);
    expect(errors.join('')).toMatch(/judged in full mode, not auto: choose another --out/);
    expect(await main(['eval', '--model', MODEL, '--data', SAMPLE, '--mode', 'quick'], output)).not.toBe(0);
    expect(errors.join('')).toMatch(/--mode is full, fast or auto, not "quick"/);
  });
});
