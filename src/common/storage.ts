/**
 * Where a browser keeps model files: the origin private file system (OPFS), laid out by model
 * and file hash. Both threads run this: the worker downloads into it, the page lists, measures
 * and removes (`modelStorage`).
 *
 * Why OPFS and not the Cache API: the Cache API stores whole `Response`s only, so a download
 * cut at 900 MB of 1.2 GB would keep nothing, and putting one `Response` needs its whole body
 * (or a stream that cannot be resumed). OPFS files can be written piece by piece: a download
 * is stored as it arrives, in parts, and goes on from the last part after a dropped connection
 * or a closed tab. The parts are read back as one disk-backed `Blob`, never copied into one file.
 *
 * Layout: `lingoguard-models/<model id>/<sha256>/` holds `part-<offset>` files (the bytes
 * from that offset, in order) and, written last and only once the hash matched, `whole.json`.
 * A folder without `whole.json` is a partial download: never handed to a model.
 */

/** Names one stored file: the model it belongs to and the SHA-256 its manifest gives. */
export interface FileKey {
  model: string;
  /** The file's path in the model folder (for listings). */
  path: string;
  sha256: string;
}

/** Where verified files are kept while and after they download (see {@link opfsStore}). */
export interface FileStore {
  /** Whether the store keeps files beyond this page (false: kept in memory for this load only). */
  readonly persistent: boolean;
  /** Whether the file is stored whole (and so was verified when it was stored). */
  whole(key: FileKey): Promise<boolean>;
  /** The bytes kept from an earlier, interrupted download of `key`, in order. */
  partial(key: FileKey): Promise<PartialFile>;
  /** Stores `bytes` at `offset` of the partial download (offset = what is stored so far). */
  append(key: FileKey, offset: number, bytes: Uint8Array): Promise<void>;
  /** Marks the partial download whole: called only after its hash matched. */
  commit(key: FileKey, bytes: number): Promise<void>;
  /** Drops what is stored of `key`, whole or partial. */
  discard(key: FileKey): Promise<void>;
}

/** A browser's store, which hands stored files to transformers.js as (disk-backed) Blobs. */
export interface BlobStore extends FileStore {
  /** The whole file; undefined when it is not stored whole. */
  blob(key: FileKey): Promise<Blob | undefined>;
}

/** What an interrupted download left. */
export interface PartialFile {
  bytes: number;
  /** The stored bytes, in order, a part at a time (to recompute the hash state on resume). */
  chunks(): AsyncIterable<Uint8Array>;
}

/** One model as stored. */
export interface StoredModel {
  model: string;
  /** Bytes of its whole, verified files. */
  bytes: number;
  /** Its whole files (manifest paths). */
  files: string[];
  /** Bytes of interrupted downloads that a next load resumes. */
  partialBytes: number;
}

/** The origin's storage, as the browser estimates it, and lingoguard's share of it. */
export interface StorageEstimate {
  /** Bytes the origin uses (all its storage, not only models). */
  usage: number;
  /** Bytes the origin may use in all. */
  quota: number;
  /** `quota - usage`: what a download may still take. */
  available: number;
  /** Whether the browser promised not to evict this origin's storage. */
  persisted: boolean;
  /** Bytes of stored models, whole and partial. */
  models: number;
}

const ROOT = 'lingoguard-models';
const WHOLE = 'whole.json';
const PART = /^part-(\d+)$/;

type Entries = AsyncIterable<[string, FileSystemHandle]>;
const entriesOf = (dir: FileSystemDirectoryHandle) => (dir as unknown as { entries(): Entries }).entries();

let estimateOverride: (() => Promise<{ usage: number; quota: number }>) | undefined;

/**
 * Test hook: replaces `navigator.storage.estimate()` for this thread's checks (a quota too
 * small to hold a model, without filling a disk). `undefined` restores the browser's.
 */
export function setStorageEstimateForTests(estimate: (() => Promise<{ usage: number; quota: number }>) | undefined): void {
  estimateOverride = estimate;
}

/** The browser's storage estimate (or the test hook's); undefined where there is none. */
export async function storageEstimate(): Promise<{ usage: number; quota: number } | undefined> {
  if (estimateOverride) return estimateOverride();
  const storage = typeof navigator === 'undefined' ? undefined : navigator.storage;
  if (!storage?.estimate) return undefined;
  const { usage = 0, quota } = await storage.estimate();
  return quota === undefined ? undefined : { usage, quota };
}

/** The OPFS root of stored models, or undefined where OPFS is missing or blocked. */
async function root(create: boolean): Promise<FileSystemDirectoryHandle | undefined> {
  const storage = typeof navigator === 'undefined' ? undefined : navigator.storage;
  if (!storage?.getDirectory) return undefined;
  try {
    return await (await storage.getDirectory()).getDirectoryHandle(ROOT, { create });
  } catch {
    return undefined; // private windows may refuse OPFS; not stored is then the answer
  }
}

/** The sorted, contiguous parts of a folder, from offset 0; `stray` are the others. */
async function partsOf(dir: FileSystemDirectoryHandle): Promise<{ files: File[]; bytes: number; stray: string[] }> {
  const found: { offset: number; name: string; file: File }[] = [];
  for await (const [name, handle] of entriesOf(dir)) {
    const match = PART.exec(name);
    if (match && handle.kind === 'file') {
      found.push({ offset: Number(match[1]), name, file: await (handle as FileSystemFileHandle).getFile() });
    }
  }
  found.sort((a, b) => a.offset - b.offset);
  const files: File[] = [];
  const stray: string[] = [];
  let bytes = 0;
  for (const part of found) {
    // A part that does not start where the last one ended (or is empty: a write cut by a
    // closed tab) is not trusted, nor is anything after it.
    if (stray.length > 0 || part.offset !== bytes || part.file.size === 0) stray.push(part.name);
    else {
      files.push(part.file);
      bytes += part.file.size;
    }
  }
  return { files, bytes, stray };
}

async function readWhole(dir: FileSystemDirectoryHandle): Promise<{ bytes: number; path: string } | undefined> {
  try {
    const file = await (await dir.getFileHandle(WHOLE)).getFile();
    const meta = JSON.parse(await file.text()) as { bytes?: unknown; path?: unknown };
    return typeof meta.bytes === 'number' && typeof meta.path === 'string' ? { bytes: meta.bytes, path: meta.path } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes `bytes` as the whole content of `handle`: `createWritable` where the browser has it
 * (it commits on `close()`, so a part is there whole or not at all), else a sync access
 * handle (dedicated workers of browsers without `createWritable`).
 */
async function writeFile(handle: FileSystemFileHandle, bytes: Uint8Array): Promise<void> {
  const data = bytes as Uint8Array<ArrayBuffer>;
  if ('createWritable' in handle) {
    const writable = await handle.createWritable();
    try {
      await writable.write(data);
    } catch (error) {
      await writable.abort().catch(() => undefined);
      throw error;
    }
    await writable.close();
    return;
  }
  const access = await (handle as FileSystemFileHandle & { createSyncAccessHandle(): Promise<FileSystemSyncAccessHandle> }).createSyncAccessHandle();
  try {
    access.truncate(0);
    access.write(data, { at: 0 });
    access.flush();
  } finally {
    access.close();
  }
}

/** The OPFS store, or undefined where OPFS cannot be used. */
export async function opfsStore(): Promise<BlobStore | undefined> {
  const base = await root(true);
  if (!base) return undefined;
  const folder = async (key: FileKey, create = false): Promise<FileSystemDirectoryHandle | undefined> => {
    try {
      return await (await base.getDirectoryHandle(key.model, { create })).getDirectoryHandle(key.sha256, { create });
    } catch {
      return undefined; // not there (lookups never create folders)
    }
  };
  const store: BlobStore = {
    persistent: true,
    whole: async (key) => (await store.blob(key)) !== undefined,
    async blob(key) {
      const dir = await folder(key);
      if (!dir) return undefined;
      const meta = await readWhole(dir);
      if (!meta) return undefined;
      const parts = await partsOf(dir);
      if (parts.bytes === meta.bytes && parts.stray.length === 0) return new Blob(parts.files);
      await store.discard(key); // parts lost or damaged under a whole.json: download again
      return undefined;
    },
    async partial(key) {
      const dir = await folder(key);
      if (!dir) return { bytes: 0, chunks: async function* () {} };
      const parts = await partsOf(dir);
      for (const name of parts.stray) await dir.removeEntry(name);
      return {
        bytes: parts.bytes,
        async *chunks() {
          for (const file of parts.files) yield new Uint8Array(await file.arrayBuffer());
        },
      };
    },
    async append(key, offset, bytes) {
      const dir = await folder(key, true);
      if (!dir) throw new Error(`OPFS refused a folder for ${key.path}`);
      await writeFile(await dir.getFileHandle(`part-${String(offset).padStart(15, '0')}`, { create: true }), bytes);
    },
    async commit(key, bytes) {
      const dir = await folder(key, true);
      if (!dir) throw new Error(`OPFS refused a folder for ${key.path}`);
      await writeFile(await dir.getFileHandle(WHOLE, { create: true }), new TextEncoder().encode(JSON.stringify({ path: key.path, bytes })));
    },
    async discard(key) {
      const model = await base.getDirectoryHandle(key.model).catch(() => undefined);
      await model?.removeEntry(key.sha256, { recursive: true }).catch(() => undefined);
    },
  };
  return store;
}

/**
 * A store for this load only, where OPFS is missing or blocked: the file is still fetched
 * once and verified as it streams, but held in memory, and downloaded again next time.
 */
export function memoryStore(): BlobStore {
  const partials = new Map<string, Uint8Array[]>();
  const wholes = new Map<string, Blob>();
  const id = (key: FileKey) => `${key.model}/${key.sha256}`;
  return {
    persistent: false,
    whole: async (key) => wholes.has(id(key)),
    blob: async (key) => wholes.get(id(key)),
    partial: async (key) => {
      const parts = partials.get(id(key)) ?? [];
      return {
        bytes: parts.reduce((sum, part) => sum + part.byteLength, 0),
        async *chunks() {
          yield* parts;
        },
      };
    },
    append: async (key, _offset, bytes) => {
      partials.set(id(key), [...(partials.get(id(key)) ?? []), bytes]);
    },
    commit: async (key) => {
      wholes.set(id(key), new Blob((partials.get(id(key)) ?? []) as Uint8Array<ArrayBuffer>[]));
      partials.delete(id(key));
    },
    discard: async (key) => {
      partials.delete(id(key));
      wholes.delete(id(key));
    },
  };
}

/** The models stored in this origin's OPFS, whole files and interrupted downloads. */
export async function listStoredModels(): Promise<StoredModel[]> {
  const base = await root(false);
  if (!base) return [];
  const models: StoredModel[] = [];
  for await (const [model, handle] of entriesOf(base)) {
    if (handle.kind !== 'directory') continue;
    const entry: StoredModel = { model, bytes: 0, files: [], partialBytes: 0 };
    for await (const [, file] of entriesOf(handle as FileSystemDirectoryHandle)) {
      if (file.kind !== 'directory') continue;
      const dir = file as FileSystemDirectoryHandle;
      const [meta, parts] = await Promise.all([readWhole(dir), partsOf(dir)]);
      if (meta && meta.bytes === parts.bytes) {
        entry.bytes += parts.bytes;
        entry.files.push(meta.path);
      } else entry.partialBytes += parts.bytes;
    }
    entry.files.sort();
    if (entry.bytes + entry.partialBytes > 0 || entry.files.length > 0) models.push(entry);
  }
  return models.sort((a, b) => a.model.localeCompare(b.model));
}

/** Removes every stored file of `model`, whole and partial. Resolves whether there was any. */
export async function removeStoredModel(model: string): Promise<boolean> {
  const base = await root(false);
  if (!base) return false;
  try {
    await base.removeEntry(model, { recursive: true });
    return true;
  } catch {
    return false; // not stored
  }
}

/** The origin's storage estimate with the bytes of stored models. */
export async function estimateStorage(): Promise<StorageEstimate> {
  const [estimate, models] = await Promise.all([storageEstimate(), listStoredModels()]);
  const persisted = typeof navigator !== 'undefined' && navigator.storage?.persisted ? await navigator.storage.persisted() : false;
  const usage = estimate?.usage ?? 0;
  const quota = estimate?.quota ?? 0;
  return {
    usage,
    quota,
    available: Math.max(0, quota - usage),
    persisted,
    models: models.reduce((sum, model) => sum + model.bytes + model.partialBytes, 0),
  };
}
