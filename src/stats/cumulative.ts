import type { MetricRecord } from '../schema.js';

/**
 * Counters and fixed-bucket duration histograms since a start, for Prometheus: monotonic, so
 * `rate()` and `histogram_quantile(…, sum by (le) (rate(…_bucket[5m])))` work across hosts.
 * Bucket bounds are fixed (1-2.5-5 steps from 1 ms to 10 min) so every host exports the same `le`s.
 */
export const BUCKET_BOUNDS_SECONDS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 600,
];

export class CumulativeStage {
  records = 0;
  errors = 0;
  tokens = 0;
  cost = 0;
  cacheHits = 0;
  cacheMisses = 0;
  /** Non-cumulative counts per bucket; the last slot is the +Inf overflow. */
  readonly buckets = new Float64Array(BUCKET_BOUNDS_SECONDS.length + 1);
  sumSeconds = 0;

  observe(seconds: number): void {
    let lo = 0;
    let hi = BUCKET_BOUNDS_SECONDS.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seconds <= BUCKET_BOUNDS_SECONDS[mid]!) hi = mid;
      else lo = mid + 1;
    }
    this.buckets[lo]! += 1;
    this.sumSeconds += seconds;
  }

  /** Cumulative counts for each bound, then +Inf (equal to the number observed). */
  cumulativeBuckets(): number[] {
    const out: number[] = [];
    let n = 0;
    for (const c of this.buckets) out.push((n += c));
    return out;
  }
}

export class CumulativeStats {
  readonly since: number;
  records = 0;
  readonly stages = new Map<string, CumulativeStage>();
  readonly models = new Map<string, CumulativeStage>();
  queueSamples = 0;

  constructor(now: number) {
    this.since = now;
  }

  add(r: MetricRecord): void {
    this.records++;
    if (r.type === 'queue') {
      this.queueSamples++;
      return;
    }
    const map = r.type === 'stage' ? this.stages : this.models;
    const name = r.type === 'stage' ? r.stage : r.model;
    let s = map.get(name);
    if (!s) map.set(name, (s = new CumulativeStage()));
    s.records++;
    if (!r.success) s.errors++;
    if (r.durationMs !== undefined) s.observe(r.durationMs / 1000);
    if (r.llmTokens !== undefined) s.tokens += r.llmTokens;
    if (r.llmCost !== undefined) s.cost += r.llmCost;
    if (r.cacheHit === true) s.cacheHits++;
    else if (r.cacheHit === false) s.cacheMisses++;
  }
}
