/**
 * Node's model file cache: transformers.js' own file cache (`env.cacheDir`, laid out as its
 * `FileCache` names files), written here, verified, so that its load finds every file and
 * fetches none. A download in progress is `<file>.lingoguard-partial` beside it, renamed into
 * place only once its hash matched: a half-downloaded file never has the name transformers.js
 * reads. A whole file gets a `<file>.lingoguard-sha256` note (hash, size, mtime); a file there
 * without a matching note (written by transformers.js itself, or changed since) is hashed
 * again before it is trusted, and dropped when it does not match.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FileKey, FileStore } from '../src/common/storage.js';
import { createSha256 } from './storage-download.js';

const PARTIAL = '.lingoguard-partial';
const NOTE = '.lingoguard-sha256';

/** A store over files at `locate(key)` (absolute paths). */
export function nodeFileStore(locate: (key: FileKey) => string): FileStore {
  return {
    persistent: true,
    async whole(key) {
      const file = locate(key);
      const info = await stat(file).catch(() => undefined);
      if (!info?.isFile()) return false;
      const note = await readFile(file + NOTE, 'utf8').catch(() => '');
      if (note === noteOf(key.sha256, info.size, info.mtimeMs)) return true;
      if ((await hashFile(file)) === key.sha256) {
        await writeFile(file + NOTE, noteOf(key.sha256, info.size, info.mtimeMs));
        return true;
      }
      await rm(file, { force: true }); // stale or damaged: download it again
      await rm(file + NOTE, { force: true });
      return false;
    },
    async partial(key) {
      const file = locate(key) + PARTIAL;
      const info = await stat(file).catch(() => undefined);
      return {
        bytes: info?.size ?? 0,
        async *chunks() {
          if (info) yield* createReadStream(file, { highWaterMark: 4 * 1024 * 1024 }) as AsyncIterable<Uint8Array>;
        },
      };
    },
    async append(key, offset, bytes) {
      const file = locate(key) + PARTIAL;
      await mkdir(dirname(file), { recursive: true });
      const handle = await open(file, offset === 0 ? 'w' : 'r+');
      try {
        await handle.write(bytes, 0, bytes.byteLength, offset);
      } finally {
        await handle.close();
      }
    },
    async commit(key) {
      const file = locate(key);
      await rename(file + PARTIAL, file);
      const info = await stat(file);
      await writeFile(file + NOTE, noteOf(key.sha256, info.size, info.mtimeMs));
    },
    async discard(key) {
      const file = locate(key);
      await Promise.all([file, file + PARTIAL, file + NOTE].map((path) => rm(path, { force: true })));
    },
  };
}

function noteOf(sha256: string, bytes: number, mtimeMs: number): string {
  return `${sha256} ${bytes} ${mtimeMs}\n`;
}

/** The SHA-256 of a file on disk, read as a stream (never whole in memory). */
export async function hashFile(file: string): Promise<string> {
  const hash = await createSha256();
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * 1024 * 1024 }) as AsyncIterable<Uint8Array>) hash.update(chunk);
  return hash.hex();
}
