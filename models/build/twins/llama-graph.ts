/**
 * The ONNX graph of a Llama twin, laid out as Optimum exports `LlamaForCausalLM` (as in
 * onnx-community/Llama-Guard-3-1B) and transformers.js' quantize script rewrites it: plain ONNX
 * ops only — RMSNorm as Pow / ReduceMean / Add / Sqrt / Reciprocal / Mul, rotary computed in
 * the graph from `position_ids` and the (Llama 3 scaled) inverse frequencies, keys and values
 * repeated from the KV heads to the query heads inside the graph (Unsqueeze / Expand /
 * Reshape, after the cache is written), the causal and padding mask built from
 * `attention_mask`, eager attention (MatMul, scale, Add mask, Softmax, MatMul), SiLU MLP.
 *
 * Inputs `input_ids`, `attention_mask`, `position_ids` (int64), `past_key_values.{i}.key/value`
 * float32 `[batch, kv_heads, past, head_dim]`; outputs `logits` for every position (no
 * `num_logits_to_keep`) and `present.{i}.key/value` float32 — in every dtype.
 *
 * Dtypes, as the real files are sized (`q4` 1.82 GB, `q4f16` 1.22 GB for the 1B): `q4` turns
 * every MatMul with a constant weight — the untied `lm_head` included — into `MatMulNBits`
 * (block 32, float32 scales) and leaves the embedding `Gather` float32; `q4f16` is that graph
 * in float16 with float32 I/O (`keep_io_types`): Casts after the inputs and before the outputs,
 * float16 embedding, norms, scales and activations. The rotary angles and their cos/sin stay
 * float32 and are cast after (inferred, not read from the real file: float16 positions lose
 * integers above 2048).
 */
import { GraphBuilder } from '../onnx-graph.js';
import { Q4_BLOCK, quantizeQ4 } from '../quantize.js';
import { inverseFrequencies, type TwinWeights } from './design.js';
import { toFloat16 } from './float16.js';
import type { TwinDtype } from './qwen3-graph.js';

/** ONNX `Cast` codes. */
const TO = { float: 1, bool: 9, float16: 10 } as const;

function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c] as number;
  return out;
}

/** Serializes untied-head `weights` as an Optimum-layout Llama ONNX model in `dtype`. */
export function buildLlamaTwinOnnx(weights: TwinWeights, dtype: TwinDtype, docString: string): Uint8Array {
  const { shape, lmHead } = weights;
  if (lmHead === undefined) throw new Error('the Llama twin graph has an untied lm_head');
  const { hidden: d, headDim: hd, heads, kvHeads, vocabSize: vocab, intermediate: inter } = shape;
  const group = heads / kvHeads;
  const half = dtype === 'q4f16';
  const g = new GraphBuilder();
  const floats = (hint: string, values: Float32Array, dims: readonly number[]): string =>
    g.initializer(hint, dims, half ? toFloat16(values) : values);
  const scalar = (hint: string, value: number): string => floats(hint, Float32Array.of(value), []);
  const toInner = (x: string, name: string): string => (half ? g.node('Cast', [x], { name, attrs: { to: TO.float16 } }) : x);
  const toOuter = (x: string, name: string): string => (half ? g.node('Cast', [x], { name, attrs: { to: TO.float } }) : x);

  const inputIds = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', 'int64', ['batch_size', 'past_sequence_length + 1']);
  const positionIds = g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  const past = weights.layers.map((_, i) => ({
    key: g.input(`past_key_values.${i}.key`, 'float', ['batch_size', kvHeads, 'past_sequence_length', hd]),
    value: g.input(`past_key_values.${i}.value`, 'float', ['batch_size', kvHeads, 'past_sequence_length', hd]),
  }));

  const axis0 = g.ints('/model/constants/axes_0', [0]);
  const axis1 = g.ints('/model/constants/axes_1', [1]);
  const axis2 = g.ints('/model/constants/axes_2', [2]);
  const axis3 = g.ints('/model/constants/axes_3', [3]);
  const axisLast = g.ints('/model/constants/axes_-1', [-1]);
  const axesMask = g.ints('/model/constants/axes_1_2', [1, 2]);
  const zero = g.ints('/model/constants/zero', [0]);
  const one = g.ints('/model/constants/one', [1], []);
  const halfDim = g.ints('/model/constants/half_head_dim', [hd / 2]);
  const fullDim = g.ints('/model/constants/head_dim', [hd]);
  const squeeze = (x: string): string => g.node('Squeeze', [x, axis0]);

  // Lengths as 1-D [1] tensors: s new tokens, t in all (past + s).
  const seqLen = g.node('Shape', [inputIds], { name: '/model/Shape_seq', attrs: { start: 1, end: 2 } });
  const totalLen = g.node('Shape', [attentionMask], { name: '/model/Shape_total', attrs: { start: 1, end: 2 } });

  // Additive mask [b, 1, s, t]: key j is visible to query i when j <= past + i and not padding.
  const lowest = half ? -65504 : -3.4028234663852886e38; // torch.finfo(dtype).min
  const keyIndex = g.node('Range', [squeeze(zero), squeeze(totalLen), one], { name: '/model/mask/key_index' });
  const firstQuery = g.node('Sub', [totalLen, seqLen]);
  const queryIndex = g.node('Unsqueeze', [g.node('Range', [squeeze(firstQuery), squeeze(totalLen), one]), axisLast], { name: '/model/mask/query_index' });
  const causal = g.node('LessOrEqual', [keyIndex, queryIndex], { name: '/model/mask/causal' });
  const notPadding = g.node('Unsqueeze', [g.node('Cast', [attentionMask], { attrs: { to: TO.bool } }), axesMask]);
  const mask = g.node('Where', [g.node('And', [causal, notPadding]), scalar('/model/mask/zero', 0), scalar('/model/mask/min', lowest)], {
    name: '/model/mask/additive',
  });

  // Rotary tables [b, 1, s, hd] from position_ids, in float32.
  const invFreq = g.initializer('/model/rotary_emb/inv_freq', [hd / 2], Float32Array.from(inverseFrequencies(shape)));
  const positions = g.node('Unsqueeze', [g.node('Cast', [positionIds], { attrs: { to: TO.float } }), axisLast]);
  const freqs = g.node('Mul', [positions, invFreq], { name: '/model/rotary_emb/freqs' });
  const angles = g.node('Unsqueeze', [g.node('Concat', [freqs, freqs], { attrs: { axis: -1 } }), axis1]);
  const cos = toInner(g.node('Cos', [angles], { name: '/model/rotary_emb/Cos' }), '/model/rotary_emb/Cos_cast');
  const sin = toInner(g.node('Sin', [angles], { name: '/model/rotary_emb/Sin' }), '/model/rotary_emb/Sin_cast');

  const eps = scalar('/model/constants/rms_norm_eps', shape.rmsNormEps);
  const two = scalar('/model/constants/two', 2);
  const rmsNorm = (x: string, w: Float32Array, name: string): string => {
    const variance = g.node('ReduceMean', [g.node('Pow', [x, two], { name: `${name}/Pow` })], { name: `${name}/ReduceMean`, attrs: { axes: [-1], keepdims: 1 } });
    const inverse = g.node('Reciprocal', [g.node('Sqrt', [g.node('Add', [variance, eps])])], { name: `${name}/Reciprocal` });
    return g.node('Mul', [floats(`${name.slice(1).split('/').join('.')}.weight`, w, [w.length]), g.node('Mul', [x, inverse])], { name: `${name}/Mul_1` });
  };
  const linear = (x: string, w: Float32Array, out: number, inp: number, name: string): string => {
    const weightName = `${name.slice(1).split('/').join('.')}.weight`;
    if (dtype === 'fp32') return g.node('MatMul', [x, g.initializer(weightName, [inp, out], transpose(w, out, inp))], { name: `${name}/MatMul` });
    const q = quantizeQ4(w, out, inp);
    const packed = g.initializer(`${weightName}_Q4`, [out, inp / Q4_BLOCK, Q4_BLOCK / 2], q.packed);
    const scales = floats(`${weightName}_scales`, q.scales, [out * (inp / Q4_BLOCK)]);
    return g.node('MatMulNBits', [x, packed, scales], {
      name: `${name}/MatMul_Q4`,
      domain: 'com.microsoft',
      attrs: { K: inp, N: out, bits: 4, block_size: Q4_BLOCK },
    });
  };
  const rotateHalf = (x: string): string =>
    g.node('Concat', [g.node('Neg', [g.node('Slice', [x, halfDim, fullDim, axis3])]), g.node('Slice', [x, zero, halfDim, axis3])], { attrs: { axis: -1 } });
  const rope = (x: string): string => g.node('Add', [g.node('Mul', [x, cos]), g.node('Mul', [rotateHalf(x), sin])]);
  const toHeads = (x: string, n: number): string =>
    g.node('Transpose', [g.node('Reshape', [x, g.ints(`/model/constants/heads_${n}`, [0, 0, n, hd])])], { attrs: { perm: [0, 2, 1, 3] } });
  /** repeat_kv: [b, kv, t, hd] to [b, heads, t, hd], each KV head serving `group` query heads in a row. */
  const repeatKv = (x: string, name: string): string => {
    const dims = g.node('Shape', [x]);
    const first = g.node('Slice', [dims, zero, g.ints(`${name}/two`, [2]), axis0]);
    const batch = g.node('Slice', [dims, zero, g.ints(`${name}/one`, [1]), axis0]);
    const rest = g.node('Slice', [dims, g.ints(`${name}/from`, [2]), g.ints(`${name}/to`, [4]), axis0]);
    const expanded = g.node('Expand', [g.node('Unsqueeze', [x, axis2]), g.node('Concat', [first, g.ints(`${name}/group`, [group]), rest], { attrs: { axis: 0 } })], {
      name: `${name}/Expand`,
    });
    return g.node('Reshape', [expanded, g.node('Concat', [batch, g.ints(`${name}/heads`, [heads]), rest], { attrs: { axis: 0 } })], { name: `${name}/Reshape` });
  };
  const attnScale = scalar('/model/constants/attn_scale', 1 / Math.sqrt(hd));

  // Embedding: a float table read by Gather in every dtype (float16 in q4f16).
  let hidden = g.node('Gather', [floats('model.embed_tokens.weight', weights.embed, [vocab, d]), inputIds], { name: '/model/embed_tokens/Gather' });
  weights.layers.forEach((layer, i) => {
    const p = `/model/layers.${i}`;
    const normed = rmsNorm(hidden, layer.inputNorm, `${p}/input_layernorm`);
    const query = rope(toHeads(linear(normed, layer.q, heads * hd, d, `${p}/self_attn/q_proj`), heads));
    const key = rope(toHeads(linear(normed, layer.k, kvHeads * hd, d, `${p}/self_attn/k_proj`), kvHeads));
    const value = toHeads(linear(normed, layer.v, kvHeads * hd, d, `${p}/self_attn/v_proj`), kvHeads);
    const presentKey = g.node('Concat', [toInner(past[i]?.key as string, `${p}/past_key_cast`), key], { name: `${p}/self_attn/present_key`, attrs: { axis: 2 } });
    const presentValue = g.node('Concat', [toInner(past[i]?.value as string, `${p}/past_value_cast`), value], { name: `${p}/self_attn/present_value`, attrs: { axis: 2 } });
    g.output(toOuter(presentKey, `${p}/present_key_cast`), `present.${i}.key`, 'float', ['batch_size', kvHeads, 'past_sequence_length + 1', hd]);
    g.output(toOuter(presentValue, `${p}/present_value_cast`), `present.${i}.value`, 'float', ['batch_size', kvHeads, 'past_sequence_length + 1', hd]);
    const keys = repeatKv(presentKey, `${p}/self_attn/repeat_kv_key`);
    const values = repeatKv(presentValue, `${p}/self_attn/repeat_kv_value`);
    const scores = g.node('Add', [
      g.node('Mul', [g.node('MatMul', [query, g.node('Transpose', [keys], { attrs: { perm: [0, 1, 3, 2] } })]), attnScale], { name: `${p}/self_attn/scores` }),
      mask,
    ]);
    const context = g.node('MatMul', [g.node('Softmax', [scores], { name: `${p}/self_attn/Softmax`, attrs: { axis: -1 } }), values]);
    const merged = g.node('Reshape', [g.node('Transpose', [context], { attrs: { perm: [0, 2, 1, 3] } }), g.ints(`${p}/self_attn/merge`, [0, 0, heads * hd])]);
    const attended = g.node('Add', [hidden, linear(merged, layer.o, d, heads * hd, `${p}/self_attn/o_proj`)], { name: `${p}/Add` });
    const post = rmsNorm(attended, layer.postNorm, `${p}/post_attention_layernorm`);
    const gate = linear(post, layer.gate, inter, d, `${p}/mlp/gate_proj`);
    const up = linear(post, layer.up, inter, d, `${p}/mlp/up_proj`);
    const act = g.node('Mul', [g.node('Mul', [gate, g.node('Sigmoid', [gate])], { name: `${p}/mlp/act_fn/Mul` }), up]);
    hidden = g.node('Add', [attended, linear(act, layer.down, d, inter, `${p}/mlp/down_proj`)], { name: `${p}/Add_1` });
  });
  const finalNormed = rmsNorm(hidden, weights.finalNorm, '/model/norm');
  const logits = toOuter(linear(finalNormed, lmHead, vocab, d, '/lm_head'), '/lm_head/cast');
  g.output(logits, 'logits', 'float', ['batch_size', 'sequence_length', vocab]);

  return g.serialize({
    graphName: 'main_graph',
    producer: 'lingoguard-twin-builder',
    docString,
    opsets: { '': 17, 'com.microsoft': 1 },
  });
}

