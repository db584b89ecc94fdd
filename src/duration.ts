import { PerfmonError } from './errors.js';
import { parseTimestamp } from './schema.js';
import type { Until } from './report/read-window.js';

const UNIT_MINUTES: Record<string, number> = { s: 1 / 60, m: 1, h: 60, d: 1440 };

/**
 * A window length in minutes: a bare number is minutes (`30`), or a number with a unit
 * (`90s`, `30m`, `2h`, `1d`).
 */
export function parseWindow(text: string, flag = '--window'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/i.exec(text);
  const minutes = m ? Number(m[1]) * UNIT_MINUTES[(m[2] || 'm').toLowerCase()]! : NaN;
  if (!(minutes > 0) || !Number.isFinite(minutes)) {
    throw new PerfmonError('BAD_WINDOW', `invalid ${flag} "${text}": use minutes (30) or a duration (90s, 30m, 2h, 1d)`, 2);
  }
  return minutes;
}

/** `now`, `latest`, or an ISO-8601 time with a zone (or epoch milliseconds). */
export function parseUntil(text: string): Until {
  const t = text.trim().toLowerCase();
  if (t === 'now' || t === 'latest') return t;
  const ms = /^\d+$/.test(t) ? Number(t) : parseTimestamp(text.trim());
  if (ms === undefined || !Number.isFinite(ms)) {
    throw new PerfmonError(
      'BAD_UNTIL',
      `invalid --until "${text}": use now, latest, or an ISO-8601 time with a zone (2026-11-27T09:00:00Z)`,
      2,
    );
  }
  return ms;
}
