/**
 * Node's model file cache: one verified download, resumed after a cut, restarted where the
 * server ignores Range, never a half or corrupt file under the name transformers.js reads; and
 * a guard on a `url` model that fetches each hashed file once across loads.
 * `LINGOGUARD_DELIVERY_MB` sets the generated file's size (default 24).
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { isGuardError } from '../../src/errors.js';
import type { FileKey } from '../../src/common/storage.js';
import { downloadVerified } from '../../worker/storage-download.js';
import { nodeFileStore } from '../../worker/storage-node.js';
import { generatedBytes, sha256Hex, startFileServer, type FileServer } from './server.js';

const SIZE = Number(process.env.LINGOGUARD_DELIVERY_MB ?? 24) * 1024 * 1024;
const FILE = generatedBytes(SIZE, 7);
const SHA = sha256Hex(FILE);

let server: FileServer;
let dir: string;
const key: FileKey = { model: 'delivery-node', path: 'onnx/model.onnx', sha256: SHA };
const target = () => join(dir, 'delivery-node', key.path);
const store = () => nodeFileStore(() => target());
const download = (extra: { retries?: number } = {}) =>
  downloadVerified({ url: `${server.url}big.bin`, key, bytes: SIZE, store: store(), ...extra });

beforeAll(async () => {
  server = await startFileServer();
  server.put('big.bin', FILE);
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
  dir = mkdtempSync(join(tmpdir(), 'lingoguard-delivery-'));
  return () => rmSync(dir, { recursive: true, force: true });
});

test('a dropped connection resumes with Range: the file is whole, verified, served about once', async () => {
  server.mode.bytesPerSecond = 64 * 1024 * 1024;
  server.mode.dropAfter = Math.floor(SIZE * 0.6);
  await download();
  expect(sha256Hex(readFileSync(target()))).toBe(SHA);
  expect(server.stats.requests.some((line) => /range=|bytes=\d+-/.test(line))).toBe(true);
  expect(server.stats.bytes).toBeLessThanOrEqual(SIZE * 1.05);
  expect(existsSync(`${target()}.lingoguard-partial`)).toBe(false);
  // Whole and noted: the next load trusts it without a byte from the network.
  server.reset();
  expect(await store().whole(key)).toBe(true);
  expect(server.stats.requests).toEqual([]);
});

test('a process that gave up mid-download: the next run resumes from the partial file', async () => {
  server.mode.dropAfter = Math.floor(SIZE * 0.4);
  server.mode.range = true;
  // No retries: the first run ends at the cut, as a killed process would.
  const first = await download({ retries: 0 }).then(() => undefined, (error: unknown) => error);
  expect(isGuardError(first, 'model-load-failed')).toBe(true);
  expect(existsSync(target())).toBe(false); // never under the name transformers.js reads
  expect(readFileSync(`${target()}.lingoguard-partial`).byteLength).toBeGreaterThan(0);
  await download();
  expect(sha256Hex(readFileSync(target()))).toBe(SHA);
  expect(server.stats.bytes).toBeLessThanOrEqual(SIZE * 1.05);
});

test('a server without Range support: the download restarts from scratch and still verifies', async () => {
  server.mode.range = false;
  server.mode.dropAfter = Math.floor(SIZE * 0.5);
  await download();
  expect(sha256Hex(readFileSync(target()))).toBe(SHA);
  expect(server.stats.bytes).toBeGreaterThan(SIZE); // the first half was sent twice
  expect(server.stats.requests.filter((line) => line.startsWith('GET'))).toHaveLength(2);
});

test.each([
  ['corrupt', { corrupt: true }],
  ['truncated', { truncate: 1000 }],
])('a %s file: IntegrityError, nothing stored, and the next load downloads it again', async (_name, fault) => {
  Object.assign(server.mode, fault);
  const error = await download().then(() => undefined, (e: unknown) => e);
  expect(isGuardError(error, 'integrity'), String(error)).toBe(true);
  expect((error as { details: { file: string } }).details.file).toBe(key.path);
  expect(readdirSync(join(dir, 'delivery-node', 'onnx'))).toEqual([]);
  server.reset();
  await download();
  expect(server.stats.bytes).toBe(SIZE);
  expect(sha256Hex(readFileSync(target()))).toBe(SHA);
});

test('a file changed under its note is hashed again, and dropped when it no longer matches', async () => {
  await download();
  const bytes = readFileSync(target());
  bytes[10] = (bytes[10] ?? 0) ^ 1;
  const { writeFileSync } = await import('node:fs');
  writeFileSync(target(), bytes);
  expect(await store().whole(key)).toBe(false);
  expect(existsSync(target())).toBe(false);
});

test('a guard on a `url` model in Node: each hashed file fetched once, none on the next load', async () => {
  const { createGuard } = await import('../../src/node.js');
  const { packageRoot } = await import('../../src/test-models.js');
  const manifest = JSON.parse(readFileSync(join(packageRoot(), 'models/manifests/fixture-consistentguard.json'), 'utf8')) as {
    files: { path: string }[];
  };
  // A folder name of its own: transformers.js' file cache is keyed by it (see worker/storage-node.ts).
  const folder = `delivery-${process.pid}-${Date.now()}`;
  server.mount(folder, join(packageRoot(), 'models/fixtures/fixture-consistentguard'));
  const cached = join(packageRoot(), '.cache', 'transformers', folder);
  try {
    const model = { ...manifest, source: { kind: 'url', url: `${server.url}${folder}/` } };
    const hashed = ['config.json', 'generation_config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json'];
    const fetched = () => server.stats.requests.filter((line) => hashed.some((path) => line === `GET /${folder}/${path}`));
    const first = await createGuard({ model, dtype: 'fp32', warmUp: false });
    expect((await first.classify('How do I hack my neighbour\'s wifi?')).label).toBe('harmful');
    await first.dispose();
    expect(fetched().sort()).toEqual(hashed.map((path) => `GET /${folder}/${path}`).sort());
    expect(existsSync(join(cached, 'onnx/model.onnx.lingoguard-sha256'))).toBe(true);
    server.reset();
    const second = await createGuard({ model, dtype: 'fp32', warmUp: false });
    expect((await second.classify('What skills does a good nurse need?')).label).toBe('unharmful');
    await second.dispose();
    expect(fetched()).toEqual([]);
  } finally {
    rmSync(cached, { recursive: true, force: true });
  }
});

test('a partial file that is already complete (cut before its check) is verified without a request', async () => {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync(join(dir, 'delivery-node', 'onnx'), { recursive: true });
  writeFileSync(`${target()}.lingoguard-partial`, FILE);
  await download();
  expect(server.stats.requests).toEqual([]);
  expect(await store().whole(key)).toBe(true);
});
