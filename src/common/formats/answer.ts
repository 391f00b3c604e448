/**
 * Small helpers shared by the answer parsers: building `unknown` answers and reading
 * category lists. Every parser follows the same rule: a verdict is only as good as its format;
 * anything missing, duplicated, contradictory or unrecognized makes it `unknown`, with the
 * reason in `problem`, never a silent `unharmful`.
 */
import { lookupCategory } from '../categories.js';
import type { Category, Family } from '../../types.js';
import type { ParsedAnswer } from './format.js';

/** An `unknown` answer that says why. */
export function unknownAnswer(problem: string, reasoning = ''): ParsedAnswer {
  return { label: 'unknown', categories: [], reasoning, problem };
}

/** A short, quoted excerpt of model text for a `problem` message. */
export function quote(text: string, max = 40): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > max ? `${flat.slice(0, max)}…` : flat);
}

/** Categories read from a list, or the first item that is not one of the family's. */
export type CategoryList = { ok: true; categories: Category[] } | { ok: false; unrecognized: string };

/**
 * Reads a list of category ids separated by commas (or spaces, for ids like `S1 S2`).
 * `None` alone is the empty list. Duplicates are dropped.
 */
export function readCategories(family: Family, list: string, separators: RegExp): CategoryList {
  const items = list
    .split(separators)
    .map((item) => item.trim().replace(/[.;]+$/, ''))
    .filter((item) => item !== '');
  if (items.length === 1 && items[0]?.toLowerCase() === 'none') return { ok: true, categories: [] };
  const categories: Category[] = [];
  for (const item of items) {
    const category = lookupCategory(family, item);
    if (category === undefined) return { ok: false, unrecognized: item };
    if (!categories.some((c) => c.id === category.id)) categories.push(category);
  }
  return { ok: true, categories };
}

/** The text with a leading byte-order mark and surrounding whitespace removed. */
export function clean(text: string): string {
  return text.replace(/^\uFEFF/, '').trim();
}
