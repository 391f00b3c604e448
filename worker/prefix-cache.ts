/**
 * The KV cache of a family's fixed instruction, computed once per loaded model and fed as the
 * past of every call that starts with it. onnxruntime only reads its inputs, so the same
 * tensors serve every call as they are, whatever their element type (float32, or float16 in
 * q4f16 exports) and wherever they live: on WebGPU they stay in the GPU buffers the prefill
 * wrote, and no call uploads the instruction again. Each call's decoder grows its own copy of
 * the state (new `present` tensors); these are never disposed but by {@link PrefixCache.dispose}.
 */
import { Tensor } from '@huggingface/transformers';
import type { Decoder, KvState } from './decoder.js';

/** Where the cached keys and values are kept between calls. */
export type PrefixPlacement = 'device' | 'cpu';

/** The instruction's ids and their attention keys and values. */
export class PrefixCache {
  private constructor(
    private readonly ids: readonly number[],
    private readonly state: KvState,
    private readonly decoder: Decoder,
  ) {}

  /** Tokens the cache covers. */
  get length(): number {
    return this.ids.length;
  }

  /**
   * Keeps `state` (the result of prefilling `ids`) for later calls. `cpu` copies GPU tensors
   * to the CPU first, so that every call uploads them again: only to measure what keeping
   * them on the device saves.
   */
  static async keep(ids: readonly number[], state: KvState, decoder: Decoder, placement: PrefixPlacement = 'device'): Promise<PrefixCache> {
    let tensors = state.tensors;
    if (placement === 'cpu') {
      const copies: Record<string, Tensor> = {};
      for (const [name, tensor] of Object.entries(state.tensors)) {
        const data = tensor.location === 'gpu-buffer' ? ((await tensor.ort_tensor.getData()) as Tensor['data']) : tensor.data;
        copies[name] = new Tensor(tensor.type, data, [...tensor.dims]);
      }
      await decoder.release(state);
      tensors = copies;
    }
    return new PrefixCache([...ids], { tensors, length: state.length, borrowed: true }, decoder);
  }

  /** The cached state, borrowed, for an input that starts with the cached ids and goes on; else undefined. */
  stateFor(ids: readonly number[]): KvState | undefined {
    if (ids.length <= this.ids.length || this.ids.some((id, i) => ids[i] !== id)) return undefined;
    return this.state;
  }

  /** Frees the cached tensors (GPU buffers on WebGPU). */
  async dispose(): Promise<void> {
    await this.decoder.release({ ...this.state, borrowed: false });
  }
}
