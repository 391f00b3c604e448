/**
 * The page of test/delivery/shared-worker.test.ts: each tab opens guards through the public
 * browser API and answers the test through `window.sharedTest`.
 */
import { createGuard, type BrowserGuardOptions } from '../../../src/browser.js';
import type { Guard } from '../../../src/guard.js';
import type { GuardInfo } from '../../../src/types.js';

const guards = new Map<string, Guard>();

const api = {
  async open(key: string, options: BrowserGuardOptions): Promise<GuardInfo> {
    const guard = await createGuard(options);
    guards.set(key, guard);
    return guard.info;
  },
  async classify(key: string, text: string): Promise<string> {
    return (await guards.get(key)!.classify(text, { mode: 'fast' })).label;
  },
  async dispose(key: string): Promise<void> {
    await guards.get(key)?.dispose();
    guards.delete(key);
  },
};

(window as unknown as { sharedTest: typeof api }).sharedTest = api;
document.title = 'ready';
