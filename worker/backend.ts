/**
 * Choice of device and dtype, made before anything loads: a wrong guess here cannot be undone
 * later, because after a failed WebGPU session every later session in the same worker fails
 * too (measured; see platform notes). So the adapter's features decide, not a try-and-see.
 */
import { env } from '@huggingface/transformers';
import { BackendUnavailableError } from '../src/errors.js';
import type { Device, Dtype } from './protocol.js';

/** What is known about the GPU, read once from `navigator.gpu`. */
export interface GpuSupport {
  /** Whether an adapter was granted at all. */
  adapter: boolean;
  /** Whether the adapter has `shader-f16` (fp16 and q4f16 need it). */
  f16: boolean;
}

/** The backend to run, and why it is not the one asked for when it is not. */
export interface BackendChoice {
  device: Device;
  dtype: Dtype;
  fallback?: string;
}

const F16_DTYPES: ReadonlySet<Dtype> = new Set(['fp16', 'q4f16']);

/** Preference when no dtype is asked for: smallest that the device runs well. */
const PREFERENCE: Record<Device, readonly Dtype[]> = {
  webgpu: ['q4f16', 'q4', 'fp16', 'fp32', 'q8'],
  wasm: ['q4', 'q8', 'fp32'],
  cpu: ['q4', 'q8', 'fp32'],
};

/** Reads the WebGPU adapter's support; `{ adapter: false }` where there is no WebGPU. */
export async function probeGpu(): Promise<GpuSupport> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return { adapter: false, f16: false };
  try {
    const adapter = await gpu.requestAdapter();
    return adapter ? { adapter: true, f16: adapter.features.has('shader-f16') } : { adapter: false, f16: false };
  } catch {
    return { adapter: false, f16: false };
  }
}

/**
 * Picks device and dtype from what was asked, what the model ships and what the GPU supports.
 * `auto` falls back to wasm without an adapter; an explicit `webgpu` without one is an error.
 * An f16 dtype on a GPU without `shader-f16` falls back to the next dtype the model ships.
 */
export function chooseBackend(options: {
  requested: 'auto' | 'webgpu' | 'wasm';
  dtype?: Dtype;
  available: readonly Dtype[];
  gpu: GpuSupport;
  isNode: boolean;
}): BackendChoice {
  const { requested, available, gpu, isNode } = options;
  const reasons: string[] = [];
  let device: Device;
  if (isNode) {
    device = 'cpu';
    if (requested !== 'auto') reasons.push(`${requested} is not available in Node; using onnxruntime-node on the CPU`);
  } else if (requested === 'wasm') {
    device = 'wasm';
  } else if (gpu.adapter) {
    device = 'webgpu';
  } else if (requested === 'webgpu') {
    throw new BackendUnavailableError(
      'WebGPU was requested but no adapter is available (enable WebGPU, or use device: "auto" or "wasm").',
    );
  } else {
    device = 'wasm';
    reasons.push('no WebGPU adapter; running on wasm');
  }

  const usable = (dtype: Dtype) =>
    available.includes(dtype) && !(device === 'webgpu' && F16_DTYPES.has(dtype) && !gpu.f16) &&
    !(device !== 'webgpu' && F16_DTYPES.has(dtype));
  let dtype = options.dtype;
  if (dtype !== undefined && !usable(dtype)) {
    const why = !available.includes(dtype)
      ? `the model has no ${dtype} weights`
      : device === 'webgpu'
        ? `the GPU has no shader-f16 for ${dtype}`
        : `${dtype} needs WebGPU with shader-f16`;
    reasons.push(why);
    dtype = undefined;
  }
  dtype ??= PREFERENCE[device].find(usable) ?? available.find(usable);
  if (dtype === undefined) {
    throw new BackendUnavailableError(
      `None of the model's dtypes (${available.join(', ')}) can run on ${device}${device === 'webgpu' ? ' without shader-f16' : ''}.`,
      { details: { device, available: [...available] } },
    );
  }
  return reasons.length > 0 ? { device, dtype, fallback: reasons.join('; ') } : { device, dtype };
}

/**
 * Turns a lost GPU device into a worker crash. ORT keeps using a lost device and every later
 * run fails, so the worker must not be reused: an uncaught error makes the main thread fail the
 * pending calls with `WorkerCrashedError` and start a fresh worker on the next call. Call once
 * a WebGPU session exists (before, reading ORT's device would create a new one).
 */
export function crashOnDeviceLoss(): void {
  // Typed as a promise; some ORT builds hand the device itself once a session exists.
  const device = Promise.resolve(env.backends.onnx.webgpu?.device as GPUDevice | Promise<GPUDevice> | undefined);
  void device.then(async (gpu) => {
    if (!gpu) return;
    const info = await gpu.lost;
    setTimeout(() => {
      throw new Error(`The GPU device was lost (${info.reason}): ${info.message}`);
    });
  }).catch(() => undefined);
}
