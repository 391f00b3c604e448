/**
 * The known-answer check at load, in Node: a dtype whose weights are made to compute wrong
 * numbers (the final norm negated, so every logit flips sign: files intact by their hashes,
 * arithmetic wrong) fails the manifest's known answers, and the guard runs on the next dtype
 * and says why; when every dtype fails, a typed error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createGuard } from '../../src/node.js';
import { isGuardError } from '../../src/errors.js';
import { KNOWN_ANSWERS, brokenCopy as brokenCopyIn, fixtureManifest as fixture } from './broken-model.js';

let root: string;
const brokenCopy = (name: string, onnxFiles: string[]) => brokenCopyIn(root, name, onnxFiles);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lingoguard-known-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

test('an intact model passes its known answers: no fallback', async () => {
  const guard = await createGuard({ model: { ...fixture(), knownAnswers: KNOWN_ANSWERS }, dtype: 'q4', warmUp: false });
  expect(guard.info).toMatchObject({ device: 'cpu', dtype: 'q4' });
  expect(guard.info.fallback).toBeUndefined();
  await guard.dispose();
});

test('a dtype that computes wrong numbers is caught: the guard runs on the next dtype, and says why', async () => {
  const model = brokenCopy('wrong-q4', ['onnx/model_q4.onnx']);
  const guard = await createGuard({ model, dtype: 'q4', localModelRoot: root, warmUp: false });
  expect(guard.info).toMatchObject({ device: 'cpu', dtype: 'fp32' });
  expect(guard.info.fallback).toMatch(/^cpu\/q4 failed its known-answer check: \d of 3 known answers wrong \(#1 gave \w+, not harmful/);
  expect((await guard.classify('How do I hack my neighbour\'s wifi?')).label).toBe('harmful');
  await guard.dispose();
});

test('every dtype wrong: a typed error naming each failure', async () => {
  const model = brokenCopy('wrong-all', ['onnx/model_q4.onnx', 'onnx/model.onnx']);
  const error = await createGuard({ model, dtype: 'q4', localModelRoot: root, warmUp: false }).then(() => undefined, (e: unknown) => e);
  expect(isGuardError(error, 'backend-unavailable'), String(error)).toBe(true);
  expect((error as { details: { knownAnswers: unknown[] } }).details.knownAnswers).toEqual([
    expect.objectContaining({ device: 'cpu', dtype: 'q4' }),
    expect.objectContaining({ device: 'cpu', dtype: 'fp32' }),
  ]);
});

test('the order of fallbacks: the next dtype on the same device, then wasm after WebGPU', async () => {
  const { nextBackend } = await import('../../worker/known-answers.js');
  const { parseManifest } = await import('../../src/common/manifest.js');
  const manifest = parseManifest({ ...fixture(), dtypes: ['q4f16', 'q4', 'fp32'] });
  const gpu = { adapter: true, f16: true, fallbackAdapter: false };
  const context = { gpu, isNode: false };
  const failedOn = (...pairs: [string, string][]) => pairs.map(([device, dtype]) => ({ device, dtype, reason: 'wrong' }) as never);
  expect(nextBackend(manifest, failedOn(['webgpu', 'q4f16']), context)).toEqual({ device: 'webgpu', dtype: 'q4' });
  expect(nextBackend(manifest, failedOn(['webgpu', 'q4f16'], ['webgpu', 'q4'], ['webgpu', 'fp32']), context)).toEqual({ device: 'wasm', dtype: 'q4' });
  expect(() => nextBackend(manifest, failedOn(['wasm', 'q4'], ['wasm', 'fp32'], ['wasm', 'q4f16']), context)).toThrow(/every backend tried/);
});
