import { colors, type Colors } from './colors.js';
import { thousands } from '../thousands.js';

/**
 * Colour only on a TTY, never with NO_COLOR (https://no-color.org) or TERM=dumb; FORCE_COLOR
 * forces it (for tests and `less -R`).
 */
export function colorFor(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): Colors {
  const force = env.FORCE_COLOR;
  let on: boolean;
  if (force !== undefined && force !== '') on = force !== '0' && force !== 'false';
  else if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') on = false;
  else on = stream.isTTY === true && env.TERM !== 'dumb';
  return colors(on);
}

/**
 * Untrusted text (stage names, models, file contents) made safe for a terminal: control
 * characters, including ESC, are shown escaped instead of being interpreted.
 */
export function printable(s: string, max = 80): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return clean.length > max ? clean.slice(0, max - 1) + '…' : clean;
}

export function int(n: number): string {
  return thousands(Math.round(n));
}

export function fixed(n: number, digits = 1): string {
  return thousands(n, digits);
}

/** Milliseconds, readable: 0.42 ms, 850.4 ms, 1.83 s, 2.5 min. */
export function ms(v: number): string {
  if (v === 0) return '0 ms';
  if (v < 1) return `${v.toFixed(2)} ms`;
  if (v < 1000) return `${v.toFixed(1)} ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(2)} s`;
  return `${(v / 60_000).toFixed(1)} min`;
}

export function pct(v: number): string {
  return `${v.toFixed(1)} %`;
}

export function usd(v: number): string {
  return v < 1 ? `$${v.toFixed(4)}` : `$${v.toFixed(2)}`;
}

/** A window length in minutes, as the user would write it. */
export function windowLabel(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440} d`;
  if (minutes % 60 === 0) return `${minutes / 60} h`;
  if (minutes >= 1) return `${+minutes.toFixed(2)} min`;
  return `${Math.round(minutes * 60)} s`;
}

/** ISO time without milliseconds, for headings. */
export function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
