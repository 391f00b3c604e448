/**
 * The harm categories each family names in its answers, with readable names and their place in
 * lingoguard's common vocabulary, so verdicts of different families can be compared.
 * GuardReasoner names no categories, so it has no table.
 */
import type { Category, CommonCategory, Family } from '../types.js';

/** One row of a family's category table. */
export interface CategoryEntry {
  /** Readable name. */
  name: string;
  /** The same category in the common vocabulary. */
  common: CommonCategory;
}

/**
 * The MLCommons hazard taxonomy that Llama Guard 3 answers in (S1..S14, names as on its model
 * card). The 1B model is prompted with S1..S13; S14 is the 8B model's.
 */
const LLAMA_GUARD_3_CATEGORIES: Readonly<Record<string, CategoryEntry>> = Object.freeze({
  S1: { name: 'Violent Crimes', common: 'violent-crimes' },
  S2: { name: 'Non-Violent Crimes', common: 'non-violent-crimes' },
  S3: { name: 'Sex-Related Crimes', common: 'sex-crimes' },
  S4: { name: 'Child Sexual Exploitation', common: 'child-exploitation' },
  S5: { name: 'Defamation', common: 'defamation' },
  S6: { name: 'Specialized Advice', common: 'specialized-advice' },
  S7: { name: 'Privacy', common: 'privacy' },
  S8: { name: 'Intellectual Property', common: 'intellectual-property' },
  S9: { name: 'Indiscriminate Weapons', common: 'indiscriminate-weapons' },
  S10: { name: 'Hate', common: 'hate' },
  S11: { name: 'Suicide & Self-Harm', common: 'self-harm' },
  S12: { name: 'Sexual Content', common: 'sexual-content' },
  S13: { name: 'Elections', common: 'elections' },
  S14: { name: 'Code Interpreter Abuse', common: 'code-interpreter-abuse' },
});

/** ConsistentGuard's prompt lists the same S1..S14 principles, with the same names. */
const CONSISTENTGUARD_CATEGORIES: Readonly<Record<string, CategoryEntry>> = LLAMA_GUARD_3_CATEGORIES;

/** Qwen3Guard-Gen's categories, keyed by the exact text the model writes. */
const QWEN3GUARD_CATEGORIES: Readonly<Record<string, CategoryEntry>> = Object.freeze({
  Violent: { name: 'Violent', common: 'violent-crimes' },
  'Non-violent Illegal Acts': { name: 'Non-violent Illegal Acts', common: 'non-violent-crimes' },
  'Sexual Content or Sexual Acts': { name: 'Sexual Content or Sexual Acts', common: 'sexual-content' },
  PII: { name: 'Personally Identifiable Information', common: 'privacy' },
  'Suicide & Self-Harm': { name: 'Suicide & Self-Harm', common: 'self-harm' },
  'Unethical Acts': { name: 'Unethical Acts', common: 'unethical-acts' },
  'Politically Sensitive Topics': { name: 'Politically Sensitive Topics', common: 'politically-sensitive' },
  'Copyright Violation': { name: 'Copyright Violation', common: 'intellectual-property' },
  Jailbreak: { name: 'Jailbreak', common: 'jailbreak' },
});

/** Each family's table; `undefined` for families that name no categories. */
const CATEGORY_TABLES: Readonly<Record<Family, Readonly<Record<string, CategoryEntry>> | undefined>> =
  Object.freeze({
    consistentguard: CONSISTENTGUARD_CATEGORIES,
    guardreasoner: undefined,
    llamaguard3: LLAMA_GUARD_3_CATEGORIES,
    qwen3guard: QWEN3GUARD_CATEGORIES,
  });

/**
 * Every category id `family` writes in its answers, in its table's order; none for a family
 * that names no categories. The longest answer a family can give names them all.
 * @example categoryIds('llamaguard3').at(-1) // 'S14'
 */
export function categoryIds(family: Family): readonly string[] {
  return Object.keys(CATEGORY_TABLES[family] ?? {});
}

/**
 * The category a model wrote, looked up case-insensitively in its family's table.
 * @returns the category with the table's spelling of its id, or `undefined` when unknown.
 * @example lookupCategory('llamaguard3', 's2') // { id: 'S2', name: 'Non-Violent Crimes', common: 'non-violent-crimes' }
 */
export function lookupCategory(family: Family, written: string): Category | undefined {
  const table = CATEGORY_TABLES[family];
  if (table === undefined) return undefined;
  const wanted = written.trim().toLowerCase();
  for (const [id, entry] of Object.entries(table)) {
    if (id.toLowerCase() === wanted) return { id, name: entry.name, common: entry.common };
  }
  return undefined;
}
