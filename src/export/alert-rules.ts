import type { PerfmonConfig } from '../config.js';
import { THROUGHPUT_DROP_FACTOR } from '../detect/throughput.js';
import { TOKENS_CRITICAL_PERCENT } from '../detect/tokens.js';
import { TREND_RISE_FACTOR } from '../detect/trend.js';
import { checkNamespace, DEFAULT_NAMESPACE } from './prometheus.js';

export interface RulesOptions {
  namespace?: string;
  /** Range of the rate() windows, like `perfmon issues --window` (a Prometheus duration). */
  window?: string;
  /** Where each alert's runbook section lives; `#<category>` is appended. */
  runbookBase?: string;
  /** The stage whose records are the signals. */
  signalStage?: string;
}

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: 'critical' | 'warning' | 'info'; category: string };
  annotations: { summary: string; description: string; runbook_url: string };
}

export interface RecordingRule {
  record: string;
  expr: string;
}

/** Relative to a perfmon checkout; point --runbook-base at your own copy (a wiki, a repo URL). */
export const DEFAULT_RUNBOOK = 'docs/runbook.md';

/**
 * Prometheus recording and alerting rules equivalent to `perfmon issues` with the effective
 * configuration, over the metrics `perfmon serve` exports, aggregated per job so a fleet of
 * hosts alerts as one pipeline. Thresholds are converted to base units (seconds, ratios).
 */
export function alertRules(config: PerfmonConfig, o: RulesOptions = {}) {
  const ns = checkNamespace(o.namespace ?? DEFAULT_NAMESPACE);
  const w = o.window ?? '30m';
  const stage = JSON.stringify(o.signalStage ?? 'total');
  const t = config.alertThresholds;
  const runbook = (category: string) => `${o.runbookBase ?? DEFAULT_RUNBOOK}#${category}`;
  const rec = (name: string) => `${ns}:${name}`;
  const enough = `sum by (job) (increase(${ns}_stage_records_total{stage=${stage}}[${w}])) >= ${config.minSamples}`;

  const recording: RecordingRule[] = [
    { record: rec(`signals:rate${w}`), expr: `sum by (job) (rate(${ns}_stage_records_total{stage=${stage}}[${w}]))` },
    {
      record: rec(`signal_duration_seconds:avg${w}`),
      expr: `sum by (job) (rate(${ns}_stage_duration_seconds_sum{stage=${stage}}[${w}])) / sum by (job) (rate(${ns}_stage_duration_seconds_count{stage=${stage}}[${w}]))`,
    },
    {
      record: rec(`signal_error_ratio:rate${w}`),
      expr: `sum by (job) (rate(${ns}_stage_errors_total{stage=${stage}}[${w}])) / sum by (job) (rate(${ns}_stage_records_total{stage=${stage}}[${w}]))`,
    },
    {
      record: rec(`stage_duration_seconds:p95_${w}`),
      expr: `histogram_quantile(0.95, sum by (job, stage, le) (rate(${ns}_stage_duration_seconds_bucket[${w}])))`,
    },
    {
      record: rec(`cache_hit_ratio:rate${w}`),
      expr: `sum by (job) (rate(${ns}_stage_cache_hits_total[${w}])) / (sum by (job) (rate(${ns}_stage_cache_hits_total[${w}])) + sum by (job) (rate(${ns}_stage_cache_misses_total[${w}])))`,
    },
    { record: rec('daily_llm_tokens:sum'), expr: `sum by (job) (${ns}_daily_llm_tokens)` },
  ];

  const alerting: AlertRule[] = [
    {
      alert: 'PerfmonHighLatency',
      expr: `(${recording[1]!.expr}) > ${t.maxAverageProcessingTime / 1000} and ${enough}`,
      for: '5m',
      labels: { severity: 'critical', category: 'latency' },
      annotations: {
        summary: `Average processing time above ${t.maxAverageProcessingTime} ms`,
        description: 'Signals of {{ $labels.job }} take {{ $value | humanizeDuration }} on average over ' + w + '. Find the slow stage: perfmon:stage_duration_seconds:p95_' + w + ' or `perfmon report` on a host.',
        runbook_url: runbook('latency'),
      },
    },
    {
      alert: 'PerfmonHighErrorRate',
      expr: `(${recording[2]!.expr}) > ${t.maxErrorRate / 100} and ${enough}`,
      for: '5m',
      labels: { severity: 'critical', category: 'errors' },
      annotations: {
        summary: `Error rate above ${t.maxErrorRate} %`,
        description: '{{ $value | humanizePercentage }} of the signals of {{ $labels.job }} failed over ' + w + '. See which stage fails: rate(' + ns + '_stage_errors_total[' + w + ']).',
        runbook_url: runbook('errors'),
      },
    },
    {
      alert: 'PerfmonLowCacheHitRate',
      expr: `(${recording[4]!.expr}) < ${t.minCacheHitRate / 100} and (sum by (job) (increase(${ns}_stage_cache_hits_total[${w}])) + sum by (job) (increase(${ns}_stage_cache_misses_total[${w}]))) >= ${config.minSamples}`,
      for: '15m',
      labels: { severity: 'warning', category: 'cache' },
      annotations: {
        summary: `Cache hit rate below ${t.minCacheHitRate} %`,
        description: 'Only {{ $value | humanizePercentage }} of cache lookups of {{ $labels.job }} hit over ' + w + '. Check cache keys for volatile fields, and the TTL.',
        runbook_url: runbook('cache'),
      },
    },
    {
      alert: 'PerfmonTokenBudgetCritical',
      expr: `sum by (job) (${ns}_daily_llm_tokens) / max by (job) (${ns}_daily_llm_token_limit) > ${TOKENS_CRITICAL_PERCENT / 100}`,
      for: '1m',
      labels: { severity: 'critical', category: 'tokens' },
      annotations: {
        summary: `Daily token use above ${TOKENS_CRITICAL_PERCENT} % of the limit`,
        description: '{{ $labels.job }} has used {{ $value | humanizePercentage }} of its daily token limit. Pause non-urgent work or raise dailyTokenLimit.',
        runbook_url: runbook('tokens'),
      },
    },
    {
      alert: 'PerfmonTokenBudgetWarning',
      expr: `sum by (job) (${ns}_daily_llm_tokens) / max by (job) (${ns}_daily_llm_token_limit) > ${t.tokenLimitWarningPercent / 100} and sum by (job) (${ns}_daily_llm_tokens) / max by (job) (${ns}_daily_llm_token_limit) <= ${TOKENS_CRITICAL_PERCENT / 100}`,
      for: '5m',
      labels: { severity: 'warning', category: 'tokens' },
      annotations: {
        summary: `Daily token use above ${t.tokenLimitWarningPercent} % of the limit`,
        description: '{{ $labels.job }} has used {{ $value | humanizePercentage }} of its daily token limit.',
        runbook_url: runbook('tokens'),
      },
    },
    {
      alert: 'PerfmonQueueBacklog',
      expr: `max by (job, instance) (${ns}_queue_depth) > ${t.maxQueueDepth}`,
      for: '10m',
      labels: { severity: 'warning', category: 'queue' },
      annotations: {
        summary: `Queue depth above ${t.maxQueueDepth}`,
        description: 'The queue of {{ $labels.instance }} holds {{ $value }} items. Add workers or concurrency to the slowest stage.',
        runbook_url: runbook('queue'),
      },
    },
    {
      alert: 'PerfmonNoRecords',
      expr: `sum by (job) (increase(${ns}_records_total[${w}])) == 0`,
      for: '5m',
      labels: { severity: 'warning', category: 'staleness' },
      annotations: {
        summary: `No records in ${w}`,
        description: 'No perfmon records were read for {{ $labels.job }} in ' + w + ': is the pipeline running and writing to the served directory?',
        runbook_url: runbook('staleness'),
      },
    },
    {
      alert: 'PerfmonThroughputDrop',
      expr: `(${recording[0]!.expr}) < ${THROUGHPUT_DROP_FACTOR} * (sum by (job) (rate(${ns}_stage_records_total{stage=${stage}}[${w}] offset ${w}))) and sum by (job) (increase(${ns}_stage_records_total{stage=${stage}}[${w}] offset ${w})) >= ${config.minSamples}`,
      for: '10m',
      labels: { severity: 'info', category: 'throughput' },
      annotations: {
        summary: 'Throughput fell below half of the previous window',
        description: '{{ $labels.job }} processes {{ $value | humanize }} signals/s, under half the rate of the ' + w + ' before.',
        runbook_url: runbook('throughput'),
      },
    },
    {
      alert: 'PerfmonLatencyTrend',
      expr:
        `histogram_quantile(0.95, sum by (job, le) (rate(${ns}_stage_duration_seconds_bucket{stage=${stage}}[${w}]))) > ${TREND_RISE_FACTOR} * ` +
        `histogram_quantile(0.95, sum by (job, le) (rate(${ns}_stage_duration_seconds_bucket{stage=${stage}}[${w}] offset ${w}))) and ${enough}`,
      for: '10m',
      labels: { severity: 'info', category: 'trend' },
      annotations: {
        summary: 'p95 of signals up by more than 50 % on the previous window',
        description: 'p95 of {{ $labels.job }} signals is {{ $value | humanizeDuration }}, over 1.5× the ' + w + ' before.',
        runbook_url: runbook('trend'),
      },
    },
  ];
  return {
    groups: [
      { name: `${ns}-recording`, rules: recording },
      { name: `${ns}-alerts`, rules: alerting },
    ],
  };
}

/** The rules as YAML. A tiny emitter: every string is double-quoted JSON, which YAML accepts. */
export function formatRulesYaml(rules: ReturnType<typeof alertRules>, header = ''): string {
  const q = (s: string) => JSON.stringify(s);
  let out = header;
  out += 'groups:\n';
  for (const g of rules.groups) {
    out += `  - name: ${q(g.name)}\n    rules:\n`;
    for (const r of g.rules as Array<RecordingRule | AlertRule>) {
      if ('record' in r) {
        out += `      - record: ${q(r.record)}\n        expr: ${q(r.expr)}\n`;
      } else {
        out += `      - alert: ${q(r.alert)}\n        expr: ${q(r.expr)}\n        for: ${r.for}\n`;
        out += `        labels:\n          severity: ${q(r.labels.severity)}\n          category: ${q(r.labels.category)}\n`;
        out += `        annotations:\n`;
        for (const [k, v] of Object.entries(r.annotations)) out += `          ${k}: ${q(v)}\n`;
      }
    }
  }
  return out;
}
