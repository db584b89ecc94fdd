import { fmtPct, quote, result, stagesBy, tooFew } from './rule-helpers.js';
import type { Rule } from './types.js';

/** Signal error rate above maxErrorRate is critical; names the stage that fails most. */
export const errorsRule: Rule = (r, _prev, t) => {
  const label = 'error rate';
  const threshold = t.maxErrorRate;
  const n = r.throughput.totalSignalsProcessed;
  if (n < t.minSamples) return tooFew('errors', label, n, t.minSamples, '%', threshold);
  const value = r.errorRate;
  const firing = value > threshold;
  const check = { category: 'errors' as const, label, currentValue: value, threshold, unit: '%' as const, status: firing ? ('firing' as const) : ('ok' as const) };
  if (!firing) return result(check);
  const [worst] = stagesBy(r, (s) => s.errorCount).filter(([, s]) => s.errorCount > 0);
  const recommendation = worst
    ? `Stage ${quote(worst[0])} fails most (${worst[1].errorCount} of ${worst[1].count}, ${fmtPct(worst[1].errorRate)}): ` +
      'read its error messages in the log (`"success":false`), add retries with backoff for timeouts and rate limits, and check the upstream service.'
    : 'Failures are recorded only on the signal stage: record errors per stage to see where they start; add retries with backoff for transient errors.';
  return result(check, {
    category: 'errors',
    severity: 'critical',
    message: `Error rate ${fmtPct(value)} (${r.totalErrors} of ${n} signals) is above ${fmtPct(threshold)}`,
    currentValue: value,
    threshold,
    recommendation,
    ...(worst ? { stage: worst[0] } : {}),
  });
};
