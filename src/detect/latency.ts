import { fmtMs, quote, result, stagesBy, tooFew } from './rule-helpers.js';
import type { Rule } from './types.js';

/** Average signal time above maxAverageProcessingTime is critical; names the stage that costs most. */
export const latencyRule: Rule = (r, _prev, t) => {
  const label = 'average total time';
  const threshold = t.maxAverageProcessingTime;
  const n = r.throughput.totalSignalsProcessed;
  if (n < t.minSamples) return tooFew('latency', label, n, t.minSamples, 'ms', threshold);
  const value = r.averageTotalTime;
  const firing = value > threshold;
  const check = { category: 'latency' as const, label, currentValue: value, threshold, unit: 'ms' as const, status: firing ? ('firing' as const) : ('ok' as const) };
  if (!firing) return result(check);
  // The stage that takes the most time in all (count × average), where speeding up pays most.
  const [slowest] = stagesBy(r, (s) => s.totalDuration);
  let recommendation = 'Find the slow stage with `perfmon report --window …` and profile it; scale out workers if every stage is slower.';
  if (slowest) {
    const [name, s] = slowest;
    const share = value > 0 && s.count > 0 ? (s.averageDuration / value) * 100 : 0;
    recommendation =
      `Stage ${quote(name)} takes the most time (avg ${fmtMs(s.averageDuration)}, p95 ${fmtMs(s.p95Duration)}, ~${share.toFixed(0)} % of a signal): ` +
      'cache its results, use a faster model or smaller prompts there, or run it with more concurrency.';
  }
  return result(check, {
    category: 'latency',
    severity: 'critical',
    message: `Average processing time ${fmtMs(value)} is above ${fmtMs(threshold)}`,
    currentValue: value,
    threshold,
    recommendation,
    ...(slowest ? { stage: slowest[0] } : {}),
  });
};
