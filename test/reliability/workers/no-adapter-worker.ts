/**
 * The real guard worker on a machine whose WebGPU grants no adapter. The stub is imported
 * first: imports run in order, so it is in place before the worker's own code runs.
 */
import './no-gpu.js';
import '../../../worker/entry.js';
