/**
 * The KV cache of a family's fixed instruction, computed once per loaded model and fed as the
 * past of every call that starts with it. onnxruntime only reads its inputs, so the same
 * tensors serve every call as they are, whatever their element type (float32, or float16 in
 * q4f16 exports) and wherever they live: on WebGPU they stay in the GPU buffers the prefill
 * wrote (transformers.js asks onnxruntime-web for every `present.*` output as a gpu-buffer
 * tensor, `preferredOutputLocation`, unless the wasm proxy is on, which lingoguard never
 * sets), and no call uploads the instruction again (test/runtime/prefix-gpu.browser.test.ts
 * compares it with a CPU copy that every call uploads). Each call's decoder grows its own copy of
 * the state (new `present` tensors); these are never disposed but by {@link PrefixCache.dispose}.
 */
import { Tensor } from '@huggingface/transformers';
import type { Decoder, KvState } from './decoder.js';

/** Where the cached keys and values are kept between calls. */
export type PrefixPlacement = 'device' | 'cpu';

/** One cached prefix: its ids and the state that prefilling them reached. */
export interface PrefixEntry {
  readonly ids: readonly number[];
  readonly state: KvState;
}

/**
 * The instruction's ids and their attention keys and values; one entry per form the
 * instruction takes (Llama Guard's header names the role it judges, so a prompt and a
 * response check start with different instructions, and each gets its own).
 */
export class PrefixCache {
  private constructor(
    private readonly entries: readonly PrefixEntry[],
    private readonly decoder: Decoder,
  ) {}

  /** Tokens of the longest cached prefix. */
  get length(): number {
    return Math.max(0, ...this.entries.map((entry) => entry.ids.length));
  }

  /**
   * Keeps `state` (the result of prefilling `ids`) for later calls. `cpu` copies GPU tensors
   * to the CPU first, so that every call uploads them again: only to measure what keeping
   * them on the device saves.
   */
  static keep(ids: readonly number[], state: KvState, decoder: Decoder, placement: PrefixPlacement = 'device'): Promise<PrefixCache> {
    return PrefixCache.keepAll([{ ids, state }], decoder, placement);
  }

  /** Keeps several prefilled prefixes (see {@link PrefixCache.keep}); an input uses the longest that it starts with. */
  static async keepAll(entries: readonly PrefixEntry[], decoder: Decoder, placement: PrefixPlacement = 'device'): Promise<PrefixCache> {
    const kept: PrefixEntry[] = [];
    for (const { ids, state } of entries) {
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
      kept.push({ ids: [...ids], state: { tensors, length: state.length, borrowed: true } });
    }
    return new PrefixCache(kept, decoder);
  }

  /**
   * The state of the longest cached prefix that `ids` starts with and goes on after,
   * borrowed; undefined when there is none.
   */
  stateFor(ids: readonly number[]): KvState | undefined {
    let best: PrefixEntry | undefined;
    for (const entry of this.entries) {
      if (ids.length <= entry.ids.length || entry.ids.some((id, i) => ids[i] !== id)) continue;
      if (!best || entry.ids.length > best.ids.length) best = entry;
    }
    return best?.state;
  }

  /** Frees the cached tensors (GPU buffers on WebGPU). */
  async dispose(): Promise<void> {
    for (const entry of this.entries) await this.decoder.release({ ...entry.state, borrowed: false });
  }
}
