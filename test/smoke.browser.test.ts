import { expect, test } from 'vitest';

test('headless Chromium exposes a WebGPU adapter', async () => {
  const adapter = await navigator.gpu.requestAdapter();
  expect(adapter).not.toBeNull();
  expect(adapter!.features.has('shader-f16')).toBe(false);
});
