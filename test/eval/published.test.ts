import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PUBLISHED_F1 } from '../../src/eval/published.js';

// Table 1 as the paper prints it, committed beside the tests (facts, not the benchmark data).
const README = new URL('../fixtures/eval/published-table-1.md', import.meta.url);
const SETS: Record<string, string> = { 'OpenAI Mod': 'openai_moderation', ToxicChat: 'toxicchat' };

describe('published rows', () => {
  it('are Table 1 of the paper, number for number', () => {
    expect(existsSync(README)).toBe(true);
    const rows = readFileSync(README, 'utf8')
      .split('\n')
      .map((line) => line.split('|').map((cell) => cell.trim()).filter((cell) => cell !== ''))
      .filter((cells) => cells.length === 8 && cells[1] !== undefined && cells[1] in SETS);
    expect(rows).toHaveLength(12);
    expect(
      rows.map(([model, set, ...values]) => ({
        model,
        dataset: SETS[set ?? ''],
        f1: Object.fromEntries(['en', 'fr', 'zh-cn', 'ja', 'bn', 'hi'].map((lang, i) => [lang, Number(values[i])])),
      })),
    ).toEqual(PUBLISHED_F1.map((row) => ({ ...row })));
  });
});
