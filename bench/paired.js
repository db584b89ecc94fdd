// Paired comparisons for the benchmarks. This machine's speed drifts by ±15 % within seconds
// (the same command measured 1.79-2.54 s in one minute), so a ratio of two medians taken over
// interleaved runs still carries the drift of the moments each was sampled in. Each round here runs
// both commands back to back (in alternating order), the round's ratio cancels what the two
// shared, and the median of those ratios comes with a distribution-free interval: a target is
// called met or missed only when the interval says so.

/** The median (the upper one of an even count). */
export function median(xs) {
  const s = [...xs].sort((p, q) => p - q);
  return s[Math.floor(s.length / 2)];
}

/** P(X ≤ k) for X ~ Binomial(n, 1/2). */
function binomialHalfCdf(n, k) {
  let term = 0.5 ** n; // P(X = 0)
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    sum += term;
    term = (term * (n - i)) / (i + 1);
  }
  return sum;
}

/**
 * An interval that holds the median of the distribution the samples come from with probability
 * at least `confidence`, from order statistics (no assumption about that distribution): the j-th
 * smallest and j-th largest samples, j as large as the confidence allows. With fewer than six
 * samples no interval reaches 95 %: it is then the whole range, and `level` says what it reaches.
 */
export function medianInterval(xs, confidence = 0.95) {
  const s = [...xs].sort((p, q) => p - q);
  const n = s.length;
  if (n === 0) return { low: NaN, high: NaN, level: 0 };
  let j = 0;
  while (j + 1 < n - 1 - (j + 1) && 1 - 2 * binomialHalfCdf(n, j + 1) >= confidence) j++;
  return { low: s[j], high: s[n - 1 - j], level: 1 - 2 * binomialHalfCdf(n, j) };
}

/**
 * Round by round, `b[i] / a[i]`: their median, its interval and in how many rounds b was the
 * smaller. `a` and `b` are equally long, one pair per round.
 */
export function pairedRatios(a, b, confidence = 0.95) {
  if (a.length !== b.length) throw new Error(`pairedRatios: ${a.length} and ${b.length} samples, expected one pair per round`);
  const ratios = a.map((x, i) => b[i] / x);
  return { ratios, median: median(ratios), ...medianInterval(ratios, confidence), below: ratios.filter((r) => r < 1).length };
}

/** Whether an interval for a ratio is under a limit: `met`, `missed`, or `not shown` (it holds it). */
export function verdict(interval, limit) {
  if (interval.high <= limit) return 'met';
  if (interval.low > limit) return 'missed';
  return 'not shown either way';
}

/**
 * `0.97× (95.1 % interval 0.94-0.99×, 12 rounds, faster in 9)`: `scale` and `unit` for
 * percentages, `lowerWord` to count the rounds whose ratio is under 1 (left out without it).
 */
export function describe(p, { digits = 2, scale = 1, unit = '×', lowerWord } = {}) {
  const f = (x) => (x * scale).toFixed(digits);
  const lower = lowerWord === undefined ? '' : `, ${lowerWord} in ${p.below}`;
  return `${f(p.median)}${unit} (${Math.round(p.level * 1000) / 10} % interval ${f(p.low)}-${f(p.high)}${unit}, ${p.ratios.length} rounds${lower})`;
}
