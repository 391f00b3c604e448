/**
 * How many tokens a model may generate for one answer when the caller sets no limit: enough
 * for the family's longest well-formed answer, counted with the model's own tokenizer. A
 * guessed constant cuts real answers short (Qwen3Guard's response verdict with several
 * categories is 53 Qwen3 tokens), and a cut answer is at best `unknown`, at worst a category
 * list read half written.
 */
import type { GuardFormat, ModerationMode } from './format.js';
import type { PromptTokenizer } from './tokenizer.js';

/**
 * Tokens a reasoning family's trace may take before its answer: the completion cap of the
 * ConsistentGuard paper's GRPO training and of GuardReasoner's reference decoding.
 */
export const REASONING_TOKENS = 2048;

/**
 * Tokens beyond the longest answer: its end token, and slack for spacing the parsers accept
 * but the longest answers do not spell (a blank line, a space more after a colon).
 */
export const ANSWER_MARGIN = 8;

const CACHE = new WeakMap<object, Map<string, number>>();

/** The number of tokens of `format`'s longest answer in `mode` under `tokenizer`, before any margin. */
export function longestAnswerTokens(
  format: GuardFormat,
  tokenizer: Pick<PromptTokenizer, 'encode'>,
  mode: ModerationMode,
): number {
  return Math.max(0, ...format.longestAnswers(mode).map((answer) => tokenizer.encode(answer, { add_special_tokens: false }).length));
}

/**
 * The default `maxNewTokens` for `format` in `mode`: the longest answer's tokens plus
 * {@link ANSWER_MARGIN}, after {@link REASONING_TOKENS} of trace for a reasoning family.
 * Computed once per tokenizer, family and mode.
 * @example answerAllowance(getFormat('qwen3guard'), tokenizer, 'response') // 63 with Qwen3's tokenizer (55 + 8)
 */
export function answerAllowance(format: GuardFormat, tokenizer: Pick<PromptTokenizer, 'encode'>, mode: ModerationMode): number {
  let known = CACHE.get(tokenizer);
  if (known === undefined) {
    known = new Map();
    CACHE.set(tokenizer, known);
  }
  const key = `${format.family}/${mode}`;
  let allowance = known.get(key);
  if (allowance === undefined) {
    allowance = (format.reasoningModel ? REASONING_TOKENS : 0) + longestAnswerTokens(format, tokenizer, mode) + ANSWER_MARGIN;
    known.set(key, allowance);
  }
  return allowance;
}
