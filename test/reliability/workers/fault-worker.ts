/**
 * The real guard worker, plus doors a test opens by message (test-only; the shipped worker has
 * none): `poison` makes every later generation in this worker fail with an untyped error, as
 * onnxruntime-web does after a WebGPU failure; `loseDevice` destroys ORT's GPU device.
 */
import { env } from '@huggingface/transformers';
import '../../../worker/entry.js';
import { ModelSession } from '../../../worker/session.js';

self.addEventListener('message', (event: MessageEvent) => {
  const door = event.data as { poison?: boolean; loseDevice?: boolean } | null;
  if (door?.poison === true) {
    // Every way a call runs the model: generation, and the one-pass steps of fast and auto mode.
    const poisoned = () => Promise.reject(new Error('Program Gather requires f16 (simulated poisoned session)'));
    ModelSession.prototype.generate = poisoned;
    ModelSession.prototype.extend = poisoned;
    ModelSession.prototype.readVerdict = poisoned;
  }
  if (door?.loseDevice === true) {
    void Promise.resolve(env.backends.onnx.webgpu?.device as GPUDevice | Promise<GPUDevice> | undefined).then((device) => device?.destroy());
  }
});
