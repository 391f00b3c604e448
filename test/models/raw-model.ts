/**
 * A test model run through raw transformers.js, with none of lingoguard's runtime: the checks
 * that a model's files compute what its design says go through these, so that they never agree
 * with our decoder by construction.
 */
import { Tensor, type PreTrainedModel } from '@huggingface/transformers';

/** `ids` as one sequence of model inputs, every position attended. */
function inputsOf(ids: readonly number[]): { input_ids: Tensor; attention_mask: Tensor } {
  return {
    input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
    attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
  };
}

/**
 * One forward pass over `ids`: the logits tensor's dims and element type as the graph gives
 * them, and the last position's logits as float32.
 */
export async function lastLogits(model: PreTrainedModel, ids: readonly number[]): Promise<{ dims: number[]; type: string; last: Float32Array }> {
  const { logits } = (await model(inputsOf(ids))) as { logits: Tensor };
  const vocab = logits.dims.at(-1)!;
  const data = (logits.type === 'float16' ? logits.to('float32') : logits).data as Float32Array;
  return { dims: logits.dims, type: logits.type, last: data.slice((ids.length - 1) * vocab) };
}

/** The tokens greedy `generate()` writes after `ids`, at most `maxNewTokens` (an end token included). */
export async function greedyTokens(model: PreTrainedModel, ids: readonly number[], maxNewTokens: number): Promise<number[]> {
  const output = (await model.generate({ ...inputsOf(ids), max_new_tokens: maxNewTokens, do_sample: false })) as Tensor;
  return Array.from(output.data as BigInt64Array, Number).slice(ids.length);
}

/** The largest absolute difference between two arrays of one length. */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}
