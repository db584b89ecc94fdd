import type { ByteReader, ByteWriter } from './bytes.js';

/**
 * An empty array whose elements V8 stores as doubles: an array literal starts out holding small
 * integers, and the first fraction stored turns it into doubles. Sums of integers (tokens) and of
 * fractions (costs, durations) then had arrays of two kinds, and the optimised `add` met the
 * second kind later and was thrown away and compiled again, in every thread.
 */
function doubles(): number[] {
  const a = [0.5];
  a.pop();
  return a;
}

/**
 * An exact, order-independent sum of doubles (Shewchuk's partials, as in Python's math.fsum).
 *
 * Floating-point addition is not associative: summing the same durations per minute then per
 * window, per worker then merged, or incrementally across cached runs would round differently
 * and print different last digits. Keeping the sum exactly (as a short list of non-overlapping
 * partials) and rounding only when read makes every path print the same number.
 */
export class ExactSum {
  /** Non-overlapping partials, smallest magnitude first; their exact sum is the value. Only the
   *  first `n` slots are in use (the array is not shrunk: setting a length is slow in V8). */
  private partials: number[] = doubles();
  private n = 0;

  add(x: number): void {
    const p = this.partials;
    const n = this.n;
    if (n === 2) {
      // The common case, without the general loop's branches (a third of what rolling a record
      // up cost): two partials stay two when the new rounding error adds to the smaller one
      // exactly, which holds unless the values' bits span more than two doubles hold. Three
      // error-free additions (Knuth's TwoSum) keep the exact value; anything else (an inexact
      // step, a non-finite value) goes the general way.
      const lo = p[0]!;
      const hi = p[1]!;
      const s = hi + x;
      const sx = s - hi;
      const e = hi - (s - sx) + (x - sx); // hi + x = s + e
      const t = lo + e;
      const te = t - lo;
      if (lo - (t - te) + (e - te) === 0) {
        // lo + e = t exactly; s + t as two non-overlapping partials again.
        const u = s + t;
        const ut = u - s;
        const v = s - (u - ut) + (t - ut);
        if (u - u === 0) {
          if (v === 0) {
            p[0] = u;
            this.n = 1;
          } else {
            p[0] = v;
            p[1] = u;
          }
          return;
        }
      }
    }
    let i = 0;
    for (let j = 0; j < n; j++) {
      let y = p[j]!;
      if (Math.abs(x) < Math.abs(y)) {
        const t = x;
        x = y;
        y = t;
      }
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) p[i++] = lo;
      x = hi;
    }
    if (i < p.length) p[i] = x;
    else p.push(x);
    this.n = i + 1;
  }

  merge(other: ExactSum): this {
    for (let j = 0; j < other.n; j++) this.add(other.partials[j]!);
    return this;
  }

  /**
   * This sum less `other` (exactly: the partials of both, `other`'s negated), or undefined when a
   * partial is not finite (a sum that overflowed cannot be taken apart).
   */
  minus(other: ExactSum): ExactSum | undefined {
    const out = new ExactSum();
    for (let j = 0; j < this.n; j++) out.add(this.partials[j]!);
    for (let j = 0; j < other.n; j++) out.add(-other.partials[j]!);
    const finite = (s: ExactSum) => s.partials.slice(0, s.n).every(Number.isFinite);
    return finite(this) && finite(other) && finite(out) ? out : undefined;
  }

  /** The exact sum, correctly rounded to a double (round half to even). */
  get value(): number {
    const p = this.partials;
    let n = this.n;
    if (n === 0) return 0;
    let hi = p[--n]!;
    let lo = 0;
    while (n > 0) {
      const x = hi;
      const y = p[--n]!;
      hi = x + y;
      const yr = hi - x;
      lo = y - yr;
      if (lo !== 0) break;
    }
    // Half-way case: when the rest has the same sign as `lo`, `hi` must be rounded away.
    if (n > 0 && ((lo < 0 && p[n - 1]! < 0) || (lo > 0 && p[n - 1]! > 0))) {
      const y = lo * 2;
      const x = hi + y;
      const yr = x - hi;
      if (y === yr) hi = x;
    }
    // -0 + 0 is 0 in exact arithmetic; partials can leave a -0 behind for an all-(-0) input.
    return hi === 0 ? 0 : hi;
  }

  /** Plain data for worker messages and the cache: the partials themselves (exact). */
  toJSON(): number[] {
    return this.partials.slice(0, this.n);
  }

  /**
   * Restores the partials as they were saved, so saving again gives the same text. A sum that
   * overflowed holds non-finite partials (its value is NaN), which JSON writes as null: they come
   * back as NaN, so a sum restored from the cache stays what it was, not the finite rest of it.
   */
  static fromJSON(partials: readonly number[]): ExactSum {
    const s = new ExactSum();
    const p = doubles();
    for (const x of partials) p.push(Number.isFinite(x) ? x : NaN);
    s.partials = p;
    s.n = p.length;
    return s;
  }

  /** The binary form of toJSON (see bytes.ts). */
  encode(w: ByteWriter): void {
    w.u32(this.n);
    for (let j = 0; j < this.n; j++) w.f64(this.partials[j]!);
  }

  /** The binary form of fromJSON: non-finite partials come back as NaN, as from JSON. */
  static decode(r: ByteReader): ExactSum {
    const s = new ExactSum();
    const n = r.u32();
    const p = doubles();
    for (let j = 0; j < n; j++) {
      const x = r.f64();
      p.push(Number.isFinite(x) ? x : NaN);
    }
    s.partials = p;
    s.n = n;
    return s;
  }

  static of(values: Iterable<number>): ExactSum {
    const s = new ExactSum();
    for (const v of values) s.add(v);
    return s;
  }
}
