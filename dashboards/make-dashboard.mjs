// Writes dashboards/perfmon.json: a Grafana dashboard over the metrics `perfmon serve` exports.
// Regenerate with `node dashboards/make-dashboard.mjs`; test/dashboards checks every metric name
// in its queries against a real /metrics.
import { writeFileSync } from 'node:fs';

const ds = { type: 'prometheus', uid: '${datasource}' };
let id = 0;
const panel = (title, targets, o = {}) => ({
  id: ++id,
  type: o.type ?? 'timeseries',
  title,
  datasource: ds,
  gridPos: o.gridPos,
  fieldConfig: { defaults: { unit: o.unit ?? 'short', ...(o.max !== undefined ? { max: o.max, min: 0 } : {}), ...(o.thresholds ? { thresholds: o.thresholds } : {}) }, overrides: [] },
  options: o.options ?? { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
  targets: targets.map(([expr, legendFormat], i) => ({ refId: String.fromCharCode(65 + i), expr, legendFormat, datasource: ds })),
});
const steps = (...s) => ({ mode: 'absolute', steps: s.map(([value, color]) => ({ value, color })) });
const sel = '{job=~"$job"}';
const selStage = '{job=~"$job", stage=~"$stage"}';

const panels = [
  panel('Throughput (signals/s)', [[`sum by (job) (rate(perfmon_stage_records_total{job=~"$job", stage="total"}[$__rate_interval]))`, '{{job}}']], { unit: 'reqps', gridPos: { x: 0, y: 0, w: 12, h: 8 } }),
  panel('Signal error rate', [[`sum by (job) (rate(perfmon_stage_errors_total{job=~"$job", stage="total"}[$__rate_interval])) / sum by (job) (rate(perfmon_stage_records_total{job=~"$job", stage="total"}[$__rate_interval]))`, '{{job}}']], {
    unit: 'percentunit', gridPos: { x: 12, y: 0, w: 12, h: 8 }, thresholds: steps([null, 'green'], [0.05, 'red']),
  }),
  panel('Latency p50 / p95 / p99 by stage', [
    [`histogram_quantile(0.5, sum by (stage, le) (rate(perfmon_stage_duration_seconds_bucket${selStage}[$__rate_interval])))`, 'p50 {{stage}}'],
    [`histogram_quantile(0.95, sum by (stage, le) (rate(perfmon_stage_duration_seconds_bucket${selStage}[$__rate_interval])))`, 'p95 {{stage}}'],
    [`histogram_quantile(0.99, sum by (stage, le) (rate(perfmon_stage_duration_seconds_bucket${selStage}[$__rate_interval])))`, 'p99 {{stage}}'],
  ], { unit: 's', gridPos: { x: 0, y: 8, w: 24, h: 9 } }),
  panel('Average signal time', [[`sum by (job) (rate(perfmon_stage_duration_seconds_sum{job=~"$job", stage="total"}[$__rate_interval])) / sum by (job) (rate(perfmon_stage_duration_seconds_count{job=~"$job", stage="total"}[$__rate_interval]))`, '{{job}}']], {
    unit: 's', gridPos: { x: 0, y: 17, w: 12, h: 8 }, thresholds: steps([null, 'green'], [5, 'red']),
  }),
  panel('Stage error rate', [[`sum by (stage) (rate(perfmon_stage_errors_total${selStage}[$__rate_interval])) / sum by (stage) (rate(perfmon_stage_records_total${selStage}[$__rate_interval]))`, '{{stage}}']], {
    unit: 'percentunit', gridPos: { x: 12, y: 17, w: 12, h: 8 },
  }),
  panel('Cache hit rate', [[`sum (rate(perfmon_stage_cache_hits_total${sel}[$__rate_interval])) / (sum (rate(perfmon_stage_cache_hits_total${sel}[$__rate_interval])) + sum (rate(perfmon_stage_cache_misses_total${sel}[$__rate_interval])))`, 'hit rate']], {
    unit: 'percentunit', max: 1, gridPos: { x: 0, y: 25, w: 8, h: 8 }, thresholds: steps([null, 'red'], [0.3, 'green']),
  }),
  panel('Token budget used today', [[`sum by (job) (perfmon_daily_llm_tokens${sel}) / max by (job) (perfmon_daily_llm_token_limit${sel})`, '{{job}}']], {
    type: 'gauge', unit: 'percentunit', max: 1, gridPos: { x: 8, y: 25, w: 8, h: 8 }, thresholds: steps([null, 'green'], [0.8, 'orange'], [0.95, 'red']),
    options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, showThresholdMarkers: true },
  }),
  panel('LLM tokens and cost per hour', [
    // `or vector(0)`: a pipeline may record tokens only on stages or only on llm records.
    [`(sum (increase(perfmon_stage_llm_tokens_total${sel}[1h])) or vector(0)) + (sum (increase(perfmon_llm_tokens_total${sel}[1h])) or vector(0))`, 'tokens/h'],
    [`(sum (increase(perfmon_stage_llm_cost_dollars_total${sel}[1h])) or vector(0)) + (sum (increase(perfmon_llm_cost_dollars_total${sel}[1h])) or vector(0))`, 'USD/h'],
  ], { gridPos: { x: 16, y: 25, w: 8, h: 8 } }),
  panel('Queue depth', [[`max by (instance) (perfmon_queue_depth${sel})`, '{{instance}}']], {
    gridPos: { x: 0, y: 33, w: 12, h: 8 }, thresholds: steps([null, 'green'], [100, 'orange']),
  }),
  panel('Active issues (per host, perfmon rules)', [[`sum by (severity) (perfmon_active_issues${sel})`, '{{severity}}']], { gridPos: { x: 12, y: 33, w: 12, h: 8 } }),
];

const dashboard = {
  title: 'perfmon — pipeline performance',
  uid: 'perfmon-pipeline',
  tags: ['perfmon', 'llm', 'pipeline'],
  timezone: 'utc',
  schemaVersion: 39,
  version: 1,
  refresh: '30s',
  time: { from: 'now-6h', to: 'now' },
  templating: {
    list: [
      { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Data source' },
      { name: 'job', type: 'query', datasource: ds, query: 'label_values(perfmon_records_total, job)', includeAll: true, multi: true, current: { text: 'All', value: '$__all' }, refresh: 2 },
      { name: 'stage', type: 'query', datasource: ds, query: 'label_values(perfmon_stage_records_total{job=~"$job"}, stage)', includeAll: true, multi: true, current: { text: 'All', value: '$__all' }, refresh: 2 },
    ],
  },
  panels,
};
writeFileSync(new URL('./perfmon.json', import.meta.url), JSON.stringify(dashboard, null, 2) + '\n');
