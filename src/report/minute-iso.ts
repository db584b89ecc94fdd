const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/**
 * A formatter of minute starts as ISO times (`new Date(ms).toISOString()`), for a report's queue
 * history: a day of it is 1,440 minutes, and building a Date and its text for each cost a cached
 * report ≈ 2 ms. The hour's text is made once; minutes in it only add their two digits. Anything
 * that is not a whole minute is formatted by Date.
 */
export function minuteIso(): (ms: number) => string {
  let hour = NaN;
  let prefix = '';
  return (ms) => {
    const h = Math.floor(ms / HOUR_MS) * HOUR_MS;
    const inHour = ms - h;
    if (inHour % MINUTE_MS !== 0 || !Number.isFinite(h)) return new Date(ms).toISOString();
    if (h !== hour) {
      hour = h;
      // "2026-11-27T09:00:00.000Z" less "00:00.000Z" (years beyond 9999 have more digits in front).
      prefix = new Date(h).toISOString().slice(0, -10);
    }
    const m = inHour / MINUTE_MS;
    return `${prefix}${m < 10 ? '0' : ''}${m}:00.000Z`;
  };
}
