/**
 * Answer allowances: for every family, real tokenizer and mode, the family's longest
 * well-formed answers are read as complete verdicts, and each fits the allowance with its end
 * token. The old fixed allowance (32 tokens for non-reasoning families) is shown to cut them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ANSWER_MARGIN, REASONING_TOKENS, answerAllowance, longestAnswerTokens } from '../../../src/common/formats/allowance.js';
import type { ModerationMode } from '../../../src/common/formats/format.js';
import { FORMATS } from '../../../src/common/formats/index.js';
import { decodeExact } from '../../../src/common/formats/tokenizer.js';
import { categoryIds } from '../../../src/common/categories.js';
import { FAMILIES } from '../../../src/types.js';
import { testTokenizer, type TestTokenizer } from './tokenizers.js';

const MODES: readonly ModerationMode[] = ['prompt', 'response'];
/** What precedes the answer of a reasoning family: its trace (the prompt opens ConsistentGuard's `<think>`). */
const TRACE = { consistentguard: 'The user asks for help with a crime. ', guardreasoner: '# Task 1\n\n## Reasoning Step 1: The request is harmful.' } as const;
/** The allowance this replaces, for families that do not reason. */
const OLD_PLAIN_ALLOWANCE = 32;

const tokenizers = new Map<TestTokenizer['name'], TestTokenizer>();

beforeAll(async () => {
  for (const name of ['qwen3', 'llama3'] as const) tokenizers.set(name, await testTokenizer(name));
}, 120_000);

function loaded(name: TestTokenizer['name']): TestTokenizer {
  const t = tokenizers.get(name);
  if (t === undefined) throw new Error('tokenizer not loaded');
  return t;
}

describe.each(['qwen3', 'llama3'] as const)('answer allowance with the real %s tokenizer', (name) => {
  for (const family of FAMILIES) {
    for (const mode of MODES) {
      it(`${family}, ${mode} mode: the longest answers are well formed and fit`, () => {
        const { tokenizer } = loaded(name);
        const format = FORMATS[family];
        const allowance = answerAllowance(format, tokenizer, mode);
        const trace = family === 'consistentguard' || family === 'guardreasoner' ? TRACE[family] : '';
        const answers = format.longestAnswers(mode);
        expect(answers.length).toBeGreaterThan(0);
        for (const answer of answers) {
          const parsed = format.parse(trace + answer, mode);
          expect(parsed.problem, answer).toBeUndefined();
          expect(parsed.label).not.toBe('unknown');
          if (parsed.label !== 'unharmful' && categoryIds(family).length > 0) {
            expect(parsed.categories.map((c) => c.id)).toEqual(categoryIds(family));
          }
          // Generation stops there: with a line break, or the end token, after it.
          expect(format.isComplete(`${trace}${answer}\n`, mode), answer).toBe(true);
          // The answer and its end token, after a full-length trace for a reasoning family.
          const tokens = tokenizer.encode(answer, { add_special_tokens: false }).length;
          expect(tokens + 1 + (format.reasoningModel ? REASONING_TOKENS : 0)).toBeLessThanOrEqual(allowance);
        }
        expect(allowance).toBe((format.reasoningModel ? REASONING_TOKENS : 0) + longestAnswerTokens(format, tokenizer, mode) + ANSWER_MARGIN);
      });
    }
  }

  it('the old 32-token allowance cut the longest Qwen3Guard and Llama Guard 3 answers', () => {
    const { tokenizer } = loaded(name);
    for (const [family, mode] of [['qwen3guard', 'response'], ['qwen3guard', 'prompt'], ['llamaguard3', 'prompt']] as const) {
      const format = FORMATS[family];
      const [answer, ids] = format.longestAnswers(mode)
        .map((text) => [text, tokenizer.encode(text, { add_special_tokens: false })] as const)
        .reduce((a, b) => (b[1].length > a[1].length ? b : a));
      expect(ids.length, `${family} ${mode}`).toBeGreaterThan(OLD_PLAIN_ALLOWANCE);
      // What the model had written at the old limit is not that verdict: cut off, or fewer categories.
      const cut = format.parse(decodeExact(tokenizer, ids.slice(0, OLD_PLAIN_ALLOWANCE)), mode);
      const whole = format.parse(answer, mode);
      expect(cut.label === 'unknown' || cut.categories.length < whole.categories.length, `${family} ${mode}: ${cut.problem}`).toBe(true);
    }
  });
});
