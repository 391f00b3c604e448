/**
 * Browser commands that run the vLLM stand-in (`stand-in.ts`) on the test server's side, so that
 * the guard's worker in Chromium drives a real HTTP server, across origins as a page would.
 */
import type { BrowserCommand } from 'vitest/node';
import type { Fault, StandIn } from './stand-in.js';

const running = new Map<string, StandIn>();

/** Starts a stand-in of `model` that lets pages of any origin call it (vLLM's `--allowed-origins`); returns its `/v1` URL. */
export const standInStart: BrowserCommand<[model: string, apiKey?: string]> = async (_context, model, apiKey) => {
  const { startStandIn } = await import('./stand-in.js');
  const standIn = await startStandIn({ model, allowedOrigins: '*', ...(apiKey === undefined ? {} : { apiKey }) });
  running.set(standIn.url, standIn);
  return standIn.url;
};

/** Plays `fault` on the next completion of the stand-in at `url`. */
export const standInInject: BrowserCommand<[url: string, fault: Fault]> = (_context, url, fault) => {
  standIn(url).inject(fault);
};

/** The method and path of every request the stand-in at `url` received, and the bodies' `prompt` types. */
export const standInRequests: BrowserCommand<[url: string]> = (_context, url) =>
  standIn(url).requests.map((r) => ({ method: r.method, path: r.path, promptIsIds: Array.isArray(r.body?.['prompt']) }));

/** Stops the stand-in at `url`. */
export const standInStop: BrowserCommand<[url: string]> = async (_context, url) => {
  await standIn(url).close();
  running.delete(url);
};

function standIn(url: string): StandIn {
  const found = running.get(url);
  if (found === undefined) throw new Error(`no stand-in runs at ${url}`);
  return found;
}

declare module 'vitest/browser' {
  interface BrowserCommands {
    standInStart: (model: string, apiKey?: string) => Promise<string>;
    standInInject: (url: string, fault: Fault) => Promise<void>;
    standInRequests: (url: string) => Promise<{ method: string; path: string; promptIsIds: boolean }[]>;
    standInStop: (url: string) => Promise<void>;
  }
}
