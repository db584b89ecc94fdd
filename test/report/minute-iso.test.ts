import { describe, expect, it } from 'vitest';
import { minuteIso } from '../../src/report/minute-iso.js';
import { rng } from '../helpers/rng.js';

describe('minuteIso', () => {
  it('formats as Date#toISOString does: a day of minutes in order, random minutes and instants across 1900–12000', () => {
    const iso = minuteIso();
    const day = Date.UTC(2026, 10, 27);
    for (let m = day - 60_000; m <= day + 86_400_000; m += 60_000) expect(iso(m)).toBe(new Date(m).toISOString());
    const rand = rng(11);
    const lo = Date.UTC(1900, 0, 1);
    const hi = Date.UTC(12000, 0, 1);
    for (let i = 0; i < 5_000; i++) {
      const t = lo + rand() * (hi - lo);
      // Whole minutes (the queue history's), and instants that are not.
      const ms = i % 2 === 0 ? Math.floor(t / 60_000) * 60_000 : Math.floor(t);
      expect(iso(ms)).toBe(new Date(ms).toISOString());
    }
  });
});
