/**
 * Model file integrity and delivery: before anything loads, every file the chosen dtype needs
 * whose manifest entry has a `sha256` is made present and verified, each downloaded once.
 *
 * - Browsers (and Node without a file cache): files download into a {@link BlobStore} (OPFS,
 *   see src/common/storage.ts for why), hashed as they stream, resumed after a cut, stored
 *   whole only when they match. transformers.js is then handed the stored bytes through
 *   `env.customCache`: its loader finds every verified file there and fetches none of them.
 *   Files the manifest gives no hash for go on to transformers.js' usual Cache API cache.
 * - Node, `url`/`hub` sources: the same download rules, into transformers.js' own file cache
 *   (worker/storage-node.ts), where its loader looks first.
 * - Node, `local` sources: the files are on disk already; each is hashed as a stream.
 *
 * A mismatch is an `IntegrityError` and nothing is stored or runs; a download that would not
 * fit the storage left is a `StorageQuotaError` before its first byte. A file stored whole is
 * not hashed again at each load (1.2 GB takes ~10 s of hashing in JS): it was stored under
 * that name only after its hash matched, in storage private to the origin, and its parts'
 * sizes are checked against what was stored.
 */
import { env } from '@huggingface/transformers';
import { IntegrityError, ModelLoadError, StorageQuotaError } from '../src/errors.js';
import type { ModelManifest } from '../src/common/manifest.js';
import { memoryStore, opfsStore, storageEstimate, type BlobStore, type FileKey, type FileStore } from '../src/common/storage.js';
import type { ResolvedSource } from './model-source.js';
import { downloadVerified } from './storage-download.js';
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
  bytes?: number;
}

/** The manifest's hashed files that a load with `dtype` reads (weights of other dtypes are not). */
function filesToVerify(manifest: ModelManifest, dtype: Dtype): HashedFile[] {
  const onnx = `onnx/model${DTYPE_SUFFIX[dtype]}.onnx`;
  return manifest.files.flatMap((file) => {
    const loaded = LOADED_FILES.has(file.path) || file.path === onnx || file.path.startsWith(`${onnx}_data`);
    if (!loaded || file.sha256 === undefined) return [];
    return [{ path: file.path, sha256: file.sha256, ...(file.bytes === undefined ? {} : { bytes: file.bytes }) }];
  });
}

/** Options of {@link verifyModelFiles}, for tests and tools. */
export interface DeliveryOptions {
  /** Where files are stored (default: OPFS in browsers, transformers.js' file cache in Node). */
  store?: FileStore;
  /** Bytes per stored part (default 4 MiB). */
  partBytes?: number;
}

/**
 * Makes the files a load of `manifest` with `dtype` from `source` will read present and
 * verified (see the module comment). Throws `IntegrityError` (`details`: `file`, `expected`,
 * `actual`) on a mismatch, `StorageQuotaError` before a download that will not fit,
 * `ModelLoadError` when a file cannot be fetched or is an HTML page.
 */
export async function verifyModelFiles(
  manifest: ModelManifest,
  source: ResolvedSource,
  dtype: Dtype,
  onProgress?: (event: ProgressEvent) => void,
  options: DeliveryOptions = {},
): Promise<void> {
  const files = filesToVerify(manifest, dtype);
  if (files.length === 0) return;
  const keyOf = (file: HashedFile): FileKey => ({ model: manifest.id, path: file.path, sha256: file.sha256 });
  const onDisk = isNode() && source.env.allowLocalModels && source.env.localModelPath !== undefined;
  if (onDisk && options.store === undefined) return verifyOnDisk(files, source, keyOf, onProgress);

  const store = options.store ?? (await defaultStore(source));
  const missing: HashedFile[] = [];
  const whole = await Promise.all(files.map((file) => store.whole(keyOf(file))));
  for (const [index, file] of files.entries()) {
    if (whole[index]) onProgress?.({ status: 'file', file: file.path, loaded: file.bytes ?? 0, total: file.bytes ?? 0, cached: true });
    else missing.push(file);
  }
  if (store.persistent) await checkRoom(manifest, store, missing, keyOf);
  for (const file of missing) {
    const key = keyOf(file);
    await oneAtATime(`lingoguard-download:${key.model}/${key.sha256}`, async () => {
      // Another tab's worker may have stored it while this one waited for the lock.
      if (await store.whole(key)) return;
      await downloadVerified({
        url: absolute(fileLocation(source, file.path)),
        key,
        store,
        ...(file.bytes === undefined ? {} : { bytes: file.bytes }),
        ...(options.partBytes === undefined ? {} : { partBytes: options.partBytes }),
        onProgress: (loaded, total) => onProgress?.({ status: 'file', file: file.path, loaded, total, cached: false }),
      });
    });
  }
  if ('blob' in store) {
    for (const file of files) serveFromStore(absolute(fileLocation(source, file.path)), store as BlobStore, keyOf(file));
  }
}

/** Node with a folder on disk: every file hashed where it lies, as a stream. */
async function verifyOnDisk(
  files: HashedFile[],
  source: ResolvedSource,
  keyOf: (file: HashedFile) => FileKey,
  onProgress?: (event: ProgressEvent) => void,
): Promise<void> {
  const { hashFile } = (await import(/* @vite-ignore */ NODE_STORE)) as typeof import('./storage-node.js');
  for (const file of files) {
    const location = fileLocation(source, file.path);
    let actual: string;
    try {
      actual = await hashFile(location);
    } catch (cause) {
      throw new ModelLoadError(`Model file ${file.path} could not be read at ${location}.`, { cause, details: { file: file.path } });
    }
    const key = keyOf(file);
    if (actual !== key.sha256) {
      throw new IntegrityError(
        `${file.path} of ${key.model} does not match its manifest hash: the file is corrupt, truncated or not the one the manifest describes. Nothing was loaded.`,
        { details: { model: key.model, file: file.path, expected: key.sha256, actual } },
      );
    }
    onProgress?.({ status: 'file', file: file.path, loaded: file.bytes ?? 0, total: file.bytes ?? 0, cached: true });
  }
}

/**
 * Refuses, before the first byte, a download that the storage estimate says will not fit:
 * better a typed error now than a quota error at 90 % with the space already taken.
 */
async function checkRoom(manifest: ModelManifest, store: FileStore, missing: HashedFile[], keyOf: (file: HashedFile) => FileKey): Promise<void> {
  if (missing.length === 0) return;
  const estimate = await storageEstimate().catch(() => undefined);
  if (!estimate) return;
  let needed = 0;
  for (const file of missing) needed += Math.max(0, (file.bytes ?? 0) - (await store.partial(keyOf(file))).bytes);
  const available = Math.max(0, estimate.quota - estimate.usage);
  if (needed <= available) return;
  throw new StorageQuotaError(
    `${manifest.id} needs ${mb(needed)} more storage but the browser leaves this site ${mb(available)}: free some (remove another model with modelStorage.remove()) and load again. Nothing was downloaded.`,
    { details: { model: manifest.id, needed, available, usage: estimate.usage, quota: estimate.quota } },
  );
}

/**
 * Runs `task` under a Web Lock named `name` where there are Web Locks: two tabs that load the
 * same model download each file once, not into the same parts at once.
 */
async function oneAtATime(name: string, task: () => Promise<void>): Promise<void> {
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks;
  if (!locks || isNode()) return task();
  await locks.request(name, task);
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

const NODE_STORE = './storage-node.js';

/** Node, whatever globals a test DOM (happy-dom) adds: files are read from disk there. */
function isNode(): boolean {
  return typeof process !== 'undefined' && process.versions?.node !== undefined;
}

/** OPFS in browsers (memory where it is blocked); transformers.js' file cache in Node. */
async function defaultStore(source: ResolvedSource): Promise<FileStore> {
  if (!isNode()) return (await opfsStore()) ?? memoryStore();
  const cacheDir = env.useFSCache ? env.cacheDir : null;
  if (!cacheDir) return memoryStore(); // no file cache: served to transformers.js from memory
  const [{ nodeFileStore }, { join }] = await Promise.all([
    import(/* @vite-ignore */ NODE_STORE) as Promise<typeof import('./storage-node.js')>,
    import(/* @vite-ignore */ NODE_PATH) as Promise<typeof import('node:path')>,
  ]);
  // transformers.js' FileCache key: `<id>/<file>` on `main`, `<id>/<revision>/<file>` otherwise.
  const revision = source.revision ?? 'main';
  return nodeFileStore((key) => join(cacheDir, source.modelId, ...(revision === 'main' ? [] : [revision]), key.path));
}

const NODE_PATH = 'node:path';

/**
 * Where transformers.js will read `path` of `source` from: its own path and URL joining, so
 * the cache key is the one it will look up.
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

/** A location as an absolute URL (relative ones against this worker's or page's address). */
function absolute(location: string): string {
  const base = typeof location === 'string' && typeof self !== 'undefined' && 'location' in self ? self.location.href : undefined;
  try {
    return new URL(location, base).href;
  } catch {
    return location;
  }
}

/** Verified files by the absolute URL transformers.js will ask its cache for. */
const served = new Map<string, { store: BlobStore; key: FileKey }>();

function serveFromStore(url: string, store: BlobStore, key: FileKey): void {
  served.set(url, { store, key });
  env.customCache = verifiedCache;
  env.useCustomCache = true;
}

/**
 * transformers.js' cache while lingoguard serves verified files: those come from the store
 * (a disk-backed Blob, read once by the loader); anything else goes to the Cache API cache
 * transformers.js would have used itself (wasm binaries, unhashed files).
 */
const verifiedCache = {
  async match(request: string): Promise<Response | undefined> {
    const entry = served.get(absolute(request));
    if (entry) {
      const blob = await entry.store.blob(entry.key);
      if (blob) return new Response(blob, { headers: { 'content-length': String(blob.size), 'content-type': 'application/octet-stream' } });
      served.delete(absolute(request)); // removed meanwhile (modelStorage.remove): fetch as usual
    }
    return (await browserCache())?.match(request);
  },
  async put(request: string, response: Response): Promise<void> {
    if (served.has(absolute(request))) return;
    await (await browserCache())?.put(request, response);
  },
};

/** transformers.js' own Cache API cache, where there is one. */
async function browserCache(): Promise<Cache | undefined> {
  if (typeof caches === 'undefined' || !env.useBrowserCache) return undefined;
  try {
    return await caches.open(env.cacheKey);
  } catch {
    return undefined; // e.g. storage blocked: uncached, as transformers.js would do
  }
}
