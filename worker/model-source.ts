/**
 * Where a model's files come from, turned into the settings transformers.js understands.
 * transformers.js keeps these in a global `env`; the runtime applies them right before each
 * load, so every guard loads from its own source.
 */
import { ModelLoadError } from '../src/errors.js';
import { parseManifest, type ModelManifest } from '../src/common/manifest.js';
import { findPreset } from '../src/common/presets.js';
import { DEFAULT_HUB_HOST, MANIFEST_FILE } from '../src/common/constants.js';

/** The transformers.js view of a model source. */
export interface ResolvedSource {
  /** The id transformers.js is given (`from_pretrained(modelId)`). */
  modelId: string;
  revision?: string;
  /** Settings to write into transformers.js' `env` before loading. */
  env: {
    allowLocalModels: boolean;
    allowRemoteModels: boolean;
    localModelPath?: string;
    remoteHost?: string;
    remotePathTemplate?: string;
  };
}


/**
 * Resolves `model` (preset id, manifest object, or URL / local folder holding a
 * `lingoguard.json`) into a validated manifest.
 * @param readText reads a file from a URL or a path; injected so the same code serves the
 *   browser (fetch) and Node (fs).
 */
export async function resolveManifest(
  model: string | object,
  readText: (location: string) => Promise<string>,
): Promise<{ manifest: ModelManifest; folder?: string }> {
  if (typeof model === 'object') return { manifest: parseManifest(model) };
  const preset = findPreset(model);
  if (preset) return { manifest: preset };
  const folder = model.endsWith('/') ? model : `${model}/`;
  let text: string;
  try {
    text = await readText(`${folder}${MANIFEST_FILE}`);
  } catch (cause) {
    throw new ModelLoadError(
      `"${model}" is not a preset id, and no ${MANIFEST_FILE} was found in it: pass a preset id, a manifest object, or a model folder that holds a ${MANIFEST_FILE}.`,
      { cause, details: { model } },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ModelLoadError(`${folder}${MANIFEST_FILE} is not valid JSON.`, { cause, details: { model } });
  }
  return { manifest: parseManifest(json), folder };
}

/**
 * Turns a manifest's source into transformers.js settings.
 * @param folder the folder the manifest was read from, which overrides its `source`.
 * @param localModelRoot where `local` sources live: a URL path such as `/models/` in a
 *   browser, an absolute folder in Node.
 */
export function resolveSource(
  manifest: ModelManifest,
  options: { folder?: string; localModelRoot: string; remoteHost?: string },
): ResolvedSource {
  const { folder, localModelRoot } = options;
  if (folder !== undefined) return folderSource(folder);
  const { source } = manifest;
  switch (source.kind) {
    case 'hub':
      return {
        modelId: source.repo,
        revision: source.revision,
        env: {
          allowLocalModels: false,
          allowRemoteModels: true,
          remoteHost: options.remoteHost ?? DEFAULT_HUB_HOST,
          remotePathTemplate: '{model}/resolve/{revision}/',
        },
      };
    case 'url':
      return folderSource(source.url);
    case 'local':
      return folderSource(withSlash(localModelRoot) + source.path.replace(/^\/+/, ''));
  }
}

/**
 * A folder given as a URL is a "remote" model; given as a path it is a local one. Either way
 * transformers.js gets the folder's parent as its root and the folder's name as the model id:
 * it only joins its root to ids that look like hub ids (`name` or `owner/name`), and would
 * resolve a longer path against the worker's own URL instead.
 */
function folderSource(folder: string): ResolvedSource {
  const trimmed = folder.replace(/\/+$/, '');
  const cut = trimmed.lastIndexOf('/');
  const parent = cut >= 0 ? trimmed.slice(0, cut + 1) : './';
  const name = trimmed.slice(cut + 1);
  if (/^https?:\/\//.test(trimmed)) {
    return {
      modelId: name,
      env: { allowLocalModels: false, allowRemoteModels: true, remoteHost: parent, remotePathTemplate: '{model}/' },
    };
  }
  return { modelId: name, env: { allowLocalModels: true, allowRemoteModels: false, localModelPath: parent } };
}

function withSlash(path: string): string {
  return path.endsWith('/') ? path : `${path}/`;
}
