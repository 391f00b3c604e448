/**
 * One model file, downloaded once and verified as it streams: each chunk goes into an
 * incremental SHA-256 and, a part at a time, into a {@link FileStore}; the file is marked whole
 * only when the hash matches. Memory holds one part (4 MiB), never the file.
 *
 * An interrupted download resumes with an HTTP Range request from what was stored, the hash
 * state recomputed over the stored bytes first (reading them back costs far less than
 * fetching them again, and the hash covers what is on disk, not what was meant to be). A
 * server that ignores the Range (answers 200) is read from the start, and still verified.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { IntegrityError, ModelLoadError, StorageQuotaError } from '../src/errors.js';
import type { FileKey, FileStore } from '../src/common/storage.js';

/** An incremental SHA-256. */
export interface Sha256 {
  update(bytes: Uint8Array): void;
  /** Lowercase hex, as manifests write it. */
  hex(): string;
}

const NODE_CRYPTO = 'node:crypto';
const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;

/**
 * SubtleCrypto hashes only whole buffers, so browsers use @noble/hashes (audited, no
 * dependencies, ~100 MB/s on a slow core); Node uses its native, faster `crypto`.
 */
export async function createSha256(): Promise<Sha256> {
  if (isNode) {
    // Kept out of bundlers' sight: this branch only runs in Node.
    const { createHash } = (await import(/* @vite-ignore */ NODE_CRYPTO)) as typeof import('node:crypto');
    const hash = createHash('sha256');
    return { update: (bytes) => void hash.update(bytes), hex: () => hash.digest('hex') };
  }
  const hash = nobleSha256.create();
  return { update: (bytes) => void hash.update(bytes), hex: () => bytesToHex(hash.digest()) };
}

/** What {@link downloadVerified} needs. */
export interface DownloadRequest {
  url: string;
  key: FileKey;
  /** The manifest's size: a longer body is cut off early, a shorter one fails verification. */
  bytes?: number;
  store: FileStore;
  /** Called as bytes arrive: `loaded` counts the stored part of a resumed download too. */
  onProgress?: (loaded: number, total: number) => void;
  /** Bytes buffered before each write to the store. @default 4 MiB */
  partBytes?: number;
  /** Attempts in a row that bring no new byte before the download fails. @default 3 */
  retries?: number;
  fetch?: typeof fetch;
}

const PART_BYTES = 4 * 1024 * 1024;

/**
 * Downloads `request.url` into `request.store` under `request.key`, verified. Throws
 * `IntegrityError` (and stores nothing) when the bytes do not match the key's hash,
 * `ModelLoadError` when the server cannot be reached (what was stored is kept for the next
 * load), `StorageQuotaError` when the store runs out of space (nothing is kept).
 */
export async function downloadVerified(request: DownloadRequest): Promise<void> {
  const { key, store, url } = request;
  const fetchFile = request.fetch ?? fetch;
  const partBytes = request.partBytes ?? PART_BYTES;
  const retries = request.retries ?? 3;
  let hash = await createSha256();
  let offset = 0;
  const kept = await store.partial(key);
  if (request.bytes !== undefined && kept.bytes > request.bytes) await store.discard(key);
  else {
    for await (const chunk of kept.chunks()) hash.update(chunk);
    offset = kept.bytes;
  }
  const restart = async () => {
    await store.discard(key);
    hash = await createSha256();
    offset = 0;
  };

  let failures = 0;
  // The last part, held back until the hash is checked: a bad file of one part is never written.
  let tail: Uint8Array = new Uint8Array(0);
  // All of it was stored before (the tab closed between the last part and the check): verify.
  const stored = request.bytes !== undefined && offset === request.bytes;
  while (!stored) {
    let response: Response;
    try {
      response = await fetchFile(url, offset > 0 ? { headers: { range: `bytes=${offset}-` } } : {});
    } catch (cause) {
      if (++failures > retries) throw unreachable(key, url, cause);
      await pause(failures);
      continue;
    }
    if (response.status === 416 && offset > 0) {
      await restart(); // stored more than the server has: that part was not this file
      continue;
    }
    if (!response.ok) throw new ModelLoadError(`Model file ${key.path} could not be fetched: HTTP ${response.status}.`, { details: { file: key.path, status: response.status } });
    const type = response.headers.get('content-type') ?? '';
    // A server that answers a missing file with its HTML page (an SPA fallback) gives 200.
    if (/^text\/html\b/i.test(type)) {
      throw new ModelLoadError(`Model file ${key.path} was answered with an HTML page, not the file: is the model folder served?`, {
        details: { file: key.path, contentType: type },
      });
    }
    if (response.status === 206 && rangeStart(response) !== offset) {
      // Not the bytes asked for: nothing of this answer can be used.
      await response.body?.cancel().catch(() => undefined);
      await restart();
      if (++failures > retries) throw unreachable(key, url, new Error(`HTTP 206 from byte ${rangeStart(response)}, not ${offset}`));
      continue;
    }
    if (offset > 0 && response.status !== 206) await restart(); // Range ignored (200): read from scratch
    const length = Number(response.headers.get('content-length') ?? NaN);
    const total = request.bytes ?? (Number.isFinite(length) ? offset + length : 0);
    const before = offset;
    // Said before the first byte: a resumed download starts at what was stored (loaded > 0).
    request.onProgress?.(before, total);
    const tooLong = async (part: Uint8Array) => {
      if (request.bytes === undefined || offset + part.byteLength <= request.bytes) return;
      await store.discard(key);
      throw mismatch(key, `is longer than the manifest's ${request.bytes} bytes`, '(longer)');
    };
    const ended = await readInto(response, partBytes, async (part) => {
      await tooLong(part);
      hash.update(part);
      await write(store, key, offset, part);
      offset += part.byteLength;
    }, (loaded) => request.onProgress?.(before + loaded, total));
    if ('tail' in ended) {
      await tooLong(ended.tail);
      hash.update(ended.tail);
      tail = ended.tail;
      break;
    }
    // The connection dropped: what arrived is stored; go on from there.
    failures = offset > before ? 1 : failures + 1;
    if (failures > retries) throw unreachable(key, url, ended.cause);
    await pause(failures);
  }

  const actual = hash.hex();
  const size = offset + tail.byteLength;
  if (actual !== key.sha256 || (request.bytes !== undefined && size !== request.bytes)) {
    await store.discard(key);
    throw mismatch(key, request.bytes !== undefined && size !== request.bytes ? `has ${size} bytes, not the manifest's ${request.bytes}` : 'does not match its manifest hash', actual);
  }
  if (tail.byteLength > 0) await write(store, key, offset, tail);
  await store.commit(key, size);
}

/**
 * Reads the body in parts of about `partBytes`, handing each to `onPart` in order. A part is
 * stored while the next one arrives (at most two in memory), so the network is read steadily
 * and little is in flight when a connection drops. `onChunk` gets the bytes read past the
 * parts handed over, for progress. A complete body's last part is returned, not handed over
 * (the caller stores it once the hash is checked); a body cut mid-way hands over what arrived
 * and says so.
 */
async function readInto(
  response: Response,
  partBytes: number,
  onPart: (part: Uint8Array) => Promise<void>,
  onChunk: (pending: number) => void,
): Promise<{ tail: Uint8Array } | { cause: unknown }> {
  const reader = response.body?.getReader();
  if (!reader) return { tail: new Uint8Array(await response.arrayBuffer()) };
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let handed = 0;
  let writing: Promise<void> = Promise.resolve();
  const flush = () => {
    if (pendingBytes === 0) return;
    const part = concat(pending, pendingBytes);
    handed += pendingBytes;
    pending = [];
    pendingBytes = 0;
    writing = writing.then(() => onPart(part));
    writing.catch(() => undefined); // seen at the next `await writing`, not as unhandled
  };
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (cause) {
        flush();
        await writing;
        return { cause };
      }
      if (chunk.done) break;
      pending.push(chunk.value);
      pendingBytes += chunk.value.byteLength;
      onChunk(handed + pendingBytes);
      if (pendingBytes >= partBytes) {
        await writing; // the part before is stored: memory stays at two parts
        flush();
      }
    }
    await writing;
    return { tail: concat(pending, pendingBytes) };
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    throw error;
  }
}

async function write(store: FileStore, key: FileKey, offset: number, part: Uint8Array): Promise<void> {
  try {
    await store.append(key, offset, part);
  } catch (cause) {
    if ((cause as { name?: unknown } | null)?.name !== 'QuotaExceededError') throw cause;
    await store.discard(key);
    throw new StorageQuotaError(`The storage is full: ${key.path} of ${key.model} could not be stored (nothing of it was kept).`, {
      cause,
      details: { model: key.model, file: key.path },
    });
  }
}

function concat(chunks: Uint8Array[], bytes: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** The first byte of a 206 answer (`Content-Range: bytes 100-199/200`), or NaN. */
function rangeStart(response: Response): number {
  const match = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '');
  return match ? Number(match[1]) : NaN;
}

function mismatch(key: FileKey, what: string, actual: string): IntegrityError {
  return new IntegrityError(
    `${key.path} of ${key.model} ${what}: the file is corrupt, truncated or not the one the manifest describes. Nothing was stored or loaded.`,
    { details: { model: key.model, file: key.path, expected: key.sha256, actual } },
  );
}

function unreachable(key: FileKey, url: string, cause: unknown): ModelLoadError {
  return new ModelLoadError(`Model file ${key.path} could not be fetched (${url}); what arrived is kept and the next load resumes from it.`, {
    cause,
    details: { file: key.path },
  });
}

/** Waits a little longer after each failure in a row (a dropped connection may come back). */
function pause(failures: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 250 * failures));
}
