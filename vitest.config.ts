import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { NET_LOG_FILE, networkLog, startNetworkLog } from './test/browser-commands.js';
import { twinDesign } from './test/twins/commands.js';
import { deliveryBrokenModel, deliveryMemory, deliveryMode, deliveryReset, deliveryStart, deliveryStats } from './test/delivery/commands.js';
import { standInInject, standInRequests, standInStart, standInStop } from './test/remote/commands.js';

/** Debian's Chromium: Playwright cannot download its own browser here (see README). */
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.browser.test.ts', 'node_modules/**'],
          environment: 'node',
          // Two files at a time on two cores (Vitest's default leaves one core idle): most of a
          // file's time is single-threaded JavaScript (imports, tokenizers, child processes).
          maxWorkers: 2,
          testTimeout: 60_000,
          // A `beforeAll` may (re)build a test model when its sources changed: seconds, more on a loaded machine.
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/**/*.browser.test.ts'],
          testTimeout: 120_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            commands: { startNetworkLog, networkLog, deliveryStart, deliveryMode, deliveryStats, deliveryReset, deliveryMemory, deliveryBrokenModel, twinDesign, standInStart, standInInject, standInRequests, standInStop },
            provider: playwright({
              launchOptions: {
                executablePath: chromium,
                args: [
                  '--enable-unsafe-webgpu',
                  '--no-sandbox',
                  '--no-first-run',
                  '--disable-background-networking',
                  '--disable-component-update',
                  '--disable-sync',
                  '--disable-quic',
                  `--log-net-log=${NET_LOG_FILE}`,
                ],
              },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
