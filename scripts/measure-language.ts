/**
 * Measures `detectLanguage` over the benchmark files: for each `*.jsonl` in the data dir, the
 * rows whose text has at least 20 characters, scored against the row's `lang`.
 *
 *     npx tsx scripts/measure-language.ts [data-dir]     # default: ../shared/data/benchmarks
 *
 * A row's `lang` is the language of its file, not a per-row annotation: some rows of the
 * translated and of the English files are in another language (untranslated spam, Portuguese
 * or Spanish prompts in ToxicChat), so 100% is out of reach by design. The table also shows the
 * mean confidence on right and wrong answers: the second should be clearly lower.
 *
 * Then the same for `test/fixtures/low-resource-languages.jsonl` (languages outside the
 * benchmark): right, `und`, and wrong codes, which should be none at confidence 0.5 or more.
 */

import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { detectLanguage } from '../src/common/language.js';

const MIN_CHARS = 20;

interface Tally {
  n: number;
  correct: number;
  confidenceRight: number;
  confidenceWrong: number;
  wrongCodes: Map<string, number>;
}

const dir = resolve(process.argv[2] ?? '../shared/data/benchmarks');
const tallies = new Map<string, Tally>();
let rows = 0;
const started = performance.now();

for (const file of readdirSync(dir).filter((name) => name.endsWith('.jsonl')).sort()) {
  for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const { text, lang } = JSON.parse(line) as { text: string; lang: string };
    if ([...text].length < MIN_CHARS) continue;
    const tally = tallies.get(lang) ?? { n: 0, correct: 0, confidenceRight: 0, confidenceWrong: 0, wrongCodes: new Map() };
    tallies.set(lang, tally);
    const { code, confidence } = detectLanguage(text);
    tally.n++;
    rows++;
    if (code === lang) {
      tally.correct++;
      tally.confidenceRight += confidence;
    } else {
      tally.confidenceWrong += confidence;
      tally.wrongCodes.set(code, (tally.wrongCodes.get(code) ?? 0) + 1);
    }
  }
}

const elapsed = performance.now() - started;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const mean = (sum: number, n: number) => (n === 0 ? '-' : (sum / n).toFixed(2));
console.log(`data: ${dir} (texts of >= ${MIN_CHARS} chars)`);
console.log('lang   |     n | correct | accuracy | mean conf | conf right | conf wrong | most frequent wrong codes');
console.log('-------|-------|---------|----------|-----------|------------|------------|--------------------------');
for (const [lang, t] of [...tallies].sort(([a], [b]) => a.localeCompare(b))) {
  const wrong = t.n - t.correct;
  const top = [...t.wrongCodes].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([c, k]) => `${c}:${k}`).join(' ');
  console.log(
    [
      lang.padEnd(6),
      String(t.n).padStart(5),
      String(t.correct).padStart(7),
      pct(t.correct / t.n).padStart(8),
      mean(t.confidenceRight + t.confidenceWrong, t.n).padStart(9),
      mean(t.confidenceRight, t.correct).padStart(10),
      mean(t.confidenceWrong, wrong).padStart(10),
      top,
    ].join(' | '),
  );
}
console.log(`${rows} texts in ${elapsed.toFixed(0)} ms (${(elapsed / Math.max(rows, 1)).toFixed(3)} ms each)`);

const lowResource = readFileSync(new URL('../test/fixtures/low-resource-languages.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as { lang: string; text: string });
const outcome = { right: 0, und: 0, wrongLow: 0, wrongHigh: 0 };
const wrong: string[] = [];
for (const { lang, text } of lowResource) {
  const { code, confidence } = detectLanguage(text);
  if (code === lang) outcome.right++;
  else if (code === 'und') outcome.und++;
  else {
    outcome[confidence >= 0.5 ? 'wrongHigh' : 'wrongLow']++;
    wrong.push(`${lang}->${code}@${confidence}`);
  }
}
console.log(
  `\nlow-resource samples (${lowResource.length}): ${outcome.right} right, ${outcome.und} und, ` +
    `${outcome.wrongLow} wrong below 0.5, ${outcome.wrongHigh} wrong at 0.5 or more ${wrong.join(' ')}`,
);
