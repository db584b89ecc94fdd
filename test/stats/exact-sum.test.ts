import { execFileSync } from 'node:child_process';
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

  it('keeps its partials non-overlapping and smallest first after every add, the fast way or not', () => {
    // Values spanning 2^-150..2^150 of both signs: many adds leave two partials (the fast path),
    // others need more (the general one); after each, the partials must be what the value relies
    // on: each smaller in magnitude than the lowest set bit of the next.
    const rand = rng(11);
    const big = (x: number) => BigInt(x * SCALE);
    const lowestBit = (b: bigint) => (b < 0n ? -b : b) & -(b < 0n ? -b : b);
    for (let round = 0; round < 40; round++) {
      const s = new ExactSum();
      const values: number[] = [];
      for (let i = 0; i < 300; i++) {
        const span = round % 4 === 0 ? 300 : round % 4 === 1 ? 40 : 8;
        const v = (rand() < 0.2 ? -1 : 1) * Math.round(rand() * 1e6) * 2 ** (Math.floor(rand() * span) - span / 2 - 20);
        values.push(v);
        s.add(v);
        const p = s.toJSON().map(big);
        for (let j = 0; j + 1 < p.length; j++) {
          const a = p[j]! < 0n ? -p[j]! : p[j]!;
          expect(a < lowestBit(p[j + 1]!)).toBe(true);
        }
        expect(s.value).toBe(exactReference(values));
      }
    }
  });

  it('holds a long run of durations or costs in two partials (no growing list to walk per add)', () => {
    const rand = rng(5);
    const durations = new ExactSum();
    const costs = new ExactSum();
    let most = 0;
    for (let i = 0; i < 100_000; i++) {
      durations.add(Math.round(rand() * 50_000) / 10);
      costs.add(Math.round(rand() * 1e4) / 1e6);
      most = Math.max(most, durations.toJSON().length, costs.toJSON().length);
    }
    expect(most).toBeLessThanOrEqual(2);
  });

  it('takes a non-finite value the general way: the sum becomes NaN or infinite as before', () => {
    const s = ExactSum.of([0.1, 0.2, 0.3]);
    s.add(Infinity);
    expect(s.value).toBeNaN();
    const t = ExactSum.of([Number.MAX_VALUE, 0.5]);
    t.add(Number.MAX_VALUE);
    expect(Number.isFinite(t.value)).toBe(false);
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

describe('ExactSum storage', () => {
  it('keeps partials in arrays of doubles, whether made empty, restored or decoded, and whatever is added', () => {
    // V8's elements kinds: an array of small integers turns into one of doubles when a fraction
    // is stored, and code optimised for one kind is thrown away when it meets the other. Asked
    // of V8 itself (%HasDoubleElements), in a process allowed to ask.
    const dist = JSON.stringify(new URL('../../dist/stats/', import.meta.url).pathname);
    const script = `
      const { ExactSum } = await import(${dist} + 'exact-sum.js');
      const { ByteReader, ByteWriter } = await import(${dist} + 'bytes.js');
      const tokens = new ExactSum(); tokens.add(776); tokens.add(412);
      const empty = new ExactSum();
      const restored = ExactSum.fromJSON([3, 5]);
      const w = new ByteWriter(); tokens.encode(w);
      const decoded = ExactSum.decode(new ByteReader(w.bytes()));
      console.log(JSON.stringify([tokens, empty, restored, decoded].map((s) => %HasDoubleElements(s.partials))));
    `;
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([true, true, true, true]);
  });
});
