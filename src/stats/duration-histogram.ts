/**
 * A mergeable log-bucketed histogram of durations (milliseconds), after DDSketch: bucket i holds
 * values in (γ^(i-1), γ^i] with γ = (1+α)/(1-α), and reports 2γ^i/(γ+1), which is within α of
 * every value in the bucket. With α = 0.5 % every percentile is within 0.5 % of the exact
 * nearest-rank value, leaving room under the 1 % the report promises.
 *
 * Merging adds bucket counts, so per-minute, per-file and per-worker histograms combine into the
 * same numbers a single pass would give: report, watch, serve and the cache all use this one type.
 */

import type { ByteReader, ByteWriter } from './bytes.js';
import { ExactSum } from './exact-sum.js';

export const RELATIVE_ACCURACY = 0.005;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const INV_LOG_GAMMA = 1 / Math.log(GAMMA);
/** Values below this (1 µs) share one bucket reported as 0, then clamped to the observed minimum. */
export const MIN_TRACKED_MS = 1e-3;
/** Values above this (~11.6 days) share the top bucket, then clamped to the observed maximum. */
export const MAX_TRACKED_MS = 1e9;
const MIN_INDEX = Math.ceil(Math.log(MIN_TRACKED_MS) * INV_LOG_GAMMA);
const MAX_INDEX = Math.ceil(Math.log(MAX_TRACKED_MS) * INV_LOG_GAMMA);

// Bucket i holds the durations in (bound(i − 1), bound(i)], bound(i) = γ^i as Math.pow gives it.
// Bounds are computed when first asked for (BOUNDS holds 0 until then): a cached run puts a few
// hundred records into a few hundred buckets, and computing all 2,800 bounds and the table below
// before its first record was ≈ 1.2 ms of it.
const BOUND_BASE = MIN_INDEX - 1;
const BOUNDS = new Float64Array(MAX_INDEX - BOUND_BASE + 1);

/** γ^i, for BOUND_BASE ≤ i ≤ MAX_INDEX. */
function bound(i: number): number {
  const k = i - BOUND_BASE;
  return BOUNDS[k] || (BOUNDS[k] = Math.pow(GAMMA, i));
}

// Finding a value's bucket: from a logarithm, until a thread about to add many records (an
// indexing read of a megabyte or more) builds a table (APPROX, useBucketTable), as a logarithm
// per record was a fifth of the cost of rolling a record up. The double's exponent and top 8
// mantissa bits pick a slice of the number line 0.4 % wide; APPROX holds the bucket of each
// slice's start, and as a bucket is 1 % wide, at most one boundary lies between that start and
// the value. Either way the bucket is the first whose bound is at least the value. (Not built
// after so many records: code V8 had optimised before then was thrown away when it switched.)
const E_MIN = 1023 + Math.floor(Math.log2(MIN_TRACKED_MS));
const E_MAX = 1023 + Math.floor(Math.log2(MAX_TRACKED_MS));
let APPROX: Int32Array | undefined;
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
/** Index of the word holding a double's sign, exponent and top mantissa bits. */
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/**
 * The table, every bound computed. The number line is cut into slices, 256 per power of two: a
 * positive double's slice (APPROX's index) is its exponent less E_MIN and its top 8 mantissa
 * bits, from the high word of its bits: (((hi >>> 20) - E_MIN) << 8) | ((hi >>> 12) & 255).
 */
function approxTable(): Int32Array {
  for (let i = BOUND_BASE; i <= MAX_INDEX; i++) bound(i);
  const approx = new Int32Array((E_MAX - E_MIN + 1) * 256);
  // approx[k] is the first bucket whose bound is at least slice k's start: bucket i for the
  // slices that start in (BOUNDS[i − 1], BOUNDS[i]], which are those after the one holding
  // BOUNDS[i − 1], up to the one holding BOUNDS[i] (a slice holding a bound starts at or below
  // it). Filled a bucket at a time (2,800 steps), not a slice at a time (10,000), the bounds'
  // high words read through a view and no call but the fill, as this runs before V8 has
  // optimised anything.
  const boundWords = new Uint32Array(BOUNDS.buffer);
  let from = 0;
  for (let i = BOUND_BASE; i < MAX_INDEX; i++) {
    const hi = boundWords[2 * (i - BOUND_BASE) + HI]!;
    // The slice holding BOUNDS[i] (negative below the table: nothing to fill).
    const to = Math.min(approx.length, ((((hi >>> 20) - E_MIN) << 8) | ((hi >>> 12) & 255)) + 1);
    if (to > from) {
      approx.fill(i, from, to);
      from = to;
    }
  }
  approx.fill(MAX_INDEX, from);
  return approx;
}

/**
 * Builds the table, for a thread about to add many records (indexJobs, warmUpIndexing): before
 * they are added, so that the code V8 optimises for them takes one way throughout.
 */
export function useBucketTable(): void {
  APPROX ??= approxTable();
}

/** The bucket of a duration of at least MIN_TRACKED_MS. */
export function bucketIndex(ms: number): number {
  if (ms >= MAX_TRACKED_MS) return MAX_INDEX;
  if (APPROX === undefined) return bucketByLog(ms);
  F64[0] = ms;
  const hi = U32[HI]!;
  let i = APPROX[(((hi >>> 20) - E_MIN) << 8) | ((hi >>> 12) & 255)]!;
  while (ms > BOUNDS[i - BOUND_BASE]!) i++;
  return i;
}

/**
 * bucketIndex from a logarithm instead of the table: the same bucket, as the first whose bound is
 * at least `ms`, searched from one below the logarithm's (which a rounding error may put one off).
 */
export function bucketByLog(ms: number): number {
  let i = Math.max(BOUND_BASE, Math.ceil(Math.log(ms) * INV_LOG_GAMMA) - 1);
  while (ms > bound(i)) i++;
  return i;
}

/** The value reported for every sample in bucket `i`. */
export function bucketValue(i: number): number {
  return (2 * Math.pow(GAMMA, i)) / (GAMMA + 1);
}

/** Upper bound of bucket `i` (inclusive). */
export function bucketUpperBound(i: number): number {
  return i >= BOUND_BASE && i <= MAX_INDEX ? bound(i) : Math.pow(GAMMA, i);
}

/**
 * ceil(p/100 · n) without floating-point noise: (99.9 / 100) · 1000 is 999.0000000000001, whose
 * ceiling would be rank 1000 (the maximum) instead of 999.
 */
export function nearestRank(p: number, n: number): number {
  const x = (p / 100) * n;
  const r = Math.round(x);
  return Math.abs(x - r) <= 1e-12 * Math.max(1, x) ? r : Math.ceil(x);
}

/** Plain-data form, for worker messages and the on-disk cache. */
export interface HistogramData {
  offset: number;
  /** A Float64Array between threads (cloned as one block), a list in JSON. */
  counts: number[] | Float64Array;
  zero: number;
  count: number;
  /** The exact sum's partials (see ExactSum). */
  sum: number[];
  min: number;
  max: number;
  /** The second smallest and second largest samples (0 below two samples); absent when only
   *  bounds are known (a histogram made by `minus`). */
  min2?: number;
  max2?: number;
}

export class DurationHistogram {
  /** counts[k] is the count of bucket `offset + k`. */
  private counts: Float64Array = new Float64Array(0);
  private offset = 0;
  /** Samples below MIN_TRACKED_MS. */
  private zero = 0;
  count = 0;
  private total = new ExactSum();
  min = Infinity;
  max = -Infinity;
  /**
   * The second smallest and second largest samples, counting repeats (of 3, 3, 5: 3 and 3). They
   * let `minus` tell the rest's minimum when the part removed holds the minimum, without the
   * rest's samples (see minus). A histogram made by `minus` knows only bounds of its own
   * (min2 = min, max2 = max): `secondExact` says which.
   */
  min2 = Infinity;
  max2 = -Infinity;
  secondExact = true;

  add(ms: number): void {
    this.count++;
    this.total.add(ms);
    // One comparison per side for most samples, as when only the extremes were kept.
    if (ms < this.min2) {
      if (ms < this.min) {
        this.min2 = this.min;
        this.min = ms;
      } else this.min2 = ms;
    }
    if (ms > this.max2) {
      if (ms > this.max) {
        this.max2 = this.max;
        this.max = ms;
      } else this.max2 = ms;
    }
    if (ms < MIN_TRACKED_MS) {
      this.zero++;
      return;
    }
    const i = bucketIndex(ms);
    let k = i - this.offset;
    if (k < 0 || k >= this.counts.length) k = this.grow(i);
    this.counts[k]! += 1;
  }

  /** An empty histogram with room for the buckets `like` has now (see Rollup.sizeLike). */
  static withRoomOf(like: DurationHistogram): DurationHistogram {
    const h = new DurationHistogram();
    if (like.counts.length > 0) {
      h.offset = like.offset;
      h.counts = new Float64Array(like.counts.length);
    }
    return h;
  }

  /** Adds another histogram's samples to this one. */
  merge(other: DurationHistogram): this {
    if (other.count === 0) return this;
    this.mergeExtremes(other);
    this.total.merge(other.total);
    this.zero += other.zero;
    const oc = other.counts;
    let lo = 0;
    let hi = oc.length;
    while (lo < hi && oc[lo] === 0) lo++;
    while (hi > lo && oc[hi - 1] === 0) hi--;
    if (lo === hi) return this;
    // Room for the other's filled span first, then one plain loop (an add per bucket, not a test,
    // a range check and an add): a cached run merges a few hundred histograms with code V8 has
    // not optimised yet, where every operation in the loop counts.
    if (other.offset + lo < this.offset || this.counts.length === 0) this.grow(other.offset + lo);
    if (other.offset + hi - 1 >= this.offset + this.counts.length) this.grow(other.offset + hi - 1);
    const tc = this.counts;
    const shift = other.offset - this.offset;
    for (let j = lo; j < hi; j++) tc[j + shift]! += oc[j]!;
    return this;
  }

  /**
   * This histogram less `part`, a subset of its samples; undefined when that cannot be told
   * exactly from the two: when the rest's minimum or maximum is not known (see restMin) and
   * `restExtremes` (the rest's, found otherwise) is not given, or the part is not a subset.
   */
  minus(part: DurationHistogram, restExtremes?: { min: number; max: number }): DurationHistogram | undefined {
    const total = this.total.minus(part.total);
    const h = new DurationHistogram();
    h.count = this.count - part.count;
    h.zero = this.zero - part.zero;
    if (total === undefined || h.count < 0 || h.zero < 0 || h.zero > h.count) return undefined;
    if (h.count === 0) return total.value === 0 ? h : undefined;
    if (restExtremes !== undefined) {
      h.min = restExtremes.min;
      h.max = restExtremes.max;
    } else {
      const min = this.restMin(part);
      const max = this.restMax(part);
      if (min === undefined || max === undefined) return undefined;
      h.min = min;
      h.max = max;
    }
    // The rest's second extremes are not known: bounds that keep add() and merge() right.
    h.min2 = h.min;
    h.max2 = h.max;
    h.secondExact = false;
    h.total = total;
    h.offset = this.offset;
    h.counts = this.counts.slice();
    const pc = part.counts;
    for (let j = 0; j < pc.length; j++) {
      const c = pc[j]!;
      if (c === 0) continue;
      const k = part.offset + j - h.offset;
      if (k < 0 || k >= h.counts.length || h.counts[k]! < c) return undefined;
      h.counts[k]! -= c;
    }
    return h;
  }

  /**
   * The smallest sample left when `part` (a subset, not all of them) is taken away, or undefined
   * when these two histograms cannot tell it. Where the part does not hold the minimum, it is
   * the minimum. Where it does, and holds no other sample up to the second smallest, the second
   * smallest is left: of 3, 3, 5 less one 3, the other 3; of 3, 4, 5 less the 3, the 4. Where
   * the part holds two samples up to the second smallest, the rest's smallest is not among the
   * two this histogram keeps.
   */
  private restMin(part: DurationHistogram): number | undefined {
    if (part.count === 0 || part.min > this.min) return this.min;
    if (!this.secondExact || !part.secondExact) return undefined;
    return part.count >= 2 && part.min2 <= this.min2 ? undefined : this.min2;
  }

  /** The largest sample left when `part` is taken away (see restMin). */
  private restMax(part: DurationHistogram): number | undefined {
    if (part.count === 0 || part.max < this.max) return this.max;
    if (!this.secondExact || !part.secondExact) return undefined;
    return part.count >= 2 && part.max2 >= this.max2 ? undefined : this.max2;
  }

  /**
   * Nearest-rank percentile: the value of rank ceil(p/100 · n), within RELATIVE_ACCURACY of the
   * exact answer and never outside [min, max]. 0 for an empty histogram.
   */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, nearestRank(p, this.count));
    if (rank === this.count) return this.max;
    if (rank === 1) return this.min;
    let seen = this.zero;
    let value = this.max;
    if (seen >= rank) {
      value = 0;
    } else {
      for (let k = 0; k < this.counts.length; k++) {
        seen += this.counts[k]!;
        if (seen >= rank) {
          value = bucketValue(this.offset + k);
          break;
        }
      }
    }
    return Math.min(this.max, Math.max(this.min, value));
  }

  /** Sum of the samples, exact whatever the order they were added or merged in. */
  get sum(): number {
    return this.total.value;
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** Count of samples whose bucket lies entirely at or below `ms` (for Prometheus `le` buckets). */
  countAtOrBelow(ms: number): number {
    let n = ms >= MIN_TRACKED_MS ? this.zero : 0;
    for (let k = 0; k < this.counts.length; k++) {
      if (bucketUpperBound(this.offset + k) > ms) break;
      n += this.counts[k]!;
    }
    return n;
  }

  /** Visits non-empty buckets in ascending order as (upper bound, count); the zero bucket first. */
  forEachBucket(visit: (upperBoundMs: number, count: number) => void): void {
    if (this.zero > 0) visit(MIN_TRACKED_MS, this.zero);
    for (let k = 0; k < this.counts.length; k++) {
      const c = this.counts[k]!;
      if (c > 0) visit(bucketUpperBound(this.offset + k), c);
    }
  }

  /** Plain data; `typed` (true, not a key JSON.stringify passes) keeps the counts a Float64Array. */
  toJSON(typed?: unknown): HistogramData {
    let lo = 0;
    let hi = this.counts.length;
    while (lo < hi && this.counts[lo] === 0) lo++;
    while (hi > lo && this.counts[hi - 1] === 0) hi--;
    return {
      offset: this.offset + lo,
      counts: typed === true ? this.counts.slice(lo, hi) : Array.from(this.counts.subarray(lo, hi)),
      zero: this.zero,
      count: this.count,
      sum: this.total.toJSON(),
      // JSON has no Infinity: an empty histogram's bounds travel as 0 and are restored by count.
      min: this.count === 0 ? 0 : this.min,
      max: this.count === 0 ? 0 : this.max,
      ...(this.secondExact ? { min2: this.count < 2 ? 0 : this.min2, max2: this.count < 2 ? 0 : this.max2 } : {}),
    };
  }

  static fromJSON(data: HistogramData): DurationHistogram {
    const h = new DurationHistogram();
    h.offset = data.offset;
    h.counts = data.counts instanceof Float64Array ? data.counts : Float64Array.from(data.counts);
    h.zero = data.zero;
    h.count = data.count;
    h.total = ExactSum.fromJSON(data.sum);
    h.min = data.count === 0 ? Infinity : data.min;
    h.max = data.count === 0 ? -Infinity : data.max;
    if (data.min2 === undefined || data.max2 === undefined) {
      h.min2 = h.min;
      h.max2 = h.max;
      h.secondExact = false;
    } else {
      h.min2 = data.count < 2 ? Infinity : data.min2;
      h.max2 = data.count < 2 ? -Infinity : data.max2;
    }
    return h;
  }

  /** The binary form (see bytes.ts): every field as it is, the counts without their zero ends. */
  encode(w: ByteWriter): void {
    let lo = 0;
    let hi = this.counts.length;
    while (lo < hi && this.counts[lo] === 0) lo++;
    while (hi > lo && this.counts[hi - 1] === 0) hi--;
    w.f64(this.offset + lo);
    w.f64(this.zero);
    w.f64(this.count);
    w.f64(this.min);
    w.f64(this.max);
    w.f64(this.min2);
    w.f64(this.max2);
    w.u8(this.secondExact ? 1 : 0);
    this.total.encode(w);
    w.counts(this.counts.subarray(lo, hi));
  }

  static decode(r: ByteReader): DurationHistogram {
    const h = new DurationHistogram();
    h.offset = r.f64();
    h.zero = r.f64();
    h.count = r.f64();
    h.min = r.f64();
    h.max = r.f64();
    h.min2 = r.f64();
    h.max2 = r.f64();
    h.secondExact = r.u8() === 1;
    h.total = ExactSum.decode(r);
    h.counts = r.counts();
    return h;
  }

  /** The count and the extremes of a merge with `other` (not empty), second extremes included. */
  private mergeExtremes(other: DurationHistogram): void {
    this.count += other.count;
    // The two smallest of both pairs (min ≤ min2 in each), and the two largest.
    if (other.min < this.min) {
      this.min2 = Math.min(this.min, other.min2);
      this.min = other.min;
    } else this.min2 = Math.min(this.min2, other.min);
    if (other.max > this.max) {
      this.max2 = Math.max(this.max, other.max2);
      this.max = other.max;
    } else this.max2 = Math.max(this.max2, other.max);
    this.secondExact &&= other.secondExact;
  }

  /**
   * This histogram less `part`, where the histograms `rest` hold exactly what is left (a file's
   * summary less some of its minutes, `rest` being the others): counts and the sum by subtraction,
   * the count and every extreme, second ones included, as merging `rest` would give them — without
   * a loop over `rest`'s buckets. Undefined where minus is, or when `rest` does not add up.
   */
  without(part: DurationHistogram, rest: readonly DurationHistogram[]): DurationHistogram | undefined {
    const ext = new DurationHistogram();
    for (const r of rest) if (r.count > 0) ext.mergeExtremes(r);
    const h = this.minus(part, { min: ext.min, max: ext.max });
    if (h === undefined || h.count !== ext.count) return undefined;
    h.min2 = ext.min2;
    h.max2 = ext.max2;
    h.secondExact = ext.secondExact;
    return h;
  }

  /** Makes room for bucket `i`, growing geometrically so a new histogram reallocates rarely. */
  private grow(i: number): number {
    const clamped = Math.max(MIN_INDEX, Math.min(MAX_INDEX, i));
    if (this.counts.length === 0) {
      this.offset = clamped - 64;
      this.counts = new Float64Array(128);
      return clamped - this.offset;
    }
    const slack = Math.max(32, this.counts.length >> 1);
    const lo = Math.min(this.offset, clamped - slack);
    const hi = Math.max(this.offset + this.counts.length, clamped + slack + 1);
    const next = new Float64Array(hi - lo);
    next.set(this.counts, this.offset - lo);
    this.counts = next;
    this.offset = lo;
    return clamped - lo;
  }
}
