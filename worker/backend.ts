/**
 * Choice of device and dtype, made before anything loads: a wrong guess here cannot be undone
 * later, because after a failed WebGPU session every later session in the same worker fails
 * too (measured on SwiftShader: after a failed q4f16 session even wasm failed in that worker).
 * So the adapter's features decide, not a try-and-see.
 */
import { env } from '@huggingface/transformers';
import { BackendUnavailableError } from '../src/errors.js';
import type { Device, DeviceChoice, Dtype } from '../src/types.js';

/** What is known about the GPU, read once from `navigator.gpu`. */
export interface GpuSupport {
  /** Whether an adapter was granted at all. */
  adapter: boolean;
  /** Whether the adapter has `shader-f16` (fp16 and q4f16 need it). */
  f16: boolean;
  /**
   * Whether the adapter is a software fallback (`isFallbackAdapter`, e.g. SwiftShader): it
   * runs WebGPU on the CPU, tens of times slower than wasm for these models (measured by
   * `npm run bench`), so `auto` does not take it.
   */
  fallbackAdapter: boolean;
  /** The adapter's architecture or vendor as it reports it (e.g. `swiftshader`), for messages. */
  name?: string;
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

/** What is known where there is no WebGPU at all (Node, or a browser without it). */
export const NO_GPU: GpuSupport = Object.freeze({ adapter: false, f16: false, fallbackAdapter: false });

/** Reads the WebGPU adapter's support; {@link NO_GPU} where there is no WebGPU. */
export async function probeGpu(): Promise<GpuSupport> {
  const none = NO_GPU;
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return none;
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return none;
    // `info.isFallbackAdapter` is the current spec; older browsers put it on the adapter.
    const info = adapter.info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined;
    const legacy = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter;
    const name = info?.architecture || info?.vendor || undefined;
    return {
      adapter: true,
      f16: adapter.features.has('shader-f16'),
      fallbackAdapter: info?.isFallbackAdapter ?? legacy ?? false,
      ...(name ? { name } : {}),
    };
  } catch {
    return none;
  }
}

/**
 * Picks device and dtype from what was asked, what the model ships and what the GPU supports.
 * `auto` takes a hardware WebGPU adapter, and wasm when there is none or only a software
 * fallback one; an explicit `webgpu` takes any adapter, and is an error without one.
 * An f16 dtype on a GPU without `shader-f16` falls back to the next dtype the model ships; on
 * the CPU (wasm, Node) it runs when asked for by name, and is never the default.
 */
export function chooseBackend(options: {
  requested: DeviceChoice;
  dtype?: Dtype;
  available: readonly Dtype[];
  gpu: GpuSupport;
  isNode: boolean;
}): BackendChoice {
  const { requested, available, gpu, isNode } = options;
  const fallbacks: string[] = [];
  let device: Device;
  if (isNode) {
    device = 'cpu';
    if (requested !== 'auto') fallbacks.push(`${requested} is not available in Node; using onnxruntime-node on the CPU`);
  } else if (requested === 'wasm') {
    device = 'wasm';
  } else if (gpu.adapter && (requested === 'webgpu' || !gpu.fallbackAdapter)) {
    device = 'webgpu';
  } else if (gpu.adapter) {
    device = 'wasm';
    fallbacks.push(
      `the only WebGPU adapter is a software fallback (${gpu.name ?? 'isFallbackAdapter'}), slower than wasm; running on wasm (device: "webgpu" takes it anyway)`,
    );
  } else if (requested === 'webgpu') {
    throw new BackendUnavailableError(
      'WebGPU was requested but no adapter is available (enable WebGPU, or use device: "auto" or "wasm").',
    );
  } else {
    device = 'wasm';
    fallbacks.push('no WebGPU adapter; running on wasm');
  }

  // The CPU kernels (onnxruntime-node's, and onnxruntime-web's plain wasm build, which the
  // worker loads on wasm: see ort-files.ts) run float16 models too, slower than q4: an f16
  // dtype runs there when asked for by name, and is never picked.
  const usable = (dtype: Dtype, asked = false) =>
    available.includes(dtype) && (!F16_DTYPES.has(dtype) || (device === 'webgpu' ? gpu.f16 : asked));
  let dtype = options.dtype;
  if (dtype !== undefined && !usable(dtype, true)) {
    const why = !available.includes(dtype)
      ? `the model has no ${dtype} weights`
      : device === 'webgpu'
        ? `the GPU has no shader-f16 for ${dtype}`
        : `${dtype} needs WebGPU with shader-f16`;
    fallbacks.push(why);
    dtype = undefined;
  }
  const preferred = (candidate: Dtype) => usable(candidate);
  dtype ??= PREFERENCE[device].find(preferred) ?? available.find(preferred);
  if (dtype === undefined) {
    throw new BackendUnavailableError(
      `None of the model's dtypes (${available.join(', ')}) can run on ${device}${device === 'webgpu' ? ' without shader-f16' : ''}.`,
      { details: { device, available: [...available] } },
    );
  }
  return fallbacks.length > 0 ? { device, dtype, fallback: fallbacks.join('; ') } : { device, dtype };
}

/**
 * Turns a lost GPU device into a worker crash. ORT keeps using a lost device and every later
 * run fails, so the worker must not be reused: an uncaught error makes the main thread fail the
 * pending calls with `WorkerCrashedError` and start a fresh worker on the next call. Call once
 * a WebGPU session exists (before, reading ORT's device would create a new one).
 * @param released whether the sessions were released: ORT destroys its device with its last
 *   session, which a shared worker outlives (the next model gets a new device), so that loss
 *   is not a crash.
 */
export function crashOnDeviceLoss(released: () => boolean): void {
  // Typed as a promise; some ORT builds hand the device itself once a session exists.
  const device = Promise.resolve(env.backends.onnx.webgpu?.device as GPUDevice | Promise<GPUDevice> | undefined);
  void device.then(async (gpu) => {
    if (!gpu) return;
    const info = await gpu.lost;
    if (released()) return;
    setTimeout(() => {
      throw new Error(`The GPU device was lost (${info.reason}): ${info.message}`);
    });
  }).catch(() => undefined);
}
