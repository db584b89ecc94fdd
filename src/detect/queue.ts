import { fmtMs, quote, result, stagesBy, tooFew } from './rule-helpers.js';
import type { Rule } from './types.js';

/** Current queue depth above maxQueueDepth is a warning. */
export const queueRule: Rule = (r, _prev, t) => {
  const label = 'queue depth';
  const threshold = t.maxQueueDepth;
  const samples = r.queueMetrics.samples;
  if (samples < t.minSamples) return tooFew('queue', label, samples, t.minSamples, '', threshold, 'queue samples');
  const value = r.queueMetrics.currentDepth;
  const firing = value > threshold;
  const check = { category: 'queue' as const, label, currentValue: value, threshold, unit: '' as const, status: firing ? ('firing' as const) : ('ok' as const) };
  if (!firing) return result(check);
  const [slowest] = stagesBy(r, (s) => s.averageDuration);
  return result(check, {
    category: 'queue',
    severity: 'warning',
    message: `Queue depth ${value} is above ${threshold} (max ${r.queueMetrics.maxDepth} in the window)`,
    currentValue: value,
    threshold,
    recommendation: slowest
      ? `Work arrives faster than it is processed: add workers or concurrency, starting with the slowest stage ${quote(slowest[0])} (avg ${fmtMs(slowest[1].averageDuration)}).`
      : 'Work arrives faster than it is processed: add workers or concurrency, or shed load upstream.',
  });
};
