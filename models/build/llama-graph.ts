/**
 * The ONNX graph of a Llama decoder, in the shape transformers.js 4.x runs as
 * `model_type: "llama"`: inputs `input_ids`, `attention_mask`, `position_ids`,
 * `past_key_values.{i}.key/value` and `num_logits_to_keep`; outputs `logits` and
 * `present.{i}.key/value`. Only standard ONNX ops (opset 17) plus `MatMulNBits` for q4, all of
 * which onnxruntime runs on CPU, wasm and WebGPU.
 *
 * The last layer computes queries, MLP and logits only for the kept positions
 * (`num_logits_to_keep`, 0 = all): the outputs equal a full forward's, and prefill on
 * SwiftShader WebGPU gets several times faster. Earlier layers compute every position, as
 * the next layer's keys and values need them.
 */
import { GraphBuilder } from './onnx-graph.js';
import { headDim, type ModelWeights } from './design.js';
import { Q4_BLOCK, quantizeQ4 } from './quantize.js';

/** The weight formats a fixture ships. */
export const DTYPES = ['fp32', 'q4'] as const;

/** One of {@link DTYPES}. */
export type Dtype = (typeof DTYPES)[number];

/** Transposes `[rows, cols]` to `[cols, rows]`. */
function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c] as number;
  return out;
}

/** Serializes `weights` as an ONNX model in `dtype`. */
export function buildLlamaOnnx(weights: ModelWeights, dtype: Dtype, docString: string): Uint8Array {
  const { shape } = weights;
  const d = shape.hidden;
  const hd = headDim(shape);
  const heads = shape.heads;
  const g = new GraphBuilder();

  const inputIds = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const positionIds = g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  const past = Array.from({ length: shape.layers }, (_, i) => ({
    key: g.input(`past_key_values.${i}.key`, 'float', ['batch_size', heads, 'past_sequence_length', hd]),
    value: g.input(`past_key_values.${i}.value`, 'float', ['batch_size', heads, 'past_sequence_length', hd]),
  }));
  const numLogitsToKeep = g.input('num_logits_to_keep', 'int64', []);

  // Constants.
  const axis0 = g.ints('axis0', [0]);
  const axis1 = g.ints('axis1', [1]);
  const axis2 = g.ints('axis2', [2]);
  const axis3 = g.ints('axis3', [3]);
  const axesMask = g.ints('axes_1_2', [1, 2]);
  const axisLast = g.ints('axis_last', [-1]);
  const zeroI = g.ints('zero_i', [0]);
  const oneI = g.ints('one_i', [1], []);
  const halfI = g.ints('half_i', [hd / 2]);
  const fullI = g.ints('full_i', [hd]);
  const zeroF = g.floats('zero_f', [0], []);
  const negF = g.floats('neg_f', [-1e9], []);
  const epsF = g.floats('eps', [shape.rmsNormEps], []);
  const scaleF = g.floats('attn_scale', [1 / Math.sqrt(hd)], []);
  const splitHeads = g.ints('split_heads', [0, 0, heads, hd]);
  const mergeHeads = g.ints('merge_heads', [0, 0, d]);
  const invFreq = g.floats(
    'inv_freq',
    Array.from({ length: hd / 2 }, (_, i) => 1 / shape.ropeTheta ** ((2 * i) / hd)),
  );

  // Lengths: s (new tokens), t (total), keep (kept positions) as 1-D [1] tensors.
  const seqLen = g.node('Shape', [inputIds], { name: 'seq_len', attrs: { start: 1, end: 2 } });
  const totalLen = g.node('Shape', [attentionMask], { name: 'total_len', attrs: { start: 1, end: 2 } });
  const nltk = g.node('Unsqueeze', [numLogitsToKeep, axis0], { name: 'nltk' });
  const keep = g.node(
    'Where',
    [g.node('Equal', [nltk, zeroI]), seqLen, g.node('Min', [nltk, seqLen])],
    { name: 'keep' },
  );
  const keepStart = g.node('Sub', [seqLen, keep], { name: 'keep_start' });
  const scalar = (x: string): string => g.node('Squeeze', [x, axis0]);

  // Attention masks: [b, 1, q, t] additive, for all positions and for the kept ones.
  const padOk = g.node('Unsqueeze', [g.node('Cast', [attentionMask], { attrs: { to: 9 } }), axesMask], { name: 'pad_ok' });
  const keyIndex = g.node('Range', [scalar(zeroI), scalar(totalLen), oneI], { name: 'key_index' });
  const mask = (queries: string, name: string): string => {
    const first = g.node('Sub', [totalLen, queries]);
    const queryIndex = g.node('Unsqueeze', [g.node('Range', [scalar(first), scalar(totalLen), oneI]), axisLast]);
    const causal = g.node('LessOrEqual', [keyIndex, queryIndex]);
    return g.node('Where', [g.node('And', [causal, padOk]), zeroF, negF], { name });
  };
  const maskAll = shape.layers > 1 ? mask(seqLen, 'mask_all') : '';
  const maskKept = mask(keep, 'mask_kept');

  // Rotary tables [b, 1, s, hd] for all positions, and sliced to the kept ones.
  const positions = g.node('Unsqueeze', [g.node('Cast', [positionIds], { attrs: { to: 1 } }), axisLast]);
  const freqs = g.node('Mul', [positions, invFreq]);
  const angles = g.node('Unsqueeze', [g.node('Concat', [freqs, freqs], { attrs: { axis: -1 } }), axis1]);
  const cosAll = g.node('Cos', [angles], { name: 'cos' });
  const sinAll = g.node('Sin', [angles], { name: 'sin' });
  const keptRows = (x: string, axis: string): string => g.node('Slice', [x, keepStart, seqLen, axis]);
  const cosKept = keptRows(cosAll, axis2);
  const sinKept = keptRows(sinAll, axis2);

  const rmsNorm = (x: string, weight: Float32Array, name: string): string => {
    const meanSquare = g.node('ReduceMean', [g.node('Mul', [x, x])], { attrs: { axes: [-1], keepdims: 1 } });
    const normed = g.node('Div', [x, g.node('Sqrt', [g.node('Add', [meanSquare, epsF])])]);
    return g.node('Mul', [normed, g.floats(`${name}.weight`, [...weight])], { name });
  };
  const linear = (x: string, w: Float32Array, out: number, inp: number, name: string): string => {
    if (dtype === 'fp32') return g.node('MatMul', [x, g.initializer(`${name}.weight`, [inp, out], transpose(w, out, inp))], { name });
    const q = quantizeQ4(w, out, inp);
    const packed = g.initializer(`${name}.weight_q4`, [out, inp / Q4_BLOCK, Q4_BLOCK / 2], q.packed);
    const scales = g.initializer(`${name}.weight_scales`, [out * (inp / Q4_BLOCK)], q.scales);
    return g.node('MatMulNBits', [x, packed, scales], {
      name,
      domain: 'com.microsoft',
      attrs: { K: inp, N: out, bits: 4, block_size: Q4_BLOCK },
    });
  };
  const rope = (x: string, cos: string, sin: string): string => {
    const first = g.node('Slice', [x, zeroI, halfI, axis3]);
    const second = g.node('Slice', [x, halfI, fullI, axis3]);
    const rotated = g.node('Concat', [g.node('Neg', [second]), first], { attrs: { axis: -1 } });
    return g.node('Add', [g.node('Mul', [x, cos]), g.node('Mul', [rotated, sin])]);
  };
  const toHeads = (x: string): string =>
    g.node('Transpose', [g.node('Reshape', [x, splitHeads])], { attrs: { perm: [0, 2, 1, 3] } });

  let hidden = g.node('Gather', [g.initializer('embed_tokens.weight', [shape.vocabSize, d], weights.embed), inputIds], {
    name: 'embeddings',
  });
  weights.layers.forEach((layer, i) => {
    const p = `layers.${i}`;
    const last = i === weights.layers.length - 1;
    const normed = rmsNorm(hidden, layer.inputNorm, `${p}.input_layernorm`);
    const key = rope(toHeads(linear(normed, layer.k, d, d, `${p}.attn.k_proj`)), cosAll, sinAll);
    const value = toHeads(linear(normed, layer.v, d, d, `${p}.attn.v_proj`));
    const presentKey = g.node('Concat', [past[i]?.key as string, key], { attrs: { axis: 2 } });
    const presentValue = g.node('Concat', [past[i]?.value as string, value], { attrs: { axis: 2 } });
    g.output(presentKey, `present.${i}.key`, 'float', ['batch_size', heads, 'total_sequence_length', hd]);
    g.output(presentValue, `present.${i}.value`, 'float', ['batch_size', heads, 'total_sequence_length', hd]);

    const queryInput = last ? keptRows(normed, axis1) : normed;
    const residual = last ? keptRows(hidden, axis1) : hidden;
    const query = rope(
      toHeads(linear(queryInput, layer.q, d, d, `${p}.attn.q_proj`)),
      last ? cosKept : cosAll,
      last ? sinKept : sinAll,
    );
    const scores = g.node('Add', [
      g.node('MatMul', [
        g.node('Mul', [query, scaleF]),
        g.node('Transpose', [presentKey], { attrs: { perm: [0, 1, 3, 2] } }),
      ]),
      last ? maskKept : maskAll,
    ]);
    const context = g.node('MatMul', [g.node('Softmax', [scores], { attrs: { axis: -1 } }), presentValue]);
    const merged = g.node('Reshape', [g.node('Transpose', [context], { attrs: { perm: [0, 2, 1, 3] } }), mergeHeads]);
    const attended = g.node('Add', [residual, linear(merged, layer.o, d, d, `${p}.attn.o_proj`)]);

    const post = rmsNorm(attended, layer.postNorm, `${p}.post_attention_layernorm`);
    const gate = linear(post, layer.gate, shape.intermediate, d, `${p}.mlp.gate_proj`);
    const up = linear(post, layer.up, shape.intermediate, d, `${p}.mlp.up_proj`);
    const act = g.node('Mul', [g.node('Mul', [gate, g.node('Sigmoid', [gate])]), up]);
    hidden = g.node('Add', [attended, linear(act, layer.down, d, shape.intermediate, `${p}.mlp.down_proj`)], {
      name: `${p}.out`,
    });
  });

  const finalNormed = rmsNorm(hidden, weights.finalNorm, 'norm');
  const logits = linear(finalNormed, weights.lmHead, shape.vocabSize, d, 'lm_head');
  g.output(logits, 'logits', 'float', ['batch_size', 'logits_sequence_length', shape.vocabSize]);

  return g.serialize({
    graphName: 'lingoguard_fixture',
    producer: 'lingoguard-fixture-builder',
    docString,
    opsets: { '': 17, 'com.microsoft': 1 },
  });
}
