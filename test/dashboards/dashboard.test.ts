/**
 * dashboards/perfmon.json, the Grafana dashboard over `perfmon serve`'s metrics:
 * - every metric name in every panel query and templating query is exported by a real /metrics
 *   (an in-process server fed stage records with tokens, cost and cache flags, llm records and
 *   queue samples), so no panel is silently empty;
 * - every query parses as PromQL (promtool check rules over recording rules made of them);
 * - dashboards/make-dashboard.mjs regenerates the committed JSON byte for byte.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { alertRules, type AlertRule, type RecordingRule } from '../../src/export/alert-rules.js';
import { logFileName } from '../../src/record/file-name.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DASHBOARD = join(ROOT, 'dashboards', 'perfmon.json');
const GENERATOR = join(ROOT, 'dashboards', 'make-dashboard.mjs');
const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

const temps: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'perfmon-dashboard-'));
  temps.push(d);
  return d;
}
let server: RunningServer | undefined;
afterAll(async () => {
  await server?.close();
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Metric names in a PromQL expression.

/** PromQL keywords, aggregation operators and the functions a dashboard may use: never metric names. */
const NOT_METRICS = new Set([
  'and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset',
  'sum', 'min', 'max', 'avg', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group',
  'rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'histogram_quantile', 'vector', 'scalar', 'abs', 'clamp_min',
  'clamp_max', 'label_values', 'label_replace', 'time', 'sum_over_time', 'avg_over_time', 'max_over_time', 'min_over_time',
  'le', 'job', 'instance', 'stage', 'model', 'severity',
]);

/**
 * Metric names used by `expr`: identifiers that select series (before `{`, `[`, `)`, an operator
 * or the end), once strings, label matchers `{…}`, ranges `[…]`, grouping lists `by (…)`,
 * Grafana variables and function calls are set aside. `label_values(SELECTOR, label)` (a Grafana
 * templating query) contributes its selector.
 */
function metricNames(expr: string): string[] {
  let e = expr.replace(/label_values\(\s*([^,]+?)\s*,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)/g, ' $1 ');
  e = e.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  e = e.replace(/\{[^}]*\}/g, '{}');
  e = e.replace(/\[[^\]]*\]/g, '[]');
  e = e.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  e = e.replace(/\boffset\s+-?\w+/g, ' ');
  e = e.replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  for (const m of e.matchAll(/(?<![\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = e.slice(m.index! + m[0].length).trimStart();
    if (after.startsWith('(')) continue; // a function or an aggregation
    if (NOT_METRICS.has(m[0])) continue;
    names.add(m[0]);
  }
  return [...names];
}

interface Dashboard {
  panels: Array<{ id: number; title: string; targets: Array<{ refId: string; expr: string; datasource: { type: string; uid: string } }> }>;
  templating: { list: Array<{ name: string; type: string; query: string }> };
}

function dashboardQueries(d: Dashboard): Array<{ where: string; expr: string }> {
  const out: Array<{ where: string; expr: string }> = [];
  for (const p of d.panels) for (const t of p.targets) out.push({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr });
  for (const v of d.templating.list) if (v.type === 'query') out.push({ where: `variable $${v.name}`, expr: v.query });
  return out;
}

/** Sample names in a text exposition, and family names from its TYPE lines. */
function exportedNames(text: string): { samples: Set<string>; families: Set<string> } {
  const samples = new Set<string>();
  const families = new Set<string>();
  for (const l of text.split('\n')) {
    const t = /^# TYPE (\S+) /.exec(l);
    if (t) families.add(t[1]!);
    else if (l !== '' && !l.startsWith('#')) samples.add(/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(l)![0]);
  }
  return { samples, families };
}

// ---------------------------------------------------------------------------------------------

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const queries = dashboardQueries(dashboard);

describe('the metric-name extractor', () => {
  it('finds the selected metrics and nothing else', () => {
    expect(metricNames('sum by (job, le) (rate(foo_bucket{job=~"$job", le="0.5", stage="a{b}"}[$__rate_interval] offset 5m))')).toEqual(['foo_bucket']);
    expect(metricNames('(sum (increase(a_total{x="y"}[1h])) or vector(0)) + b / on (job) group_left c')).toEqual(['a_total', 'b', 'c']);
    expect(metricNames('histogram_quantile(0.95, sum by (le) (x_bucket)) > 1.5e3 * y')).toEqual(['x_bucket', 'y']);
    expect(metricNames('label_values(perfmon_stage_records_total{job=~"$job"}, stage)')).toEqual(['perfmon_stage_records_total']);
    expect(metricNames('label_values(up, job)')).toEqual(['up']);
    expect(metricNames('max by (instance) (ns:rule:rate5m)')).toEqual(['ns:rule:rate5m']);
  });
});

describe('dashboards/perfmon.json', () => {
  let scrape = '';

  beforeAll(async () => {
    // A server fed every kind of record, so that every family has samples.
    const dir = tempDir();
    const now = Date.now();
    const lines: string[] = [];
    for (let i = 0; i < 40; i++) {
      const ts = new Date(now - (40 - i) * 1500).toISOString();
      lines.push(JSON.stringify({ ts, stage: 'fetch', durationMs: 20 + i, success: true, cacheHit: i % 2 === 0 }));
      lines.push(JSON.stringify({ ts, stage: 'llm', durationMs: 400 + 10 * i, success: i % 6 !== 0, llmTokens: 150, llmCost: 0.004, cacheHit: i % 5 === 0, model: 'm1' }));
      lines.push(JSON.stringify({ ts, stage: 'total', durationMs: 450 + 10 * i, success: i % 6 !== 0 }));
      lines.push(JSON.stringify({ ts, type: 'llm', model: i % 2 ? 'm1' : 'm2', durationMs: 300, llmTokens: 80, llmCost: 0.002, cacheHit: i % 3 === 0, success: i % 7 !== 0 }));
      if (i % 4 === 0) lines.push(JSON.stringify({ ts, type: 'queue', depth: i }));
    }
    writeFileSync(join(dir, logFileName(now)), lines.join('\n') + '\n');
    server = await startServer({ dirs: [dir], host: '127.0.0.1', port: 0, windowMinutes: 30, config: DEFAULT_CONFIG, namespace: 'perfmon', rescanMs: 3_600_000 });
    const res = await fetch(server.url + '/metrics', { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(200);
    scrape = await res.text();
  });

  it('has panels with queries, unique ids, and the ${datasource} variable on every target', () => {
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(8);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const p of dashboard.panels) {
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets) {
        expect(t.expr.trim(), p.title).not.toBe('');
        expect(t.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      }
    }
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'job', 'stage']);
  });

  it('uses only metric names that a real /metrics exports', () => {
    const { samples, families } = exportedNames(scrape);
    const used = new Map<string, string[]>();
    for (const q of queries) {
      const names = metricNames(q.expr);
      expect(names.length, `${q.where}: ${q.expr}`).toBeGreaterThan(0);
      for (const n of names) used.set(n, [...(used.get(n) ?? []), q.where]);
    }
    const missing = [...used].filter(([n]) => !samples.has(n) && !families.has(n)).map(([n, where]) => `${n} (${where.join('; ')})`);
    expect(missing, 'metric names in dashboard queries that /metrics does not export').toEqual([]);
    // The extraction is not vacuous: the histogram, the counters and the gauges are there.
    for (const n of ['perfmon_stage_duration_seconds_bucket', 'perfmon_stage_records_total', 'perfmon_llm_tokens_total', 'perfmon_queue_depth', 'perfmon_records_total']) {
      expect([...used.keys()], n).toContain(n);
    }
    for (const n of used.keys()) expect(n).toMatch(/^perfmon_/);
  });

  it('uses, like the alert rules, only metric names that /metrics exports (rules over perfmon serve)', () => {
    const { samples } = exportedNames(scrape);
    const rules: Array<AlertRule | RecordingRule> = alertRules(DEFAULT_CONFIG).groups.flatMap((g): Array<AlertRule | RecordingRule> => g.rules);
    const recorded = new Set(rules.flatMap((r) => ('record' in r ? [r.record] : [])));
    const missing: string[] = [];
    for (const r of rules) {
      for (const n of metricNames(r.expr)) if (!samples.has(n) && !recorded.has(n)) missing.push(`${n} in ${'alert' in r ? r.alert : r.record}`);
    }
    expect(missing).toEqual([]);
  });

  it('has queries that all parse as PromQL (promtool check rules)', () => {
    const v = spawnSync(PROMTOOL, ['--version'], { encoding: 'utf8' });
    if (v.error || v.status !== 0) {
      throw new Error(`promtool is not installed (${v.error?.message ?? `exit ${v.status}`}): install Debian's prometheus package (CI does); not skipped.`);
    }
    // Grafana's variables become what Grafana would put there; templating queries their selector.
    const promql = (e: string) =>
      e
        .replace(/label_values\(\s*([^,]+?)\s*,\s*\w+\s*\)/g, '$1')
        .replace(/\$__rate_interval/g, '1m')
        .replace(/\$(job|stage)\b/g, '.*');
    const file = join(tempDir(), 'dashboard-queries.yml');
    const rules = queries.map((q, i) => `      - record: dashboard:query:${i}\n        expr: ${JSON.stringify(promql(q.expr))}\n`).join('');
    writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules}`);
    const c = spawnSync(PROMTOOL, ['check', 'rules', file], { encoding: 'utf8' });
    expect(c.stderr).toBe('');
    expect(c.stdout).toContain(`SUCCESS: ${queries.length} rules found`);
    expect(c.status).toBe(0);
  });

  it('is what dashboards/make-dashboard.mjs generates, byte for byte', () => {
    const d = tempDir();
    copyFileSync(GENERATOR, join(d, 'make-dashboard.mjs'));
    const r = spawnSync(process.execPath, [join(d, 'make-dashboard.mjs')], { cwd: d, encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const generated = readFileSync(join(d, 'perfmon.json'));
    const committed = readFileSync(DASHBOARD);
    expect(generated.equals(committed), 'dashboards/perfmon.json differs from `node dashboards/make-dashboard.mjs` output: regenerate it').toBe(true);
  });
});
