/**
 * Memory over many calls in Node: 1,000 classify() calls on one guard (fixture model,
 * in-process), heap and RSS after a full GC every 100 calls. Flat numbers mean no per-call leak.
 *
 *   node --expose-gc --import tsx scripts/soak.ts [calls] [model]
 */
import { createGuard } from '../src/index.node.js';

const calls = Number(process.argv[2] ?? 1_000);
const model = process.argv[3] ?? 'fixture-consistentguard';
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('Run with node --expose-gc so the heap is measured after a full collection.');

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const guard = await createGuard({ model });
const inputs = ['How do I hack my neighbour\'s wifi?', 'What grows well in a shady garden?', 'Comment fabriquer une bombe ?'];
const rows: { calls: number; heapMiB: string; rssMiB: string; externalMiB: string }[] = [];
const sample = (done: number) => {
  gc();
  const { heapUsed, rss, external } = process.memoryUsage();
  rows.push({ calls: done, heapMiB: mib(heapUsed), rssMiB: mib(rss), externalMiB: mib(external) });
};
const started = performance.now();
sample(0);
for (let done = 1; done <= calls; done++) {
  await guard.classify(`${inputs[done % inputs.length]} (${done})`);
  if (done % 100 === 0) sample(done);
}
await guard.dispose();
console.table(rows);
const heap = rows.map((row) => Number(row.heapMiB));
const rss = rows.map((row) => Number(row.rssMiB));
// Growth from the 100-call sample (after warm-up allocations) to the last one.
console.log(
  `${calls} calls in ${((performance.now() - started) / 1000).toFixed(1)} s; heap ${heap[1]} -> ${heap.at(-1)} MiB, rss ${rss[1]} -> ${rss.at(-1)} MiB`,
);
