/**
 * Loads a model's tokenizer in Node for the CLI: from a local model folder (tokenizer.json,
 * tokenizer_config.json and, optionally, the `lingoguard.json` manifest naming its family),
 * or from a preset id. Uses transformers.js' own tokenizer classes, so the CLI encodes exactly
 * as the runtime does.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_FILE } from '../common/constants.js';
import { ModelLoadError } from '../errors.js';
import type { ChatTemplateTokenizer } from '../common/formats/render.js';
import type { PromptTokenizer } from '../common/formats/tokenizer.js';
import { FAMILIES, type Family } from '../types.js';

/** A tokenizer that can both encode prompts and render chat templates. */
export type CliTokenizer = PromptTokenizer & ChatTemplateTokenizer;

/** What the CLI knows about a model once loaded. */
export interface LoadedModel {
  tokenizer: CliTokenizer;
  /** The family its manifest names, when it has one. */
  family?: Family;
}

/** Loads the model named on the command line. */
export type ModelLoader = (model: string) => Promise<LoadedModel>;

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

function familyOf(manifest: unknown): Family | undefined {
  const family = (manifest as { family?: unknown } | null)?.family;
  return (FAMILIES as readonly unknown[]).includes(family) ? (family as Family) : undefined;
}

/** A transformers.js tokenizer built from a folder's JSON files, with the class its config names. */
async function tokenizerFromFolder(folder: string): Promise<CliTokenizer> {
  const transformers = await import('@huggingface/transformers');
  const config = readJson(join(folder, 'tokenizer_config.json')) as { tokenizer_class?: string };
  const json = readJson(join(folder, 'tokenizer.json'));
  const name = (config.tokenizer_class ?? 'PreTrainedTokenizer').replace(/Fast$/, '');
  const candidate = (transformers as unknown as Record<string, unknown>)[name];
  const Base = transformers.PreTrainedTokenizer;
  const Class =
    typeof candidate === 'function' && (candidate === Base || candidate.prototype instanceof Base)
      ? (candidate as typeof Base)
      : Base;
  return new Class(json, config) as unknown as CliTokenizer;
}

/**
 * Loads a local model folder, or a preset's tokenizer.
 * @throws ModelLoadError when `model` is neither a folder with tokenizer files nor a preset.
 */
export const loadModel: ModelLoader = async (model) => {
  if (existsSync(model) && statSync(model).isDirectory()) {
    if (!existsSync(join(model, 'tokenizer.json')) || !existsSync(join(model, 'tokenizer_config.json'))) {
      throw new ModelLoadError(`${model} has no tokenizer.json and tokenizer_config.json.`, { details: { model } });
    }
    const manifestPath = join(model, MANIFEST_FILE);
    const family = existsSync(manifestPath) ? familyOf(readJson(manifestPath)) : undefined;
    return { tokenizer: await tokenizerFromFolder(model), ...(family === undefined ? {} : { family }) };
  }
  const { findPreset } = await import('../common/presets.js');
  const preset = findPreset(model);
  if (preset === undefined) {
    throw new ModelLoadError(`"${model}" is neither a model folder nor a preset id.`, { details: { model } });
  }
  const { source } = preset;
  if (source.kind === 'local') {
    // Manifest paths are relative to the package root (as for createGuard in Node), not the cwd.
    const { packageRoot } = await import('../test-models.js');
    const loaded = await loadModel(join(packageRoot(), source.path));
    return { ...loaded, family: preset.family };
  }
  // Hub and URL sources need the network; transformers.js fetches and caches the tokenizer.
  const { AutoTokenizer } = await import('@huggingface/transformers');
  const id = source.kind === 'hub' ? source.repo : source.url;
  try {
    return { tokenizer: (await AutoTokenizer.from_pretrained(id)) as unknown as CliTokenizer, family: preset.family };
  } catch (cause) {
    throw new ModelLoadError(`Could not load the tokenizer of ${model} from ${id}.`, { cause, details: { model } });
  }
};
