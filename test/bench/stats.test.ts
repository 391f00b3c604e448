/** The bench's statistics (bench/stats.ts), against values worked out by hand. */
import { describe, expect, test } from 'vitest';
import {
  binomialHalfCdf,
  callsPerSample,
  decide,
  decideAll,
  formatInterval,
  median,
  medianInterval,
  paired,
  parseGoal,
} from '../../bench/stats.js';

describe('median', () => {
  test('odd and even counts, unsorted input left as it was', () => {
    const values = [5, 1, 3];
    expect(median(values)).toBe(3);
    expect(values).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('binomialHalfCdf', () => {
  test('P(X <= k), X ~ Bin(n, 1/2)', () => {
    expect(binomialHalfCdf(5, 0)).toBe(1 / 32);
    expect(binomialHalfCdf(5, 1)).toBe(6 / 32); // 1 + 5
    expect(binomialHalfCdf(11, 2)).toBeCloseTo(67 / 2048, 15); // 1 + 11 + 55
    expect(binomialHalfCdf(4, 4)).toBe(1);
    expect(binomialHalfCdf(4, 9)).toBe(1);
  });
});

describe('medianInterval', () => {
  test('11 values: x(2)..x(10) covers 1 - 2*12/2048; x(3)..x(9) would cover only 93.5%', () => {
    const values = [7, 3, 11, 1, 9, 5, 2, 10, 4, 8, 6];
    expect(medianInterval(values)).toEqual({ median: 6, low: 2, high: 10, confidence: 1 - 24 / 2048, n: 11 });
  });

  test('12 values: x(3)..x(10) covers 1 - 2*79/4096', () => {
    const values = Array.from({ length: 12 }, (_, i) => (i + 1) * 10);
    expect(medianInterval(values)).toEqual({ median: 65, low: 30, high: 100, confidence: 1 - 158 / 4096, n: 12 });
  });

  test('5 values cannot reach 95%: [min, max], and it says 93.75%', () => {
    expect(medianInterval([1.1, 0.9, 1.0, 1.3, 0.8])).toEqual({ median: 1.0, low: 0.8, high: 1.3, confidence: 0.9375, n: 5 });
  });

  test('a lower level narrows the interval: 11 values at 90% give x(3)..x(9)', () => {
    const interval = medianInterval([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 0.9);
    expect([interval.low, interval.high, interval.confidence]).toEqual([3, 9, 1 - 134 / 2048]);
  });

  test('one value: an interval of no width and no confidence', () => {
    expect(medianInterval([2])).toEqual({ median: 2, low: 2, high: 2, confidence: 0, n: 1 });
  });
});

describe('decide', () => {
  const atMost = parseGoal('<= 1.05');
  const atLeast = parseGoal('>= 3');
  test('met or missed only when the whole interval is on one side', () => {
    expect(decide({ low: 0.9, high: 1.05 }, atMost)).toBe('met');
    expect(decide({ low: 1.06, high: 1.2 }, atMost)).toBe('missed');
    expect(decide({ low: 0.98, high: 1.12 }, atMost)).toBe('not decided');
    expect(decide({ low: 3, high: 6 }, atLeast)).toBe('met');
    expect(decide({ low: 1.5, high: 2.9 }, atLeast)).toBe('missed');
    expect(decide({ low: 1.9, high: 5.2 }, atLeast)).toBe('not decided');
  });
  test('several figures: one miss misses, all met meet, else not decided', () => {
    expect(decideAll(['met', 'met'])).toBe('met');
    expect(decideAll(['met', 'not decided'])).toBe('not decided');
    expect(decideAll(['not decided', 'missed'])).toBe('missed');
  });
  test('goals parse, other text is refused', () => {
    expect(parseGoal('>= 20')).toEqual({ op: '>=', bound: 20 });
    expect(() => parseGoal('== 0')).toThrow(RangeError);
  });
});

test('formatInterval', () => {
  expect(formatInterval({ median: 0.974, low: 0.93, high: 1.006, confidence: 0.96, n: 12 })).toBe('0.97 [0.93–1.01]');
});

test('callsPerSample: enough calls to fill the sample, at least one', () => {
  expect(callsPerSample(400, 55)).toBe(8);
  expect(callsPerSample(400, 400)).toBe(1);
  expect(callsPerSample(400, 3000)).toBe(1);
  expect(callsPerSample(0, 10)).toBe(1);
});

describe('paired', () => {
  test('interleaves A B, B A, …, collects before every sample, and divides pair by pair', async () => {
    const log: string[] = [];
    // Made-up "durations" through `measure`, so the arithmetic is exact: a's i-th call costs
    // 2, 4, 6, …; b's costs 1 each. Warm-up calls are logged but not counted.
    let ai = 0;
    const a = { work: async () => log.push('a'), measure: () => 2 * ++ai };
    const b = { work: async () => log.push('b'), measure: () => 1 };
    const result = await paired(a, b, { pairs: 3, warmUp: 1, gc: () => log.push('gc') });
    expect(log.join(' ')).toBe('a b gc a gc b gc b gc a gc a gc b');
    expect(result.samples).toEqual({ a: [4, 6, 8], b: [1, 1, 1] });
    expect(result.ratio).toEqual({ median: 6, low: 4, high: 8, confidence: 0.75, n: 3 });
    expect(result.repeat).toEqual({ a: 1, b: 1 });
  });

  test('short calls are repeated to fill a sample; a side without warm-up takes one call', async () => {
    let calls = 0;
    const short = { work: async () => calls++, measure: () => 100 };
    const long = { work: async () => undefined, measure: () => 1000 };
    const result = await paired(long, short, { pairs: 2, minSampleMs: 400, warmUp: { a: 0, b: 1 } });
    expect(result.repeat).toEqual({ a: 1, b: 4 });
    expect(calls).toBe(1 + 2 * 4);
    expect(result.ratio.median).toBe(10);
  });
});
