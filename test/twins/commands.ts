/**
 * The browser command that hands the twins' designed answers to the browser suite: the
 * builders read files from disk, so they run here, on the test server's side, which first
 * rebuilds any twin older than its design (the page then loads the same files).
 */
import type { BrowserCommand } from 'vitest/node';
import type { TwinDesign } from './feature-table.js';

/** The twins' answers (see `twin-design.ts`), after building any stale twin. */
export const twinDesign: BrowserCommand<[]> = async () => {
  const { TWIN_DESIGN, ensureTwins } = await import('./twin-design.js');
  await ensureTwins();
  return TWIN_DESIGN;
};

declare module 'vitest/browser' {
  interface BrowserCommands {
    twinDesign: () => Promise<TwinDesign>;
  }
}
