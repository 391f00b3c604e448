/**
 * Cross-lingual consistency: the same item (same set and `id`) judged in every language.
 * Agreement with English per language, and the preference pairs of the paper's CAO stage
 * (cross-lingual alignment): where the model is right in English and wrong in another language.
 *
 * A CAO pair, in the fields the paper's trainer reads:
 * - `prompt`: the exact model input of the item in the other language (the format's prompt);
 * - `chosen`: the model's correct completion of the English item (ConsistentGuard reasons in
 *   English whatever the input language, so this is the answer the other language should get);
 * - `rejected`: the model's wrong completion of the other language's item;
 * - `anchor_prompt` / `anchor_completion`: the English item's model input and that same correct
 *   completion. The paper anchors the policy to the reference model with a KL term on a separate
 *   sequence; we choose the English pair, the behaviour that alignment must not move while it
 *   pulls the other language towards it.
 */
import type { ModerationInput } from '../types.js';
import { itemKey, type ItemKey } from './data.js';
import type { Prediction } from './run.js';

/** The pivot language everything is compared with. */
const PIVOT_LANG = 'en';

/** Agreement of one language with English on one set. */
export interface Agreement {
  dataset: string;
  lang: string;
  /** Items judged in both languages. */
  pairs: number;
  /** Of those, items with the same label in both. */
  agree: number;
  /** `agree / pairs`; `null` with no pairs. */
  share: number | null;
  /** Items right in English and wrong here: the CAO pairs. */
  englishOnlyRight: number;
  /** Items wrong in English and right here. */
  otherOnlyRight: number;
}

/** The English prediction of each item, by `dataset` + `id`. */
function englishById(predictions: readonly Prediction[]): Map<string, Prediction> {
  const english = new Map<string, Prediction>();
  for (const p of predictions) if (p.lang === PIVOT_LANG) english.set(`${p.dataset}\u0000${p.id}`, p);
  return english;
}

/** Each non-English prediction with its English counterpart, when there is one. */
function withEnglish(predictions: readonly Prediction[]): Array<{ other: Prediction; english: Prediction }> {
  const english = englishById(predictions);
  return predictions.flatMap((other) => {
    const pivot = other.lang === PIVOT_LANG ? undefined : english.get(`${other.dataset}\u0000${other.id}`);
    return pivot === undefined ? [] : [{ other, english: pivot }];
  });
}

/** Agreement with English, per set and language (English itself left out), in input order. */
export function agreementWithEnglish(predictions: readonly Prediction[]): Agreement[] {
  const rows = new Map<string, Agreement>();
  for (const { other, english } of withEnglish(predictions)) {
    const key = `${other.dataset}\u0000${other.lang}`;
    const row = rows.get(key) ?? { dataset: other.dataset, lang: other.lang, pairs: 0, agree: 0, share: null, englishOnlyRight: 0, otherOnlyRight: 0 };
    row.pairs++;
    if (other.label === english.label) row.agree++;
    const englishRight = english.label === english.gold;
    const otherRight = other.label === other.gold;
    if (englishRight && !otherRight) row.englishOnlyRight++;
    if (!englishRight && otherRight) row.otherOnlyRight++;
    row.share = row.agree / row.pairs;
    rows.set(key, row);
  }
  return [...rows.values()];
}

/** One CAO preference pair (the paper's trainer fields). */
export interface CaoPair {
  prompt: string;
  chosen: string;
  rejected: string;
  anchor_prompt: string;
  anchor_completion: string;
}

/**
 * The CAO pairs: every item right in English and wrong in another language.
 * @param promptOf the exact model input text of an item (the format's prompt for its text, and
 *   its response when it has one).
 */
export function caoPairs(predictions: readonly Prediction[], promptOf: (item: ItemKey) => string): CaoPair[] {
  return withEnglish(predictions)
    .filter(({ other, english }) => english.label === english.gold && other.label !== other.gold)
    // A failed call (a timeout) wrote no completion: there is nothing to reject.
    .filter(({ other }) => other.raw !== '')
    .map(({ other, english }) => ({
      prompt: promptOf(other),
      chosen: english.raw,
      rejected: other.raw,
      anchor_prompt: promptOf(english),
      anchor_completion: english.raw,
    }));
}

/** A lookup of what was judged for each item (its prompt, and its response if any) by key, for `promptOf`. */
export function inputsByKey(items: ReadonlyArray<ItemKey & { text: string; response?: string }>): (item: ItemKey) => ModerationInput {
  const inputs = new Map<string, ModerationInput>(
    items.map((item) => [itemKey(item), item.response === undefined ? { prompt: item.text } : { prompt: item.text, response: item.response }]),
  );
  return (item) => {
    const input = inputs.get(itemKey(item));
    if (input === undefined) throw new Error(`No text for ${item.dataset}/${item.lang}/${item.id}.`);
    return input;
  };
}
