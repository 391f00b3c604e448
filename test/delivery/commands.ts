/**
 * Browser commands of the delivery tests: the page drives the Node-side file server of
 * ./server.ts (start it, set how it serves, read what it served).
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserCommand } from 'vitest/node';
import { brokenCopy, type Manifest } from './broken-model.js';
import { generatedBytes, sha256Hex, startFileServer, type FileServer, type ServerMode, type ServerStats } from './server.js';

let server: Promise<FileServer> | undefined;
/** A generated file the server holds, as a manifest lists it. */
export interface Generated {
  /** The model folder's path on the server (`big/`, `small/`). */
  folder: string;
  size: number;
  sha256: string;
}
let files: { big: Generated; small: Generated } | undefined;

function generate(started: FileServer, folder: string, mebibytes: number, seed: number): Generated {
  const bytes = generatedBytes(mebibytes * 1024 * 1024, seed);
  started.put(`${folder}onnx/model.onnx`, bytes);
  return { folder, size: bytes.byteLength, sha256: sha256Hex(bytes) };
}

/**
 * Starts the server once, with two generated model files: `big/onnx/model.onnx` of
 * `LINGOGUARD_DELIVERY_MB` (default 200) MiB, a real guard's size, for the downloads that are
 * cut and resumed, and `small/onnx/model.onnx` (8 MiB) for the faults that need no size; and
 * the test model under `fixture/fixture-consistentguard/`.
 */
export const deliveryStart: BrowserCommand<[]> = async () => {
  server ??= startFileServer().then((started) => {
    files = { big: generate(started, 'big/', Number(process.env.LINGOGUARD_DELIVERY_MB ?? 200), 11), small: generate(started, 'small/', 8, 12) };
    started.mount('fixture/fixture-consistentguard', join(process.cwd(), 'models/fixtures/fixture-consistentguard'));
    return started;
  });
  const { url } = await server;
  return { url, ...files! };
};

/**
 * Resident memory of Chromium's child processes, summed (bytes): the renderers (where the page
 * and its workers fetch, hash and write), the network service and the GPU process, as the OS
 * sees them. Not the browser process: the test browser's profile is off the record, so OPFS
 * keeps the stored files in that process's memory (on a user's disk, in a real profile).
 */
function chromiumResidentBytes(): number {
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (!readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('chrom')) continue;
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=')) continue;
      const rss = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      total += Number(rss?.[1] ?? 0) * 1024;
    } catch {
      // The process ended while it was read.
    }
  }
  return total;
}

let memory: { baseline: number; peak: number; liveBefore: number; live: number; stop: () => Promise<void> } | undefined;

/**
 * `start` watches the page's memory while a download runs, until `stop`, which returns: the
 * resident memory of Chromium's child processes before the start and its highest sample
 * (every 50 ms: garbage not yet collected included), and what the page held live (its V8 heap
 * and ArrayBuffers, read after a garbage collection, through the DevTools protocol) before the
 * start and at most since (read every 250 ms).
 */
export const deliveryMemory: BrowserCommand<['start' | 'stop']> = async (context, step) => {
  if (step === 'start') {
    const cdp = await context.page.context().newCDPSession(context.page);
    const liveNow = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      const usage = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; backingStorageSize?: number };
      return usage.usedSize + (usage.backingStorageSize ?? 0);
    };
    const liveBefore = await liveNow();
    const watched = { baseline: chromiumResidentBytes(), peak: 0, liveBefore, live: liveBefore, stop: async () => undefined };
    watched.peak = watched.baseline;
    const resident = setInterval(() => (watched.peak = Math.max(watched.peak, chromiumResidentBytes())), 50);
    let running = true;
    const sampling = (async () => {
      while (running) {
        watched.live = Math.max(watched.live, await liveNow());
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    watched.stop = async () => {
      running = false;
      clearInterval(resident);
      await sampling;
      await cdp.detach();
    };
    memory = watched;
    return undefined;
  }
  if (!memory) throw new Error('deliveryMemory stop before start');
  const { stop, ...watched } = memory;
  memory = undefined;
  await stop();
  return { ...watched, peak: Math.max(watched.peak, chromiumResidentBytes()) };
};

let brokenRoot: string | undefined;

/**
 * Serves a copy of the test model whose `onnxFiles` compute wrong numbers (see
 * ./broken-model.ts) under `NAME/`, and returns its manifest, pointing there.
 */
export const deliveryBrokenModel: BrowserCommand<[string, string[]]> = async (_context, name, onnxFiles) => {
  const started = await server!;
  brokenRoot ??= mkdtempSync(join(tmpdir(), 'lingoguard-broken-'));
  const manifest = brokenCopy(brokenRoot, name, onnxFiles);
  started.mount(name, join(brokenRoot, name));
  return { ...manifest, source: { kind: 'url', url: `${started.url}${name}/` } };
};

/** Changes how the server serves from now on. */
export const deliveryMode: BrowserCommand<[Partial<ServerMode>]> = async (_context, mode) => {
  Object.assign((await server!).mode, mode);
};

/** What the server sent since the last reset. */
export const deliveryStats: BrowserCommand<[]> = async () => {
  const { stats } = await server!;
  return { bytes: stats.bytes, requests: [...stats.requests] };
};

/** Zeroes the counts and restores the default mode (Range on, fast, intact). */
export const deliveryReset: BrowserCommand<[]> = async () => {
  (await server!).reset();
};

declare module 'vitest/browser' {
  interface BrowserCommands {
    deliveryStart: () => Promise<{ url: string; big: Generated; small: Generated }>;
    deliveryMemory: <S extends 'start' | 'stop'>(step: S) => Promise<S extends 'stop' ? { baseline: number; peak: number; liveBefore: number; live: number } : undefined>;
    deliveryMode: (mode: Partial<ServerMode>) => Promise<void>;
    deliveryStats: () => Promise<ServerStats>;
    deliveryBrokenModel: (name: string, onnxFiles: string[]) => Promise<Manifest>;
    deliveryReset: () => Promise<void>;
  }
}
