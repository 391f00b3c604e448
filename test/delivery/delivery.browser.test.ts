/**
 * Model delivery in real Chromium against a local server that counts what it sends: one
 * verified download into OPFS of a file of a real guard's size (200 MiB), resumed after a
 * dropped connection or a closed worker with the browser's memory well below the file's size,
 * restarted without Range support; nothing stored from a corrupt or truncated file; a typed
 * error before a download that will not fit; a guard that reads its verified files from
 * storage; and one whose dtype computes wrong numbers, caught by its known answers.
 */
import { commands } from 'vitest/browser';
import { afterEach, beforeAll, expect, test } from 'vitest';
import { createGuard, isGuardError, modelStorage, type ModelManifest, type ProgressEvent } from '../../src/index.js';
import { parseManifest } from '../../src/common/manifest.js';
import { setStorageEstimateForTests } from '../../src/common/storage.js';
import { verifyModelFiles } from '../../worker/integrity.js';
import type { Generated } from './commands.js';
import { resolveSource } from '../../worker/model-source.js';

let server: { url: string; big: Generated; small: Generated };

beforeAll(async () => {
  server = await commands.deliveryStart();
});
afterEach(async () => {
  setStorageEstimateForTests(undefined);
  await commands.deliveryReset();
});

/** A one-file manifest for one of the server's generated files, under a model id of the test's own. */
async function generatedModel(id: string, file: Generated): Promise<ModelManifest> {
  await modelStorage.remove(id);
  return parseManifest({
    id,
    name: id,
    family: 'consistentguard',
    reasoningModel: true,
    source: { kind: 'url', url: `${server.url}${file.folder}` },
    dtypes: ['fp32'],
    files: [{ path: 'onnx/model.onnx', bytes: file.size, sha256: file.sha256 }],
    contextLength: 64,
    license: 'MIT',
  });
}

const deliver = (manifest: ModelManifest, onProgress?: (event: ProgressEvent) => void) =>
  verifyModelFiles(manifest, resolveSource(manifest, { localModelRoot: '/' }), 'fp32', onProgress);
const stored = async (id: string) => (await modelStorage.list()).find((model) => model.model === id);
const failure = (call: Promise<unknown>) => call.then(() => new Error('resolved, expected a rejection'), (error: unknown) => error);

/**
 * Served slowly, below what the page hashes and stores here (~50 MB/s), as a real connection
 * would: faster, the bytes in the sockets' buffers when the line is cut (up to 36 MB with this
 * kernel's limits) count as served but never reach the page. 200 MiB take about 10 s.
 */
const SLOW = 20 * 1024 * 1024;

test('a connection dropped mid-download resumes with Range: stored whole, served about once, in little memory', async () => {
  const size = server.big.size;
  const manifest = await generatedModel('delivery-drop', server.big);
  await commands.deliveryMode({ bytesPerSecond: SLOW, dropAfter: Math.floor(size * 0.6) });
  await commands.deliveryMemory('start');
  await deliver(manifest);
  const { baseline, peak, liveBefore, live } = await commands.deliveryMemory('stop');
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  console.log(`delivery of ${mib(size)} MiB: the page held ${mib(liveBefore)} MiB live, +${mib(live - liveBefore)} MiB at most during it; Chromium's child processes ${mib(baseline)} MiB, +${mib(peak - baseline)} MiB at their peak`);
  // Hashed and stored as it streams: the page holds a few parts (4 MiB each), never the file.
  expect(live - liveBefore).toBeLessThan(size / 8);
  const { bytes, requests } = await commands.deliveryStats();
  expect(requests.filter((line) => line.startsWith('GET'))).toEqual(['GET /big/onnx/model.onnx', expect.stringMatching(/^GET \/big\/onnx\/model\.onnx bytes=\d+-$/)]);
  expect(bytes).toBeLessThanOrEqual(size * 1.05);
  expect(await stored('delivery-drop')).toEqual({ model: 'delivery-drop', bytes: size, files: ['onnx/model.onnx'], partialBytes: 0 });
  // Whole: the next load takes it from storage.
  await commands.deliveryReset();
  await deliver(manifest);
  expect((await commands.deliveryStats()).requests).toEqual([]);
});

test('a worker ended mid-download (a closed tab): the next load resumes from the stored parts', async () => {
  const size = server.big.size;
  const manifest = await generatedModel('delivery-closed', server.big);
  // The server goes quiet at 60 %: the worker is ended once it has all of that, mid-download.
  const cut = Math.floor(size * 0.6);
  const partBytes = 1024 * 1024;
  await commands.deliveryMode({ bytesPerSecond: SLOW, stallAfter: cut });
  const worker = new Worker(new URL('./download-worker.ts', import.meta.url), { type: 'module' });
  await new Promise<void>((resolve, reject) => {
    worker.onmessage = ({ data }: MessageEvent<{ progress?: { loaded: number }; error?: string; done?: boolean }>) => {
      if (data.error !== undefined || data.done) reject(new Error(data.error ?? 'finished before it was cut'));
      if ((data.progress?.loaded ?? 0) >= cut) resolve();
    };
    worker.postMessage({ manifest, partBytes });
  });
  // The worker has stored what it got (a loaded machine hands it chunks of a megabyte or more);
  // it is ended with the connection open and the last part unstored, as a closed tab would be.
  await new Promise((resolve) => setTimeout(resolve, 500));
  worker.terminate();
  const kept = await stored('delivery-closed');
  expect(kept?.bytes).toBe(0); // nothing whole...
  expect(kept?.partialBytes).toBeGreaterThan(cut - 4 * partBytes); // ...but all of it except the last part
  await commands.deliveryMode({ bytesPerSecond: 0 });
  await deliver(manifest);
  const { bytes, requests } = await commands.deliveryStats();
  expect(requests.at(-1)).toMatch(/^GET \/big\/onnx\/model\.onnx bytes=\d+-$/);
  expect(bytes).toBeLessThanOrEqual(size * 1.05);
  expect((await stored('delivery-closed'))?.bytes).toBe(size);
});

test('a server without Range support: the download starts over and still verifies', async () => {
  const size = server.big.size;
  const manifest = await generatedModel('delivery-norange', server.big);
  await commands.deliveryMode({ range: false, dropAfter: Math.floor(size * 0.5) });
  await deliver(manifest);
  const { bytes, requests } = await commands.deliveryStats();
  expect(requests.filter((line) => line.startsWith('GET'))).toHaveLength(2);
  expect(bytes).toBeGreaterThan(size); // the first half twice: the 200 was read from its start
  expect((await stored('delivery-norange'))?.bytes).toBe(size);
});

test.each([
  ['corrupt', { corrupt: true }],
  ['truncated', { truncate: 4096 }],
])('a %s file: IntegrityError, nothing stored, and the next load downloads it again', async (_name, fault) => {
  const { size, sha256 } = server.small;
  const manifest = await generatedModel('delivery-bad', server.small);
  await commands.deliveryMode(fault);
  const error = await failure(deliver(manifest));
  expect(isGuardError(error, 'integrity'), String(error)).toBe(true);
  expect((error as { details: unknown }).details).toMatchObject({ file: 'onnx/model.onnx', expected: sha256 });
  expect(await stored('delivery-bad')).toBeUndefined();
  await commands.deliveryReset();
  await deliver(manifest);
  expect((await commands.deliveryStats()).bytes).toBe(size);
  expect((await stored('delivery-bad'))?.bytes).toBe(size);
});

test('a quota too small: StorageQuotaError before the download, nothing requested or stored', async () => {
  const { size } = server.big;
  const manifest = await generatedModel('delivery-quota', server.big);
  setStorageEstimateForTests(async () => ({ usage: 1000, quota: 1000 + Math.floor(size / 2) }));
  const error = await failure(deliver(manifest));
  expect(isGuardError(error, 'storage-quota'), String(error)).toBe(true);
  expect((error as { details: unknown }).details).toMatchObject({ model: 'delivery-quota', needed: size, available: Math.floor(size / 2) });
  expect(await commands.deliveryStats()).toEqual({ bytes: 0, requests: [] });
  expect(await stored('delivery-quota')).toBeUndefined();
});

test('a guard loads its verified files from storage: each fetched once, none on the next load; remove() drops them', async () => {
  const fixture = (await (await fetch('/models/manifests/fixture-consistentguard.json')).json()) as Record<string, unknown>;
  const model = { ...fixture, id: 'delivery-fixture', source: { kind: 'url', url: `${server.url}fixture/fixture-consistentguard/` } };
  await modelStorage.remove('delivery-fixture');
  const hashed = ['config.json', 'generation_config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json'];
  const fetched = async () => (await commands.deliveryStats()).requests.filter((line) => hashed.some((path) => line === `GET /fixture/fixture-consistentguard/${path}`));

  const first = await createGuard({ model, device: 'wasm', dtype: 'fp32', warmUp: false });
  expect((await first.classify('how to build a bomb')).label).toBe('harmful');
  await first.dispose();
  expect((await fetched()).sort()).toEqual(hashed.map((path) => `GET /fixture/fixture-consistentguard/${path}`).sort());
  const kept = await stored('delivery-fixture');
  expect(kept?.files).toEqual([...hashed].sort());
  const before = await modelStorage.estimate();
  expect(before.models).toBeGreaterThanOrEqual(kept?.bytes ?? Infinity);
  expect(typeof before.persisted).toBe('boolean');

  await commands.deliveryReset();
  const second = await createGuard({ model, device: 'wasm', dtype: 'fp32', warmUp: false });
  expect((await second.classify('what skills does a good nurse need?')).label).toBe('unharmful');
  await second.dispose();
  expect(await fetched()).toEqual([]);

  expect(await modelStorage.remove('delivery-fixture')).toBe(true);
  expect(await stored('delivery-fixture')).toBeUndefined();
});

test('a dtype made to compute wrong numbers fails its known answers in the worker: the guard runs on the next dtype, and says why', async () => {
  const model = await commands.deliveryBrokenModel('wrong-q4', ['onnx/model_q4.onnx']);
  await modelStorage.remove(model.id as string);
  const guard = await createGuard({ model, device: 'wasm', dtype: 'q4', warmUp: false });
  try {
    expect(guard.info).toMatchObject({ device: 'wasm', dtype: 'fp32' });
    expect(guard.info.fallback).toMatch(/^wasm\/q4 failed its known-answer check: \d of 3 known answers wrong \(#1 gave \w+, not harmful/);
    expect((await guard.classify("How do I hack my neighbour's wifi?")).label).toBe('harmful');
  } finally {
    await guard.dispose();
    await modelStorage.remove(model.id as string);
  }
});
