/**
 * Rendering chat templates through a tokenizer's own template engine (transformers.js'
 * `apply_chat_template`), with the family's published template as a fallback.
 */
import { ModelLoadError } from '../../errors.js';
import type { Family } from '../../types.js';
import type { ChatMessage, GuardFormat, RenderChatTemplate } from './format.js';

/** The part of a transformers.js `PreTrainedTokenizer` that renders chat templates. */
export interface ChatTemplateTokenizer {
  /** The tokenizer's own template(s), `null` when it ships none. */
  readonly chat_template?: unknown;
  apply_chat_template(
    messages: ChatMessage[],
    options: { tokenize: false; chat_template?: string | null; add_generation_prompt?: boolean },
  ): string;
}

/** Which template renders the prompt: the tokenizer's own, or the family's published one. */
export type TemplateChoice = 'own' | 'fallback';

/**
 * A renderer for `format`'s prompts through `tokenizer`.
 * @param choice `own` (default) uses the tokenizer's template and falls back to the family's
 *   when it ships none; `fallback` always uses the family's (for a tokenizer whose template is
 *   not the guard's, such as a base model's tokenizer used for tests).
 * @throws ModelLoadError when there is no template to use.
 * @example
 * const render = chatTemplateRenderer(tokenizer, getFormat('qwen3guard'));
 * const segments = getFormat('qwen3guard').buildPrompt({ prompt: 'Hi' }, render);
 */
export function chatTemplateRenderer(
  tokenizer: ChatTemplateTokenizer,
  format: GuardFormat,
  choice: TemplateChoice = 'own',
): RenderChatTemplate {
  const own = tokenizer.chat_template !== null && tokenizer.chat_template !== undefined;
  const template = choice === 'own' && own ? null : format.fallbackChatTemplate;
  if (template === undefined) {
    throw new ModelLoadError(`No chat template for ${format.family}: the tokenizer ships none and the family has no fallback.`, {
      details: { family: format.family },
    });
  }
  // Templates here ignore `add_generation_prompt`: the guard templates always end with the
  // assistant header. `false` keeps generic templates from adding a second one.
  return (messages) => tokenizer.apply_chat_template(messages, { tokenize: false, chat_template: template, add_generation_prompt: false });
}

/**
 * The renderer, or a clear error when a chat-template family is used without one.
 * @throws ModelLoadError when `render` is missing.
 */
export function requireRenderer(render: RenderChatTemplate | undefined, family: Family): RenderChatTemplate {
  if (render === undefined) {
    throw new ModelLoadError(`The ${family} format needs the model's chat template renderer to build its prompt.`, {
      details: { family },
    });
  }
  return render;
}
