/**
 * The package as an app gets it: `npm pack`, installed into a fresh copy of the fixture Vite
 * app (test/package/app), built with `vite build`, served by `vite preview`, and run in real
 * Chromium, where it classifies with the fixture model on wasm. Nothing is copied by hand: the
 * worker and onnxruntime's wasm must come out of the app's own build.
 *
 * The install needs the npm registry for lingoguard's dependencies; `--before` pins what it
 * resolves to a fixed date, so a new release upstream cannot change this test's outcome.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { holdBrowserLock } from '../browser-lock.js';
import { NetLog } from '../net-log.js';
import { ensureFixtures } from '../models/ensure-fixtures.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const APP = fileURLToPath(new URL('./app/', import.meta.url));
/** Dependencies resolve as the registry stood on this date. */
const REGISTRY_SNAPSHOT = '2026-11-27T00:00:00Z';
const MODEL = 'models/fixtures/fixture-consistentguard';

interface PackResult {
  filename: string;
  size: number;
  files: { path: string }[];
}

let work = '';
let packed: PackResult;
let preview: ChildProcess | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  ensureFixtures();
  work = await mkdtemp(join(tmpdir(), 'lingoguard-package-'));
  // `npm pack` runs `prepare`, i.e. the package build: the tarball holds a fresh dist/.
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, maxBuffer: 1 << 26 });
  const [result] = JSON.parse(stdout.slice(stdout.indexOf('['))) as PackResult[];
  if (!result) throw new Error(`npm pack printed no result: ${stdout}`);
  packed = result;
  const app = join(work, 'app');
  await cp(APP, app, { recursive: true });
  await cp(join(work, packed.filename), join(app, 'lingoguard.tgz'));
  await cp(join(ROOT, MODEL), join(app, 'public', MODEL), { recursive: true });
  // Install scripts are skipped: the browser build needs none (onnxruntime-node's would try
  // to download a CUDA provider).
  await run(
    'npm',
    ['install', '--prefer-offline', `--before=${REGISTRY_SNAPSHOT}`, '--ignore-scripts', '--no-audit', '--no-fund'],
    { cwd: app, maxBuffer: 1 << 26 },
  );
  await run(join(app, 'node_modules', '.bin', 'vite'), ['build'], { cwd: app, maxBuffer: 1 << 26 });
}, 240_000);

let releaseLock: (() => void) | undefined;

afterAll(async () => {
  await browser?.close();
  releaseLock?.();
  preview?.kill();
  if (work) await rm(work, { recursive: true, force: true });
});

test('the tarball holds the built package, the wasm assets, and no tests or data', () => {
  const paths = packed.files.map((file) => file.path);
  for (const expected of [
    'dist/src/index.js',
    'dist/src/index.node.js',
    'dist/src/ai-sdk.js',
    'dist/src/ai-sdk.d.ts',
    'dist/src/react.js',
    'dist/src/react.d.ts',
    'dist/worker/entry.js',
    'dist/worker/shared-entry.js',
    'dist/worker/ort-wasm-simd-threaded.asyncify.wasm',
    'dist/worker/ort-wasm-simd-threaded.asyncify.mjs',
    'dist/worker/ort-wasm-simd-threaded.wasm',
    'dist/worker/ort-wasm-simd-threaded.mjs',
    'models/manifests/fixture-consistentguard.json',
  ]) {
    expect(paths).toContain(expected);
  }
  const unwanted = paths.filter((path) => /^(test|demo|bench|scripts|src|worker|models\/(fixtures|build))\/|^dist\/demo\/|toxic|\.jsonl$/i.test(path));
  expect(unwanted).toEqual([]);
  expect(packed.size).toBeLessThan(14_000_000); // bytes, compressed: the two wasm builds are most of it (10.8 MB measured)
});

test('the app built from the tarball classifies in Chromium, with everything served by the app', async () => {
  const assets = await readdir(join(work, 'app', 'dist', 'assets'));
  // Both onnxruntime builds: asyncify for WebGPU, the plain one for wasm (worker/ort-files.ts).
  expect(assets.some((name) => /^ort-wasm-simd-threaded\.asyncify-.*\.wasm$/.test(name))).toBe(true);
  expect(assets.some((name) => /^ort-wasm-simd-threaded-.*\.wasm$/.test(name))).toBe(true);
  // The shared worker (where createGuard runs by default) is bundled beside the dedicated one.
  expect(assets.some((name) => /^shared-entry-.*\.js$/.test(name))).toBe(true);

  const port = await freePort();
  preview = spawn(join(work, 'app', 'node_modules', '.bin', 'vite'), ['preview', '--port', String(port), '--strictPort'], {
    cwd: join(work, 'app'),
    stdio: 'ignore',
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitForServer(origin);

  releaseLock = await holdBrowserLock();
  const netLog = new NetLog(join(work, 'net-log.json'));
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless=new',
      '--no-sandbox',
      '--enable-unsafe-webgpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      `--log-net-log=${netLog.file}`,
    ],
  });
  const page = await browser.newPage();
  await page.goto(origin);
  await page.waitForFunction(() => document.body.dataset.state !== 'loading', undefined, { timeout: 90_000 });
  const out = await page.textContent('#out');
  expect(await page.evaluate(() => document.body.dataset.state), out ?? '').toBe('done');
  expect(JSON.parse(out ?? '{}')).toMatchObject({
    info: { model: 'fixture-consistentguard', device: 'wasm', sharing: { shared: true, tabs: 1, loads: 1 } },
    labels: ['harmful', 'unharmful'],
    paths: ['fast', 'fast', 'reasoned'],
    categories: ['S2'],
  });
  await netLog.flush(page);
  // Every request of the page and of its shared worker, as the network saw them.
  const requests = netLog.requestsSince(0);
  expect(requests.some((url) => /\/onnx\/model[^/]*\.onnx$/.test(new URL(url).pathname)), requests.join('\n')).toBe(true);
  // The worker fetched the wasm device's build (only that one) from the app's own build
  // output; nothing left the origin.
  const wasmFiles = requests.map((url) => new URL(url).pathname).filter((path) => path.endsWith('.wasm'));
  expect(wasmFiles).toEqual([expect.stringMatching(/^\/assets\/ort-wasm-simd-threaded-.*\.wasm$/)]);
  expect(requests.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:') && !url.startsWith('blob:'))).toEqual([]);
}, 120_000);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForServer(origin: string): Promise<void> {
  for (let tries = 0; tries < 100; tries++) {
    const ok = await fetch(origin).then((response) => response.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`vite preview did not answer on ${origin}`);
}
