import type { Issue, Severity } from '../detect/types.js';
import { PerfmonError } from '../errors.js';
import type { PerformanceReport } from '../report/types.js';
import { BUCKET_BOUNDS_SECONDS, type CumulativeStage, type CumulativeStats } from '../stats/cumulative.js';
import { isValidNamespace, renderText, type MetricFamily, type Sample } from './exposition.js';

export interface PrometheusOptions {
  /** Metric name prefix (default `perfmon`; `reasoning` gives the original names). */
  namespace?: string;
}

export const DEFAULT_NAMESPACE = 'perfmon';
const QUANTILES: Array<[string, 'p50Duration' | 'p95Duration' | 'p99Duration']> = [
  ['0.5', 'p50Duration'],
  ['0.95', 'p95Duration'],
  ['0.99', 'p99Duration'],
];
const SEVERITIES: Severity[] = ['critical', 'warning', 'info'];

export function checkNamespace(ns: string): string {
  if (!isValidNamespace(ns)) {
    throw new PerfmonError('BAD_NAMESPACE', `invalid --namespace "${ns}": use letters, digits and underscores, not starting with a digit`, 2);
  }
  return ns;
}

/**
 * The window's figures as metric families, in base units (seconds, ratios 0–1). Window figures
 * are gauges: they describe the window, not a count since some start.
 */
export function reportFamilies(r: PerformanceReport, issues: readonly Issue[], o: PrometheusOptions = {}): MetricFamily[] {
  const ns = checkNamespace(o.namespace ?? DEFAULT_NAMESPACE);
  const gauge = (name: string, help: string, value: number): MetricFamily => ({ name: `${ns}_${name}`, help, type: 'gauge', samples: [{ value }] });
  const stages = Object.entries(r.stageBreakdown);
  const perStage = (f: (s: (typeof stages)[number][1]) => number): Sample[] => stages.map(([stage, s]) => ({ labels: [['stage', stage]], value: f(s) }));

  const durationSamples: Sample[] = [];
  for (const [stage, s] of stages) {
    for (const [q, key] of QUANTILES) durationSamples.push({ labels: [['stage', stage], ['quantile', q]], value: s[key] / 1000 });
    durationSamples.push({ suffix: '_sum', labels: [['stage', stage]], value: s.totalDuration / 1000 });
    durationSamples.push({ suffix: '_count', labels: [['stage', stage]], value: s.count });
  }
  const t = r.throughput;
  const u = r.tokenUsage;
  return [
    gauge('window_seconds', 'Length of the reported window.', r.timeWindowMinutes * 60),
    gauge('window_records', 'Well-formed records in the window.', r.records),
    gauge('malformed_lines', 'Malformed lines skipped in the files read (by serve: since it started).', r.malformed.count),
    {
      name: `${ns}_window_stage_duration_seconds`,
      help: 'Stage durations in the window: nearest-rank quantiles (within 0.5 %), sum and count of the window.',
      type: 'summary',
      samples: durationSamples,
    },
    { name: `${ns}_window_stage_errors`, help: 'Failed stage records in the window.', type: 'gauge', samples: perStage((s) => s.errorCount) },
    { name: `${ns}_window_stage_error_ratio`, help: 'Failed share of stage records in the window (0-1).', type: 'gauge', samples: perStage((s) => s.errorRate / 100) },
    gauge('window_signals', `Signals (records of the "${r.signalStage ?? 'total'}" stage) in the window.`, t.totalSignalsProcessed),
    gauge('window_signals_per_second', 'Signals per second over the window.', t.signalsPerMinute / 60),
    gauge('window_signal_average_duration_seconds', 'Average signal duration in the window.', r.averageTotalTime / 1000),
    gauge('window_signal_error_ratio', 'Failed share of signals in the window (0-1).', r.errorRate / 100),
    gauge('window_cache_requests', 'Records with a cacheHit flag in the window.', r.cacheEfficiency.totalRequests),
    gauge('window_cache_hit_ratio', 'Cache hits over records with a cacheHit flag in the window (0-1).', r.cacheEfficiency.hitRate / 100),
    gauge('window_llm_tokens', 'LLM tokens recorded in the window.', u.totalTokens),
    gauge('window_llm_cost_dollars', 'LLM cost recorded in the window, in USD.', u.totalCost),
    gauge('daily_llm_tokens', 'LLM tokens since 00:00 UTC.', u.dailyTokens),
    gauge('daily_llm_cost_dollars', 'LLM cost since 00:00 UTC, in USD.', u.dailyCost),
    gauge('daily_llm_token_limit', 'Configured daily token limit.', u.dailyLimit),
    gauge('daily_llm_token_limit_ratio', "Today's tokens over the daily limit (0-1).", u.percentOfLimit / 100),
    gauge('queue_depth', 'Newest queue depth sample at or before the end of the window.', r.queueMetrics.currentDepth),
    gauge('window_queue_depth_average', 'Average queue depth sampled in the window.', r.queueMetrics.averageDepth),
    gauge('window_queue_depth_max', 'Largest queue depth sampled in the window.', r.queueMetrics.maxDepth),
    {
      name: `${ns}_active_issues`,
      help: 'Issues detected in the window, by severity.',
      type: 'gauge',
      samples: SEVERITIES.map((sev) => ({ labels: [['severity', sev]], value: issues.filter((i) => i.severity === sev).length })),
    },
  ];
}

/** `perfmon prom`: the window as Prometheus text exposition format 0.0.4. */
export function formatPrometheus(r: PerformanceReport, issues: readonly Issue[], o: PrometheusOptions = {}): string {
  return renderText(reportFamilies(r, issues, o));
}

/**
 * What `serve` adds: counters and duration histograms since it started (monotonic), which
 * Prometheus can `rate()` and sum across hosts.
 */
export function cumulativeFamilies(c: CumulativeStats, malformedLines: number, o: PrometheusOptions = {}): MetricFamily[] {
  const ns = checkNamespace(o.namespace ?? DEFAULT_NAMESPACE);
  const stages = [...c.stages.entries()];
  const models = [...c.models.entries()];
  const counter = (name: string, help: string, entries: Array<[string, CumulativeStage]>, label: string, f: (s: CumulativeStage) => number): MetricFamily => ({
    name: `${ns}_${name}`,
    help,
    type: 'counter',
    samples: entries.map(([n, s]) => ({ labels: [[label, n]], value: f(s) })),
  });
  const histogram: Sample[] = [];
  for (const [stage, s] of stages) {
    const cumulative = s.cumulativeBuckets();
    BUCKET_BOUNDS_SECONDS.forEach((le, i) => histogram.push({ suffix: '_bucket', labels: [['stage', stage], ['le', String(le)]], value: cumulative[i]! }));
    histogram.push({ suffix: '_bucket', labels: [['stage', stage], ['le', '+Inf']], value: cumulative[cumulative.length - 1]! });
    histogram.push({ suffix: '_sum', labels: [['stage', stage]], value: s.sumSeconds });
    histogram.push({ suffix: '_count', labels: [['stage', stage]], value: cumulative[cumulative.length - 1]! });
  }
  return [
    { name: `${ns}_start_time_seconds`, help: 'When this perfmon serve started (Unix time); counters count from here.', type: 'gauge', samples: [{ value: c.since / 1000 }] },
    { name: `${ns}_records`, help: 'Well-formed records read since start.', type: 'counter', samples: [{ value: c.records }] },
    { name: `${ns}_skipped_malformed_lines`, help: 'Malformed lines skipped since start.', type: 'counter', samples: [{ value: malformedLines }] },
    { name: `${ns}_queue_samples`, help: 'Queue depth samples read since start.', type: 'counter', samples: [{ value: c.queueSamples }] },
    counter('stage_records', 'Stage records since start.', stages, 'stage', (s) => s.records),
    counter('stage_errors', 'Failed stage records since start.', stages, 'stage', (s) => s.errors),
    counter('stage_cache_hits', 'Stage records with cacheHit true since start.', stages, 'stage', (s) => s.cacheHits),
    counter('stage_cache_misses', 'Stage records with cacheHit false since start.', stages, 'stage', (s) => s.cacheMisses),
    counter('stage_llm_tokens', 'LLM tokens recorded on stage records since start.', stages, 'stage', (s) => s.tokens),
    counter('stage_llm_cost_dollars', 'LLM cost (USD) recorded on stage records since start.', stages, 'stage', (s) => s.cost),
    counter('llm_calls', 'llm records since start, by model.', models, 'model', (s) => s.records),
    counter('llm_errors', 'Failed llm records since start, by model.', models, 'model', (s) => s.errors),
    counter('llm_cache_hits', 'llm records with cacheHit true since start, by model.', models, 'model', (s) => s.cacheHits),
    counter('llm_cache_misses', 'llm records with cacheHit false since start, by model.', models, 'model', (s) => s.cacheMisses),
    counter('llm_tokens', 'LLM tokens recorded on llm records since start, by model.', models, 'model', (s) => s.tokens),
    counter('llm_cost_dollars', 'LLM cost (USD) recorded on llm records since start, by model.', models, 'model', (s) => s.cost),
    {
      name: `${ns}_stage_duration_seconds`,
      help: 'Stage durations since start, in fixed buckets shared by every host (aggregate with histogram_quantile over sum by (le)).',
      type: 'histogram',
      samples: histogram,
    },
  ];
}
