/**
 * The choice of device and dtype, made before anything loads (see `worker/backend.ts`): every
 * case that does not take what was asked for says why.
 */
import { describe, expect, test } from 'vitest';
import { NO_GPU, chooseBackend, type GpuSupport } from '../../worker/backend.js';
import { isGuardError } from '../../src/errors.js';

const HARDWARE: GpuSupport = { adapter: true, f16: true, fallbackAdapter: false, name: 'ampere' };
const SOFTWARE: GpuSupport = { adapter: true, f16: false, fallbackAdapter: true, name: 'swiftshader' };
const ALL = ['q4f16', 'q4', 'fp32'] as const;
const choose = (requested: 'auto' | 'webgpu' | 'wasm', gpu: GpuSupport, dtype?: 'q4f16' | 'q4' | 'fp32') =>
  chooseBackend({ requested, available: ALL, gpu, isNode: false, ...(dtype ? { dtype } : {}) });

describe('chooseBackend', () => {
  test('auto takes a hardware adapter, with its best dtype', () => {
    expect(choose('auto', HARDWARE)).toEqual({ device: 'webgpu', dtype: 'q4f16' });
  });

  test('auto does not take a software fallback adapter: wasm, and the reason names it', () => {
    const choice = choose('auto', SOFTWARE);
    expect(choice).toMatchObject({ device: 'wasm', dtype: 'q4' });
    expect(choice.fallback).toMatch(/software fallback \(swiftshader\).*running on wasm.*device: "webgpu"/);
  });

  test('an explicit webgpu takes the software adapter, never with f16 where it has no shader-f16', () => {
    expect(choose('webgpu', SOFTWARE)).toEqual({ device: 'webgpu', dtype: 'q4' });
    expect(choose('webgpu', SOFTWARE, 'q4f16')).toMatchObject({ device: 'webgpu', dtype: 'q4', fallback: expect.stringMatching(/shader-f16/) });
  });

  test('no adapter: auto runs wasm and says so; an explicit webgpu is a typed error', () => {
    expect(choose('auto', NO_GPU)).toMatchObject({ device: 'wasm', fallback: 'no WebGPU adapter; running on wasm' });
    let error: unknown;
    try {
      choose('webgpu', NO_GPU);
    } catch (e) {
      error = e;
    }
    expect(isGuardError(error, 'backend-unavailable')).toBe(true);
  });

  test('the CPU (Node, wasm) runs an f16 dtype asked for by name, and never picks one', () => {
    expect(chooseBackend({ requested: 'auto', dtype: 'q4f16', available: ALL, gpu: NO_GPU, isNode: true })).toEqual({ device: 'cpu', dtype: 'q4f16' });
    expect(chooseBackend({ requested: 'auto', available: ALL, gpu: NO_GPU, isNode: true }).dtype).toBe('q4');
    // onnxruntime-web's plain build (the worker's on wasm) has the float16 CPU kernels.
    expect(choose('wasm', HARDWARE, 'q4f16')).toEqual({ device: 'wasm', dtype: 'q4f16' });
    expect(choose('wasm', HARDWARE)).toEqual({ device: 'wasm', dtype: 'q4' });
    expect(choose('auto', SOFTWARE)).toMatchObject({ device: 'wasm', dtype: 'q4' });
  });

  test('Node runs on the CPU whatever was asked, and says so when something else was', () => {
    expect(chooseBackend({ requested: 'auto', available: ALL, gpu: NO_GPU, isNode: true })).toEqual({ device: 'cpu', dtype: 'q4' });
    expect(chooseBackend({ requested: 'webgpu', available: ALL, gpu: NO_GPU, isNode: true }).fallback).toMatch(/not available in Node/);
  });
});
