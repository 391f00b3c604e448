/**
 * The guard worker (browser, dedicated). It exposes the runtime and nothing else; the main
 * thread loads the model by an explicit `load()` call (calls made before a top-level await
 * reaches `expose()` can deadlock). `shared-entry.ts` is its SharedWorker twin.
 */
import { browserRuntime } from './browser-runtime.js';
import { exposeRuntime } from './expose.js';
import { serveLifeline } from './lifeline.js';

serveLifeline();
exposeRuntime(browserRuntime());
