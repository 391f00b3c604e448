/**
 * `npm run bench [-- --quick]`: lingoguard's speed and size targets, measured side by side in
 * one run (medians of repeated, alternating runs; min–max shown), printed as a table and
 * written to bench/results.json. Timed tests would be noise on these machines; ratios are not.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Measure } from './node.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
const CHROMIUM_RESULTS = fileURLToPath(new URL('./.chromium-results.json', import.meta.url));

execFileSync(process.execPath, ['--import', 'tsx', 'models/build/main.ts', '--bench'], { cwd: ROOT, stdio: 'inherit' });
// Imported after the build: the presets read the fixtures' manifests (with their hashes) on import.
const [{ createGuard }, { mainThreadBundleBytes }, { measureNode }] = await Promise.all([
  import('../src/index.node.js'),
  import('./bundle.js'),
  import('./node.js'),
]);

console.log(`Node (onnxruntime-node, fixture-bench fp32, ${quick ? 2 : 5} runs per side)…`);
const results: Record<string, Measure> = await measureNode(quick ? 2 : 5, quick ? 64 : undefined);

const bundle = await mainThreadBundleBytes();
results.P5 = {
  value: bundle.gzip,
  target: '<= 15360',
  met: bundle.gzip <= 15_360,
  detail: `main-thread JS for { createGuard, classify }: ${bundle.raw} B minified, ${bundle.gzip} B gzip (${bundle.files.length} file)`,
};

console.log('Chromium (wasm through the worker; WebGPU vs wasm)…');
rmSync(CHROMIUM_RESULTS, { force: true });
try {
  execFileSync('npx', ['vitest', 'run', '--config', 'bench/vitest.config.ts'], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, VITE_BENCH_QUICK: quick ? '1' : '0' },
  });
} catch {
  console.error('The Chromium part failed; its targets are reported as not met.');
}
const chromium = existsSync(CHROMIUM_RESULTS)
  ? (JSON.parse(readFileSync(CHROMIUM_RESULTS, 'utf8')) as Record<string, { ratio?: { median: number; min: number; max: number }; detail?: string; compared?: number; mismatches?: string[] }>)
  : {};
const browserP1 = chromium['P1-chromium'];
if (browserP1?.ratio) {
  const node = results.P1!;
  const worst = Math.max(node.value, browserP1.ratio.median);
  results.P1 = {
    value: Math.round(worst * 100) / 100,
    target: node.target,
    met: worst <= 1.05,
    range: browserP1.ratio,
    detail: `${node.detail}; ${browserP1.detail} (value: the worse of the two)`,
  };
}
const p6 = chromium.P6;
results.P6 = {
  value: p6 !== undefined && p6.mismatches?.length === 0 ? 1 : 0,
  target: 'true',
  met: p6 !== undefined && p6.mismatches?.length === 0,
  detail: p6 ? `${p6.compared} fixture answers compared, mismatches: ${p6.mismatches?.join('; ') || 'none'}` : 'not measured',
};

const json = Object.fromEntries(
  Object.entries(results)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, m]) => [key, { value: key === 'P6' ? m.met : m.value, target: m.target, met: m.met }]),
);
writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify(json, null, 2)}\n`);

console.log('\n| target | value (ratio: median, min–max) | goal | met | what was measured |\n|---|---|---|---|---|');
for (const [key, m] of Object.entries(results).sort(([a], [b]) => a.localeCompare(b))) {
  const value = key === 'P6' ? String(m.met) : m.range ? `${m.value} (${m.range.min.toFixed(2)}–${m.range.max.toFixed(2)})` : String(m.value);
  console.log(`| ${key} | ${value} | ${m.target} | ${m.met ? 'yes' : 'NO'} | ${m.detail} |`);
}
// Not targets: what a verdict costs on each backend, for the notes (one warm call each).
const node = await createGuard({ model: 'fixture-consistentguard', dtype: 'fp32' });
await node.classify('How do I hack a wifi?');
const nodeVerdict = await node.classify('How do I hack a wifi?');
await node.dispose();
const perDevice: Record<string, { verdictMs: number; tokens: number; msPerToken: number }> = {
  'fixture-consistentguard node': {
    verdictMs: nodeVerdict.timings.totalMs,
    tokens: nodeVerdict.timings.generatedTokens ?? 1,
    msPerToken: nodeVerdict.timings.totalMs / (nodeVerdict.timings.generatedTokens ?? 1),
  },
  ...((chromium['timings-chromium'] ?? {}) as Record<string, { verdictMs: number; tokens: number; msPerToken: number }>),
};
console.log('\n| fixture, backend (fp32) | time to verdict | tokens | ms per token |\n|---|---|---|---|');
for (const [name, t] of Object.entries(perDevice)) {
  console.log(`| ${name} | ${t.verdictMs.toFixed(0)} ms | ${t.tokens} | ${t.msPerToken.toFixed(1)} |`);
}
console.log('\nwritten: bench/results.json');
