import { describe, expect, it } from 'vitest';
import { parseUntil, parseWindow } from '../src/duration.js';
import { PerfmonError } from '../src/errors.js';

function perfmonError(fn: () => unknown): PerfmonError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PerfmonError);
    return e as PerfmonError;
  }
  throw new Error('expected a PerfmonError, nothing was thrown');
}

describe('parseWindow', () => {
  it('a bare number is minutes', () => {
    expect(parseWindow('30')).toBe(30);
    expect(parseWindow('1')).toBe(1);
    expect(parseWindow('2.5')).toBe(2.5);
  });

  it('units s, m, h, d convert to minutes', () => {
    expect(parseWindow('30m')).toBe(30);
    expect(parseWindow('2h')).toBe(120);
    expect(parseWindow('1d')).toBe(1440);
    expect(parseWindow('90s')).toBe(1.5);
    expect(parseWindow('7d')).toBe(7 * 24 * 60);
    expect(parseWindow('2H')).toBe(120);
    expect(parseWindow(' 15m ')).toBe(15);
  });

  it('rejects zero, negatives, words and unknown units with a PerfmonError naming the value', () => {
    for (const text of ['0', '0m', '-5', 'abc', '5x', '', 'm', '1h30m', '5 minutes']) {
      const e = perfmonError(() => parseWindow(text));
      expect(e.message, text).toContain(`"${text}"`);
      expect(e.code).toBe('BAD_WINDOW');
    }
  });

  it('names the flag it parses', () => {
    expect(perfmonError(() => parseWindow('abc', '--since')).message).toContain('--since');
  });
});

describe('parseUntil', () => {
  it('now and latest', () => {
    expect(parseUntil('now')).toBe('now');
    expect(parseUntil('latest')).toBe('latest');
    expect(parseUntil(' Latest ')).toBe('latest');
  });

  it('ISO times with a zone', () => {
    expect(parseUntil('2026-11-27T09:00:00Z')).toBe(Date.UTC(2026, 10, 27, 9));
    expect(parseUntil('2026-11-27T09:00:00.123Z')).toBe(Date.UTC(2026, 10, 27, 9, 0, 0, 123));
    expect(parseUntil('2026-11-27T10:00:00+01:00')).toBe(Date.UTC(2026, 10, 27, 9));
  });

  it('epoch milliseconds', () => {
    const ms = Date.UTC(2026, 10, 27, 9);
    expect(parseUntil(String(ms))).toBe(ms);
    expect(parseUntil('0')).toBe(0);
  });

  it('rejects words, zoneless ISO and impossible dates with a PerfmonError naming the value', () => {
    for (const text of ['yesterday', '2026-11-27T09:00:00', '2026-11-27', '2026-02-30T09:00:00Z', '', '-5', '1e12']) {
      const e = perfmonError(() => parseUntil(text));
      expect(e.message, text).toContain(`"${text}"`);
      expect(e.code).toBe('BAD_UNTIL');
    }
  });
});
