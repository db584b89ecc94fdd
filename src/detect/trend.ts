import { fmtMs, quote, result, windowText } from './rule-helpers.js';
import type { Rule } from './types.js';

export const TREND_RISE_FACTOR = 1.5;

/** p95 of signals more than 50 % above the previous window's is info; names the stage that rose most. */
export const trendRule: Rule = (r, prev, t) => {
  const label = 'p95 vs previous window';
  const before = prev?.p95TotalTime ?? 0;
  const threshold = before * TREND_RISE_FACTOR;
  const n = r.throughput.totalSignalsProcessed;
  const prevN = prev?.throughput.totalSignalsProcessed ?? 0;
  // A previous p95 of 0 (all durations 0) gives no scale to compare against.
  if (!prev || n < t.minSamples || prevN < t.minSamples || before <= 0) {
    return result({
      category: 'trend', label, currentValue: NaN, threshold, unit: 'ms', status: 'skipped',
      skipped:
        before <= 0 && prev && n >= t.minSamples && prevN >= t.minSamples
          ? 'the previous window’s p95 is 0: nothing to compare with'
          : `${n} and ${prevN} signals in this and the previous window, ${t.minSamples} each needed (minSamples)`,
    });
  }
  const value = r.p95TotalTime;
  const firing = value > threshold;
  const check = { category: 'trend' as const, label, currentValue: value, threshold, unit: 'ms' as const, status: firing ? ('firing' as const) : ('ok' as const) };
  if (!firing) return result(check);
  // The stage whose p95 rose most, relative to its own previous p95.
  let stage: string | undefined;
  let rise = 0;
  for (const [name, s] of Object.entries(r.stageBreakdown)) {
    const p = prev.stageBreakdown[name];
    if (name === r.signalStage || !p || p.p95Duration <= 0 || p.count < t.minSamples) continue;
    const ratio = s.p95Duration / p.p95Duration;
    if (ratio > rise) {
      rise = ratio;
      stage = name;
    }
  }
  return result(check, {
    category: 'trend',
    severity: 'info',
    message: `p95 of signals rose to ${fmtMs(value)} from ${fmtMs(before)} in the previous ${windowText(r.timeWindowMinutes)} (+${(((value - before) / before) * 100).toFixed(0)} %)`,
    currentValue: value,
    threshold,
    recommendation:
      stage !== undefined
        ? `Stage ${quote(stage)} rose most (p95 ×${rise.toFixed(2)}): look for a slower model or provider, larger inputs, or contention there.`
        : 'Compare the stages of both windows with `perfmon report --until …` to see where the time went.',
    ...(stage !== undefined ? { stage } : {}),
  });
};
