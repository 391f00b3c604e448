/**
 * Browser commands of the delivery tests: the page drives the Node-side file server of
 * ./server.ts (start it, set how it serves, read what it served).
 */
import { join } from 'node:path';
import type { BrowserCommand } from 'vitest/node';
import { generatedBytes, sha256Hex, startFileServer, type FileServer, type ServerMode, type ServerStats } from './server.js';

let server: Promise<FileServer> | undefined;
let big: { size: number; sha256: string } | undefined;

/**
 * Starts the server once: `big/onnx/model.onnx` is a generated file of
 * `LINGOGUARD_DELIVERY_MB` (default 24) MiB, `fixture/fixture-consistentguard/` the test model.
 */
export const deliveryStart: BrowserCommand<[]> = async () => {
  server ??= startFileServer().then((started) => {
    const bytes = generatedBytes(Number(process.env.LINGOGUARD_DELIVERY_MB ?? 24) * 1024 * 1024, 11);
    big = { size: bytes.byteLength, sha256: sha256Hex(bytes) };
    started.put('big/onnx/model.onnx', bytes);
    started.mount('fixture/fixture-consistentguard', join(process.cwd(), 'models/fixtures/fixture-consistentguard'));
    return started;
  });
  const { url } = await server;
  return { url, ...big! };
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
    deliveryStart: () => Promise<{ url: string; size: number; sha256: string }>;
    deliveryMode: (mode: Partial<ServerMode>) => Promise<void>;
    deliveryStats: () => Promise<ServerStats>;
    deliveryReset: () => Promise<void>;
  }
}
