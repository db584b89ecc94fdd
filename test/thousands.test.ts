import { describe, expect, it } from 'vitest';
import { thousands } from '../src/thousands.js';
import { rng } from './helpers/rng.js';

/** What it stands in for. */
const reference = (n: number, digits?: number) =>
  digits === undefined ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

describe('thousands writes what toLocaleString("en-US") writes', () => {
  it('on edge values', () => {
    const values = [0, -0, 1, 999, 1000, 1234.5, 1e20, 1e21, 1e-7, -1e-7, 0.0005, -0.0004, 0.9995, 999.9995, 9999999.9999, 1.005, 2.675, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, 5e-324];
    for (const v of values) for (const d of [undefined, 0, 1, 2, 4]) expect(thousands(v, d), `${v} with ${d} digits`).toBe(reference(v, d));
  });

  it('on 50,000 random values across magnitudes, near ties included', () => {
    const rand = rng(99);
    for (let i = 0; i < 50_000; i++) {
      let v = (rand() - 0.3) * 10 ** (Math.floor(rand() * 14) - 3);
      if (i % 5 === 0) v = Math.round(v * 1000) / 1000;
      if (i % 7 === 0) v = Math.round(v * 2) / 2 + 0.0005; // a tie in its shortest decimal form
      for (const d of [undefined, 0, 1, 2]) expect(thousands(v, d)).toBe(reference(v, d));
    }
  });
});
