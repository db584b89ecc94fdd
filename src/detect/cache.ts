import { fmtPct, result, tooFew } from './rule-helpers.js';
import type { Rule } from './types.js';

/** Cache hit rate below minCacheHitRate is a warning. */
export const cacheRule: Rule = (r, _prev, t) => {
  const label = 'cache hit rate';
  const threshold = t.minCacheHitRate;
  const c = r.cacheEfficiency;
  if (c.totalRequests < t.minSamples) return tooFew('cache', label, c.totalRequests, t.minSamples, '%', threshold, 'cache lookups');
  const firing = c.hitRate < threshold;
  const check = { category: 'cache' as const, label, currentValue: c.hitRate, threshold, unit: '%' as const, status: firing ? ('firing' as const) : ('ok' as const) };
  if (!firing) return result(check);
  return result(check, {
    category: 'cache',
    severity: 'warning',
    message: `Cache hit rate ${fmtPct(c.hitRate)} (${c.cacheHits} of ${c.totalRequests}) is below ${fmtPct(threshold)}`,
    currentValue: c.hitRate,
    threshold,
    recommendation:
      'Check that cache keys leave out volatile fields (timestamps, request ids), normalise prompts before hashing, and raise the cache TTL or size if entries expire before reuse.',
  });
};
