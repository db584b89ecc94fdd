import { result, windowText } from './rule-helpers.js';
import type { Rule } from './types.js';

export const THROUGHPUT_DROP_FACTOR = 0.5;

/** Signals per minute below half of the previous window's is info: a drop worth a look. */
export const throughputRule: Rule = (r, prev, t) => {
  const label = 'throughput vs previous window';
  const before = prev?.throughput.signalsPerMinute ?? 0;
  const threshold = before * THROUGHPUT_DROP_FACTOR;
  const prevSignals = prev?.throughput.totalSignalsProcessed ?? 0;
  if (!prev || prevSignals < t.minSamples) {
    return result({
      category: 'throughput', label, currentValue: NaN, threshold, unit: '/min', status: 'skipped',
      skipped: `${prevSignals} signals in the previous window, ${t.minSamples} needed (minSamples)`,
    });
  }
  const value = r.throughput.signalsPerMinute;
  const firing = value < threshold;
  const check = { category: 'throughput' as const, label, currentValue: value, threshold, unit: '/min' as const, status: firing ? ('firing' as const) : ('ok' as const) };
  if (!firing) return result(check);
  return result(check, {
    category: 'throughput',
    severity: 'info',
    message: `Throughput fell to ${value.toFixed(2)} signals/min from ${before.toFixed(2)} in the previous ${windowText(r.timeWindowMinutes)}`,
    currentValue: value,
    threshold,
    recommendation:
      'Check whether less work arrived (upstream input, schedules) or the pipeline slowed down (queue depth, latency, errors); if it is expected, ignore it.',
  });
};
