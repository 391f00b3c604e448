/** Makes this worker see WebGPU without an adapter, as on a machine with WebGPU turned off. */
const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
if (gpu) Object.defineProperty(gpu, 'requestAdapter', { value: () => Promise.resolve(null) });
