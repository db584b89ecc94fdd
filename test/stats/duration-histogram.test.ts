import { describe, expect, it, vi } from 'vitest';
import {
  DurationHistogram,
  MIN_TRACKED_MS,
  bucketByLog,
  bucketIndex,
  useBucketTable,
  bucketUpperBound,
  nearestRank,
} from '../../src/stats/duration-histogram.js';
import { rng } from '../helpers/rng.js';

function normal(r: () => number): number {
  // Box–Muller; 1 - r() keeps the log argument in (0, 1].
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

const PERCENTILES = [1, 5, 25, 50, 75, 90, 95, 99, 99.9];

/**
 * Exact nearest rank ceil(p/100 · n), in integer arithmetic: p has at most one decimal, so
 * rank = ceil(10p · n / 1000) with integers only (no floating-point rounding at exact ranks).
 */
function exactRank(p: number, n: number): number {
  const tenths = Math.round(p * 10);
  return Math.max(1, Math.floor((tenths * n + 999) / 1000));
}

function exactPercentile(sorted: readonly number[], p: number): number {
  return sorted[exactRank(p, sorted.length) - 1]!;
}

function histogramOf(values: readonly number[]): DurationHistogram {
  const h = new DurationHistogram();
  for (const v of values) h.add(v);
  return h;
}

/**
 * The percentile must be within 1 % of the exact value. Values below MIN_TRACKED_MS (1 µs) share
 * one bucket by design, so there the answer must be exact for 0 and within 1 µs otherwise.
 */
function expectClose(actual: number, exact: number, label: string): void {
  if (exact === 0) {
    expect(actual, label).toBe(0);
  } else if (exact < MIN_TRACKED_MS) {
    expect(Math.abs(actual - exact), label).toBeLessThan(MIN_TRACKED_MS);
  } else {
    expect(Math.abs(actual - exact) / exact, `${label}: got ${actual}, exact ${exact}`).toBeLessThanOrEqual(0.01);
  }
}

const distributions: Record<string, (r: () => number) => number> = {
  lognormal: (r) => Math.exp(6 + 1.2 * normal(r)), // median ~400 ms, long right tail
  'lognormal narrow': (r) => Math.exp(Math.log(850) + 0.05 * normal(r)),
  'uniform 0..1e6': (r) => r() * 1e6,
  'log-uniform 1e-3..1e8': (r) => Math.pow(10, -3 + 11 * r()),
  'few distinct values (duplicates)': (r) => [0.5, 12, 12, 12, 80, 80, 1500][Math.floor(r() * 7)]!,
  'integers 0..20 (zeros and ties)': (r) => Math.floor(r() * 21),
  'sub-microsecond and zero mixed in': (r) => {
    const u = r();
    if (u < 0.1) return 0;
    if (u < 0.2) return r() * MIN_TRACKED_MS; // below 1 µs
    return Math.exp(3 + 2 * normal(r));
  },
  'all zero': () => 0,
  'all sub-microsecond': (r) => r() * 1e-4,
};

describe('nearest-rank helper used by percentile', () => {
  it('agrees with integer arithmetic where (p/100)·n has floating-point noise', () => {
    // (99.9 / 100) * 1000 === 999.0000000000001 in IEEE doubles; the rank is 999, not 1000.
    expect(nearestRank(99.9, 1000)).toBe(999);
    const mismatches: string[] = [];
    for (const p of PERCENTILES) {
      for (let n = 1; n <= 20_000; n++) {
        if (nearestRank(p, n) !== exactRank(p, n)) mismatches.push(`p${p} n=${n}: ${nearestRank(p, n)} != ${exactRank(p, n)}`);
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  });
});

describe('DurationHistogram percentiles', () => {
  for (const [name, draw] of Object.entries(distributions)) {
    for (const n of [1, 2, 7, 100, 1000, 20_000]) {
      it(`${name}, n=${n}: every percentile within 1 % of exact nearest rank`, () => {
        const r = rng(n * 7919 + name.length);
        const values = Array.from({ length: n }, () => draw(r));
        const h = histogramOf(values);
        const sorted = [...values].sort((a, b) => a - b);
        for (const p of PERCENTILES) expectClose(h.percentile(p), exactPercentile(sorted, p), `p${p}`);
        expect(h.count).toBe(n);
        expect(h.min).toBe(sorted[0]);
        expect(h.max).toBe(sorted[n - 1]);
      });
    }
  }

  it('p99.9 of 1000 samples is the 999th value, not the maximum', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i + 1);
    values[999] = 1e6; // a far outlier at rank 1000
    const h = histogramOf(values);
    expectClose(h.percentile(99.9), 999, 'p99.9');
    expect(h.percentile(99.9)).toBeLessThan(1e6);
  });

  it('rank 1 is exactly min and rank n exactly max', () => {
    const r = rng(42);
    const values = Array.from({ length: 500 }, () => Math.exp(4 + normal(r)));
    const h = histogramOf(values);
    const min = Math.min(...values);
    const max = Math.max(...values);
    // rank ceil(p/100 · 500) = 1 for p ≤ 0.2; = 500 for p > 99.8
    expect(h.percentile(0)).toBe(min);
    expect(h.percentile(0.1)).toBe(min);
    expect(h.percentile(0.2)).toBe(min);
    expect(h.percentile(100)).toBe(max);
    expect(h.percentile(99.9)).toBe(max);
  });

  it('single sample: every percentile is that sample exactly', () => {
    const h = histogramOf([123.456]);
    for (const p of [0, 1, 50, 99.9, 100]) expect(h.percentile(p)).toBe(123.456);
  });

  it('percentiles never leave [min, max]', () => {
    const values = [1000.1, 1000.2, 1000.3, 1000.4]; // all in one or two buckets
    const h = histogramOf(values);
    for (const p of [0, 10, 30, 50, 70, 100]) {
      expect(h.percentile(p)).toBeGreaterThanOrEqual(1000.1);
      expect(h.percentile(p)).toBeLessThanOrEqual(1000.4);
    }
  });

  it('empty histogram returns 0 for percentiles and mean', () => {
    const h = new DurationHistogram();
    for (const p of [0, 50, 99, 100]) expect(h.percentile(p)).toBe(0);
    expect(h.mean).toBe(0);
    expect(h.count).toBe(0);
    expect(h.countAtOrBelow(1e6)).toBe(0);
  });

  it('count, sum and mean track the samples exactly', () => {
    const values = [0, 1.5, 2.5, 1000, 0.0001];
    const h = histogramOf(values);
    expect(h.count).toBe(5);
    expect(h.sum).toBeCloseTo(1004.0001, 9);
    expect(h.mean).toBeCloseTo(1004.0001 / 5, 9);
  });
});

describe('DurationHistogram merge', () => {
  const cases: Array<[string, (r: () => number) => number, (r: () => number) => number]> = [
    ['same distribution', distributions.lognormal!, distributions.lognormal!],
    ['disjoint ranges (low then high)', (r) => r() * 10, (r) => 1e5 + r() * 1e6],
    ['disjoint ranges (high then low)', (r) => 1e5 + r() * 1e6, (r) => r() * 10],
    ['zeros and sub-µs vs large', distributions['sub-microsecond and zero mixed in']!, (r) => 5000 * r()],
  ];
  for (const [name, drawA, drawB] of cases) {
    it(`merging two histograms equals one fed all samples: ${name}`, () => {
      const r = rng(name.length * 31);
      const a = Array.from({ length: 3000 }, () => drawA(r));
      const b = Array.from({ length: 1700 }, () => drawB(r));
      const single = histogramOf([...a, ...b]);
      const merged = histogramOf(a).merge(histogramOf(b));
      expect(merged.count).toBe(single.count);
      expect(merged.sum).toBeCloseTo(single.sum, 6);
      expect(merged.min).toBe(single.min);
      expect(merged.max).toBe(single.max);
      for (const p of [0, ...PERCENTILES, 100]) expect(merged.percentile(p), `p${p}`).toBe(single.percentile(p));
      for (const le of [0.5, 1, 10, 100, 1000, 1e4, 1e6, 1e7]) {
        expect(merged.countAtOrBelow(le), `le=${le}`).toBe(single.countAtOrBelow(le));
      }
      // and it is still accurate against the exact values
      const sorted = [...a, ...b].sort((x, y) => x - y);
      for (const p of PERCENTILES) expectClose(merged.percentile(p), exactPercentile(sorted, p), `p${p}`);
    });
  }

  it('merging an empty histogram changes nothing, and merging into an empty one copies', () => {
    const h = histogramOf([1, 2, 3, 400]);
    const before = JSON.stringify(h.toJSON());
    h.merge(new DurationHistogram());
    expect(JSON.stringify(h.toJSON())).toBe(before);
    const copy = new DurationHistogram().merge(h);
    expect(copy.count).toBe(4);
    expect(copy.min).toBe(1);
    expect(copy.max).toBe(400);
    for (const p of PERCENTILES) expect(copy.percentile(p)).toBe(h.percentile(p));
  });

  it('merging many small histograms (per-minute style) equals one pass', () => {
    const r = rng(7);
    const all: number[] = [];
    const total = new DurationHistogram();
    for (let m = 0; m < 60; m++) {
      const values = Array.from({ length: 1 + Math.floor(r() * 50) }, () => Math.exp(5 + normal(r)));
      all.push(...values);
      total.merge(histogramOf(values));
    }
    const single = histogramOf(all);
    expect(total.count).toBe(all.length);
    for (const p of PERCENTILES) expect(total.percentile(p)).toBe(single.percentile(p));
  });
});

describe('DurationHistogram toJSON / fromJSON', () => {
  const samples: Record<string, number[]> = {
    empty: [],
    one: [42],
    'zeros only': [0, 0, 0],
    mixed: (() => {
      const r = rng(99);
      return Array.from({ length: 2000 }, () => distributions['sub-microsecond and zero mixed in']!(r));
    })(),
    'wide range': (() => {
      const r = rng(5);
      return Array.from({ length: 2000 }, () => distributions['log-uniform 1e-3..1e8']!(r));
    })(),
  };
  for (const [name, values] of Object.entries(samples)) {
    it(`round-trips through JSON.stringify with identical answers: ${name}`, () => {
      const h = histogramOf(values);
      const back = DurationHistogram.fromJSON(JSON.parse(JSON.stringify(h)));
      expect(back.count).toBe(h.count);
      expect(back.sum).toBe(h.sum);
      expect(back.min).toBe(h.min);
      expect(back.max).toBe(h.max);
      expect(back.mean).toBe(h.mean);
      for (const p of [0, ...PERCENTILES, 100]) expect(back.percentile(p)).toBe(h.percentile(p));
      for (const le of [0, 0.0005, 0.001, 1, 50, 1000, 1e9]) expect(back.countAtOrBelow(le)).toBe(h.countAtOrBelow(le));
      const bucketsOf = (x: DurationHistogram) => {
        const out: Array<[number, number]> = [];
        x.forEachBucket((ub, c) => out.push([ub, c]));
        return out;
      };
      expect(bucketsOf(back)).toEqual(bucketsOf(h));
      // the restored histogram still accepts samples and merges like the original
      back.add(7);
      h.add(7);
      expect(back.percentile(50)).toBe(h.percentile(50));
      expect(back.count).toBe(h.count);
    });
  }

  it('an empty histogram survives JSON (no Infinity) and behaves as empty', () => {
    const text = JSON.stringify(new DurationHistogram());
    expect(text).not.toContain('null');
    const back = DurationHistogram.fromJSON(JSON.parse(text));
    expect(back.count).toBe(0);
    expect(back.percentile(50)).toBe(0);
    back.add(5);
    expect(back.min).toBe(5);
    expect(back.max).toBe(5);
  });

  it('merge of restored histograms equals merge of originals', () => {
    const r = rng(11);
    const a = histogramOf(Array.from({ length: 800 }, () => r() * 100));
    const b = histogramOf(Array.from({ length: 800 }, () => 1000 + r() * 1e5));
    const viaJson = DurationHistogram.fromJSON(JSON.parse(JSON.stringify(a))).merge(
      DurationHistogram.fromJSON(JSON.parse(JSON.stringify(b))),
    );
    const direct = histogramOf([]).merge(a).merge(b);
    for (const p of PERCENTILES) expect(viaJson.percentile(p)).toBe(direct.percentile(p));
    expect(viaJson.count).toBe(1600);
  });
});

describe('DurationHistogram countAtOrBelow', () => {
  it('is monotone, bounded by count, and reaches count above the max', () => {
    const r = rng(3);
    const values = Array.from({ length: 3000 }, () => Math.exp(4 + 1.5 * normal(r)));
    const h = histogramOf(values);
    let prev = 0;
    for (let le = 0.001; le < 1e7; le *= 1.7) {
      const c = h.countAtOrBelow(le);
      expect(c).toBeGreaterThanOrEqual(prev);
      expect(c).toBeLessThanOrEqual(h.count);
      prev = c;
    }
    expect(h.countAtOrBelow(Math.max(...values) * 1.02)).toBe(h.count);
    expect(h.countAtOrBelow(Math.min(...values) / 1.02)).toBe(0);
  });

  it('counts only whole buckets: within 1 % of the exact count at or below', () => {
    const r = rng(17);
    const values = Array.from({ length: 5000 }, () => r() * 1000);
    const h = histogramOf(values);
    for (const le of [10, 100, 250, 500, 999]) {
      const c = h.countAtOrBelow(le);
      // every counted sample lies in a bucket whose upper bound ≤ le, so it is ≤ le
      expect(c).toBeLessThanOrEqual(values.filter((v) => v <= le).length);
      // and every sample ≤ le/γ (one bucket below) is counted
      expect(c).toBeGreaterThanOrEqual(values.filter((v) => v <= le / 1.0101).length);
    }
  });

  it('at a bucket upper bound, includes that bucket', () => {
    const h = histogramOf([100]);
    let ub = 0;
    h.forEachBucket((u) => (ub = u));
    expect(ub).toBeGreaterThanOrEqual(100);
    expect(ub / 100).toBeLessThan(1.011);
    expect(h.countAtOrBelow(ub)).toBe(1);
    expect(h.countAtOrBelow(ub * 0.999)).toBe(0);
    expect(bucketUpperBound(0)).toBe(1);
  });

  it('zero and sub-µs samples count at or below any le ≥ 1 µs, not below', () => {
    const h = histogramOf([0, 0.0001, 0.0009, 5]);
    expect(h.countAtOrBelow(MIN_TRACKED_MS)).toBe(3);
    expect(h.countAtOrBelow(1)).toBe(3);
    expect(h.countAtOrBelow(10)).toBe(4);
    expect(h.countAtOrBelow(0.0001)).toBe(0);
  });

  it('forEachBucket visits ascending upper bounds whose counts sum to count', () => {
    const r = rng(23);
    const h = histogramOf(Array.from({ length: 1000 }, () => (r() < 0.1 ? 0 : r() * 1e4)));
    let total = 0;
    let last = -Infinity;
    h.forEachBucket((ub, c) => {
      expect(ub).toBeGreaterThan(last);
      expect(c).toBeGreaterThan(0);
      last = ub;
      total += c;
    });
    expect(total).toBe(1000);
  });
});

describe('bucketIndex (from a logarithm, then a table lookup)', () => {
  /** The definition: bucket i holds (γ^(i−1), γ^i]. */
  function holds(ms: number): void {
    const i = bucketIndex(ms);
    expect(ms, `${ms} above its bucket ${i}`).toBeLessThanOrEqual(bucketUpperBound(i));
    expect(ms, `${ms} at or below the bucket under ${i}`).toBeGreaterThan(bucketUpperBound(i - 1));
  }

  /** The double next to `x`, above (1n) or below (-1n). */
  function next(x: number, d: 1n | -1n): number {
    const f = new Float64Array([x]);
    const u = new BigUint64Array(f.buffer);
    u[0] = u[0]! + d;
    return f[0]!;
  }

  it('puts every value in the one bucket whose bounds hold it, across the tracked range', () => {
    const r = rng(77);
    for (let k = 0; k < 200_000; k++) holds(MIN_TRACKED_MS * Math.pow(1e12 - 1, r())); // 1 µs to 1e9 ms, log-uniform
    for (let k = 0; k < 20_000; k++) holds(Math.round(r() * 100_000) / 10); // the writer's one-decimal values
  });

  it('on the bounds themselves and the doubles next to them', () => {
    for (let i = bucketIndex(MIN_TRACKED_MS) + 1; bucketUpperBound(i) < 1e9; i++) {
      const b = bucketUpperBound(i);
      expect(bucketIndex(b)).toBe(i);
      expect(bucketIndex(next(b, 1n))).toBe(i + 1);
      expect(bucketIndex(next(b, -1n))).toBe(i);
    }
  });

  it('the logarithm (a process\'s first records) and the table give the same bucket, on and next to every bound', () => {
    useBucketTable();
    for (let i = bucketIndex(MIN_TRACKED_MS); bucketUpperBound(i) < 1e9; i++) {
      const b = bucketUpperBound(i);
      for (const ms of [b, next(b, 1n), next(b, -1n), b * 1.003]) expect(bucketByLog(ms), `${ms}`).toBe(bucketIndex(ms));
    }
    const r = rng(79);
    for (let k = 0; k < 50_000; k++) {
      const ms = MIN_TRACKED_MS * Math.pow(1e12 - 1, r());
      expect(bucketByLog(ms), `${ms}`).toBe(bucketIndex(ms));
    }
    expect(bucketByLog(MIN_TRACKED_MS)).toBe(bucketIndex(MIN_TRACKED_MS));
  });

  it('a process that adds a few hundred durations computes the bounds of their buckets, not all 2,800 nor the table', async () => {
    vi.resetModules();
    const pow = vi.spyOn(Math, 'pow');
    try {
      const fresh = await import('../../src/stats/duration-histogram.js');
      const h = new fresh.DurationHistogram();
      const r = rng(80);
      for (let k = 0; k < 300; k++) h.add(Math.round(10 + r() * 3_000));
      expect(h.count).toBe(300);
      expect(pow.mock.calls.length).toBeLessThan(900);
      expect(pow.mock.calls.length).toBeGreaterThan(0);
    } finally {
      pow.mockRestore();
    }
  });

  it('agrees with ceil(ln(ms) / ln γ) except within a rounding error of a bound', () => {
    const lnGamma = Math.log(1.005 / 0.995);
    const r = rng(78);
    let checked = 0;
    for (let k = 0; k < 100_000; k++) {
      const ms = MIN_TRACKED_MS * Math.pow(1e12 - 1, r());
      const x = Math.log(ms) / lnGamma;
      if (Math.abs(x - Math.round(x)) < 1e-9) continue;
      expect(bucketIndex(ms)).toBe(Math.ceil(x) + 0); // + 0: no -0
      checked++;
    }
    expect(checked).toBeGreaterThan(99_000);
  });
});


describe('DurationHistogram second extremes (min2, max2)', () => {
  /** The second smallest and second largest of `values`, repeats counted; ±Infinity below two. */
  const seconds = (values: readonly number[]) => {
    const s = [...values].sort((x, y) => x - y);
    return s.length < 2 ? { min2: Infinity, max2: -Infinity } : { min2: s[1]!, max2: s[s.length - 2]! };
  };
  const draws: Array<[string, (r: () => number) => number]> = [
    ['spread', (r) => Math.round(r() * 500_000) / 100],
    ['few values, many repeats', (r) => 10 * Math.floor(r() * 4)],
  ];

  for (const [name, draw] of draws) {
    it(`are the second smallest and largest sample, added one by one or merged (${name}, 500 sets)`, () => {
      const r = rng(name.length);
      for (let t = 0; t < 500; t++) {
        const values = Array.from({ length: Math.floor(r() * 12) }, () => draw(r));
        const h = histogramOf(values);
        expect({ min2: h.min2, max2: h.max2 }, `${values}`).toEqual(seconds(values));
        const cut = Math.floor(r() * (values.length + 1));
        const merged = histogramOf(values.slice(0, cut)).merge(histogramOf(values.slice(cut)));
        expect({ min2: merged.min2, max2: merged.max2 }, `${values} cut at ${cut}`).toEqual(seconds(values));
        const back = DurationHistogram.fromJSON(JSON.parse(JSON.stringify(h.toJSON())));
        expect({ min2: back.min2, max2: back.max2, exact: back.secondExact }).toEqual({ ...seconds(values), exact: true });
      }
    });

    it(`minus tells the rest's extremes exactly, declining only where the part holds both samples the whole keeps on a side (${name})`, () => {
      const r = rng(100 + name.length);
      let answered = 0;
      let declined = 0;
      for (let t = 0; t < 2_000; t++) {
        const values = Array.from({ length: 2 + Math.floor(r() * 12) }, () => draw(r));
        const inPart = values.map(() => r() < 0.3);
        if (inPart.every(Boolean)) inPart[0] = false;
        const part = values.filter((_, i) => inPart[i]);
        const rest = values.filter((_, i) => !inPart[i]);
        const whole = histogramOf(values);
        const got = whole.minus(histogramOf(part));
        // The part holds the minimum and another sample no larger than the whole's second
        // smallest (or the same at the top): the rest's is a third one, which the whole does not keep.
        const s = seconds(values);
        const lo = Math.min(...values);
        const hi = Math.max(...values);
        const unknowable = (part.includes(lo) && part.filter((v) => v <= s.min2).length >= 2) || (part.includes(hi) && part.filter((v) => v >= s.max2).length >= 2);
        if (unknowable) {
          declined++;
          expect(got, `${values} less ${part}`).toBeUndefined();
          continue;
        }
        answered++;
        expect(got, `${values} less ${part}`).toBeDefined();
        expect({ count: got!.count, min: got!.min, max: got!.max }).toEqual({ count: rest.length, min: Math.min(...rest), max: Math.max(...rest) });
        // Its own second extremes are not known: only bounds, and it says so.
        expect(got!.secondExact).toBe(false);
        expect(got!.toJSON().min2).toBeUndefined();
      }
      expect(answered).toBeGreaterThan(1_000);
      expect(declined).toBeGreaterThan(0);
    });
  }

  it('a histogram that knows only bounds of its second extremes never answers from them, and merging passes that on', () => {
    const whole = histogramOf([5, 6, 7, 9]);
    const rest = whole.minus(histogramOf([7]))!; // 5, 6, 9: its min2 is not known
    expect(rest.min).toBe(5);
    expect(rest.max).toBe(9);
    // Taking the 5 away needs the second smallest, which rest does not know exactly.
    expect(rest.minus(histogramOf([5]))).toBeUndefined();
    const merged = histogramOf([1, 2]).merge(rest);
    expect(merged.secondExact).toBe(false);
    expect(merged.minus(histogramOf([1]))).toBeUndefined();
    // Through JSON too.
    expect(DurationHistogram.fromJSON(JSON.parse(JSON.stringify(rest.toJSON()))).secondExact).toBe(false);
    // Adding to it keeps its minimum and maximum right.
    rest.add(4);
    rest.add(10);
    expect([rest.min, rest.max, rest.count]).toEqual([4, 10, 5]);
  });
});
