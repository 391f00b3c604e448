import { describe, expect, it } from 'vitest';
import type { GoldLabel } from '../../src/eval/data.js';
import { confusion, mean, median, scores, type Outcome } from '../../src/eval/metrics.js';
import type { Label } from '../../src/types.js';

const H = 'harmful';
const U = 'unharmful';
const outcomes = (pairs: Array<[GoldLabel, Label]>): Outcome[] => pairs.map(([gold, label]) => ({ gold, label }));

describe('metrics (hand-computed)', () => {
  it('counts unknown as the wrong answer: a miss on harmful, a false alarm on unharmful', () => {
    // TP: 2; FN: H->U, H->unknown; FP: U->H, U->unknown; TN: 2.
    const counts = confusion(outcomes([[H, H], [H, H], [H, U], [H, 'unknown'], [U, U], [U, H], [U, 'unknown'], [U, U]]));
    expect(counts).toEqual({ tp: 2, fp: 2, fn: 2, tn: 2, unknown: 2, controversial: 0 });
    expect(scores(counts)).toEqual({ n: 8, f1: 0.5, precision: 0.5, recall: 0.5, accuracy: 0.5, unknownShare: 0.25, controversialShare: 0 });
  });

  it('F1 is the harmonic mean of precision and recall', () => {
    // TP 3, FP 1, FN 2, TN 4: P = 3/4, R = 3/5, F1 = 6/9, accuracy 7/10.
    const s = scores({ tp: 3, fp: 1, fn: 2, tn: 4, unknown: 0, controversial: 0 });
    expect(s.precision).toBe(0.75);
    expect(s.recall).toBe(0.6);
    expect(s.f1).toBeCloseTo(6 / 9, 12);
    expect(s.f1).toBeCloseTo((2 * 0.75 * 0.6) / (0.75 + 0.6), 12);
    expect(s.accuracy).toBe(0.7);
  });

  it('all unknown: every answer is wrong, nothing is dropped', () => {
    const s = scores(confusion(outcomes([[H, 'unknown'], [H, 'unknown'], [U, 'unknown'], [U, 'unknown'], [U, 'unknown']])));
    expect(s).toEqual({ n: 5, f1: 0, precision: 0, recall: 0, accuracy: 0, unknownShare: 1, controversialShare: 0 });
  });

  it('no positives: recall is undefined; F1 is 0 with a false alarm, undefined without', () => {
    expect(scores(confusion(outcomes([[U, U], [U, U], [U, H]])))).toEqual({
      n: 3, f1: 0, precision: 0, recall: null, accuracy: 2 / 3, unknownShare: 0, controversialShare: 0,
    });
    expect(scores(confusion(outcomes([[U, U], [U, U]])))).toEqual({
      n: 2, f1: null, precision: null, recall: null, accuracy: 1, unknownShare: 0, controversialShare: 0,
    });
  });

  it('no items: every score is undefined', () => {
    expect(scores(confusion([]))).toEqual({ n: 0, f1: null, precision: null, recall: null, accuracy: null, unknownShare: null, controversialShare: null });
  });

  it('controversial is wrong unless mapped to a side', () => {
    const items = outcomes([[H, 'controversial'], [U, 'controversial']]);
    expect(confusion(items)).toMatchObject({ tp: 0, fn: 1, fp: 1, tn: 0, controversial: 2, unknown: 0 });
    expect(confusion(items, 'harmful')).toMatchObject({ tp: 1, fn: 0, fp: 1, tn: 0 });
    expect(confusion(items, 'unharmful')).toMatchObject({ tp: 0, fn: 1, fp: 0, tn: 1 });
  });

  it('mean and median', () => {
    expect(mean([])).toBeNull();
    expect(mean([1, 2, 6])).toBe(3);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });
});
