import { describe, expect, it } from 'vitest';
import { ByteFormError, ByteReader, ByteWriter } from '../../src/stats/bytes.js';
import { DurationHistogram } from '../../src/stats/duration-histogram.js';
import { ExactSum } from '../../src/stats/exact-sum.js';
import { MINUTE_MS, Rollup } from '../../src/stats/rollup.js';
import type { MetricRecord } from '../../src/schema.js';
import { rng } from '../helpers/rng.js';

const T0 = Date.UTC(2026, 10, 27, 9, 0, 0);

/** Random records of all three types, stage names that are awkward as object keys among them. */
function randomRollup(seed: number, n: number): Rollup {
  const rand = rng(seed);
  const names = ['preprocess', 'classify', '__proto__', 'constructor', 'ünïcødé ✓', ''];
  const r = new Rollup();
  for (let i = 0; i < n; i++) {
    const ts = T0 + Math.floor(rand() * 30 * MINUTE_MS);
    const u = rand();
    let rec: MetricRecord;
    if (u < 0.2) rec = { type: 'queue', ts, depth: Math.floor(rand() * 200) };
    else if (u < 0.35) rec = { type: 'llm', ts, model: names[Math.floor(rand() * names.length)]!, durationMs: rand() < 0.9 ? rand() * 3000 : undefined, success: rand() > 0.1, llmTokens: Math.floor(rand() * 1000), llmCost: rand() / 100, cacheHit: rand() < 0.5 };
    else {
      // Durations from 0 (below the tracked range) to hours, so bucket counts vary in width.
      const durationMs = rand() < 0.05 ? 0 : Math.exp(rand() * 16) / 100;
      rec = { type: 'stage', ts, stage: names[Math.floor(rand() * names.length)]!, durationMs, success: rand() > 0.05, llmTokens: undefined, llmCost: rand() < 0.3 ? rand() / 1000 : undefined, cacheHit: undefined, model: undefined, error: undefined, signalId: undefined };
    }
    r.add(rec);
  }
  return r;
}

function roundTrip(r: Rollup, pad = 0): Rollup {
  const w = new ByteWriter();
  for (let i = 0; i < pad; i++) w.u8(0xee);
  r.encode(w);
  const bytes = w.bytes();
  // Read from an offset that is not a multiple of 8, as a part of a larger buffer would be.
  const reader = new ByteReader(bytes.subarray(pad));
  const back = Rollup.decode(reader);
  expect(reader.done, 'bytes left over').toBe(true);
  return back;
}

describe('the binary form of a rollup', () => {
  it('decodes to exactly what it encoded (as its JSON form says), for 200 random rollups', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const r = randomRollup(seed, seed % 7 === 0 ? 0 : seed * 5);
      expect(JSON.stringify(roundTrip(r, seed % 8))).toBe(JSON.stringify(r));
    }
  });

  it('keeps a histogram made by subtraction as one (second extremes as bounds only)', () => {
    const whole = new DurationHistogram();
    const part = new DurationHistogram();
    for (const x of [5, 7, 9, 11]) whole.add(x);
    part.add(11);
    const rest = whole.minus(part)!;
    expect(rest.secondExact).toBe(false);
    const w = new ByteWriter();
    rest.encode(w);
    const back = DurationHistogram.decode(new ByteReader(w.bytes()));
    expect(back.secondExact).toBe(false);
    expect(JSON.stringify(back)).toBe(JSON.stringify(rest));
  });

  it('stores counts in the narrowest width that holds them, and reads every width back', () => {
    for (const [max, width] of [
      [200, 1],
      [300, 2],
      [70_000, 4],
      [5e9, 8],
      [2.5, 8],
      [0xff, 1],
      [0x100, 2],
      [0xffff, 2],
      [0x10000, 4],
      [0xffffffff, 4],
      [0x100000000, 8],
      [-1, 8],
      [-0, 8],
      [NaN, 8],
      [Infinity, 8],
    ] as const) {
      const counts = new Float64Array([0, 1, max, 3]);
      const w = new ByteWriter();
      w.u8(1); // one byte before: the counts start aligned to their width all the same
      w.counts(counts);
      const bytes = w.bytes();
      // The count, the width byte, padding to the width, then the counts.
      expect(bytes[5]).toBe(width);
      expect(bytes.length).toBe(Math.ceil(6 / width) * width + 4 * width);
      const r = new ByteReader(bytes);
      r.u8();
      expect([...r.counts()]).toEqual([...counts]); // -0 and NaN too (toEqual tells -0 from 0)
      expect(r.done).toBe(true);
    }
  });

  it('reads a non-finite partial of a sum back as NaN, as the JSON form does', () => {
    const s = new ExactSum();
    s.add(Number.MAX_VALUE);
    s.add(Number.MAX_VALUE);
    const w = new ByteWriter();
    s.encode(w);
    const back = ExactSum.decode(new ByteReader(w.bytes()));
    expect(back.toJSON()).toEqual(ExactSum.fromJSON(JSON.parse(JSON.stringify(s.toJSON())) as number[]).toJSON());
    expect(back.value).toBeNaN();
  });

  it('throws ByteFormError on bytes cut short or a count width it never writes', () => {
    const w = new ByteWriter();
    randomRollup(7, 300).encode(w);
    const bytes = w.bytes();
    for (const cut of [0, 1, 8, 100, bytes.length - 1]) {
      expect(() => Rollup.decode(new ByteReader(bytes.subarray(0, cut))), `cut at ${cut}`).toThrow(ByteFormError);
    }
    const bad = new ByteWriter();
    bad.u32(2);
    bad.u8(3);
    expect(() => new ByteReader(bad.bytes()).counts()).toThrow(ByteFormError);
  });
});
