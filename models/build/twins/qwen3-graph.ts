/**
 * The ONNX graph of a Qwen3 twin, laid out as the onnxruntime-genai model builder exports
 * Qwen3 (as in onnx-community/Qwen3-0.6B-ONNX): `SimplifiedLayerNormalization` for the first
 * input norm and q_norm/k_norm, `SkipSimplifiedLayerNormalization` (com.microsoft) between
 * sublayers, `GroupQueryAttention` (com.microsoft) with rotary inside (`do_rotary`, cos/sin
 * caches) fed `seqlens_k` / `total_sequence_length` computed from `attention_mask`, SiLU MLP,
 * `MatMulNBits` (block 32) for every projection in the q4 dtypes.
 *
 * Inputs `input_ids`, `attention_mask`, `position_ids` (declared, unused: GroupQueryAttention
 * derives positions from `seqlens_k`), `past_key_values.{i}.key/value`; outputs `logits` for
 * every position (no `num_logits_to_keep`) and `present.{i}.key/value`.
 *
 * Tied embeddings: one weight serves the embedding and the LM head. In fp32 it is one float
 * tensor (Gather, and MatMul with its transpose); in q4/q4f16 it is one 4-bit tensor read by
 * `GatherBlockQuantized` and `MatMulNBits` (the model builder's tied int4 embeddings), which
 * keeps a 151,936-token vocabulary at ~5 MB.
 */
import { GraphBuilder } from '../onnx-graph.js';
import type { OnnxDtype } from '../onnx-proto.js';
import { Q4_BLOCK, quantizeQ4 } from '../quantize.js';
import type { TwinWeights } from './design.js';
import { toFloat16 } from './float16.js';

/** The dtypes a twin ships, with their file names (transformers.js' convention). */
export const TWIN_DTYPES = { fp32: 'onnx/model.onnx', q4: 'onnx/model_q4.onnx', q4f16: 'onnx/model_q4f16.onnx' } as const;

/** One of {@link TWIN_DTYPES}. */
export type TwinDtype = keyof typeof TWIN_DTYPES;

/** The element type of activations, KV cache and logits in `dtype`. */
export function ioType(dtype: TwinDtype): OnnxDtype {
  return dtype === 'q4f16' ? 'float16' : 'float';
}

function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c] as number;
  return out;
}

/** Serializes `weights` as a Qwen3-layout ONNX model in `dtype`. */
export function buildQwen3Onnx(weights: TwinWeights, dtype: TwinDtype, docString: string): Uint8Array {
  const { shape } = weights;
  const { hidden: d, headDim: hd, heads, kvHeads, vocabSize: vocab, intermediate: inter } = shape;
  const half = dtype === 'q4f16';
  const io = ioType(dtype);
  const g = new GraphBuilder();
  const floats = (hint: string, values: Float32Array, dims: readonly number[]): string =>
    g.initializer(hint, dims, half ? toFloat16(values) : values);

  const inputIds = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  const past = weights.layers.map((_, i) => ({
    key: g.input(`past_key_values.${i}.key`, io, ['batch_size', kvHeads, 'past_sequence_length', hd]),
    value: g.input(`past_key_values.${i}.value`, io, ['batch_size', kvHeads, 'past_sequence_length', hd]),
  }));

  // seqlens_k (total length - 1 per row) and total_sequence_length, as the builder computes them.
  const one = g.ints('/model/constants/INT64/1', [1], []);
  const axis1 = g.ints('/model/constants/INT64/[1]', [1]);
  const maskSum = g.node('ReduceSum', [attentionMask, axis1], { name: '/model/attn_mask_reformat/attn_mask_subgraph/ReduceSum', attrs: { keepdims: 0 } });
  const seqlensK = g.node('Cast', [g.node('Sub', [maskSum, one])], { name: '/model/attn_mask_reformat/attn_mask_subgraph/Sub/Cast', attrs: { to: 6 } });
  const totalLen = g.node('Cast', [g.node('Gather', [g.node('Shape', [attentionMask]), one], { attrs: { axis: 0 } })], {
    name: '/model/attn_mask_reformat/attn_mask_subgraph/Gather/Cast',
    attrs: { to: 6 },
  });

  // Rotary caches [max_positions, head_dim / 2].
  const rows = shape.maxPositions;
  const cos = new Float32Array(rows * (hd / 2));
  const sin = new Float32Array(rows * (hd / 2));
  for (let p = 0; p < rows; p++) {
    for (let i = 0; i < hd / 2; i++) {
      const angle = Math.fround(p * Math.fround(1 / shape.ropeTheta ** ((2 * i) / hd)));
      cos[p * (hd / 2) + i] = Math.cos(angle);
      sin[p * (hd / 2) + i] = Math.sin(angle);
    }
  }
  const cosCache = floats('cos_cache', cos, [rows, hd / 2]);
  const sinCache = floats('sin_cache', sin, [rows, hd / 2]);

  const linear = (x: string, w: Float32Array, out: number, inp: number, name: string): string => {
    if (dtype === 'fp32') return g.node('MatMul', [x, g.initializer(`${name}.weight`, [inp, out], transpose(w, out, inp))], { name: `${name}/MatMul` });
    const q = quantizeQ4(w, out, inp);
    const packed = g.initializer(`${name}.weight_Q4`, [out, inp / Q4_BLOCK, Q4_BLOCK / 2], q.packed);
    const scales = floats(`${name}.weight_scales`, q.scales, [out * (inp / Q4_BLOCK)]);
    return g.node('MatMulNBits', [x, packed, scales], {
      name: `${name}/MatMulNBits`,
      domain: 'com.microsoft',
      attrs: { K: inp, N: out, bits: 4, block_size: Q4_BLOCK },
    });
  };
  const simplifiedNorm = (x: string, w: Float32Array, name: string): string =>
    g.node('SimplifiedLayerNormalization', [x, floats(`${name}.weight`, w, [w.length])], {
      name: `${name}/SimplifiedLayerNormalization`,
      attrs: { axis: -1, epsilon: { float: shape.rmsNormEps }, stash_type: 1 },
    });
  /** Returns [normalized, residual sum]. */
  const skipNorm = (x: string, skip: string, w: Float32Array, name: string): [string, string] => {
    const [normed, , , sum] = g.nodeN('SkipSimplifiedLayerNormalization', [x, skip, floats(`${name}.weight`, w, [w.length])], {
      outputs: 4,
      name: `${name}/SkipLayerNorm`,
      domain: 'com.microsoft',
      attrs: { epsilon: { float: shape.rmsNormEps } },
    });
    return [normed as string, sum as string];
  };

  // Embedding (tied with the LM head).
  let hidden: string;
  let lmHead: (x: string) => string;
  if (dtype === 'fp32') {
    const table = g.initializer('model.embed_tokens.weight', [vocab, d], weights.embed);
    hidden = g.node('Gather', [table, inputIds], { name: '/model/embed_tokens/Gather' });
    lmHead = (x) => g.node('MatMul', [x, g.node('Transpose', [table], { attrs: { perm: [1, 0] } })], { name: '/lm_head/MatMul' });
  } else {
    const q = quantizeQ4(weights.embed, vocab, d);
    const packed = g.initializer('model.embed_tokens.weight_Q4', [vocab, d / Q4_BLOCK, Q4_BLOCK / 2], q.packed);
    const scales = floats('model.embed_tokens.weight_scales', q.scales, [vocab, d / Q4_BLOCK]);
    const flat = g.node('Reshape', [packed, g.ints('/model/constants/embed_shape', [vocab, d / 2])]);
    hidden = g.node('GatherBlockQuantized', [flat, inputIds, scales], {
      name: '/model/embed_tokens/GatherBlockQuantized',
      domain: 'com.microsoft',
      attrs: { gather_axis: 0, quantize_axis: 1, block_size: Q4_BLOCK, bits: 4 },
    });
    const flatScales = g.node('Reshape', [scales, g.ints('/model/constants/scales_shape', [vocab * (d / Q4_BLOCK)])]);
    lmHead = (x) =>
      g.node('MatMulNBits', [x, packed, flatScales], {
        name: '/lm_head/MatMulNBits',
        domain: 'com.microsoft',
        attrs: { K: d, N: vocab, bits: 4, block_size: Q4_BLOCK },
      });
  }

  let residual = hidden;
  let pending: string | undefined; // the last sublayer's output, added by the next SkipSimplifiedLayerNormalization
  weights.layers.forEach((layer, i) => {
    const p = `/model/layers.${i}`;
    let normed: string;
    if (pending === undefined) {
      normed = simplifiedNorm(residual, layer.inputNorm, `${p}/input_layernorm`);
    } else {
      [normed, residual] = skipNorm(residual, pending, layer.inputNorm, `${p}/input_layernorm`);
    }
    const headNorm = (x: string, n: number, w: Float32Array, name: string): string => {
      const split = g.node('Reshape', [x, g.ints(`${name}/shape`, [0, 0, n, hd])]);
      return g.node('Reshape', [simplifiedNorm(split, w, name), g.ints(`${name}/merge`, [0, 0, n * hd])]);
    };
    const q = headNorm(linear(normed, layer.q, heads * hd, d, `${p}/attn/q_proj`), heads, layer.qNorm, `${p}/attn/q_norm`);
    const k = headNorm(linear(normed, layer.k, kvHeads * hd, d, `${p}/attn/k_proj`), kvHeads, layer.kNorm, `${p}/attn/k_norm`);
    const v = linear(normed, layer.v, kvHeads * hd, d, `${p}/attn/v_proj`);
    const [attn, presentKey, presentValue] = g.nodeN(
      'GroupQueryAttention',
      [q, k, v, past[i]?.key as string, past[i]?.value as string, seqlensK, totalLen, cosCache, sinCache],
      {
        outputs: 3,
        name: `${p}/attn/GroupQueryAttention`,
        domain: 'com.microsoft',
        attrs: { num_heads: heads, kv_num_heads: kvHeads, do_rotary: 1, rotary_interleaved: 0, scale: { float: 1 / Math.sqrt(hd) } },
      },
    );
    g.output(presentKey as string, `present.${i}.key`, io, ['batch_size', kvHeads, 'total_sequence_length', hd]);
    g.output(presentValue as string, `present.${i}.value`, io, ['batch_size', kvHeads, 'total_sequence_length', hd]);
    const o = linear(attn as string, layer.o, d, heads * hd, `${p}/attn/o_proj`);
    const [post, sum] = skipNorm(residual, o, layer.postNorm, `${p}/post_attention_layernorm`);
    residual = sum;
    const gate = linear(post, layer.gate, inter, d, `${p}/mlp/gate_proj`);
    const up = linear(post, layer.up, inter, d, `${p}/mlp/up_proj`);
    const act = g.node('Mul', [g.node('Mul', [gate, g.node('Sigmoid', [gate])], { name: `${p}/mlp/act_fn/Mul` }), up]);
    pending = linear(act, layer.down, d, inter, `${p}/mlp/down_proj`);
  });
  const [finalNormed] = skipNorm(residual, pending as string, weights.finalNorm, '/model/norm');
  g.output(lmHead(finalNormed), 'logits', io, ['batch_size', 'sequence_length', vocab]);

  return g.serialize({
    graphName: 'main_graph',
    producer: 'lingoguard-twin-builder',
    docString,
    opsets: { '': 17, 'com.microsoft': 1 },
  });
}
