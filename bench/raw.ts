/** transformers.js alone, without lingoguard: the baseline P1 compares against. */
import { Tensor, type PreTrainedModel } from '@huggingface/transformers';

/** Greedy `generate()` of up to `maxNewTokens` after `ids`, as a plain transformers.js app would call it. */
export function rawGenerate(model: PreTrainedModel, ids: readonly number[], maxNewTokens: number): Promise<unknown> {
  return model.generate({
    inputs: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
    attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
    max_new_tokens: maxNewTokens,
    do_sample: false,
  });
}
