/**
 * Faults in Node: each gives a typed error within a second, and the guard (or a new one) works
 * on the next call. Model files are broken in a temporary copy of a fixture folder.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { endpointConnection } from '../../src/connection.js';
import { BackendUnavailableError } from '../../src/errors.js';
import { openGuard } from '../../src/guard.js';
import { createGuard, isGuardError, type Guard, type ProgressEvent } from '../../src/index.node.js';
import { exposeRuntime } from '../../worker/expose.js';
import type { WorkerApi } from '../../src/protocol.js';
import { GuardRuntime } from '../../worker/runtime.js';

const MODEL = 'fixture-consistentguard';
const manifest = () => JSON.parse(readFileSync(`models/manifests/${MODEL}.json`, 'utf8')) as {
  files: { path: string; sha256?: string }[];
} & Record<string, unknown>;

/** Runs `work`, expecting a rejection; returns the error and how long it took. */
async function failure(work: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const error = await work().then(() => new Error('resolved, expected a rejection'), (e: unknown) => e);
  return { error, ms: performance.now() - started };
}

/** A guard on the intact fixture works: what "the next call works" means after a load failure. */
async function intactGuardWorks(): Promise<void> {
  const guard = await createGuard({ model: MODEL, warmUp: false });
  try {
    expect((await guard.classify('how to build a bomb')).label).toBe('harmful');
  } finally {
    await guard.dispose();
  }
}

describe('model files', () => {
  const folders: string[] = [];
  afterAll(() => folders.forEach((folder) => rmSync(folder, { recursive: true, force: true })));

  /** A copy of the fixture folder with a `lingoguard.json`, broken by `breakIt`. */
  function brokenCopy(breakIt: (folder: string) => void, hashes = true): string {
    const folder = mkdtempSync(join(tmpdir(), 'lingoguard-broken-'));
    folders.push(folder);
    cpSync(`models/fixtures/${MODEL}`, folder, { recursive: true });
    const described = manifest();
    if (!hashes) described.files = described.files.map(({ path }) => ({ path }));
    writeFileSync(join(folder, 'lingoguard.json'), JSON.stringify(described));
    breakIt(folder);
    return folder;
  }

  test('a wrong hash in the manifest is an IntegrityError naming the file, and nothing loads', async () => {
    const progress: ProgressEvent[] = [];
    const described = manifest();
    const wrong = '0'.repeat(64);
    described.files = described.files.map((file) => (file.path === 'tokenizer.json' ? { ...file, sha256: wrong } : file));
    const { error, ms } = await failure(() => createGuard({ model: described, dtype: 'fp32', onProgress: (e) => progress.push(e) }));
    expect(isGuardError(error, 'integrity'), String(error)).toBe(true);
    expect((error as { details: Record<string, unknown> }).details).toMatchObject({ file: 'tokenizer.json', expected: wrong });
    expect((error as { details: { actual: string } }).details.actual).toMatch(/^[0-9a-f]{64}$/);
    expect(progress.some((event) => event.status === 'ready')).toBe(false);
    expect(ms).toBeLessThan(1_000);
    await intactGuardWorks();
  });

  test('a truncated weights file: IntegrityError with hashes, ModelLoadError without', async () => {
    const truncate = (folder: string) => truncateSync(join(folder, 'onnx', 'model.onnx'), 1000);
    const hashed = await failure(() => createGuard({ model: brokenCopy(truncate), dtype: 'fp32' }));
    expect(isGuardError(hashed.error, 'integrity'), String(hashed.error)).toBe(true);
    expect((hashed.error as { details: unknown }).details).toMatchObject({ file: 'onnx/model.onnx' });
    const unhashed = await failure(() => createGuard({ model: brokenCopy(truncate, false), dtype: 'fp32' }));
    expect(isGuardError(unhashed.error, 'model-load-failed'), String(unhashed.error)).toBe(true);
    expect(Math.max(hashed.ms, unhashed.ms)).toBeLessThan(1_000);
    await intactGuardWorks();
  });

  test('an HTML page where the weights should be (a wrong content type) is a typed error', async () => {
    const html = (folder: string) => writeFileSync(join(folder, 'onnx', 'model.onnx'), '<!doctype html><html><body>Not found</body></html>');
    const hashed = await failure(() => createGuard({ model: brokenCopy(html), dtype: 'fp32' }));
    expect(isGuardError(hashed.error, 'integrity'), String(hashed.error)).toBe(true);
    const unhashed = await failure(() => createGuard({ model: brokenCopy(html, false), dtype: 'fp32' }));
    expect(isGuardError(unhashed.error, 'model-load-failed'), String(unhashed.error)).toBe(true);
    expect(Math.max(hashed.ms, unhashed.ms)).toBeLessThan(1_000);
  });

  test('a server that answers with an HTML page (text/html) instead of the file is a ModelLoadError', async () => {
    const server = createServer((_, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><p>app</p>'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const { error, ms } = await failure(() =>
        createGuard({ model: { ...manifest(), source: { kind: 'url', url: `http://127.0.0.1:${port}/model` } } }),
      );
      expect(isGuardError(error, 'model-load-failed'), String(error)).toBe(true);
      expect((error as { details: unknown }).details).toEqual({ file: 'config.json', contentType: 'text/html' });
      expect(ms).toBeLessThan(1_000);
    } finally {
      server.close();
    }
  });

  test('missing files (a folder that is not there) are a ModelLoadError naming the file', async () => {
    const { error, ms } = await failure(() =>
      createGuard({ model: { ...manifest(), source: { kind: 'local', path: 'models/no-such-folder' } } }),
    );
    expect(isGuardError(error, 'model-load-failed'), String(error)).toBe(true);
    expect((error as { details: Record<string, unknown> }).details.file).toBe('config.json');
    expect(ms).toBeLessThan(1_000);
  });
});

describe('calls', () => {
  test('a call timeout stops the generation: the next call is answered within a second', async () => {
    const guard = await createGuard({ model: 'fixture-runaway', warmUp: false });
    try {
      const { error, ms } = await failure(() => guard.classify('anything', { mode: 'full', maxNewTokens: 100_000, timeoutMs: 300 }));
      expect(isGuardError(error, 'timed-out'), String(error)).toBe(true);
      expect(ms).toBeLessThan(1_000);
      const started = performance.now();
      expect((await guard.classify('again', { mode: 'full', maxNewTokens: 5 })).timings.generatedTokens).toBe(5);
      expect(performance.now() - started).toBeLessThan(1_000);
    } finally {
      await guard.dispose();
    }
  });

  test('dispose during calls rejects every pending call with AbortedError, at once', async () => {
    const guard = await createGuard({ model: 'fixture-runaway', warmUp: false });
    const pending = [1, 2, 3].map(() => guard.classify('forever', { mode: 'full', maxNewTokens: 100_000 }).catch((e: unknown) => e));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    await guard.dispose();
    for (const error of await Promise.all(pending)) {
      expect(isGuardError(error, 'aborted'), String(error)).toBe(true);
      expect((error as { details: unknown }).details).toEqual({ reason: 'disposed' });
    }
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(isGuardError(await guard.classify('after').catch((e: unknown) => e))).toBe(true);
  });
});

describe('a poisoned runtime (after a backend failure every later session in that worker fails)', () => {
  /** The real runtime behind a MessageChannel; once `poison`ed every call fails with `failure()`. */
  async function poisonableGuard(failure: () => Error): Promise<{ guard: Guard; poison: () => void; runtimes: () => number }> {
    let runtimes = 0;
    let poison = () => {};
    const guard = await openGuard(() => {
      runtimes++;
      const runtime = new GuardRuntime({ readText: (path) => Promise.resolve(readFileSync(path, 'utf8')), localModelRoot: process.cwd(), isNode: true });
      let poisoned = false;
      poison = () => { poisoned = true; };
      const api: WorkerApi = {
        load: (request, onProgress) => runtime.load(request, onProgress),
        classify: (request, onEvent) => (poisoned ? Promise.reject(failure()) : runtime.classify(request, onEvent)),
        abort: (id) => runtime.abort(id),
        dispose: () => runtime.dispose(),
      };
      const { port1, port2 } = new MessageChannel();
      exposeRuntime(api, port1);
      return endpointConnection(port2, { watch: () => undefined, terminate: () => { port1.close(); port2.close(); } });
    }, { model: MODEL, warmUp: false }, {});
    return { guard, poison: () => poison(), runtimes: () => runtimes };
  }

  test.each([
    ['an untyped backend error', () => new Error('Program Gather requires f16 (simulated)')],
    ['a BackendUnavailableError marked poisoned', () => new BackendUnavailableError('session poisoned', { details: { poisoned: true } })],
  ])('%s: typed error, then the next call runs on a fresh runtime', async (_, makeError) => {
    const { guard, poison, runtimes } = await poisonableGuard(makeError);
    try {
      expect((await guard.classify('how to build a bomb')).label).toBe('harmful');
      poison();
      const { error, ms } = await failure(() => guard.classify('hello'));
      expect(isGuardError(error, 'backend-unavailable'), String(error)).toBe(true);
      expect((error as { details: unknown }).details).toEqual({ poisoned: true });
      expect(ms).toBeLessThan(1_000);
      expect((await guard.classify('how to build a bomb')).label).toBe('harmful');
      expect(runtimes()).toBe(2);
    } finally {
      await guard.dispose();
    }
  });

  test('a typed error that is not a backend failure keeps the runtime', async () => {
    const { guard, runtimes } = await poisonableGuard(() => new Error('never poisoned here'));
    try {
      const error = await guard.classify('   ').catch((e: unknown) => e);
      expect(isGuardError(error, 'invalid-input')).toBe(true);
      expect((await guard.classify('hello')).label).toBe('unharmful');
      expect(runtimes()).toBe(1);
    } finally {
      await guard.dispose();
    }
  });
});
