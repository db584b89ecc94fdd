/**
 * `perfmon serve` and `perfmon rules` against the real promtool (DESIGN §5):
 * - `curl /metrics | promtool check metrics` reports nothing, hostile stage names included;
 * - `perfmon rules` (default, --namespace reasoning, a config file's thresholds) passes
 *   `promtool check rules`;
 * - `promtool test rules test/serve/rules-test.yml` proves the latency and error-rate alerts fire
 *   on synthetic series, and do not on healthy ones; with other thresholds the same file fails.
 *
 * The real CLI (bin/perfmon.js → dist/). `npm test` builds first; so does beforeAll when dist is
 * missing. promtool is required: CI installs Debian's prometheus package; a missing one fails loudly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logFileName } from '../../src/record/file-name.js';
import { BIN, cleanEnv, ensureBuilt, removeTempDirs, ROOT, runPerfmon, runProcess, tempDir as makeTempDir, type Run } from '../helpers/cli.js';
import { PROMTOOL, requirePromtool } from '../helpers/promtool.js';

const RULES_TEST = join(ROOT, 'test', 'serve', 'rules-test.yml');

beforeAll(() => {
  requirePromtool();
  ensureBuilt();
});

const tempDir = () => makeTempDir('perfmon-serve-promtool-');

const children: ChildProcess[] = [];

/** SIGTERM, then SIGKILL after a bounded wait; by PID, only what this file started. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    return; // already gone
  }
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000).unref());
  if ((await Promise.race([exited, timer])) === 'timeout') {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
    await exited;
  }
}

afterAll(async () => {
  await Promise.all(children.splice(0).map(stop));
  removeTempDirs();
});

/**
 * Starts `perfmon serve --port 0 ARGS` and resolves with the URL it prints on stderr
 * ("listening on http://127.0.0.1:PORT"), within a bounded wait.
 */
async function startServe(args: string[]): Promise<{ url: string; child: ChildProcess; stderr: () => string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--host', '127.0.0.1', '--port', '0', ...args], { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stdout!.resume();
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`perfmon serve printed no URL within 15 s; stderr:\n${stderr}`)), 15_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+) /.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`perfmon serve exited (${code ?? signal}) before listening; stderr:\n${stderr}`));
    });
  });
  return { url, child, stderr: () => stderr };
}

/** `curl URL/metrics | promtool check metrics`: no finding, exit 0; returns the exposition. */
async function scrapeChecked(url: string): Promise<string> {
  const res = await fetch(url + '/metrics', { signal: AbortSignal.timeout(10_000) });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  const body = await res.text();
  expect(body.length).toBeGreaterThan(0);
  const c = await runProcess(PROMTOOL, ['check', 'metrics'], { input: body });
  expect(c.stdout + c.stderr, `promtool findings for ${url}/metrics`).toBe('');
  expect(c.status, 'promtool check metrics exit status').toBe(0);
  return body;
}

function writeLines(dir: string, objs: Array<Record<string, unknown> & { ts: number }>): void {
  const byFile = new Map<string, string[]>();
  for (const o of objs) {
    const f = join(dir, logFileName(o.ts));
    byFile.set(f, [...(byFile.get(f) ?? []), JSON.stringify({ ...o, ts: new Date(o.ts).toISOString() })]);
  }
  for (const [f, lines] of byFile) writeFileSync(f, lines.join('\n') + '\n', { flag: 'a' });
}

// =============================================================================================

describe.concurrent('curl /metrics | promtool check metrics', () => {
  it('promtool does report findings on bad input (the checks below can fail)', async () => {
    const bad = '# HELP x_milliseconds Time.\n# TYPE x_milliseconds counter\nx_milliseconds 3\n';
    const c = await runProcess(PROMTOOL, ['check', 'metrics'], { input: bad });
    expect(c.status).not.toBe(0);
    expect(c.stdout + c.stderr).not.toBe('');
  });

  it('reports nothing for a pipeline with every kind of record', async () => {
    const dir = tempDir();
    const now = Date.now();
    const recs: Array<Record<string, unknown> & { ts: number }> = [];
    for (let i = 0; i < 200; i++) {
      const ts = now - (200 - i) * 300;
      recs.push({ ts, stage: 'fetch', durationMs: 5 + (i % 40), success: true, cacheHit: i % 3 === 0 });
      recs.push({ ts, stage: 'llm', durationMs: 300 + i * 7, success: i % 9 !== 0, llmTokens: 120, llmCost: 0.003, model: 'm' });
      recs.push({ ts, stage: 'total', durationMs: 320 + i * 7, success: i % 9 !== 0 });
      if (i % 5 === 0) recs.push({ ts, type: 'llm', model: 'gpt-x', durationMs: 250, llmTokens: 60, llmCost: 0.001, cacheHit: false });
      if (i % 20 === 0) recs.push({ ts, type: 'queue', depth: i });
    }
    writeLines(dir, recs);
    writeFileSync(join(dir, logFileName(now)), 'garbage line\n', { flag: 'a' });
    const { url } = await startServe(['--dir', dir]);
    const out = await scrapeChecked(url);
    expect(out).toMatch(/^perfmon_stage_duration_seconds_bucket\{stage="total",le="\+Inf"\} 200$/m);
    expect(out).toMatch(/^perfmon_llm_calls_total\{model="gpt-x"\} 40$/m);
    expect(out).toMatch(/^perfmon_skipped_malformed_lines_total 1$/m);
  });

  it('reports nothing for hostile stage and model names (quotes, backslashes, newlines, braces)', async () => {
    const dir = tempDir();
    const stages = ['double"quote', 'back\\slash', 'new\nline', '}', '{', '{le="+Inf"}', '=', ',', '"} 1\nfake_metric 2', 'ünïcödé', 'emoji 🚀', 'trailing\\', '\\n', 'tab\there', 'cr\rhere', '__proto__', '#x', ' '];
    const now = Date.now();
    let t = now - 60_000;
    const recs: Array<Record<string, unknown> & { ts: number }> = [];
    for (const stage of stages) {
      for (let i = 0; i < 3; i++) {
        t += 100;
        recs.push({ ts: t, stage, durationMs: 50 + i, success: i !== 2, cacheHit: i === 0, llmTokens: 7, llmCost: 0.001 });
      }
      recs.push({ ts: t, type: 'llm', model: stage, durationMs: 9, llmTokens: 3 });
    }
    // The busiest stage names the signal stage in a HELP text (no "total" stage here).
    for (let i = 0; i < 5; i++) {
      t += 100;
      recs.push({ ts: t, stage: 'busy\\"\nfake_metric 1\\', durationMs: 20, success: true });
    }
    recs.push({ ts: t, type: 'queue', depth: 2 });
    writeLines(dir, recs);
    const { url } = await startServe(['--dir', dir]);
    const out = await scrapeChecked(url);
    const lines = out.split('\n');
    expect(lines.filter((l) => l.startsWith('perfmon_stage_records_total{'))).toHaveLength(stages.length + 1);
    expect(lines.filter((l) => l.startsWith('perfmon_llm_calls_total{'))).toHaveLength(stages.length);
    expect(lines.filter((l) => l.startsWith('perfmon_stage_duration_seconds_bucket{') && l.includes('le="+Inf"'))).toHaveLength(stages.length + 1);
    expect(lines.some((l) => l.startsWith('fake_metric'))).toBe(false);
    expect(out).toContain('perfmon_stage_records_total{stage="new\\nline"} 3');
    expect(out).toContain('perfmon_stage_records_total{stage="double\\"quote"} 3');
    expect(out).toContain('perfmon_stage_records_total{stage="back\\\\slash"} 3');
  });

  it('reports nothing for an empty directory, and for --namespace reasoning', async () => {
    const empty = tempDir();
    const a = await startServe(['--dir', empty]);
    const out = await scrapeChecked(a.url);
    expect(out).toMatch(/^perfmon_records_total 0$/m);
    expect(out).not.toMatch(/_bucket/);

    const dir = tempDir();
    const now = Date.now();
    writeLines(dir, Array.from({ length: 30 }, (_, i) => ({ ts: now - i * 1000, stage: 'total', durationMs: 100 * i, success: i % 4 !== 0 })));
    const b = await startServe(['--dir', dir, '--namespace', 'reasoning']);
    const ns = await scrapeChecked(b.url);
    expect(ns).toMatch(/^reasoning_stage_duration_seconds_count\{stage="total"\} 30$/m);
    expect(ns).not.toMatch(/^perfmon_/m);
  });
});

// =============================================================================================

/** `perfmon rules ARGS > FILE && promtool check rules FILE`; returns the YAML. */
async function rulesChecked(args: string[], file: string, cwd = ROOT): Promise<string> {
  const r = await runPerfmon(['rules', ...args], { cwd });
  expect(r.stderr, 'perfmon rules stderr').toBe('');
  expect(r.status, 'perfmon rules exit status').toBe(0);
  writeFileSync(file, r.stdout);
  const c = await runProcess(PROMTOOL, ['check', 'rules', file]);
  expect(c.stderr, `promtool check rules ${file}`).toBe('');
  expect(c.stdout).toContain('SUCCESS: 15 rules found');
  expect(c.status, 'promtool check rules exit status').toBe(0);
  return r.stdout;
}

describe.concurrent('perfmon rules | promtool check rules', () => {
  it('promtool does reject a broken rule file (the checks below can fail)', async () => {
    const f = join(tempDir(), 'bad.yml');
    writeFileSync(f, 'groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: "sum by (job) (rate(foo[5m]) >"\n');
    const c = await runProcess(PROMTOOL, ['check', 'rules', f]);
    expect(c.status).not.toBe(0);
  });

  it('passes with the default configuration', async () => {
    const yaml = await rulesChecked([], join(tempDir(), 'perfmon-rules.yml'));
    expect(yaml).toContain('alert: "PerfmonHighLatency"');
    expect(yaml).toContain('alert: "PerfmonHighErrorRate"');
    expect(yaml).toContain('perfmon_stage_duration_seconds_bucket');
  });

  it('passes with --namespace reasoning, whose expressions use only reasoning_ metrics', async () => {
    const yaml = await rulesChecked(['--namespace', 'reasoning'], join(tempDir(), 'reasoning-rules.yml'));
    const exprs = yaml.split('\n').filter((l) => /^\s+expr: /.test(l));
    expect(exprs.length).toBe(15);
    for (const e of exprs) {
      expect(e).not.toMatch(/perfmon_/);
      expect(e).toMatch(/reasoning_/);
    }
    expect(yaml).toContain('record: "reasoning:signals:rate30m"');
  });

  it('passes with a config file changing thresholds, which appear in base units; and with --window 1h', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'perfmon.json'), JSON.stringify({ minSamples: 25, alertThresholds: { maxAverageProcessingTime: 2500, maxErrorRate: 12.5, minCacheHitRate: 40, maxQueueDepth: 7 } }));
    const yaml = await rulesChecked(['--config', join(d, 'perfmon.json')], join(d, 'rules.yml'));
    expect(yaml).toContain(`# Generated by perfmon rules from ${join(d, 'perfmon.json')}`);
    const exprOf = (alert: string) => new RegExp(`alert: "${alert}"\\n\\s+expr: "([^\\n]*)"`).exec(yaml)?.[1] ?? '';
    expect(exprOf('PerfmonHighLatency')).toMatch(/\) > 2\.5 and .* >= 25$/);
    expect(exprOf('PerfmonHighErrorRate')).toMatch(/\) > 0\.125 and .* >= 25$/);
    expect(exprOf('PerfmonLowCacheHitRate')).toMatch(/\) < 0\.4 and /);
    expect(exprOf('PerfmonQueueBacklog')).toMatch(/> 7$/);
    const hourly = await rulesChecked(['--window', '1h'], join(d, 'hourly.yml'));
    expect(hourly).toContain('[1h]');
    expect(hourly).not.toContain('[30m]');
  });
});

// =============================================================================================

/** Writes `perfmon rules ARGS` as perfmon-rules.yml next to a copy of rules-test.yml; runs promtool test rules. */
async function testRules(args: string[], configJson?: object): Promise<Run> {
  const d = tempDir();
  copyFileSync(RULES_TEST, join(d, 'rules-test.yml'));
  if (configJson) {
    writeFileSync(join(d, 'config.json'), JSON.stringify(configJson));
    args = [...args, '--config', join(d, 'config.json')];
  }
  await rulesChecked(args, join(d, 'perfmon-rules.yml'));
  return runProcess(PROMTOOL, ['test', 'rules', 'rules-test.yml'], { cwd: d });
}

describe.concurrent('promtool test rules test/serve/rules-test.yml', () => {
  it('the committed test names the generated file and both alerts', () => {
    const yml = readFileSync(RULES_TEST, 'utf8');
    expect(yml).toMatch(/^rule_files:\n {2}- perfmon-rules\.yml$/m);
    expect(yml).toContain('alertname: PerfmonHighLatency');
    expect(yml).toContain('alertname: PerfmonHighErrorRate');
    expect(yml).toMatch(/exp_alerts: \[\]/);
  });

  it('passes: PerfmonHighLatency and PerfmonHighErrorRate fire on the unhealthy jobs and not on healthy or sparse ones', async () => {
    const r = await testRules([]);
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.stdout + r.stderr).not.toContain('FAILED');
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('fails when the thresholds are above the synthetic values (the alerts then do not fire)', async () => {
    const r = await testRules([], { alertThresholds: { maxAverageProcessingTime: 10_000, maxErrorRate: 25 } });
    expect(r.status).not.toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).toContain('FAILED');
    expect(out).toMatch(/alertname: PerfmonHighLatency, time: 20m[\s\S]*got:\[\]/);
    expect(out).toMatch(/alertname: PerfmonHighErrorRate, time: 20m[\s\S]*got:\[\]/);
  });

  it('fails when minSamples is low enough for the sparse job to speak (the "enough samples" guard is tested)', async () => {
    const r = await testRules([], { minSamples: 5 });
    expect(r.status).not.toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/alertname: PerfmonHighLatency, time: 40m[\s\S]*job="sparse"/);
  });
});
