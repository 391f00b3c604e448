/**
 * Commands the browser tests run on the Node side, with the network's view of the page: every
 * request the page and its workers (shared ones too) make, as Chromium's net log has it (not as
 * the page reports it).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserCommand } from 'vitest/node';
import { NetLog } from './net-log.js';

/** The test browser's net log (vitest.config.ts passes `--log-net-log`). */
export const NET_LOG_FILE = join(tmpdir(), `lingoguard-net-log-${process.pid}.json`);

const log = new NetLog(NET_LOG_FILE);
/** Where each session's log starts. */
const starts = new Map<string, number>();

/** Starts recording every request of the test browser (pages, dedicated and shared workers). */
export const startNetworkLog: BrowserCommand<[]> = async (context) => {
  await log.flush(context.page);
  starts.set(context.sessionId, log.size());
};

/** The URLs requested since `startNetworkLog`, in order (a URL requested twice is listed twice). */
export const networkLog: BrowserCommand<[]> = async (context) => {
  const start = starts.get(context.sessionId);
  if (start === undefined) throw new Error('networkLog before startNetworkLog');
  await log.flush(context.page);
  return log.requestsSince(start);
};

declare module 'vitest/browser' {
  interface BrowserCommands {
    startNetworkLog: () => Promise<void>;
    networkLog: () => Promise<string[]>;
  }
}
