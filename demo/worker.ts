/**
 * The demo's guard worker: lingoguard's own worker, plus a report of every request it makes
 * (model files, onnxruntime's wasm) for the privacy panel, which cannot see a worker's
 * Resource Timing from the page. An app that wants the same passes
 * `createWorker: () => new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' })`.
 */
import 'lingoguard/worker';
import { observeRequests, type RequestReport } from './request-log.js';

observeRequests('worker', (records) => {
  const report: RequestReport = { type: 'lingoguard-demo:requests', records };
  self.postMessage(report);
});
