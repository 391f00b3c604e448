/**
 * Faults in real Chromium, over the real worker: each gives a typed error (or a documented
 * fallback) within a second, and the guard works on the next call. No shader-f16 is covered by
 * test/runtime/guard.browser.test.ts (this adapter has none).
 */
import { afterEach, expect, test } from 'vitest';
import { createGuard, isGuardError, type BrowserGuardOptions, type ErrorCode, type Guard } from '../../src/index.js';

const guards: Guard[] = [];
afterEach(async () => {
  await Promise.all(guards.splice(0).map((guard) => guard.dispose()));
});

/** Opens a guard whose workers are made from `script` (one of ./workers/), keeping each worker. */
async function open(options: BrowserGuardOptions, script?: 'fault' | 'no-adapter'): Promise<{ guard: Guard; workers: Worker[] }> {
  const workers: Worker[] = [];
  const guard = await createGuard({
    ...options,
    ...(script === undefined ? {} : {
      createWorker: () => {
        // Literal `new Worker(new URL(...))`: the form Vite bundles as a worker.
        const worker = script === 'fault'
          ? new Worker(new URL('./workers/fault-worker.ts', import.meta.url), { type: 'module' })
          : new Worker(new URL('./workers/no-adapter-worker.ts', import.meta.url), { type: 'module' });
        workers.push(worker);
        return worker;
      },
    }),
  });
  guards.push(guard);
  return { guard, workers };
}

/** Awaits a rejection of `call`; checks its code (one of `codes`) and that it came within a second. */
async function rejectsWithin(call: Promise<unknown>, codes: ErrorCode[], since = performance.now()): Promise<unknown> {
  const error = await call.then(() => new Error('resolved, expected a rejection'), (e: unknown) => e);
  expect(codes.some((code) => isGuardError(error, code)), String(error)).toBe(true);
  expect(performance.now() - since).toBeLessThan(1_000);
  return error;
}

async function fixtureManifest(): Promise<{ files: { path: string; sha256?: string }[] } & Record<string, unknown>> {
  return (await (await fetch('/models/manifests/fixture-consistentguard.json')).json()) as never;
}

test('a worker terminated mid-call: WorkerCrashedError within a second, then a fresh worker', async () => {
  const { guard, workers } = await open({ model: 'fixture-runaway', device: 'wasm', warmUp: false }, 'fault');
  const pending = guard.classify('forever', { mode: 'full', maxNewTokens: 100_000 });
  await new Promise((resolve) => setTimeout(resolve, 200));
  const since = performance.now();
  workers[0]?.terminate(); // no event fires for this: the lifeline lock tells
  await rejectsWithin(pending, ['worker-crashed'], since);
  expect((await guard.classify('again', { mode: 'full', maxNewTokens: 4 })).timings.generatedTokens).toBe(4);
  expect(workers).toHaveLength(2);
});

test('a poisoned session: a typed backend error, and the next call runs in a fresh worker', async () => {
  const { guard, workers } = await open({ model: 'fixture-consistentguard', device: 'wasm', warmUp: false }, 'fault');
  expect((await guard.classify('how to build a bomb')).label).toBe('harmful');
  workers[0]?.postMessage({ poison: true });
  const error = await rejectsWithin(guard.classify('hello'), ['backend-unavailable']);
  expect((error as { details: unknown }).details).toEqual({ poisoned: true });
  expect((await guard.classify('how to build a bomb')).label).toBe('harmful');
  expect(workers).toHaveLength(2);
});

test('a lost GPU device fails the call, typed, and the next call gets a fresh worker', async () => {
  const { guard, workers } = await open({ model: 'fixture-runaway', device: 'webgpu', warmUp: false }, 'fault');
  expect(guard.info.device).toBe('webgpu');
  const pending = guard.classify('forever', { mode: 'full', maxNewTokens: 100_000 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const since = performance.now();
  workers[0]?.postMessage({ loseDevice: true });
  // The loss reaches the call either as the worker's crash or as ORT's own failure mid-run.
  await rejectsWithin(pending, ['worker-crashed', 'backend-unavailable'], since);
  expect((await guard.classify('again', { mode: 'full', maxNewTokens: 2 })).timings.generatedTokens).toBe(2);
  expect(workers).toHaveLength(2);
});

test('no WebGPU adapter: webgpu is a typed error at once; auto falls back to wasm and says so', async () => {
  const { guard } = await open({ model: 'fixture-consistentguard', device: 'auto', warmUp: false }, 'no-adapter');
  expect(guard.info).toMatchObject({ device: 'wasm', fallback: expect.stringMatching(/no WebGPU adapter/) });
  expect((await guard.classify('how to build a bomb')).label).toBe('harmful');
  // Timed once the worker's modules are warm: the refusal itself comes before any model file.
  await rejectsWithin(open({ model: 'fixture-consistentguard', device: 'webgpu' }, 'no-adapter'), ['backend-unavailable']);
});

test('a wrong hash is an IntegrityError naming the file; missing files are a ModelLoadError', async () => {
  // A first load warms the worker's modules, so what is timed below is the fault alone.
  const intact = await open({ model: 'fixture-consistentguard', device: 'wasm', dtype: 'fp32', warmUp: false });
  expect((await intact.guard.classify('how to build a bomb')).label).toBe('harmful');
  const manifest = await fixtureManifest();
  const wrong = 'f'.repeat(64);
  const tampered = { ...manifest, files: manifest.files.map((f) => (f.path === 'onnx/model.onnx' ? { ...f, sha256: wrong } : f)) };
  const error = await rejectsWithin(open({ model: tampered, device: 'wasm', dtype: 'fp32' }), ['integrity']);
  expect((error as { details: unknown }).details).toMatchObject({ file: 'onnx/model.onnx', expected: wrong });

  // An id of its own: under the fixture's id its verified files are in storage already, and
  // would load from there wherever the source points (they are kept offline).
  const missing = { ...manifest, id: 'fixture-missing', source: { kind: 'local', path: 'models/no-such-folder' } };
  const notFound = await rejectsWithin(open({ model: missing, device: 'wasm' }), ['model-load-failed']);
  expect((notFound as { details: { file?: string } }).details.file).toBe('config.json');
  // The intact model still loads (its cache entry, dropped on the mismatch, is fetched afresh).
  const { guard } = await open({ model: 'fixture-consistentguard', device: 'wasm', dtype: 'fp32', warmUp: false });
  expect((await guard.classify('how to build a bomb')).label).toBe('harmful');
});

test('a call timeout stops the generation: the next call is answered within a second', async () => {
  const { guard } = await open({ model: 'fixture-runaway', device: 'wasm', warmUp: false });
  await rejectsWithin(guard.classify('forever', { mode: 'full', maxNewTokens: 100_000, timeoutMs: 300 }), ['timed-out']);
  const started = performance.now();
  expect((await guard.classify('again', { mode: 'full', maxNewTokens: 4 })).timings.generatedTokens).toBe(4);
  expect(performance.now() - started).toBeLessThan(1_000);
});

test('dispose during calls rejects them all with AbortedError within a second', async () => {
  const guard = await createGuard({ model: 'fixture-runaway', device: 'wasm', warmUp: false });
  const pending = [1, 2, 3].map(() => guard.classify('forever', { mode: 'full', maxNewTokens: 100_000 }));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const since = performance.now();
  const disposed = guard.dispose();
  for (const call of pending) await rejectsWithin(call, ['aborted'], since);
  await disposed;
  expect(performance.now() - since).toBeLessThan(3_000); // the worker gets 2 s to dispose cleanly
});
