/**
 * Makes the evaluation slice committed under `test/fixtures/eval/`: the same 32 OpenAI
 * Moderation items (MIT) in all six languages, copied row for row from the benchmark files.
 * ToxicChat (CC-BY-NC) is never copied into the project. Items are short (under 400 characters
 * in every language) and include every one whose text holds a trigger word of the keyword
 * fixtures, so that the fixture models give both verdicts and disagree across languages.
 * Rows are in that interleaved order, not by id.
 *
 * Run: `npx tsx scripts/eval-slice.ts [../shared/data/benchmarks]`
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TRIGGERS } from '../models/build/lexicon.js';

const SOURCE = resolve(process.argv[2] ?? '../shared/data/benchmarks');
const TARGET = resolve(import.meta.dirname, '../test/fixtures/eval');
const LANGS = ['en', 'fr', 'zh-cn', 'ja', 'bn', 'hi'] as const;
const SIZE = 32;
const MAX_CHARS = 400;

interface Row {
  id: string;
  text: string;
  label: string;
}

const lines = new Map(LANGS.map((lang) => [lang, readFileSync(join(SOURCE, `openai_moderation_${lang}.jsonl`), 'utf8').split('\n').filter(Boolean)]));
const rows = new Map(LANGS.map((lang) => [lang, new Map((lines.get(lang) ?? []).map((line) => [(JSON.parse(line) as Row).id, line]))]));
const text = (lang: string, id: string) => (JSON.parse(rows.get(lang as (typeof LANGS)[number])?.get(id) ?? '{}') as Row).text ?? '';

const triggered = (value: string) =>
  TRIGGERS.some(({ text: word, match }) => (match === 'word' ? new RegExp(`(^|[^\\p{L}])${word}($|[^\\p{L}])`, 'iu').test(value) : value.includes(word)));

const ids = [...(rows.get('en')?.keys() ?? [])].filter((id) => LANGS.every((lang) => text(lang, id).length > 0 && text(lang, id).length < MAX_CHARS));
const withTrigger = ids.filter((id) => LANGS.some((lang) => triggered(text(lang, id))));
const chosen = new Set(withTrigger.slice(0, SIZE / 2));
for (const id of ids) {
  if (chosen.size >= SIZE) break;
  chosen.add(id);
}
// Items with and without a trigger alternate, so that any `--limit` gets both verdicts.
const byNumber = (a: string, b: string) => Number(a.split('-').pop()) - Number(b.split('-').pop());
const triggeredIds = [...chosen].filter((id) => withTrigger.includes(id)).sort(byNumber);
const otherIds = [...chosen].filter((id) => !withTrigger.includes(id)).sort(byNumber);
const order = triggeredIds.flatMap((id, i) => [otherIds[i], id]).concat(otherIds.slice(triggeredIds.length)).filter((id) => id !== undefined);

mkdirSync(TARGET, { recursive: true });
for (const lang of LANGS) {
  const out = order.map((id) => rows.get(lang)?.get(id) ?? '').join('\n') + '\n';
  writeFileSync(join(TARGET, `openai_moderation_${lang}.jsonl`), out);
}
console.log(`${order.length} items x ${LANGS.length} languages -> ${TARGET}`);
