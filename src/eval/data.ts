/**
 * Benchmark data for the evaluation harness: the JSONL files of the ConsistentGuard benchmarks
 * (`<set>_<lang>.jsonl`, one `{id, dataset, lang, text, label}` object a line; with a `response`
 * too, the row is a response-moderation item whose label is the response's). Reading is
 * lenient where it is safe and strict where it matters: unknown fields are ignored, but a row
 * that cannot be scored (no id, no text, a label other than harmful/unharmful, a language that
 * contradicts its file, a repeated id) is reported with its line number and skipped, never
 * scored as something it is not. Pure functions of text: the CLI and the browser page share them.
 */
import * as v from 'valibot';

/** The two gold labels of the benchmarks; `harmful` is the positive class. */
export type GoldLabel = 'harmful' | 'unharmful';

/** One benchmark item: a user prompt in one language, or an AI response to it. */
export interface BenchmarkItem {
  /** The same item in every language has the same id. */
  id: string;
  /** The benchmark set, from the file name (e.g. `openai_moderation`). */
  dataset: string;
  /** The language, from the file name (e.g. `zh-cn`). */
  lang: string;
  /** The user prompt to judge, or the prompt a response answers. */
  text: string;
  /**
   * The AI response to judge in the context of `text` (response moderation); `gold` is then the
   * response's label. Absent: the prompt itself is judged.
   */
  response?: string;
  gold: GoldLabel;
}

/** A line that was skipped, and why. */
export interface RowProblem {
  /** Name of the file (or source) the line is in. */
  source: string;
  /** 1-based line number. */
  line: number;
  message: string;
}

/** A parsed benchmark file. */
export interface BenchmarkFile {
  dataset: string;
  lang: string;
  items: BenchmarkItem[];
  problems: RowProblem[];
}

/** The languages of the paper's Table 1, in its column order. */
const PAPER_LANGS = ['en', 'fr', 'zh-cn', 'ja', 'bn', 'hi'] as const;

/** `openai_moderation_zh-cn.jsonl` -> set `openai_moderation`, lang `zh-cn`: the language is after the last `_`. */
const FILE_NAME = /^(?<dataset>[A-Za-z0-9][\w.-]*)_(?<lang>[a-z]{2,3}(?:-[a-z0-9]{2,8})*)\.jsonl$/;

/** The set and language a file name stands for, or `undefined` when it does not follow `<set>_<lang>.jsonl`. */
export function parseFileName(name: string): { dataset: string; lang: string } | undefined {
  const base = name.split(/[\\/]/).pop() ?? name;
  const groups = FILE_NAME.exec(base)?.groups;
  return groups?.dataset && groups.lang ? { dataset: groups.dataset, lang: groups.lang } : undefined;
}

const RowSchema = v.object({
  id: v.union([v.pipe(v.string(), v.minLength(1)), v.pipe(v.number(), v.integer())]),
  text: v.pipe(v.string(), v.minLength(1)),
  response: v.optional(v.pipe(v.string(), v.minLength(1))),
  label: v.picklist(['harmful', 'unharmful']),
  dataset: v.optional(v.string()),
  lang: v.optional(v.string()),
});

/** The first issue of a failed parse, as `field: message`. */
export function describeIssue(issues: readonly v.BaseIssue<unknown>[]): string {
  const issue = issues[0];
  if (issue === undefined) return 'invalid row';
  const path = issue.path?.map((item) => String(item.key)).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** Calls `each` with every non-blank line's JSON object, or reports the line when it is not one. */
export function forEachJsonLine(
  text: string,
  source: string,
  problems: RowProblem[],
  each: (value: unknown, line: number) => void,
): void {
  // A byte-order mark (files saved by some Windows editors) is not part of the first row.
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw) as unknown;
    } catch {
      // The last line of an append-only file may have been cut by an interruption.
      const cut = index === lines.length - 1 && !text.endsWith('\n');
      problems.push({ source, line: index + 1, message: cut ? 'incomplete last line (interrupted write?)' : 'not valid JSON' });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push({ source, line: index + 1, message: 'not a JSON object' });
      return;
    }
    each(value, index + 1);
  });
}

/**
 * Reads one benchmark file.
 * @param name the file name, `<set>_<lang>.jsonl`: the set and language of every row.
 * @returns the items and the lines that were skipped; `undefined` when the name does not follow the pattern.
 */
export function parseBenchmarkFile(name: string, text: string): BenchmarkFile | undefined {
  const named = parseFileName(name);
  if (named === undefined) return undefined;
  const { dataset, lang } = named;
  const items: BenchmarkItem[] = [];
  const problems: RowProblem[] = [];
  const seen = new Set<string>();
  forEachJsonLine(text, name, problems, (value, line) => {
    const row = v.safeParse(RowSchema, value);
    if (!row.success) {
      problems.push({ source: name, line, message: describeIssue(row.issues) });
      return;
    }
    const { id, text: prompt, response, label } = row.output;
    // A row of another set or language in this file would be scored in the wrong column.
    for (const [field, expected] of [['dataset', dataset], ['lang', lang]] as const) {
      const got = row.output[field];
      if (got !== undefined && got !== expected) {
        problems.push({ source: name, line, message: `${field} "${got}" does not match the file name's "${expected}"` });
        return;
      }
    }
    const key = String(id);
    if (seen.has(key)) {
      problems.push({ source: name, line, message: `duplicate id "${key}"` });
      return;
    }
    seen.add(key);
    items.push({ id: key, dataset, lang, text: prompt, ...(response === undefined ? {} : { response }), gold: label });
  });
  return { dataset, lang, items, problems };
}

/** Which items to evaluate. */
export interface Selection {
  /** Sets to keep; all when absent. */
  sets?: readonly string[];
  /** Languages to keep; all when absent. */
  langs?: readonly string[];
  /** At most this many items per file, the first ones (so every language gets the same ids). */
  limit?: number;
}

/** Languages in the paper's order first, then the others alphabetically. */
export function sortLangs(langs: Iterable<string>): string[] {
  const rank = (lang: string) => {
    const at = (PAPER_LANGS as readonly string[]).indexOf(lang);
    return at === -1 ? PAPER_LANGS.length : at;
  };
  return [...new Set(langs)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/**
 * The items to run, in run order: set by set, then item by item across its languages, so that
 * an interrupted run has every language of the items it did.
 */
export function selectItems(files: readonly BenchmarkFile[], selection: Selection = {}): BenchmarkItem[] {
  const kept = files.filter(
    (f) => (selection.sets?.includes(f.dataset) ?? true) && (selection.langs?.includes(f.lang) ?? true),
  );
  const limit = selection.limit ?? Number.POSITIVE_INFINITY;
  const items: BenchmarkItem[] = [];
  for (const dataset of [...new Set(kept.map((f) => f.dataset))]) {
    const langs = sortLangs(kept.filter((f) => f.dataset === dataset).map((f) => f.lang));
    const perLang = langs.map((lang) =>
      kept.filter((f) => f.dataset === dataset && f.lang === lang).flatMap((f) => f.items).slice(0, limit),
    );
    const longest = Math.max(0, ...perLang.map((list) => list.length));
    for (let i = 0; i < longest; i++) {
      for (const list of perLang) {
        const item = list[i];
        if (item !== undefined) items.push(item);
      }
    }
  }
  return items;
}

/** What identifies one judged item: set, language and id. */
export interface ItemKey {
  dataset: string;
  lang: string;
  id: string;
}

/** A string key for maps and sets of items. */
export function itemKey(item: ItemKey): string {
  return `${item.dataset}\u0000${item.lang}\u0000${item.id}`;
}
