/**
 * Peak memory of the whole Node process for one input of about N tokens:
 * `npx tsx bench/prefill-memory.ts <model> <dtype> <tokens> [fast|full]` prints one JSON line
 * with the prompt's token count, the forward passes and the peak RSS. Each size runs in a
 * fresh process, because the peak RSS of a process never goes down: compare the lines of two
 * runs (the goal: 8,000 tokens ≤ 1.5x of 500 tokens).
 */
import { createGuard } from '../src/index.node.js';

const [model = 'twin-qwen3', dtype = 'q4f16', tokens = '500', mode = 'fast'] = process.argv.slice(2);
const guard = await createGuard({ model, dtype: dtype as never, warmUp: false });
const loadedRss = process.resourceUsage().maxRSS;
// An instruction-free filler sentence; the count is checked against the prompt afterwards.
const sentence = 'The garden is quiet and the weather is mild today. ';
const sentenceTokens = 12;
const text = sentence.repeat(Math.max(1, Math.round(Number(tokens) / sentenceTokens)));
const started = performance.now();
const verdict = await guard.classify(text, { mode: mode === 'full' ? 'full' : 'fast' });
console.log(
  JSON.stringify({
    model,
    dtype,
    mode,
    promptTokens: verdict.timings.promptTokens,
    windows: verdict.windows ?? 1,
    label: verdict.label,
    forwardPasses: verdict.timings.forwardPasses,
    ms: Math.round(performance.now() - started),
    rssAfterLoadMB: Math.round(loadedRss / 1024),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
await guard.dispose();
