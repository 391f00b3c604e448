/**
 * The evaluation page's harness in real Chromium, on wasm: the bundled slice served by this
 * origin, the shared loop and report, the same chart as the CLI, and a stop then resume.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { commands } from 'vitest/browser';
import { BUNDLED_SLICE, bundledSlice, evaluateInBrowser, parseFiles } from '../../demo/eval-run.js';
import type { EvalProgress } from '../../src/eval/run.js';
import { createGuard, type Guard } from '../../src/index.js';

let guard: Guard;
beforeAll(async () => {
  guard = await createGuard({ model: 'fixture-consistentguard', device: 'wasm' });
});
afterAll(() => guard.dispose());

test('runs a slice of the bundled data, stops, resumes, and draws the chart', async () => {
  await commands.startNetworkLog();
  expect(BUNDLED_SLICE).toHaveLength(6);
  const { files, ignored } = parseFiles(await bundledSlice());
  expect(ignored).toEqual([]);
  expect(files.map((f) => [f.lang, f.items.length, f.problems.length])).toEqual(
    expect.arrayContaining(['en', 'fr', 'zh-cn', 'ja', 'bn', 'hi'].map((lang) => [lang, 32, 0])),
  );
  const selection = { sets: ['openai_moderation'], limit: 4 };

  const stop = new AbortController();
  const seen: EvalProgress[] = [];
  const first = await evaluateInBrowser({
    guard,
    files,
    selection,
    signal: stop.signal,
    onProgress: (p) => {
      seen.push(p);
      if (p.done === 9) stop.abort();
    },
  });
  expect(first.result).toMatchObject({ judged: 9, skipped: 0, interrupted: true });
  expect(first.result.throughput).toMatchObject({ perGuard: [9] });
  expect(first.result.throughput.generatedTokens).toBeGreaterThan(0);
  expect(seen.map((p) => p.done)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  expect(seen.every((p) => p.total === 24)).toBe(true);
  expect(seen.at(-1)?.etaMs).toBeGreaterThan(0);
  expect(first.report.missing).toBe(15);

  const second = await evaluateInBrowser({ guard, files, selection, earlier: first.predictions });
  expect(second.result).toMatchObject({ judged: 15, skipped: 9, interrupted: false, throughput: { perGuard: [15] } });
  expect(second.predictions).toHaveLength(24);
  expect(new Set(second.predictions.map((p) => `${p.lang}/${p.id}`)).size).toBe(24);
  expect(new Set(second.predictions.map((p) => p.label))).toEqual(new Set(['harmful', 'unharmful']));
  // The runtime counts reasoning tokens as it decodes: exact in the browser too.
  expect(second.predictions.every((p) => p.tokenUnit === 'tokens' && p.reasoningTokens > 0)).toBe(true);

  expect(second.report.cells.map((c) => [c.lang, c.scores.n])).toEqual(['en', 'fr', 'zh-cn', 'ja', 'bn', 'hi'].map((lang) => [lang, 4]));
  expect(second.markdown).toContain('| ConsistentGuard 3B | 78.94 | 76.46 | 76.83 | 77.50 | 72.10 | 73.26 |');
  expect(second.markdown).toContain('reasoning tokens (mean)');
  expect(second.svg.match(/<polyline /g)?.length).toBe(7);
  // The chart is well-formed SVG as the browser reads it.
  const svg = new DOMParser().parseFromString(second.svg, 'image/svg+xml');
  expect(svg.querySelector('parsererror')).toBeNull();
  expect(svg.documentElement.getAttribute('width')).toBe('760');

  const origins = new Set((await commands.networkLog()).map((url) => new URL(url).origin));
  expect([...origins]).toEqual([location.origin]);
});
