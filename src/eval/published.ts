/**
 * The paper's published results, kept as data: F1 of the harmful class (x100) per benchmark and
 * language, from Table 1 of the ConsistentGuard paper (arXiv 2510.10677), as listed in the
 * benchmark data's README. Shown beside a model's own results.
 */

/** One published row: a model's F1 (x100) on one set, per language. */
export interface PublishedRow {
  model: string;
  /** The set's file name prefix (e.g. `openai_moderation`). */
  dataset: string;
  f1: Readonly<Record<string, number>>;
}

/** Where the numbers come from. */
export const PUBLISHED_SOURCE = 'ConsistentGuard paper (arXiv 2510.10677), Table 1';

const LANGS = ['en', 'fr', 'zh-cn', 'ja', 'bn', 'hi'] as const;

function row(model: string, dataset: string, values: readonly [number, number, number, number, number, number]): PublishedRow {
  return { model, dataset, f1: Object.freeze(Object.fromEntries(LANGS.map((lang, i) => [lang, values[i] ?? NaN]))) };
}

/** Table 1 of the paper. */
export const PUBLISHED_F1: readonly PublishedRow[] = Object.freeze([
  row('Llama Guard 3 1B', 'openai_moderation', [72.7, 72.1, 71.86, 68.02, 62.38, 67.36]),
  row('Llama Guard 3 8B', 'openai_moderation', [79.69, 79.9, 78.06, 77.71, 74.64, 78.63]),
  row('ShieldGemma 2B', 'openai_moderation', [55.11, 55.15, 55.22, 54.97, 55.41, 57.97]),
  row('ShieldGemma 9B', 'openai_moderation', [74.99, 75.74, 74.71, 74.06, 72.77, 74.11]),
  row('GuardReasoner 3B', 'openai_moderation', [74.87, 77.67, 76.68, 77.12, 70.52, 72.08]),
  row('ConsistentGuard 3B', 'openai_moderation', [78.94, 76.46, 76.83, 77.5, 72.1, 73.26]),
  row('Llama Guard 3 1B', 'toxicchat', [63.65, 65.72, 63.62, 63.58, 56.34, 60.79]),
  row('Llama Guard 3 8B', 'toxicchat', [71.18, 71.54, 69.46, 69.0, 66.46, 66.86]),
  row('ShieldGemma 2B', 'toxicchat', [56.56, 55.8, 57.92, 56.04, 56.77, 53.75]),
  row('ShieldGemma 9B', 'toxicchat', [75.83, 76.12, 76.47, 75.66, 70.35, 71.05]),
  row('GuardReasoner 3B', 'toxicchat', [84.23, 84.6, 84.46, 84.44, 73.85, 78.47]),
  row('ConsistentGuard 3B', 'toxicchat', [84.26, 82.39, 82.32, 81.22, 73.55, 73.79]),
]);

/** The published rows of one set (none for sets the paper did not use). */
export function publishedRows(dataset: string): PublishedRow[] {
  return PUBLISHED_F1.filter((r) => r.dataset === dataset);
}
