import { describe, expect, it } from 'vitest';
import { describe as describeRatio, median, medianInterval, pairedRatios, verdict } from '../../bench/paired.js';

describe('bench/paired', () => {
  it('takes the median of the values, not of their order', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(3);
  });

  it('gives the whole range, and the level it reaches, below six samples', () => {
    const r = medianInterval([3, 1, 2, 5, 4]);
    expect([r.low, r.high]).toEqual([1, 5]);
    expect(r.level).toBeCloseTo(1 - 2 / 32, 12); // all five on one side of the median: 2 × 1/32
  });

  it('drops as many order statistics on each side as 95 % allows', () => {
    // n = 9: dropping one on each side leaves 1 − 2·P(B ≤ 1) = 1 − 2·10/512 ≈ 96.1 %; dropping two
    // would leave 1 − 2·46/512 ≈ 82 %.
    const r = medianInterval([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect([r.low, r.high]).toEqual([2, 8]);
    expect(r.level).toBeCloseTo(1 - 20 / 512, 12);
    // n = 20: P(B ≤ 5) = 21700/2^20 ≈ 2.07 % per side, P(B ≤ 6) ≈ 5.8 %: the 6th smallest and largest.
    const xs = Array.from({ length: 20 }, (_, i) => i + 1);
    const r20 = medianInterval(xs);
    expect([r20.low, r20.high]).toEqual([6, 15]);
    expect(r20.level).toBeGreaterThanOrEqual(0.95);
  });

  it('pairs rounds: a drift both commands share cancels out', () => {
    // The machine slows by half in round 3; b stays 10 % faster than a in every round.
    const a = [2.0, 2.1, 3.0, 2.0, 2.2, 2.05];
    const b = a.map((x) => x * 0.9);
    const p = pairedRatios(a, b);
    expect(p.median).toBeCloseTo(0.9, 12);
    expect(p.low).toBeCloseTo(0.9, 12);
    expect(p.high).toBeCloseTo(0.9, 12);
    expect(p.below).toBe(6);
    expect(verdict(p, 1)).toBe('met');
    expect(() => pairedRatios([1], [1, 2])).toThrow(/one pair per round/);
  });

  it('calls a limit inside the interval neither met nor missed', () => {
    expect(verdict({ low: 0.94, high: 1.02, level: 0.96 }, 1)).toBe('not shown either way');
    expect(verdict({ low: 1.01, high: 1.1, level: 0.96 }, 1)).toBe('missed');
    expect(verdict({ low: 0.9, high: 1, level: 0.96 }, 1)).toBe('met');
  });

  it('describes a ratio as a percentage when asked', () => {
    const p = pairedRatios([100, 100, 100, 100, 100, 100], [4.8, 5.1, 4.9, 5.0, 4.7, 5.2]);
    expect(describeRatio(p, { scale: 100, unit: ' %', digits: 1 })).toBe('5.0 % (96.9 % interval 4.7-5.2 %, 6 rounds)');
    expect(describeRatio(pairedRatios([2, 2, 2], [1.9, 2.1, 1.8]), { lowerWord: 'faster' })).toBe('0.95× (75 % interval 0.90-1.05×, 3 rounds, faster in 2)');
  });
});
