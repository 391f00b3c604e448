/**
 * 4-bit block quantization in the layout of onnxruntime's `MatMulNBits` (com.microsoft):
 * symmetric round-to-nearest, blocks of 32 along the input dimension, implicit zero point 8.
 * A block whose weights are all integer multiples of (its largest magnitude / 7) is stored
 * exactly; the fixtures' designed weights are chosen that way, so q4 and fp32 agree.
 */

/** Block size along K (input features), as real q4 models use. */
export const Q4_BLOCK = 32;

/** A weight quantized for `MatMulNBits`. */
export interface Q4Weight {
  /** `[N, K / 32, 16]` packed nibbles, low nibble first. */
  packed: Uint8Array;
  /** `[N * K / 32]` one scale per block. */
  scales: Float32Array;
  /** The weight after the round trip, `[N, K]` row-major (what the kernel computes with). */
  dequantized: Float32Array;
}

/**
 * Quantizes `weight`, given as `[N, K]` row-major (one row per output feature).
 * @param n output features; @param k input features (a multiple of 32).
 */
export function quantizeQ4(weight: Float32Array, n: number, k: number): Q4Weight {
  if (k % Q4_BLOCK !== 0) throw new Error(`K=${k} is not a multiple of ${Q4_BLOCK}`);
  const blocks = k / Q4_BLOCK;
  const packed = new Uint8Array(n * blocks * (Q4_BLOCK / 2));
  const scales = new Float32Array(n * blocks);
  const dequantized = new Float32Array(n * k);
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < blocks; b++) {
      const offset = row * k + b * Q4_BLOCK;
      let absMax = 0;
      for (let i = 0; i < Q4_BLOCK; i++) absMax = Math.max(absMax, Math.abs(weight[offset + i] ?? 0));
      // fround: the kernel multiplies by the stored float32 scale, so round with that one.
      const scale = Math.fround(absMax / 7);
      scales[row * blocks + b] = scale;
      for (let i = 0; i < Q4_BLOCK; i++) {
        const w = weight[offset + i] ?? 0;
        const q = scale === 0 ? 0 : Math.max(-8, Math.min(7, Math.round(w / scale)));
        dequantized[offset + i] = Math.fround(q * scale);
        const byte = (row * blocks + b) * (Q4_BLOCK / 2) + (i >> 1);
        const nibble = q + 8;
        packed[byte] = (packed[byte] ?? 0) | (i % 2 === 0 ? nibble : nibble << 4);
      }
    }
  }
  return { packed, scales, dequantized };
}
