/**
 * The few tokenizer operations prompt encoding needs, as a structural interface that a
 * transformers.js 4.x `PreTrainedTokenizer` satisfies as it is, so the encoder runs on the
 * runtime's own tokenizer and tests can hand it any tokenizer of that shape.
 */

/** A token the tokenizer matches as a whole before its model runs (special or not). */
export interface AddedToken {
  id: number;
  content: string;
  /** Whether it is a control token (`<|im_end|>`) rather than an added word. */
  special: boolean;
}

/** What {@link encodePrompt} needs from a tokenizer: a subset of transformers.js' `PreTrainedTokenizer`. */
export interface PromptTokenizer {
  /** Token ids of `text`; with `add_special_tokens`, plus what the tokenizer adds around a sequence (BOS). */
  encode(text: string, options: { add_special_tokens: boolean }): number[];
  decode(ids: number[], options: { skip_special_tokens: boolean; clean_up_tokenization_spaces: boolean }): string;
  /**
   * The @huggingface/tokenizers model inside. Its added-token table is public API there, and
   * the only complete list: transformers.js matches every added token, special or not (Qwen3's
   * `<think>` is not special), as a raw substring of the text before tokenizing it.
   */
  readonly _tokenizer: { get_added_tokens_decoder(): Map<number, { content: string; special: boolean }> };
}

const ADDED = new WeakMap<PromptTokenizer, readonly AddedToken[]>();

/** Every added token of `tokenizer`: what user text must never be encoded into. */
export function addedTokensOf(tokenizer: PromptTokenizer): readonly AddedToken[] {
  let tokens = ADDED.get(tokenizer);
  if (tokens === undefined) {
    tokens = [...tokenizer._tokenizer.get_added_tokens_decoder().entries()].map(([id, token]) => ({
      id,
      content: token.content,
      special: token.special,
    }));
    ADDED.set(tokenizer, tokens);
  }
  return tokens;
}

/**
 * The exact text of `ids`, special tokens included. No clean-up of spaces: it would rewrite
 * ` .` to `.` and hide what the model really reads.
 */
export function decodeExact(tokenizer: PromptTokenizer, ids: readonly number[]): string {
  return tokenizer.decode([...ids], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
}
