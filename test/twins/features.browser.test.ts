/**
 * The twins' feature table in real headless Chromium: the guard's module worker on wasm and on
 * WebGPU, on the twins served by the test server.
 *
 * - wasm, in q4 (the Qwen3 graph's tied 4-bit embedding, `GatherBlockQuantized`, runs on the
 *   plain onnxruntime build the worker loads on wasm): the whole table on one twin of each graph
 *   (twin-qwen3, twin-llama-guard-3); on the twins that share their graphs, the short check and
 *   the response moderation their families parse differently (the Refusal line, GuardReasoner's
 *   three answers). What differs between twins of one graph is the format, and the Node table
 *   (`features.test.ts`) runs every feature on every twin; what the browser adds is the worker,
 *   onnxruntime-web and its build, which one graph's twin exercises as much as another's.
 * - WebGPU on SwiftShader (no shader-f16, so q4 or fp32): a CPU emulation that compiles a
 *   shader for every new shape, tens of times slower than wasm (a load, with its instruction
 *   prefill, takes 35-45 s here): the one-pass check, on one twin of each graph.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { commands } from 'vitest/browser';
import type { Guard } from '../../src/guard.js';
import { featureChecks, onePassCheck, SHORT_CHECK, TWIN_IDS, twinSpecs, type TableOptions, type TwinId } from './feature-table.js';

// The designed answers, after the test server rebuilt any stale twin; the library (and the
// presets' manifests) load after that.
const SPECS = twinSpecs(await commands.twinDesign());
const { createGuard } = await import('../../src/index.js');

const QWEN3_GRAPH: ReadonlySet<TwinId> = new Set(['twin-qwen3', 'twin-qwen3guard']);

/** The twin of each graph whose whole table runs on wasm. */
const WHOLE_TABLE: ReadonlySet<TwinId> = new Set(['twin-qwen3', 'twin-llama-guard-3']);
/** The rest of the table for the other twins. */
const SHARED_GRAPH_CHECKS: TableOptions = { ...SHORT_CHECK, only: [...(SHORT_CHECK.only ?? []), 'response moderation'] };

const RUNS = [
  ...TWIN_IDS.map((twin) => ({ twin, device: 'wasm', dtype: 'q4' }) as const),
  { twin: 'twin-llama-guard-3', device: 'webgpu', dtype: 'q4' },
  { twin: 'twin-qwen3', device: 'webgpu', dtype: 'q4' },
] as const;

describe.each(RUNS)('$twin on $device ($dtype)', ({ twin, device, dtype }) => {
  let guard: Guard | undefined;
  beforeAll(async () => {
    guard = await createGuard({ model: twin, device, dtype, warmUp: false });
  }, 120_000);
  afterAll(() => guard?.dispose());

  test('runs where it was asked', () => {
    expect(guard?.info).toMatchObject({ device, dtype });
  });

  if (device === 'webgpu') {
    // The Qwen3 graph's passes are the slowest there: its harmful row alone.
    const rows = QWEN3_GRAPH.has(twin) ? (SHORT_CHECK.rows ?? []).filter((row) => row.expected === 'harmful') : SHORT_CHECK.rows;
    test('fast mode: verdict and score in one pass', () => onePassCheck(SPECS[twin], guard as Guard, rows), 120_000);
    return;
  }
  const options = WHOLE_TABLE.has(twin) ? {} : SHARED_GRAPH_CHECKS;
  for (const check of featureChecks(SPECS[twin], () => guard as Guard, options)) test(check.name, check.run);
});
