/**
 * The twins' feature table in Node (onnxruntime-node, in-process): the whole table on every
 * twin in q4f16 (float16 KV cache and logits on the Qwen3 graph; 4-bit weights with fp16
 * scales and float32 I/O on the Llama one), and the short check in fp32.
 * `test/runtime/decoder.test.ts` counts the forward passes and checks the chunked prefill of
 * the decoder itself; this table checks what a caller sees.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Guard } from '../../src/guard.js';
import { featureChecks, SHORT_CHECK, TWIN_IDS, twinSpecs, type TableOptions } from './feature-table.js';
import { ensureTwins, TWIN_DESIGN } from './twin-design.js';

// A stale twin is rebuilt before the presets (and their manifests' hashes) are imported.
await ensureTwins();
const { createGuard } = await import('../../src/index.node.js');

const SPECS = twinSpecs(TWIN_DESIGN);
const RUNS = TWIN_IDS.flatMap((twin) => [
  { twin, dtype: 'q4f16', table: {} as TableOptions },
  { twin, dtype: 'fp32', table: SHORT_CHECK },
] as const);

describe.each(RUNS)('$twin ($dtype)', ({ twin, dtype, table }) => {
  let guard: Guard | undefined;
  beforeAll(async () => {
    guard = await createGuard({ model: twin, dtype, warmUp: false });
  }, 60_000);
  afterAll(() => guard?.dispose());

  test('runs the asked dtype on the CPU', () => {
    expect(guard?.info).toMatchObject({ device: 'cpu', dtype });
    expect(guard?.info.fallback).toBeUndefined();
  });

  for (const check of featureChecks(SPECS[twin], () => guard as Guard, table)) test(check.name, check.run);
});
