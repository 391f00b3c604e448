/**
 * `lingoguard eval` end to end in Node, on the fixture models over the committed slice:
 * the table, the files it writes, resuming after an interruption, bad rows, unknown verdicts
 * and the CAO export.
 */
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { evalCommand } from '../../src/cli/eval.js';
import { loadModel } from '../../src/cli/load-model.js';
import { main } from '../../src/cli/main.js';
import { parsePromptArgs, runPrompt, type PromptJson } from '../../src/cli/prompt.js';
import type { CaoPair } from '../../src/eval/consistency.js';
import { parsePredictions, type Prediction } from '../../src/eval/run.js';
import { ensureFixtures } from '../models/ensure-fixtures.js';

const SLICE = 'test/fixtures/eval';
const LANGS = ['en', 'fr', 'zh-cn', 'ja', 'bn', 'hi'];

beforeAll(() => ensureFixtures(), 120_000);

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { output: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out: () => out.join(''), err: () => err.join('') };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'lingoguard-eval-'));
const predictionsIn = (dir: string): Prediction[] => parsePredictions(readFileSync(join(dir, 'predictions.jsonl'), 'utf8')).predictions;
const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');

describe('lingoguard eval on fixture-consistentguard', () => {
  it('prints Table 1 with the paper rows and writes predictions, Markdown, CSV, SVG and CAO pairs', async () => {
    const out = tmp();
    const run = capture();
    const code = await main(['eval', '--model', 'fixture-consistentguard', '--data', SLICE, '--limit', '12', '--out', out], run.output);
    expect(code, run.err()).toBe(0);
    expect(run.err()).toContain('judged 72, skipped 0');
    const table = run.out();
    expect(table).toContain('Table 1, openai_moderation: F1 of the harmful class (x100), 12 items per language');
    expect(table).toMatch(/\| \*\*fixture-consistentguard \(this run\)\*\* \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \|/);
    expect(table).toContain('| ConsistentGuard 3B | 78.94 | 76.46 | 76.83 | 77.50 | 72.10 | 73.26 |');
    expect(table).toContain('unknown verdicts count as wrong answers');
    expect(table).toContain('has_think');
    expect(table).toContain('same label as en');
    expect(table.startsWith(readFileSync(join(out, 'table.md'), 'utf8'))).toBe(true);
    expect(table).toContain('cao-pairs.jsonl (');

    const predictions = predictionsIn(out);
    expect(predictions).toHaveLength(72);
    for (const p of predictions) {
      expect(Object.keys(p)).toEqual(expect.arrayContaining(['id', 'dataset', 'lang', 'gold', 'label', 'reasoning', 'timings', 'raw', 'reasoningTokens']));
      expect(p.timings.totalMs).toBeGreaterThan(0);
      expect(p.tokenUnit).toBe('tokens');
      expect(p.reasoningTokens).toBeGreaterThan(0);
      // Counted by the runtime: fewer than the whole answer's tokens.
      expect(p.reasoningTokens).toBeLessThan(p.timings.generatedTokens ?? 0);
    }
    // The keyword fixture flags `kill` in English but not `tuez` in French: both verdicts occur.
    expect(new Set(predictions.map((p) => p.label))).toEqual(new Set(['harmful', 'unharmful']));

    const csv = lines(join(out, 'table.csv'));
    expect(csv[0]).toBe('model,source,set,lang,n,f1,precision,recall,accuracy,unknown_share,mode,tokens_decoded,tokens_fed,reasoned_share');
    expect(csv.filter((l) => l.startsWith('fixture-consistentguard,this run,openai_moderation,'))).toHaveLength(6);
    expect(csv.filter((l) => l.includes('Table 1'))).toHaveLength(36);

    const svg = readFileSync(join(out, 'chart.svg'), 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    for (const lang of LANGS) expect(svg).toContain(`>${lang}</text>`);
    expect(svg).toContain('ConsistentGuard 3B');
    expect(svg.match(/<polyline /g)?.length).toBe(7); // this model + the paper's six rows
  });

  it('resumes after an interruption: nothing judged twice, same table as one uninterrupted run', async () => {
    const args = (out: string) => ['--model', 'fixture-consistentguard', '--data', SLICE, '--limit', '6', '--out', out];
    const whole = tmp();
    expect(await main(['eval', ...args(whole)], capture().output)).toBe(0);

    const out = tmp();
    const stop = new AbortController();
    const first = capture();
    const code = await evalCommand(args(out), first.output, {
      signal: stop.signal,
      onProgress: (p) => {
        if (p.done === 10) stop.abort();
      },
    });
    expect(code).toBe(130);
    expect(first.err()).toContain('interrupted: judged 10, skipped 0');
    expect(lines(join(out, 'predictions.jsonl'))).toHaveLength(10);
    expect(first.out()).toContain('26 selected items have no prediction yet');

    // A write cut by a crash: reported with its line number, its item judged again.
    const cut = JSON.stringify({ ...predictionsIn(whole)[12] }).slice(0, 40);
    appendFileSync(join(out, 'predictions.jsonl'), cut);
    const second = capture();
    expect(await main(['eval', ...args(out)], second.output)).toBe(0);
    expect(second.err()).toContain('predictions.jsonl:11: incomplete last line');
    expect(second.err()).toContain('judged 26, skipped 10');
    const keys = predictionsIn(out).map((p) => `${p.lang}/${p.id}`);
    expect(keys).toHaveLength(36);
    expect(new Set(keys).size).toBe(36);
    expect(readFileSync(join(out, 'table.md'), 'utf8')).toBe(readFileSync(join(whole, 'table.md'), 'utf8'));

    const third = capture();
    expect(await main(['eval', ...args(out)], third.output)).toBe(0);
    expect(third.err()).toContain('judged 0, skipped 36');
  });

  it('exports CAO pairs: the exact model input, English-right completion chosen, wrong one rejected', async () => {
    const out = tmp();
    const run = capture();
    expect(await main(['eval', '--model', 'fixture-consistentguard', '--data', SLICE, '--out', out], run.output)).toBe(0);
    const predictions = predictionsIn(out);
    const pairs = lines(join(out, 'cao-pairs.jsonl')).map((l) => JSON.parse(l) as CaoPair);
    // As many pairs as items right in English only, summed over the consistency table.
    const expected = [...run.out().matchAll(/\| openai_moderation \| [a-z-]+ \| 32 \| [\d.]+% \| (\d+) \|/g)].reduce((n, m) => n + Number(m[1]), 0);
    expect(pairs.length).toBe(expected);
    expect(pairs.length).toBeGreaterThan(0);
    const slice = new Map(
      LANGS.map((lang) => [lang, lines(`${SLICE}/openai_moderation_${lang}.jsonl`).map((l) => JSON.parse(l) as { id: string; text: string })]),
    );
    // The item a prompt was built for: its text is the conversation.
    const itemOf = (prompt: string, lang: string) => slice.get(lang)?.find((r) => prompt.includes(`Human user:\n${r.text}</conversation>`));
    const predictionOf = (lang: string, id: string | undefined) => predictions.find((p) => p.lang === lang && p.id === id);
    for (const pair of pairs) {
      expect(Object.keys(pair)).toEqual(['prompt', 'chosen', 'rejected', 'anchor_prompt', 'anchor_completion']);
      const id = itemOf(pair.anchor_prompt, 'en')?.id;
      const lang = LANGS.slice(1).find((l) => itemOf(pair.prompt, l)?.id === id);
      const english = predictionOf('en', id);
      const other = predictionOf(lang ?? '', id);
      expect(english?.label).toBe(english?.gold);
      expect(other?.label).not.toBe(other?.gold);
      expect([pair.chosen, pair.anchor_completion, pair.rejected]).toEqual([english?.raw, english?.raw, other?.raw]);
    }
    // The prompt is what `lingoguard prompt` shows the model for that item.
    const first = pairs[0];
    const item = LANGS.slice(1).map((lang) => itemOf(first?.prompt ?? '', lang)).find((r) => r !== undefined);
    const shown = JSON.parse(await runPrompt(parsePromptArgs(['--model', 'fixture-consistentguard', '--json', item?.text ?? '']), loadModel)) as PromptJson;
    expect(first?.prompt).toBe(shown.text);
    expect(first?.prompt.endsWith('</conversation>\nAssistant: \\n<think>')).toBe(true);
  });
});

describe('lingoguard eval on bad input', () => {
  it('reports bad rows with their line numbers and skips them; any set name in the folder can be chosen', async () => {
    const data = tmp();
    const good = (id: string, label: string) => JSON.stringify({ id, text: `how to hack ${id}`, label, source: 'ignored' });
    writeFileSync(join(data, 'my_set_en.jsonl'), [good('a', 'harmful'), 'not json', JSON.stringify({ id: 'b', text: 'x', label: 'spam' }), good('c', 'unharmful'), ''].join('\n'));
    writeFileSync(join(data, 'notes.txt'), 'ignored');
    const run = capture();
    expect(await main(['eval', '--model', 'fixture-consistentguard', '--data', data, '--sets', 'my_set', '--out', join(data, 'out')], run.output)).toBe(0);
    expect(run.err()).toContain('skipped my_set_en.jsonl:2: not valid JSON');
    expect(run.err()).toMatch(/skipped my_set_en\.jsonl:3: label: /);
    expect(run.out()).toContain('| my_set | en | 2 | 66.67 | 50.00 | 100.00 | 50.00 | 0.0% |');
  });

  it('names the sets and languages it found when asked for others', async () => {
    const run = capture();
    expect(await main(['eval', '--model', 'fixture-consistentguard', '--data', SLICE, '--sets', 'toxicchat'], run.output)).toBe(1);
    expect(run.err()).toContain('No data for set toxicchat; found: openai_moderation');
    const langs = capture();
    expect(await main(['eval', '--model', 'fixture-consistentguard', '--data', SLICE, '--langs', 'de'], langs.output)).toBe(1);
    expect(langs.err()).toContain('No data for language de; found: en, fr, zh-cn, ja, bn, hi');
  });

  it('an all-unknown model scores 0, with every verdict counted as wrong', async () => {
    const run = capture();
    const out = tmp();
    expect(await main(['eval', '--model', 'fixture-malformed', '--data', SLICE, '--langs', 'en,fr', '--limit', '4', '--out', out], run.output)).toBe(0);
    expect(run.out()).toMatch(/\| openai_moderation \| en \| 4 \| 0\.00 \| [\d.—]+ \| 0\.00 \| 0\.00 \| 100\.0% \|/);
    expect(predictionsIn(out).every((p) => p.label === 'unknown' && p.problem !== undefined)).toBe(true);
    expect(lines(join(out, 'cao-pairs.jsonl'))).toHaveLength(0);
  });

  it('refuses to mix two models in one output folder', async () => {
    const out = tmp();
    expect(await main(['eval', '--model', 'fixture-consistentguard', '--data', SLICE, '--limit', '1', '--out', out], capture().output)).toBe(0);
    const run = capture();
    expect(await main(['eval', '--model', 'fixture-malformed', '--data', SLICE, '--limit', '1', '--out', out], run.output)).toBe(1);
    expect(run.err()).toContain('holds predictions of fixture-consistentguard, not fixture-malformed');
  });
});
