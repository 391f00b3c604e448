/**
 * Streams an answer one character at a time (finer than any tokenizer, so every token
 * boundary is covered) and checks `isComplete` against where the answer really ends.
 */
import { expect } from 'vitest';
import type { GuardFormat, ModerationMode } from '../../../src/common/formats/format.js';

/**
 * `isComplete` is false on every prefix shorter than `completeAt` and true from there on, and
 * wherever it says complete, the prefix already parses to the full answer's verdict.
 */
export function expectStreamingAgrees(format: GuardFormat, full: string, completeAt: number, mode: ModerationMode): void {
  const final = format.parse(full, mode);
  const wrong: number[] = [];
  for (let end = 0; end <= full.length; end++) {
    const prefix = full.slice(0, end);
    const complete = format.isComplete(prefix, mode);
    if (complete !== end >= completeAt) wrong.push(end);
    if (complete) expect(format.parse(prefix, mode), `prefix of ${end} chars`).toEqual(final);
  }
  expect(wrong, 'prefix lengths where isComplete is wrong').toEqual([]);
}
