import { writeFileSync } from 'node:fs';
import { playwright, type PlaywrightProviderOptions } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import type { BrowserCommand, BrowserProviderOption } from 'vitest/node';
import base from '../vitest.config.js';

/** Where the Chromium results land for `bench/main.ts` to read. */
export const CHROMIUM_RESULTS = new URL('./.chromium-results.json', import.meta.url);

const results: Record<string, unknown> = {};
const benchResult: BrowserCommand<[string, unknown]> = (_context, name, value) => {
  results[name] = value;
  writeFileSync(CHROMIUM_RESULTS, JSON.stringify(results, null, 2));
};

const browser = (base.test?.projects as { test: { browser: { provider: BrowserProviderOption<PlaywrightProviderOptions> } } }[])[1]!.test.browser;
const options = browser.provider.options;

export default defineConfig({
  test: {
    include: ['bench/chromium.bench.ts'],
    testTimeout: 900_000,
    browser: {
      ...browser,
      commands: { benchResult },
      // The test suite's Chromium, plus `gc()` on the page: the bench collects before each sample.
      provider: playwright({
        ...options,
        launchOptions: { ...options.launchOptions, args: [...(options.launchOptions?.args ?? []), '--js-flags=--expose-gc'] },
      }),
    },
  },
});

declare module 'vitest/browser' {
  interface BrowserCommands {
    benchResult: (name: string, value: unknown) => Promise<void>;
  }
}
