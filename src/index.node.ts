/**
 * lingoguard for Node: the same API as the browser entry, with the runtime in-process on
 * onnxruntime-node. Chosen by the package's `node` export condition.
 */
export * from './index.js';
// These two shadow the browser versions re-exported above.
export { createGuard, classify } from './node.js';
