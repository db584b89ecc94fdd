/**
 * The path past one machine, end to end (DESIGN §5): two real `perfmon serve` processes over two
 * log directories A and B, scraped every second by a real Prometheus server on 127.0.0.1. Through
 * Prometheus's HTTP API:
 * - both targets are up and the summed `_count` of the stage duration histograms equals the stage
 *   records written to A and B;
 * - `histogram_quantile(0.95, …)` over the merged histograms lies within the fixed bucket that
 *   holds the exact p95 of `perfmon report --dir A --dir B`.
 * Everything started here is stopped by PID in afterAll (SIGTERM, then SIGKILL after a bounded
 * wait). /usr/bin/prometheus is required (Debian's prometheus package; CI installs it): a missing
 * one fails, it is not skipped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logFileName } from '../../src/record/file-name.js';
import type { PerformanceReport } from '../../src/report/types.js';
import { BUCKET_BOUNDS_SECONDS } from '../../src/stats/cumulative.js';
import { BIN, cleanEnv, ensureBuilt, removeTempDirs, ROOT, runPerfmon, tempDir } from '../helpers/cli.js';

const PROMETHEUS = process.env.PROMETHEUS ?? '/usr/bin/prometheus';
/** Bound on waiting for Prometheus to have scraped everything. */
const CONVERGE_MS = 40_000;

// ---------------------------------------------------------------------------------------------
// Processes: started here, stopped here, by PID.

interface Proc {
  name: string;
  child: ChildProcess;
  output: () => string;
}
const procs: Proc[] = [];

function startProc(name: string, cmd: string, args: string[], cwd: string): Proc {
  const child = spawn(cmd, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: string) => {
    out = (out + d).slice(-20_000);
  };
  child.stdout!.setEncoding('utf8').on('data', keep);
  child.stderr!.setEncoding('utf8').on('data', keep);
  const p = { name, child, output: () => out };
  procs.push(p);
  return p;
}

async function stop(p: Proc): Promise<void> {
  const { child } = p;
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000).unref());
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
    await exited;
  }
}

afterAll(async () => {
  // Prometheus first (it would log scrape failures otherwise), then the servers.
  const prom = procs.filter((p) => p.name === 'prometheus');
  await Promise.all(prom.map(stop));
  await Promise.all(procs.filter((p) => p.name !== 'prometheus').map(stop));
  for (const p of procs) expect(p.child.exitCode !== null || p.child.signalCode !== null, `${p.name} (pid ${p.child.pid}) stopped`).toBe(true);
  procs.length = 0;
  removeTempDirs();
}, 30_000);

/** A port free on 127.0.0.1 right now (bound to 0, read, released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until `url` answers 200, or the process exits. */
async function waitHttp(p: Proc, url: string, boundMs: number): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (Date.now() < deadline) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`${p.name} exited (${p.child.exitCode ?? p.child.signalCode}):\n${p.output()}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (r.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await sleep(200);
  }
  throw new Error(`${p.name} did not answer ${url} within ${boundMs} ms:\n${p.output()}`);
}

// ---------------------------------------------------------------------------------------------
// Data: a few thousand stage records with current timestamps and varied durations per directory.

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Writes `signals` signals (fetch, llm, total) over the last 10 minutes; returns the total durations (ms) and the stage record count. */
function fill(dir: string, signals: number, seed: number, scale: number): { totals: number[]; stageRecords: number } {
  const rand = rng(seed);
  const now = Date.now();
  const byFile = new Map<string, string[]>();
  const add = (ts: number, o: Record<string, unknown>) => {
    const f = join(dir, logFileName(ts));
    byFile.set(f, [...(byFile.get(f) ?? []), JSON.stringify({ ts: new Date(ts).toISOString(), ...o })]);
  };
  const totals: number[] = [];
  let stageRecords = 0;
  for (let i = 0; i < signals; i++) {
    const ts = now - 600_000 + Math.floor((600_000 * i) / signals);
    // Log-uniform from 2 ms to ~20 s, times the directory's scale: many buckets are used.
    const fetch = Math.round(2 * Math.exp(rand() * Math.log(500)) * scale * 1000) / 1000;
    const llm = Math.round(20 * Math.exp(rand() * Math.log(500)) * scale * 1000) / 1000;
    const total = Math.round((fetch + llm + rand() * 10) * 1000) / 1000;
    const ok = rand() > 0.04;
    add(ts, { stage: 'fetch', durationMs: fetch, success: true, cacheHit: rand() < 0.5 });
    add(ts, { stage: 'llm', durationMs: llm, success: ok, llmTokens: 100, llmCost: 0.001 });
    add(ts, { stage: 'total', durationMs: total, success: ok });
    stageRecords += 3;
    totals.push(total);
    if (i % 50 === 0) add(ts, { type: 'queue', depth: i % 17 });
    if (i % 25 === 0) add(ts, { type: 'llm', model: 'm', durationMs: llm, llmTokens: 30 });
  }
  for (const [f, lines] of byFile) writeFileSync(f, lines.join('\n') + '\n');
  return { totals, stageRecords };
}

function nearestRank(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
}

/** [lower, upper] of the fixed bucket holding `seconds` (le is inclusive: lower < s ≤ upper). */
function bucketOf(seconds: number): [number, number] {
  const i = BUCKET_BOUNDS_SECONDS.findIndex((le) => seconds <= le);
  if (i < 0) return [BUCKET_BOUNDS_SECONDS.at(-1)!, Infinity];
  return [i === 0 ? 0 : BUCKET_BOUNDS_SECONDS[i - 1]!, BUCKET_BOUNDS_SECONDS[i]!];
}

// ---------------------------------------------------------------------------------------------

interface PromVector {
  metric: Record<string, string>;
  value: [number, string];
}

let promUrl = '';

async function promQuery(q: string): Promise<PromVector[]> {
  const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(5000) });
  const body = (await r.json()) as { status: string; error?: string; data: { resultType: string; result: PromVector[] } };
  if (body.status !== 'success') throw new Error(`query ${q} failed: ${body.error}`);
  expect(body.data.resultType).toBe('vector');
  return body.data.result;
}

async function scalarOf(q: string): Promise<number | undefined> {
  const v = await promQuery(q);
  if (v.length !== 1) return undefined;
  return Number(v[0]!.value[1]);
}

interface Target {
  health: string;
  lastError: string;
  scrapeUrl: string;
  labels: Record<string, string>;
}

async function targets(): Promise<Target[]> {
  const r = await fetch(`${promUrl}/api/v1/targets?state=active`, { signal: AbortSignal.timeout(5000) });
  const body = (await r.json()) as { data: { activeTargets: Target[] } };
  return body.data.activeTargets;
}

describe('Prometheus scraping two perfmon serve instances', () => {
  let expectedStageRecords = 0;
  let allTotals: number[] = [];
  let serveUrls: string[] = [];
  let dirA = '';
  let dirB = '';
  let converged: { sum: number; ms: number } | undefined;

  beforeAll(async () => {
    if (!existsSync(PROMETHEUS)) {
      throw new Error(
        `${PROMETHEUS} is missing: install Debian's prometheus package (apt-get install prometheus), which provides ` +
          `/usr/bin/prometheus and /usr/bin/promtool; CI installs it. This end-to-end test is not skipped without it.`,
      );
    }
    ensureBuilt();

    dirA = tempDir('perfmon-e2e-A-');
    dirB = tempDir('perfmon-e2e-B-');
    const a = fill(dirA, 1500, 101, 1);
    const b = fill(dirB, 1000, 202, 3); // B is slower: the merged p95 is neither A's nor B's
    expectedStageRecords = a.stageRecords + b.stageRecords;
    allTotals = [...a.totals, ...b.totals];

    // Two servers on ports of their own.
    const ports = [await freePort(), await freePort()];
    serveUrls = ports.map((p) => `http://127.0.0.1:${p}`);
    const servers = [dirA, dirB].map((dir, i) =>
      startProc(`perfmon serve ${i === 0 ? 'A' : 'B'}`, process.execPath, [BIN, 'serve', '--dir', dir, '--host', '127.0.0.1', '--port', String(ports[i])], ROOT),
    );
    await Promise.all(servers.map((s, i) => waitHttp(s, `${serveUrls[i]}/healthz`, 15_000)));

    // Prometheus, scraping both every second.
    const promDir = tempDir('perfmon-e2e-prom-');
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    writeFileSync(
      join(promDir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: perfmon',
        '    scrape_interval: 1s',
        '    scrape_timeout: 1s',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${ports[0]}', '127.0.0.1:${ports[1]}']`,
        '',
      ].join('\n'),
    );
    const prom = startProc('prometheus', PROMETHEUS, [
      `--config.file=${join(promDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(promDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ], promDir);
    await waitHttp(prom, `${promUrl}/-/ready`, 20_000);

    // Bounded poll: both targets up, and every stage record counted.
    const start = Date.now();
    let last = '';
    while (Date.now() - start < CONVERGE_MS) {
      if (prom.child.exitCode !== null) throw new Error(`prometheus exited:\n${prom.output()}`);
      const ts = await targets();
      const up = ts.filter((t) => t.health === 'up').length;
      const sum = await scalarOf('sum(perfmon_stage_duration_seconds_count)');
      last = `targets ${JSON.stringify(ts.map((t) => [t.scrapeUrl, t.health, t.lastError]))}, sum ${sum}`;
      if (up === 2 && sum === expectedStageRecords) {
        converged = { sum, ms: Date.now() - start };
        break;
      }
      await sleep(500);
    }
    if (!converged) throw new Error(`Prometheus did not converge within ${CONVERGE_MS} ms: ${last}\nprometheus output:\n${prom.output().slice(-3000)}`);
  }, 58_000);

  it('has both perfmon targets up, scraped without error', async () => {
    const ts = await targets();
    expect(ts.map((t) => t.scrapeUrl).sort()).toEqual(serveUrls.map((u) => `${u}/metrics`).sort());
    for (const t of ts) {
      expect(t.health, t.scrapeUrl).toBe('up');
      expect(t.lastError, t.scrapeUrl).toBe('');
      expect(t.labels.job).toBe('perfmon');
    }
    expect(await scalarOf('count(up{job="perfmon"} == 1)')).toBe(2);
  });

  it('sums the _count of both hosts to the stage records written to A and B', async () => {
    expect(converged?.sum).toBe(expectedStageRecords);
    expect(expectedStageRecords).toBe(3 * (1500 + 1000));
    expect(await scalarOf('sum(perfmon_stage_duration_seconds_count)')).toBe(expectedStageRecords);
    // Per stage, and the counters agree with the histograms.
    expect(await scalarOf('sum(perfmon_stage_duration_seconds_count{stage="total"})')).toBe(2500);
    expect(await scalarOf('sum(perfmon_stage_records_total{stage="total"})')).toBe(2500);
    expect(await scalarOf('sum(perfmon_stage_duration_seconds_bucket{stage="total",le="+Inf"})')).toBe(2500);
    const perInstance = await promQuery('sum by (instance) (perfmon_stage_records_total)');
    expect(perInstance.map((v) => Number(v.value[1])).sort((x, y) => x - y)).toEqual([3000, 4500]);
  });

  it('computes histogram_quantile(0.95) of the merged histograms within the bucket of the exact p95 of perfmon report --dir A --dir B', async () => {
    const r = await runPerfmon(['report', '--dir', dirA, '--dir', dirB, '--json', '--until', 'latest', '--window', '1d']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as PerformanceReport;
    const total = report.stageBreakdown.total!;
    expect(total.count).toBe(2500);
    const p95 = total.p95Duration / 1000;

    // The report's p95 is the exact nearest-rank p95 (within the 1 % DESIGN §3 allows), and that
    // value is not so near a bucket bound that 1 % could move it into the next bucket.
    const exact = nearestRank(allTotals, 95) / 1000;
    expect(Math.abs(p95 - exact)).toBeLessThanOrEqual(exact * 0.01);
    const [lo, hi] = bucketOf(exact);
    expect(bucketOf(p95)).toEqual([lo, hi]);
    expect(exact * 0.99 > lo && exact * 1.01 < hi, `exact p95 ${exact} s is clear of the bounds ${lo}, ${hi}`).toBe(true);

    const hq = await scalarOf('histogram_quantile(0.95, sum by (le) (perfmon_stage_duration_seconds_bucket{stage="total"}))');
    expect(hq).toBeDefined();
    expect(hq!, `histogram_quantile ${hq} within [${lo}, ${hi}] holding p95 ${p95}`).toBeGreaterThanOrEqual(lo);
    expect(hq!).toBeLessThanOrEqual(hi);

    // Merging matters: the hosts' own p95s differ from the merged one.
    const perHost = await promQuery('histogram_quantile(0.95, sum by (instance, le) (perfmon_stage_duration_seconds_bucket{stage="total"}))');
    expect(perHost).toHaveLength(2);
    expect(perHost.some((v) => Math.abs(Number(v.value[1]) - hq!) > 1e-9)).toBe(true);
  });
});
