/**
 * Token codes of the twins: ±1 vectors of length 16 taken from the extended Hamming code
 * [16, 11, 4], so two different codes agree in at most 12 places: their dot product is 16 with
 * themselves and at most 8 with any other. A designed neuron that sums code matches over a
 * few positions therefore separates "exactly this n-gram" from "anything else" by a margin of
 * at least 8, and every weight is ±1 (exact in 4-bit blocks).
 */

/** Code length. */
export const CODE = 16;

/** The 11 data bits of `index` encoded as an extended Hamming [16, 11, 4] codeword, as ±1. */
function codeword(index: number): Int8Array {
  // Positions 1..15 of the [15, 11] Hamming code; parity bits at powers of two; position 0
  // holds the overall parity (the extension that makes the minimum distance 4).
  const bits = new Uint8Array(16);
  let data = index;
  for (let pos = 1; pos < 16; pos++) {
    if ((pos & (pos - 1)) === 0) continue;
    bits[pos] = data & 1;
    data >>= 1;
  }
  for (let p = 1; p < 16; p <<= 1) {
    let parity = 0;
    for (let pos = 1; pos < 16; pos++) if (pos & p && pos !== p) parity ^= bits[pos] as number;
    bits[p] = parity;
  }
  let overall = 0;
  for (let pos = 1; pos < 16; pos++) overall ^= bits[pos] as number;
  bits[0] = overall;
  return Int8Array.from(bits, (b) => (b === 0 ? 1 : -1));
}

/**
 * The code of the n-th coded token. Index 0 (all +1) is skipped so no code is the plain sum
 * direction, and the complement of a used code is never handed out (its dot product, -16,
 * is harmless, but keeping codes apart keeps the design easy to reason about).
 */
export function codeOf(n: number): Int8Array {
  if (n < 0 || n >= 1023) throw new Error(`no code ${n}`);
  return codeword(n + 1);
}
