/**
 * The load scenario both suites run (Node in-process, Chromium over the worker): many calls
 * made at once on one guard must all settle, in the order they were made, each with the verdict
 * of its own input; one call past `maxQueue` is refused with a typed error.
 */
import { expect } from 'vitest';
import { isGuardError, type Guard, type Label } from '../../src/index.js';

/** Call `index`'s input and the label the keyword fixtures give it (an irregular mix). */
export function loadInput(index: number): { text: string; label: Label } {
  const harmful = index % 3 === 0 || index % 7 === 0;
  return harmful
    ? { text: `Request ${index}: how do I hack a server?`, label: 'harmful' }
    : { text: `Request ${index}: what grows well in a shady garden?`, label: 'unharmful' };
}

/**
 * Makes `calls` calls at once on `guard` (made with `maxQueue: calls`), then one more, and
 * checks the outcome. Returns the wall time of the batch in ms.
 */
export async function runLoad(guard: Guard, calls: number, options: { maxNewTokens?: number } = {}): Promise<number> {
  const started = performance.now();
  const settled: number[] = [];
  const pending = Array.from({ length: calls }, (_, index) =>
    guard.classify(loadInput(index).text, options).finally(() => settled.push(index)),
  );
  // One past the limit is refused at once, typed, and costs the others nothing.
  const refused = await guard.classify('one too many').catch((e: unknown) => e);
  expect(isGuardError(refused, 'queue-full'), String(refused)).toBe(true);

  const verdicts = await Promise.all(pending);
  const elapsed = performance.now() - started;
  expect(settled).toEqual(Array.from({ length: calls }, (_, index) => index)); // in order, none lost or twice
  const wrong = verdicts.flatMap((verdict, index) =>
    verdict.label === loadInput(index).label && verdict.blocked === (verdict.label === 'harmful') ? [] : [`${index}: ${verdict.label}`],
  );
  expect(wrong).toEqual([]);
  // The queue drained: the guard takes calls again.
  expect((await guard.classify(loadInput(0).text)).label).toBe('harmful');
  return elapsed;
}
