/**
 * The KV cache of a family's fixed instruction, computed once per loaded model and handed to
 * every call as a new cache object, because generate() grows the cache object it is given in
 * place. Kept on the CPU, because on WebGPU the cache lives in GPU buffers that cannot be
 * cloned (ORT uploads a CPU input in one step).
 */
import { DynamicCache, Tensor } from '@huggingface/transformers';

interface Entry {
  name: string;
  type: Tensor['type'];
  dims: number[];
  data: Tensor['data'];
}

/** The instruction's ids and their attention keys and values. */
export class PrefixCache {
  private constructor(
    private readonly ids: readonly number[],
    private readonly entries: readonly Entry[],
  ) {}

  /** Tokens the cache covers. */
  get length(): number {
    return this.ids.length;
  }

  /** Copies `cache` (the result of prefilling `ids`) to the CPU, then frees it. */
  static async capture(ids: readonly number[], cache: DynamicCache): Promise<PrefixCache> {
    const entries: Entry[] = [];
    for (const [name, tensor] of Object.entries(cache as Record<string, Tensor>)) {
      const data = tensor.location === 'gpu-buffer'
        ? ((await tensor.ort_tensor.getData()) as Tensor['data'])
        : tensor.data.slice();
      entries.push({ name, type: tensor.type, dims: [...tensor.dims], data });
    }
    await cache.dispose();
    return new PrefixCache([...ids], entries);
  }

  /**
   * A fresh cache for an input that starts with the cached ids (and goes on), else undefined.
   * Fresh tensors around the same CPU arrays: ORT only reads its inputs, and generate() grows a
   * cache by replacing its entries with new tensors, never by writing into the old ones.
   */
  copyFor(ids: readonly number[]): DynamicCache | undefined {
    if (ids.length <= this.ids.length || this.ids.some((id, i) => ids[i] !== id)) return undefined;
    return new DynamicCache(Object.fromEntries(this.entries.map((e) => [e.name, new Tensor(e.type, e.data, e.dims)])));
  }
}
