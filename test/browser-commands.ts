/**
 * Commands the browser tests run on the Node side, with Playwright's view of the page: every
 * request the page and its workers make, as the network sees it (not as the page reports it).
 */
import type { BrowserCommand } from 'vitest/node';

const logs = new Map<string, string[]>();

/** Starts recording every request of the test's browser context (pages and their workers). */
export const startNetworkLog: BrowserCommand<[]> = (context) => {
  const log: string[] = [];
  logs.set(context.sessionId, log);
  const playwright = context as unknown as { context: { on(event: 'request', f: (r: { url(): string }) => void): void } };
  playwright.context.on('request', (request) => log.push(request.url()));
};

/** The URLs requested since `startNetworkLog`. */
export const networkLog: BrowserCommand<[]> = (context) => [...(logs.get(context.sessionId) ?? [])];

declare module 'vitest/browser' {
  interface BrowserCommands {
    startNetworkLog: () => Promise<void>;
    networkLog: () => Promise<string[]>;
  }
}
