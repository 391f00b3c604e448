/**
 * A local file server for the delivery tests: serves generated files (and model folders)
 * slowly, with or without Range support, can cut a connection mid-body or serve corrupt bytes,
 * and counts every body byte it sent.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';

/** How the server behaves now (changed between a test's steps). */
export interface ServerMode {
  /** Honour `Range: bytes=N-` with 206 (false: answer 200 with the whole file). */
  range: boolean;
  /** Body bytes per second per response (0: as fast as it goes). */
  bytesPerSecond: number;
  /**
   * Cut the connection after this many body bytes of the next response that gets that far
   * (once): the bytes are sent, the line goes quiet for `stallMs`, then the socket is destroyed.
   */
  dropAfter?: number;
  /**
   * Stop sending after this many body bytes of the next response that gets that far (once),
   * and keep the connection open until the client goes: a test ends the client there.
   */
  stallAfter?: number;
  /** How long a dropped connection stays quiet before it is cut. @default 300 */
  stallMs: number;
  /** Flip one byte in the middle of every body. */
  corrupt: boolean;
  /** End every body this many bytes early (a truncated file). */
  truncate: number;
}

/** What was served since the last reset. */
export interface ServerStats {
  /** Body bytes written to sockets, all files together. */
  bytes: number;
  /** `METHOD path range` of every request. */
  requests: string[];
}

export interface FileServer {
  url: string;
  mode: ServerMode;
  stats: ServerStats;
  /** Adds (or replaces) a file at `path` (no leading slash). */
  put(path: string, bytes: Uint8Array): void;
  /** Serves every file of `folder` under `prefix/`. */
  mount(prefix: string, folder: string): void;
  reset(): void;
  close(): Promise<void>;
}

/** Deterministic pseudo-random bytes (xorshift32): incompressible, the same on every run. */
export function generatedBytes(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  const words = new Uint32Array(out.buffer, 0, Math.floor(size / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return out;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const STEP = 64 * 1024;

/** Starts the server on 127.0.0.1 at a free port. */
export async function startFileServer(): Promise<FileServer> {
  const files = new Map<string, Uint8Array>();
  const mode: ServerMode = { range: true, bytesPerSecond: 0, corrupt: false, truncate: 0, stallMs: 300 };
  const stats: ServerStats = { bytes: 0, requests: [] };
  const server: Server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
    const range = request.headers.range;
    stats.requests.push(`${request.method} /${path}${range ? ` ${range}` : ''}`);
    // The tests' pages come from another port: a cross-origin fetch, Range included.
    response.setHeader('access-control-allow-origin', '*');
    response.setHeader('access-control-allow-headers', 'range');
    response.setHeader('access-control-expose-headers', 'content-length, content-range, accept-ranges');
    if (request.method === 'OPTIONS') return void response.writeHead(204).end();
    const file = files.get(path);
    if (!file) return void response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    let start = 0;
    const match = mode.range ? /^bytes=(\d+)-$/.exec(range ?? '') : null;
    if (match) {
      start = Number(match[1]);
      if (start >= file.byteLength) return void response.writeHead(416, { 'content-range': `bytes */${file.byteLength}` }).end();
    }
    let body = file.subarray(start, Math.max(start, file.byteLength - mode.truncate));
    if (mode.corrupt) {
      body = body.slice();
      const at = Math.floor(body.byteLength / 2);
      body[at] = (body[at] ?? 0) ^ 0xff;
    }
    response.writeHead(match ? 206 : 200, {
      'content-type': 'application/octet-stream',
      'content-length': String(body.byteLength),
      ...(mode.range ? { 'accept-ranges': 'bytes' } : {}),
      ...(match ? { 'content-range': `bytes ${start}-${start + body.byteLength - 1}/${file.byteLength}` } : {}),
    });
    if (request.method === 'HEAD') return void response.end();
    void send(body, response);
  });

  async function send(body: Uint8Array, response: import('node:http').ServerResponse): Promise<void> {
    const started = performance.now();
    for (let at = 0; at < body.byteLength; at += STEP) {
      let piece = body.subarray(at, at + STEP);
      const cut = mode.dropAfter ?? mode.stallAfter;
      if (cut !== undefined && at + piece.byteLength >= cut) {
        const drop = mode.dropAfter !== undefined;
        piece = piece.subarray(0, Math.max(0, cut - at));
        mode.dropAfter = undefined;
        mode.stallAfter = undefined;
        stats.bytes += piece.byteLength;
        // Counted bytes are bytes the client got: the socket goes only once they are out.
        response.write(piece, () => {
          if (drop) setTimeout(() => response.destroy(), mode.stallMs);
        });
        return;
      }
      stats.bytes += piece.byteLength;
      if (!response.write(piece)) await new Promise((resolve) => response.once('drain', resolve));
      if (response.destroyed) return;
      if (mode.bytesPerSecond > 0) {
        const due = started + ((at + piece.byteLength) / mode.bytesPerSecond) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
    response.end();
  }

  // Neither the server nor its keep-alive sockets hold the test process open (the browser
  // project has no hook to close it).
  server.on('connection', (socket) => socket.unref());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    mode,
    stats,
    put: (path, bytes) => void files.set(path, bytes),
    mount(prefix, folder) {
      const walk = (dir: string): string[] =>
        readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? walk(join(dir, name)) : [join(dir, name)]));
      for (const file of walk(folder)) files.set(`${prefix}/${relative(folder, file)}`, new Uint8Array(readFileSync(file)));
    },
    reset() {
      stats.bytes = 0;
      stats.requests = [];
      Object.assign(mode, { range: true, bytesPerSecond: 0, corrupt: false, truncate: 0, stallMs: 300, dropAfter: undefined, stallAfter: undefined });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
