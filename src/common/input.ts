/**
 * Input checks: what the guard is given is what a reader of the text would see.
 *
 * Text reaches a guard through chat boxes, pastes and APIs, and attackers use the gap between
 * what is displayed and what is stored to slip text past it (`b\u200Bomb`, `ｂｏｍｂ`, right-to-left
 * overrides, invisible tag characters, a Cyrillic `о` in `bоmb`). {@link normalizeInput} closes that gap, rejects input that
 * cannot be judged, and says what it changed, by kind and count, never with the text itself.
 *
 * Context length is handled by judging everything: the runtime (`worker/runtime.ts`) judges an
 * over-long text in overlapping token windows, and {@link worstVerdict} combines their labels.
 * Nothing is ever truncated silently.
 */

import confusablesData from 'unhomoglyph/data.json' with { type: 'json' };
import { InvalidInputError } from '../errors.js';
import type { Label, ModerationInput, Verdict } from '../types.js';

/** What {@link normalizeText} can change. */
export const CHANGE_KINDS = [
  /** Lone surrogates (broken UTF-16), replaced with U+FFFD as UTF-8 encoding would. */
  'lone-surrogate',
  /** C0/C1 control characters other than tab, line feed and carriage return. */
  'control',
  /** Bidi embeddings, isolates and marks, removed. */
  'bidi-control',
  /** Right-to-left overrides: their span is put in the order a reader sees, then removed. */
  'bidi-override',
  /** Invisible characters that split or pad words (zero-width space, soft hyphen...), removed. */
  'invisible',
  /** Tag characters (U+E0000 block) outside emoji flags: their hidden ASCII is made visible. */
  'tag',
  /** Compatibility letters (fullwidth, mathematical, circled...) folded to the plain letter. */
  'compatibility',
  /**
   * Look-alike letters of another script inside a word (a Cyrillic `о` in `bоmb`), folded to
   * the word's own script by Unicode's confusables data; see {@link foldLookAlikes}.
   */
  'confusable',
] as const;

/** One of {@link CHANGE_KINDS}. */
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** One kind of change made to one field, and how many characters it touched. */
export interface InputChange {
  field: 'prompt' | 'response';
  kind: ChangeKind;
  count: number;
  /** For `confusable`: the ISO 15924 script of the letters folded, and the one they were folded to. */
  from?: string;
  to?: string;
}

/** One script pair of look-alike letters folded in one field, as {@link Verdict} reports it. */
export type Fold = NonNullable<Verdict['folded']>[number];

/** The input as the guard will judge it, and what was changed to get there. */
export interface NormalizedInput {
  input: ModerationInput;
  changes: InputChange[];
  /** The `confusable` changes, by field and script pair (empty when none). */
  folded: Fold[];
}

/**
 * Checks and normalizes what the user asked to moderate.
 *
 * Accepts a string (a prompt) or `{ prompt, response? }` with string values and no other keys
 * (an unknown key is most likely a misspelt `response`, which would go unjudged). Throws
 * {@link InvalidInputError} with `details.field` for a wrong shape or a text that is empty once
 * a reader's view of it is taken (whitespace or invisible characters only).
 * @example normalizeInput('b\u200Bomb') // { input: { prompt: 'bomb' }, changes: [{ field: 'prompt', kind: 'invisible', count: 1 }] }
 */
export function normalizeInput(value: unknown): NormalizedInput {
  if (typeof value === 'string') value = { prompt: value };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError('Expected a string or an object { prompt, response? }.', {
      details: { field: 'input', type: value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value },
    });
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== 'prompt' && key !== 'response') {
      throw new InvalidInputError(`Unknown input field "${key}": expected only "prompt" and "response".`, {
        details: { field: key },
      });
    }
  }
  const changes: InputChange[] = [];
  const prompt = checkedText(record['prompt'], 'prompt', changes);
  const response = record['response'] === undefined ? undefined : checkedText(record['response'], 'response', changes);
  const folded = changes.flatMap(({ field, kind, from, to, count }) =>
    kind === 'confusable' && from !== undefined && to !== undefined ? [{ field, from, to, count }] : [],
  );
  return { input: response === undefined ? { prompt } : { prompt, response }, changes, folded };
}

function checkedText(value: unknown, field: 'prompt' | 'response', changes: InputChange[]): string {
  if (typeof value !== 'string') {
    throw new InvalidInputError(`"${field}" must be a string.`, { details: { field, type: typeof value } });
  }
  const reasonEmpty = value === '' ? 'empty' : value.trim() === '' ? 'whitespace' : undefined;
  if (reasonEmpty !== undefined) {
    throw new InvalidInputError(`"${field}" is ${reasonEmpty === 'empty' ? 'empty' : 'only whitespace'}.`, {
      details: { field, reason: reasonEmpty },
    });
  }
  const normalized = normalizeText(value);
  if (normalized.text.trim() === '') {
    throw new InvalidInputError(`"${field}" has no visible characters.`, { details: { field, reason: 'invisible' } });
  }
  for (const change of normalized.changes) changes.push({ field, ...change });
  return normalized.text;
}

/**
 * One text as a reader sees it; see {@link CHANGE_KINDS} for each step. Then NFC, which never
 * changes what is displayed. Not NFKC as a whole: it would also rewrite Korean compatibility
 * jamo (`ㅋㅋ`), CJK compatibility ideographs, `…`, `½` and `㍿`, which readers read as they are
 * and tokenizers handle as they are; only letters and digits that NFKC folds to Latin, Greek or
 * Cyrillic ones, and half-width katakana, are folded. Last, look-alike letters of another
 * script inside a word ({@link foldLookAlikes}).
 */
export function normalizeText(text: string): { text: string; changes: Omit<InputChange, 'field'>[] } {
  const counts = new Map<ChangeKind, number>();
  // Counts code points changed, except for override spans, counted one per span.
  const step = (kind: ChangeKind, pattern: RegExp, replace: (match: string) => string) => {
    text = text.replace(pattern, (match) => {
      const replaced = replace(match);
      if (replaced !== match) {
        const n = kind === 'bidi-override' ? 1 : codePoints(match);
        counts.set(kind, (counts.get(kind) ?? 0) + n);
      }
      return replaced;
    });
  };
  step('lone-surrogate', LONE_SURROGATE, () => '\uFFFD');
  step('tag', TAG, revealTag);
  step('control', LINE_BREAK_CONTROL, () => '\n');
  step('control', CONTROL, () => '');
  step('bidi-override', OVERRIDE_SPAN, (span) => reverseGraphemes(span.slice(1).replace(/\u202C$/u, '')));
  step('bidi-control', BIDI_CONTROL, () => '');
  step('invisible', INVISIBLE, () => '');
  step('invisible', JOINER_OUTSIDE_SCRIPTS, () => '');
  step('invisible', EXTRA_VARIATION_SELECTOR, () => '');
  step('compatibility', COMPATIBILITY_LETTER, fold);
  text = text.normalize('NFC');
  const folded = foldLookAlikes(text);
  const changes: Omit<InputChange, 'field'>[] = CHANGE_KINDS.flatMap((kind) =>
    counts.has(kind) ? [{ kind, count: counts.get(kind) ?? 0 }] : [],
  );
  for (const { from, to, count } of folded.folds) changes.push({ kind: 'confusable', count, from, to });
  return { text: folded.text, changes };
}

/** The scripts a word can be folded to: the ones whose letters other scripts imitate. */
const FOLD_SCRIPTS = ['Latn', 'Cyrl', 'Grek'] as const;
type FoldScript = (typeof FOLD_SCRIPTS)[number];
const IN_SCRIPT: Record<FoldScript, RegExp> = { Latn: /\p{sc=Latn}/u, Cyrl: /\p{sc=Cyrl}/u, Grek: /\p{sc=Grek}/u };
/** Scripts named in the report for letters folded from them; others are `Zzzz`. */
const SOURCE_SCRIPTS = ['Latn', 'Cyrl', 'Grek', 'Armn', 'Cher', 'Copt', 'Geor', 'Lisu', 'Vaii', 'Hebr', 'Arab'].map(
  (script) => [script, new RegExp(`\\p{sc=${script}}`, 'u')] as const,
);
/** The letters a look-alike may become: plain ones, so that a fold never makes an exotic letter. */
const TARGET_LETTERS: Record<FoldScript, [number, number][]> = {
  Latn: [[0x41, 0x5a], [0x61, 0x7a]],
  Cyrl: [[0x400, 0x45f]],
  Grek: [[0x391, 0x3a9], [0x3b1, 0x3c9]],
};
const WORD = /[\p{L}\p{M}]+/gu;
const LETTER = /\p{L}/u;

/**
 * UTS #39 confusables (unhomoglyph's copy of Unicode's confusables.txt): a letter's prototype.
 * Two letters look alike when their prototypes are equal (Cyrillic `о` and Latin `o` are `o`;
 * Latin `I` and Cyrillic `І` are both `l`).
 */
const PROTOTYPE = confusablesData as Record<string, string>;
const prototype = (char: string): string => PROTOTYPE[char] ?? char;

let lookAlikes: Map<FoldScript, Map<string, string>> | undefined;

/** For each script, its plain letters by prototype (built on first use: most texts never need it). */
function lookAlikeTables(): Map<FoldScript, Map<string, string>> {
  if (lookAlikes !== undefined) return lookAlikes;
  lookAlikes = new Map();
  for (const script of FOLD_SCRIPTS) {
    const table = new Map<string, string>();
    for (const [from, to] of TARGET_LETTERS[script]) {
      for (let code = from; code <= to; code++) {
        const letter = String.fromCodePoint(code);
        if (IN_SCRIPT[script].test(letter) && !table.has(prototype(letter))) table.set(prototype(letter), letter);
      }
    }
    lookAlikes.set(script, table);
  }
  return lookAlikes;
}

/**
 * Folds the look-alike letters of a word that mixes scripts to the word's own script, so that
 * the guard reads `bоmb` (Cyrillic `о`) as the `bomb` a reader sees. A word's own script is the
 * one most of its letters are in (Latin, Cyrillic or Greek; on a tie, the text's); every other
 * letter must have a plain look-alike there, or the word is left as it is. Words in one script
 * (real Russian or Greek, whatever they look like) are never touched.
 */
export function foldLookAlikes(text: string): { text: string; folds: { from: string; to: string; count: number }[] } {
  const counts = new Map<string, number>();
  let textScript: FoldScript | undefined;
  const folded = text.replace(WORD, (word) => {
    const letters = [...word];
    const perScript = FOLD_SCRIPTS.map((script) => letters.filter((c) => IN_SCRIPT[script].test(c)).length);
    const inFoldScripts = perScript.reduce((a, b) => a + b, 0);
    const allLetters = letters.filter((c) => LETTER.test(c)).length;
    // One script only, or none of the three: nothing to fold.
    if (perScript.some((n) => n === allLetters) || inFoldScripts === 0) return word;
    textScript ??= dominantFoldScript(text);
    const most = Math.max(...perScript);
    const candidates = FOLD_SCRIPTS.filter((_, i) => perScript[i] === most).sort(
      (a, b) => Number(b === textScript) - Number(a === textScript),
    );
    for (const script of candidates) {
      const result = foldWord(letters, script);
      if (result === undefined) continue;
      for (const [from, n] of result.from) counts.set(`${from}>${script}`, (counts.get(`${from}>${script}`) ?? 0) + n);
      return result.word;
    }
    return word;
  });
  const folds = [...counts].map(([key, count]) => {
    const [from = 'Zzzz', to = 'Zzzz'] = key.split('>');
    return { from, to, count };
  });
  return { text: folded, folds };
}

/** The word with its letters outside `script` replaced by look-alikes in it, or undefined. */
function foldWord(letters: string[], script: FoldScript): { word: string; from: Map<string, number> } | undefined {
  const table = lookAlikeTables().get(script);
  const from = new Map<string, number>();
  const out: string[] = [];
  for (const char of letters) {
    if (!LETTER.test(char) || IN_SCRIPT[script].test(char)) {
      out.push(char);
      continue;
    }
    const lookAlike = table?.get(prototype(char));
    if (lookAlike === undefined) return undefined;
    out.push(lookAlike);
    const source = SOURCE_SCRIPTS.find(([, pattern]) => pattern.test(char))?.[0] ?? 'Zzzz';
    from.set(source, (from.get(source) ?? 0) + 1);
  }
  return { word: out.join(''), from };
}

function dominantFoldScript(text: string): FoldScript {
  let best: FoldScript = 'Latn';
  let bestCount = -1;
  for (const script of FOLD_SCRIPTS) {
    const n = text.match(new RegExp(`\\p{sc=${script}}`, 'gu'))?.length ?? 0;
    if (n > bestCount) [best, bestCount] = [script, n];
  }
  return best;
}

// No `u` flag: with it, a lone surrogate cannot be matched on its own.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// Emoji subdivision flags (🏴 + tag letters + cancel tag) are the one legitimate use of tags.
const TAG = /\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F}|[\u{E0000}-\u{E007F}]/gu;
// Vertical tab, form feed and next line are line breaks to a reader.
const LINE_BREAK_CONTROL = /[\v\f\u0085]/gu;
const CONTROL = /[\0-\u0008\u000E-\u001F\u007F-\u0084\u0086-\u009F]/gu;
// An override runs to its pop (U+202C) or the end of the paragraph.
const OVERRIDE_SPAN = /\u202E[^\u202C\n\u2029]*\u202C?|\u202D/gu;
const BIDI_CONTROL = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu;
// Mongolian and Indic variation marks are not here: those scripts need them.
const INVISIBLE = /[\u00AD\u034F\u115F\u1160\u17B4\u17B5\u200B\u2060-\u2064\u206A-\u206F\u3164\uFEFF\uFFA0\u{1BCA0}-\u{1BCA3}\u{1D173}-\u{1D17A}]/gu;
// ZWJ/ZWNJ shape Indic and Arabic-script words and join emoji; between Latin, Greek or Cyrillic
// letters (or at the start) they only split a word for the eye.
// (Built from a string: the `v` flag, for set difference, is newer than our compile target.)
const JOINER_OUTSIDE_SCRIPTS = new RegExp(
  String.raw`(?<![\p{M}\p{Extended_Pictographic}\p{Emoji_Modifier}\uFE0F[\p{L}--[\p{sc=Latn}\p{sc=Grek}\p{sc=Cyrl}]]])[\u200C\u200D]`,
  'gv',
);
// One variation selector picks a glyph; more carry nothing a reader sees (or smuggle bytes).
const EXTRA_VARIATION_SELECTOR = /(?<=[\uFE00-\uFE0F\u{E0100}-\u{E01EF}]|^)[\uFE00-\uFE0F\u{E0100}-\u{E01EF}]+/gu;
// Candidates only; `fold` keeps those whose NFKC form is not a plain letter or digit. Left out
// on purpose: superscript digits (x², read "squared"), ª º, ™ ℠ ℡ and fractions.
const COMPATIBILITY_LETTER =
  /[\u017F\u02B0-\u02B8\u1D2C-\u1D6A\u2071\u207F\u2090-\u209C\u2100-\u211F\u2123-\u214F\u2160-\u2188\u2460-\u24FF\uFB00-\uFB06\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A\u{1D400}-\u{1D7FF}\u{1F110}-\u{1F189}]|[\uFF66-\uFF9F]+/gu;
const FOLDED = /^(?:[\p{sc=Latn}\p{sc=Grek}\p{sc=Cyrl}\p{Nd}]+|[\p{sc=Kana}\u30FC\u3099\u309A]+)$/u;

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function revealTag(match: string): string {
  if (match.length > 2) return match; // a flag
  const code = match.codePointAt(0) ?? 0;
  return code >= 0xe0020 && code <= 0xe007e ? String.fromCodePoint(code - 0xe0000) : '';
}

function fold(match: string): string {
  const folded = match.normalize('NFKC');
  return FOLDED.test(folded) ? folded : match;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

function reverseGraphemes(text: string): string {
  return Array.from(graphemes.segment(text), (s) => s.segment).reverse().join('');
}

/**
 * The order in which chunk verdicts win: the first present wins. `unknown` beats `controversial`
 * because a chunk that was not judged may be harmful, and a label for the whole text must never
 * look more settled than its least settled part; only a definite `harmful` settles it.
 */
export const VERDICT_SEVERITY = ['harmful', 'unknown', 'controversial', 'unharmful'] as const satisfies readonly Label[];

/**
 * The label of a text judged in chunks: the worst of its chunks' labels (see
 * {@link VERDICT_SEVERITY}). No labels at all is `unknown`: nothing was judged.
 * @example worstVerdict(['unharmful', 'controversial', 'unharmful']) // 'controversial'
 */
export function worstVerdict(labels: readonly Label[]): Label {
  for (const label of VERDICT_SEVERITY) if (labels.includes(label)) return label;
  return 'unknown';
}
