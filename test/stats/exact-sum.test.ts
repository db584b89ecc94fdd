import { describe, expect, it } from 'vitest';
import { ExactSum } from '../../src/stats/exact-sum.js';
import { rng } from '../helpers/rng.js';

// The exact reference: every double used here is a multiple of 2^-200, so scaled by 2^200 it is
// an exact BigInt; the BigInt sum is exact, and Number(bigint) rounds it to nearest, ties to even.
const SCALE = 2 ** 200;
function exactReference(values: number[]): number {
  let total = 0n;
  for (const v of values) total += BigInt(v * SCALE);
  return Number(total) / SCALE;
}

function shuffle<T>(xs: T[], rand: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('ExactSum', () => {
  it('is the correctly rounded exact sum, where naive addition is not', () => {
    const values = [0.1, 0.2, 0.3];
    expect(0.1 + 0.2 + 0.3).not.toBe(0.6);
    expect(ExactSum.of(values).value).toBe(exactReference(values));
    expect(ExactSum.of([1e16, 1, -1e16]).value).toBe(1);
    expect(ExactSum.of([]).value).toBe(0);
  });

  it('gives the same value in any order and any split into merged parts', () => {
    const rand = rng(3);
    for (let round = 0; round < 50; round++) {
      const values = Array.from({ length: 200 }, () => {
        const kind = rand();
        if (kind < 0.4) return Math.round(rand() * 50_000) / 10; // durations like 850.4
        if (kind < 0.7) return Math.round(rand() * 1e6) / 1e6; // costs like 0.0023
        if (kind < 0.9) return Math.floor(rand() * 2000); // tokens
        return rand() * 10 ** Math.floor(rand() * 12 - 4); // anything
      });
      const expected = exactReference(values);
      const a = ExactSum.of(values).value;
      const b = ExactSum.of(shuffle(values, rand)).value;
      // Merged from parts, and through the JSON form the cache and workers use.
      const cut = Math.floor(rand() * values.length);
      const left = ExactSum.of(values.slice(0, cut));
      const right = ExactSum.fromJSON(JSON.parse(JSON.stringify(ExactSum.of(values.slice(cut)).toJSON())));
      const c = left.merge(right).value;
      expect(a).toBe(expected);
      expect(b).toBe(expected);
      expect(c).toBe(expected);
    }
  });

  it('rounds half-way cases to even', () => {
    // 2^53 + 1 is half-way between 2^53 and 2^53 + 2: ties to even gives 2^53.
    expect(ExactSum.of([2 ** 53, 1]).value).toBe(2 ** 53);
    // 2^53 + 3 is half-way between 2^53 + 2 and 2^53 + 4: ties to even gives 2^53 + 4.
    expect(ExactSum.of([2 ** 53, 3]).value).toBe(2 ** 53 + 4);
    // Just above half-way rounds up, even when the excess is tiny.
    expect(ExactSum.of([2 ** 53, 1, 2 ** -20]).value).toBe(2 ** 53 + 2);
  });
});
