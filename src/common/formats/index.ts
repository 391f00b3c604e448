/**
 * The guard formats by family, and the one call that turns an input into the model's exact
 * token ids with the user's text kept as data.
 */
import type { Family, ModerationInput } from '../../types.js';
import { consistentGuard } from './consistentguard.js';
import { encodePrompt, type EncodedPrompt } from './encode.js';
import type { GuardFormat, RenderChatTemplate } from './format.js';
import { guardReasoner } from './guardreasoner.js';
import { llamaGuard3 } from './llamaguard3.js';
import { qwen3Guard } from './qwen3guard.js';
import type { PromptTokenizer } from './tokenizer.js';

/** Every family's format. */
export const FORMATS: Readonly<Record<Family, GuardFormat>> = Object.freeze({
  consistentguard: consistentGuard,
  guardreasoner: guardReasoner,
  llamaguard3: llamaGuard3,
  qwen3guard: qwen3Guard,
});

/**
 * The format of `family`.
 * @example getFormat('qwen3guard').parse('Safety: Controversial\nCategories: Politically Sensitive Topics').label // 'controversial'
 */
export function getFormat(family: Family): GuardFormat {
  return FORMATS[family];
}

/**
 * The exact model input for `input`: the family's prompt, encoded with user text as data.
 * Raw-prompt families get what the tokenizer adds to a sequence (BOS for Llama 3, as their
 * reference code tokenizes a prompt string); chat templates write their own.
 * @param render the tokenizer's chat template renderer, for chat-template families.
 * @throws InvalidInputError when user text would still reach the model as a control token.
 * @throws ModelLoadError when a chat-template family gets no usable template.
 */
export function modelInput(
  format: GuardFormat,
  input: ModerationInput,
  tokenizer: PromptTokenizer,
  render?: RenderChatTemplate,
): EncodedPrompt {
  return encodePrompt(format.buildPrompt(input, render), tokenizer, { addSpecialTokens: !format.usesChatTemplate });
}
