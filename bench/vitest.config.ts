import { writeFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import type { BrowserCommand } from 'vitest/node';
import base from '../vitest.config.js';

/** Where the Chromium results land for `bench/main.ts` to read. */
export const CHROMIUM_RESULTS = new URL('./.chromium-results.json', import.meta.url);

const results: Record<string, unknown> = {};
const benchResult: BrowserCommand<[string, unknown]> = (_context, name, value) => {
  results[name] = value;
  writeFileSync(CHROMIUM_RESULTS, JSON.stringify(results, null, 2));
};

const browser = (base.test?.projects as { test: { browser: object } }[])[1]!.test.browser;

export default defineConfig({
  test: {
    include: ['bench/chromium.bench.ts'],
    testTimeout: 600_000,
    browser: { ...browser, commands: { benchResult } },
  },
});

declare module 'vitest/browser' {
  interface BrowserCommands {
    benchResult: (name: string, value: unknown) => Promise<void>;
  }
}
