/**
 * Model file integrity: before anything loads, every file the chosen dtype needs whose manifest
 * entry has a `sha256` is read and hashed. A mismatch is an `IntegrityError` and nothing runs.
 *
 * The files are read where transformers.js will read them, and in a browser the verified bytes
 * are put in transformers.js' own Cache API entry (same cache, same key), so its load that
 * follows is served from that cache: the model is downloaded once, not twice. A cached copy is
 * hashed too; a bad one is dropped and fetched afresh, and only a bad download is an error.
 * (Without the Cache API, e.g. storage blocked, a browser downloads the files twice; so does
 * Node for `url`/`hub` sources, whose transformers.js file cache is not written here.)
 */
import { env } from '@huggingface/transformers';
import { IntegrityError, ModelLoadError } from '../src/errors.js';
import type { ModelManifest } from '../src/common/manifest.js';
import type { ResolvedSource } from './model-source.js';
import type { Dtype, ProgressEvent } from '../src/types.js';

/** File name suffix of each dtype's ONNX file (transformers.js' naming). */
const DTYPE_SUFFIX: Record<Dtype, string> = { fp32: '', fp16: '_fp16', q8: '_quantized', q4: '_q4', q4f16: '_q4f16' };

/** Non-ONNX files transformers.js reads for a causal LM and its tokenizer. */
const LOADED_FILES: ReadonlySet<string> = new Set([
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'chat_template.jinja',
  'chat_template.json',
]);

/** A manifest file that will be loaded and has a hash to check. */
interface HashedFile {
  path: string;
  sha256: string;
}

/** The manifest's hashed files that a load with `dtype` reads (weights of other dtypes are not). */
function filesToVerify(manifest: ModelManifest, dtype: Dtype): HashedFile[] {
  const onnx = `onnx/model${DTYPE_SUFFIX[dtype]}.onnx`;
  return manifest.files.flatMap((file) => {
    const loaded = LOADED_FILES.has(file.path) || file.path === onnx || file.path.startsWith(`${onnx}_data`);
    return loaded && file.sha256 !== undefined ? [{ path: file.path, sha256: file.sha256 }] : [];
  });
}

/**
 * Checks the files a load of `manifest` with `dtype` from `source` will read against their
 * manifest hashes. Throws `IntegrityError` (`details`: `file`, `expected`, `actual`) on a
 * mismatch, `ModelLoadError` when a file cannot be fetched or is an HTML page.
 */
export async function verifyModelFiles(
  manifest: ModelManifest,
  source: ResolvedSource,
  dtype: Dtype,
  onProgress?: (event: ProgressEvent) => void,
): Promise<void> {
  const files = filesToVerify(manifest, dtype);
  if (files.length === 0) return;
  const cache = await browserCache();
  for (const file of files) {
    const location = fileLocation(source, file.path);
    const cached = await cache?.match(location);
    if (cached) {
      if ((await sha256(new Uint8Array(await cached.arrayBuffer()))) === file.sha256) continue;
      // A stale or damaged cache entry (e.g. the model was updated): drop it, fetch afresh.
      await cache?.delete(location);
    }
    const bytes = await readFile(location, file.path, onProgress);
    const actual = await sha256(bytes);
    if (actual !== file.sha256) {
      throw new IntegrityError(
        `${file.path} of ${manifest.id} does not match its manifest hash: the file is corrupt, truncated or not the one the manifest describes. Nothing was loaded.`,
        { details: { model: manifest.id, file: file.path, expected: file.sha256, actual } },
      );
    }
    // transformers.js finds the verified bytes here and does not download them again.
    await cache?.put(location, new Response(bytes, { headers: { 'content-length': String(bytes.byteLength) } }));
  }
}

/**
 * Where transformers.js will read `path` of `source` from: its own path and URL joining, so the
 * Cache API key is the one it will look up.
 */
function fileLocation(source: ResolvedSource, path: string): string {
  const { env: settings, modelId } = source;
  if (settings.allowLocalModels && settings.localModelPath !== undefined) {
    return join(settings.localModelPath, modelId, path);
  }
  const folder = (settings.remotePathTemplate ?? '{model}/')
    .replaceAll('{model}', modelId)
    .replaceAll('{revision}', encodeURIComponent(source.revision ?? 'main'));
  return join(settings.remoteHost ?? '', folder, path);
}

function join(...parts: string[]): string {
  return parts
    .map((part, index) => {
      let piece = index > 0 ? part.replace(/^\//, '') : part;
      if (index < parts.length - 1) piece = piece.replace(/\/$/, '');
      return piece;
    })
    .join('/');
}

/** transformers.js' Cache API cache, when it will use one (browsers with caching on). */
async function browserCache(): Promise<Cache | undefined> {
  if (typeof caches === 'undefined' || !env.useBrowserCache || env.useCustomCache) return undefined;
  try {
    return await caches.open(env.cacheKey);
  } catch {
    return undefined; // e.g. storage blocked: transformers.js then downloads without caching too
  }
}

/** Reads a file over http(s) (browsers, remote sources) or from disk (local sources in Node). */
async function readFile(location: string, path: string, onProgress?: (event: ProgressEvent) => void): Promise<Bytes> {
  const isUrl = /^https?:\/\//.test(location) || typeof process === 'undefined' || process.versions?.node === undefined;
  if (!isUrl) {
    // Kept out of bundlers' sight: this branch only runs in Node.
    const fs = (await import(/* @vite-ignore */ NODE_FS)) as typeof import('node:fs/promises');
    try {
      return new Uint8Array(await fs.readFile(location));
    } catch (cause) {
      throw new ModelLoadError(`Model file ${path} could not be read at ${location}.`, { cause, details: { file: path } });
    }
  }
  let response: Response;
  try {
    response = await fetch(location);
  } catch (cause) {
    throw new ModelLoadError(`Model file ${path} could not be fetched.`, { cause, details: { file: path } });
  }
  if (!response.ok) {
    throw new ModelLoadError(`Model file ${path} could not be fetched: HTTP ${response.status}.`, {
      details: { file: path, status: response.status },
    });
  }
  const type = response.headers.get('content-type') ?? '';
  // A server that answers a missing file with its HTML page (an SPA fallback) gives 200.
  if (/^text\/html\b/i.test(type)) {
    throw new ModelLoadError(`Model file ${path} was answered with an HTML page, not the file: is the model folder served?`, {
      details: { file: path, contentType: type },
    });
  }
  return readBody(response, path, onProgress);
}

const NODE_FS = 'node:fs/promises';

/** Bytes backed by a plain `ArrayBuffer`, as `Response` and `crypto.subtle` take them. */
type Bytes = Uint8Array<ArrayBuffer>;

/** The response body, with `file` progress as it arrives. */
async function readBody(response: Response, path: string, onProgress?: (event: ProgressEvent) => void): Promise<Bytes> {
  const total = Number(response.headers.get('content-length') ?? 0);
  if (!response.body || !onProgress) return new Uint8Array(await response.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onProgress({ status: 'file', file: path, loaded, total });
  }
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** Lowercase hex SHA-256, as manifests write it. */
async function sha256(bytes: Bytes): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}
