/**
 * A number as `toLocaleString('en-US')` writes it — digits grouped by thousands with commas —
 * without Intl: its first use starts ICU, 15-30 ms of every run that prints a number on a 2-core
 * VM. `digits` fixes the fraction digits (as minimumFractionDigits = maximumFractionDigits);
 * without it, up to three are kept and trailing zeros dropped, as toLocaleString does by default.
 * Like ICU, it rounds the shortest decimal form of the number (String(n): 1.005, not the binary
 * 1.00499…) half away from zero. Forms String writes with an exponent, NaN and infinities are
 * left to toLocaleString.
 */
export function thousands(n: number, digits?: number): string {
  const text = String(Math.abs(n));
  if (!Number.isFinite(n) || text.includes('e')) {
    return digits === undefined ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }
  const keep = digits ?? 3;
  const dot = text.indexOf('.');
  let whole = dot === -1 ? text : text.slice(0, dot);
  let frac = dot === -1 ? '' : text.slice(dot + 1);
  if (frac.length > keep) {
    const up = frac.charCodeAt(keep) >= 0x35; // '5' or more: away from zero
    frac = frac.slice(0, keep);
    if (up) [whole, frac] = increment(whole, frac);
  }
  if (digits === undefined) frac = frac.replace(/0+$/, '');
  else frac = frac.padEnd(digits, '0');
  const sign = n < 0 || Object.is(n, -0) ? '-' : '';
  return sign + whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (frac === '' ? '' : '.' + frac);
}

/** Adds one unit in the last place of the decimal whole.frac (carrying into whole). */
function increment(whole: string, frac: string): [string, string] {
  const digits = (whole + frac).split('');
  let i = digits.length - 1;
  while (i >= 0 && digits[i] === '9') digits[i--] = '0';
  if (i >= 0) digits[i] = String(Number(digits[i]) + 1);
  else digits.unshift('1');
  const cut = digits.length - frac.length;
  return [digits.slice(0, cut).join(''), digits.slice(cut).join('')];
}
