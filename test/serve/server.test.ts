/**
 * `perfmon serve` in-process (DESIGN §5): startServer on 127.0.0.1 port 0 over temporary log
 * directories filled with records carrying current timestamps. Every endpoint's status, content
 * type and shape; the cumulative counters and histograms checked against the records written;
 * appends, rotation and garbage lines while serving; and that a scrape answers from memory.
 *
 * Tests call `refresh()` (reads what was appended, now) instead of sleeping for the re-scan, and
 * give the server a clock of their own so "now" only moves when a test moves it.
 */
import { appendFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

// Every file-system call perfmon's readers make goes through these spies (to the real functions),
// so a test can count what a scrape reads. FileHandle methods are spied on their prototype below.
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const wrapped = { ...actual, open: vi.fn(actual.open), readdir: vi.fn(actual.readdir), stat: vi.fn(actual.stat), readFile: vi.fn(actual.readFile) };
  return { ...wrapped, default: wrapped };
});
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  const wrapped = {
    ...actual,
    createReadStream: vi.fn(actual.createReadStream),
    readFileSync: vi.fn(actual.readFileSync),
    readdirSync: vi.fn(actual.readdirSync),
    openSync: vi.fn(actual.openSync),
    readSync: vi.fn(actual.readSync),
    statSync: vi.fn(actual.statSync),
    fstatSync: vi.fn(actual.fstatSync),
  };
  return { ...wrapped, default: wrapped };
});

import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { DEFAULT_CONFIG, type PerfmonConfig } from '../../src/config.js';
import { OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE } from '../../src/export/exposition.js';
import { hourMayHold } from '../../src/read/list-files.js';
import { logFileName } from '../../src/record/file-name.js';
import { createRecorder } from '../../src/record/recorder.js';
import type { PerformanceReport } from '../../src/report/types.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { BUCKET_BOUNDS_SECONDS } from '../../src/stats/cumulative.js';
import { ensureBuilt, removeTempDirs, ROOT, runPerfmon, tempDir as makeTempDir } from '../helpers/cli.js';

beforeAll(() => {
  ensureBuilt();
});

// ---------------------------------------------------------------------------------------------
// Fixtures: records, written as plain NDJSON lines into the file of their UTC hour.

interface Rec {
  ts: number;
  type?: 'stage' | 'queue' | 'llm';
  stage?: string;
  model?: string;
  durationMs?: number;
  success?: boolean;
  cacheHit?: boolean;
  llmTokens?: number;
  llmCost?: number;
  depth?: number;
}

function line(r: Rec): string {
  return JSON.stringify({ ...r, ts: new Date(r.ts).toISOString() });
}

/** Appends records to the perfmon file of each record's UTC hour. */
function writeRecords(dir: string, recs: readonly Rec[]): void {
  const byFile = new Map<string, string[]>();
  for (const r of recs) {
    const f = join(dir, logFileName(r.ts));
    byFile.set(f, [...(byFile.get(f) ?? []), line(r)]);
  }
  for (const [f, lines] of byFile) appendFileSync(f, lines.join('\n') + '\n');
}

/** A deterministic pseudo-random sequence in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

// Durations chosen to hit every region of the fixed buckets, bounds themselves included (le is
// inclusive), below the first and above the last.
const EDGE_DURATIONS_MS = [0, 0.5, 1, 2.5, 3, 100, 100.001, 250, 999, 1000, 2500, 7000, 600_000, 700_000];

/**
 * A pipeline's records over the `spanMs` before `now`: signals through fetch → llm-call → total,
 * with failures, cache flags, tokens and cost, plus llm records and queue samples.
 */
function pipelineRecords(now: number, signals: number, seed: number, spanMs = 100_000): Rec[] {
  const rand = rng(seed);
  const recs: Rec[] = [];
  for (let i = 0; i < signals; i++) {
    const ts = now - Math.floor((spanMs * (signals - i)) / signals);
    const fetch = i < EDGE_DURATIONS_MS.length ? EDGE_DURATIONS_MS[i]! : Math.round(rand() * 400 * 1000) / 1000;
    const llm = Math.round(50 + rand() * 3000);
    recs.push({ ts, stage: 'fetch', durationMs: fetch, success: true, cacheHit: i % 3 === 0 });
    recs.push({ ts, stage: 'llm-call', durationMs: llm, success: i % 7 !== 3, llmTokens: 100 + (i % 50), llmCost: 0.002, model: 'm1' });
    recs.push({ ts, stage: 'total', durationMs: fetch + llm + 5, success: i % 10 !== 9 });
    if (i % 4 === 0) recs.push({ ts, type: 'llm', model: i % 8 === 0 ? 'big' : 'small', durationMs: llm, llmTokens: 40, llmCost: 0.001, cacheHit: i % 8 === 4, success: i % 12 !== 0 });
    if (i % 10 === 0) recs.push({ ts, type: 'queue', depth: i % 30 });
  }
  return recs;
}

interface StageExpect {
  records: number;
  errors: number;
  cacheHits: number;
  cacheMisses: number;
  tokens: number;
  cost: number;
  durationsMs: number[];
}

function expectedStages(recs: readonly Rec[]): Map<string, StageExpect> {
  const m = new Map<string, StageExpect>();
  for (const r of recs) {
    if ((r.type ?? 'stage') !== 'stage') continue;
    let s = m.get(r.stage!);
    if (!s) m.set(r.stage!, (s = { records: 0, errors: 0, cacheHits: 0, cacheMisses: 0, tokens: 0, cost: 0, durationsMs: [] }));
    s.records++;
    if (r.success === false) s.errors++;
    if (r.cacheHit === true) s.cacheHits++;
    if (r.cacheHit === false) s.cacheMisses++;
    s.tokens += r.llmTokens ?? 0;
    s.cost += r.llmCost ?? 0;
    s.durationsMs.push(r.durationMs!);
  }
  return m;
}

function countBy<T>(items: readonly T[], key: (t: T) => string | undefined): Map<string, number> {
  const m = new Map<string, number>();
  for (const it of items) {
    const k = key(it);
    if (k !== undefined) m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// A small parser for text exposition 0.0.4 / OpenMetrics, written here without perfmon's code.

interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** name + labels in a canonical form, to compare scrapes. */
  key: string;
}

interface Parsed {
  samples: ParsedSample[];
  /** family name → type, from the TYPE lines. */
  types: Map<string, string>;
  helps: Map<string, string>;
}

function parseExposition(text: string): Parsed {
  const samples: ParsedSample[] = [];
  const types = new Map<string, string>();
  const helps = new Map<string, string>();
  for (const l of text.split('\n')) {
    if (l === '') continue;
    if (l.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(l);
      if (m) {
        const map = m[1] === 'TYPE' ? types : helps;
        if (map.has(m[2]!)) throw new Error(`${m[1]} repeated for ${m[2]}`);
        map.set(m[2]!, m[3]!);
      } else if (l !== '# EOF') {
        throw new Error(`unexpected comment line: ${l}`);
      }
      continue;
    }
    const nm = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(l);
    if (!nm) throw new Error(`bad sample line: ${JSON.stringify(l)}`);
    const name = nm[0];
    let i = name.length;
    const labels: Record<string, string> = {};
    if (l[i] === '{') {
      i++;
      while (l[i] !== '}') {
        const k = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(l.slice(i));
        if (!k) throw new Error(`bad label at ${i} in ${JSON.stringify(l)}`);
        i += k[0].length;
        let v = '';
        for (;;) {
          const c = l[i++];
          if (c === undefined) throw new Error(`unterminated label value in ${JSON.stringify(l)}`);
          if (c === '"') break;
          if (c === '\\') {
            const e = l[i++];
            if (e === 'n') v += '\n';
            else if (e === '\\' || e === '"') v += e;
            else throw new Error(`bad escape \\${e} in ${JSON.stringify(l)}`);
          } else v += c;
        }
        labels[k[1]!] = v;
        if (l[i] === ',') i++;
      }
      i++;
    }
    if (l[i] !== ' ') throw new Error(`no value separator in ${JSON.stringify(l)}`);
    const raw = l.slice(i + 1);
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    if (raw === '' || (Number.isNaN(value) && raw !== 'NaN')) throw new Error(`bad value in ${JSON.stringify(l)}`);
    samples.push({ name, labels, value, key: name + JSON.stringify(Object.entries(labels)) });
  }
  return { samples, types, helps };
}

function sampleValue(p: Parsed, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels);
  const hits = p.samples.filter((s) => s.name === name && Object.keys(s.labels).length === want.length && want.every(([k, v]) => s.labels[k] === v));
  if (hits.length > 1) throw new Error(`${hits.length} samples for ${name} ${JSON.stringify(labels)}`);
  return hits[0]?.value;
}

/** The family a sample belongs to, by the TYPE lines (histogram/summary suffixes, counters' _total). */
function familyOf(p: Parsed, name: string): { family: string; type: string } | undefined {
  for (const suffix of ['', '_total', '_bucket', '_count', '_sum']) {
    if (suffix !== '' && !name.endsWith(suffix)) continue;
    const base = name.slice(0, name.length - suffix.length);
    const t = p.types.get(base);
    if (t !== undefined) return { family: base, type: t };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Servers and HTTP.

const servers: RunningServer[] = [];

const tempDir = () => makeTempDir('perfmon-serve-');

afterAll(async () => {
  for (const s of servers.splice(0)) await s.close();
  removeTempDirs();
});

interface Clock {
  now: () => number;
  t: number;
}

function clockAt(t: number): Clock {
  const c: Clock = { t, now: () => c.t };
  return c;
}

async function serve(dirs: string[], clock: Clock, o: { windowMinutes?: number; config?: PerfmonConfig } = {}): Promise<RunningServer> {
  const errors: string[] = [];
  const s = await startServer({
    dirs,
    host: '127.0.0.1',
    port: 0,
    windowMinutes: o.windowMinutes ?? 30,
    config: o.config ?? DEFAULT_CONFIG,
    namespace: 'perfmon',
    now: clock.now,
    // No periodic re-scan during a test: refresh() reads, and a scrape must not need one.
    rescanMs: 3_600_000,
    onError: (m) => errors.push(m),
  });
  servers.push(s);
  return s;
}

interface Got {
  status: number;
  type: string | null;
  headers: Headers;
  body: string;
}

async function get(s: RunningServer, path: string, init: RequestInit = {}): Promise<Got> {
  const res = await fetch(s.url + path, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, type: res.headers.get('content-type'), headers: res.headers, body: await res.text() };
}

async function scrape(s: RunningServer): Promise<Parsed> {
  const r = await get(s, '/metrics');
  expect(r.status).toBe(200);
  expect(r.type).toBe(TEXT_CONTENT_TYPE);
  return parseExposition(r.body);
}

/** Nearest-rank percentile (DESIGN §3), computed here without perfmon's code. */
function nearestRank(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
}

const REPORT_KEYS = [
  'generatedAt', 'timeWindowMinutes', 'window', 'signalStage', 'averageTotalTime', 'p95TotalTime', 'errorRate', 'totalErrors', 'throughput',
  'stageBreakdown', 'modelBreakdown', 'cacheEfficiency', 'tokenUsage', 'queueMetrics', 'records', 'files', 'malformed',
].sort();
const BREAKDOWN_KEYS = ['count', 'totalDuration', 'averageDuration', 'minDuration', 'maxDuration', 'p50Duration', 'p95Duration', 'p99Duration', 'errorCount', 'errorRate'].sort();
const REALTIME_KEYS = ['timestamp', 'currentThroughput', 'averageLatency', 'errorRate', 'cacheHitRate', 'queueDepth', 'activeIssues', 'tokenUsagePercent'].sort();

// =============================================================================================

describe('GET /metrics (text 0.0.4)', () => {
  const clock = clockAt(Date.now());
  let dir: string;
  let recs: Rec[];
  let s: RunningServer;

  beforeAll(async () => {
    dir = tempDir();
    recs = pipelineRecords(clock.t, 120, 7);
    writeRecords(dir, recs);
    s = await serve([dir], clock);
  });

  it('answers 200 with the 0.0.4 content type, no-store, HELP and TYPE once per family, every sample under a TYPE', async () => {
    const r = await get(s, '/metrics');
    expect(r.status).toBe(200);
    expect(r.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.body.endsWith('\n')).toBe(true);
    expect(r.body).not.toContain('# EOF');
    const p = parseExposition(r.body); // throws on a repeated HELP/TYPE or a bad line
    expect(p.samples.length).toBeGreaterThan(100);
    for (const smp of p.samples) expect(familyOf(p, smp.name), `TYPE of ${smp.name}`).toBeDefined();
    for (const f of p.types.keys()) expect(p.helps.has(f), `HELP of ${f}`).toBe(true);
    // Text 0.0.4 names counter families by their sample name, _total included.
    for (const [f, t] of p.types) if (t === 'counter') expect(f).toMatch(/_total$/);
  });

  it('exports one histogram per stage whose +Inf bucket equals _count and the records written, with the right buckets and _sum', async () => {
    const p = await scrape(s);
    const want = expectedStages(recs);
    expect([...want.keys()].sort()).toEqual(['fetch', 'llm-call', 'total']);
    expect(p.types.get('perfmon_stage_duration_seconds')).toBe('histogram');
    const stagesInScrape = new Set(p.samples.filter((x) => x.name === 'perfmon_stage_duration_seconds_count').map((x) => x.labels.stage));
    expect([...stagesInScrape].sort()).toEqual([...want.keys()].sort());
    for (const [stage, e] of want) {
      const inf = sampleValue(p, 'perfmon_stage_duration_seconds_bucket', { stage, le: '+Inf' });
      const count = sampleValue(p, 'perfmon_stage_duration_seconds_count', { stage });
      expect(inf, `+Inf bucket of ${stage}`).toBe(e.records);
      expect(count, `_count of ${stage}`).toBe(e.records);
      // Each le counts the durations at or below it (inclusive), cumulatively.
      const buckets = p.samples.filter((x) => x.name === 'perfmon_stage_duration_seconds_bucket' && x.labels.stage === stage);
      expect(buckets.map((b) => b.labels.le)).toEqual([...BUCKET_BOUNDS_SECONDS.map(String), '+Inf']);
      for (const le of BUCKET_BOUNDS_SECONDS) {
        const expected = e.durationsMs.filter((ms) => ms / 1000 <= le).length;
        expect(sampleValue(p, 'perfmon_stage_duration_seconds_bucket', { stage, le: String(le) }), `${stage} le=${le}`).toBe(expected);
      }
      const sum = e.durationsMs.reduce((a, b) => a + b, 0) / 1000;
      expect(sampleValue(p, 'perfmon_stage_duration_seconds_sum', { stage })).toBeCloseTo(sum, 6);
    }
    // The edge durations landed where `le` is inclusive: exactly 0.1 s is in le="0.1", 0.100001 s is not.
    const fetch = want.get('fetch')!;
    expect(sampleValue(p, 'perfmon_stage_duration_seconds_bucket', { stage: 'fetch', le: '0.1' })).toBe(fetch.durationsMs.filter((ms) => ms <= 100).length);
    expect(sampleValue(p, 'perfmon_stage_duration_seconds_bucket', { stage: 'fetch', le: '600' })).toBe(fetch.records - 1); // 700 s overflows
  });

  it('exports the cumulative counters per stage and per model, and the window gauges, as written', async () => {
    const p = await scrape(s);
    const want = expectedStages(recs);
    for (const [stage, e] of want) {
      expect(sampleValue(p, 'perfmon_stage_records_total', { stage }), stage).toBe(e.records);
      expect(sampleValue(p, 'perfmon_stage_errors_total', { stage }), stage).toBe(e.errors);
      expect(sampleValue(p, 'perfmon_stage_cache_hits_total', { stage }), stage).toBe(e.cacheHits);
      expect(sampleValue(p, 'perfmon_stage_cache_misses_total', { stage }), stage).toBe(e.cacheMisses);
      expect(sampleValue(p, 'perfmon_stage_llm_tokens_total', { stage }), stage).toBe(e.tokens);
      expect(sampleValue(p, 'perfmon_stage_llm_cost_dollars_total', { stage })).toBeCloseTo(e.cost, 9);
    }
    const llm = recs.filter((r) => r.type === 'llm');
    for (const [model, n] of countBy(llm, (r) => r.model)) {
      expect(sampleValue(p, 'perfmon_llm_calls_total', { model }), model).toBe(n);
      expect(sampleValue(p, 'perfmon_llm_errors_total', { model }), model).toBe(llm.filter((r) => r.model === model && r.success === false).length);
      expect(sampleValue(p, 'perfmon_llm_cache_hits_total', { model }), model).toBe(llm.filter((r) => r.model === model && r.cacheHit === true).length);
      expect(sampleValue(p, 'perfmon_llm_tokens_total', { model }), model).toBe(40 * n);
    }
    const queue = recs.filter((r) => r.type === 'queue');
    expect(sampleValue(p, 'perfmon_records_total')).toBe(recs.length);
    expect(sampleValue(p, 'perfmon_queue_samples_total')).toBe(queue.length);
    expect(sampleValue(p, 'perfmon_skipped_malformed_lines_total')).toBe(0);
    expect(sampleValue(p, 'perfmon_start_time_seconds')).toBeCloseTo(clock.t / 1000, 3);
    // The window (30 min) holds every record: its gauges agree with the counters.
    expect(sampleValue(p, 'perfmon_window_records')).toBe(recs.length);
    expect(sampleValue(p, 'perfmon_window_seconds')).toBe(1800);
    const total = want.get('total')!;
    expect(sampleValue(p, 'perfmon_window_signals')).toBe(total.records);
    expect(sampleValue(p, 'perfmon_window_stage_duration_seconds_count', { stage: 'total' })).toBe(total.records);
    expect(sampleValue(p, 'perfmon_window_signal_error_ratio')).toBeCloseTo(total.errors / total.records, 9);
    const p95 = sampleValue(p, 'perfmon_window_stage_duration_seconds', { stage: 'total', quantile: '0.95' })!;
    const exact = nearestRank(total.durationsMs, 95) / 1000;
    expect(Math.abs(p95 - exact) / exact).toBeLessThanOrEqual(0.01);
    expect(sampleValue(p, 'perfmon_queue_depth')).toBe(queue.at(-1)!.depth);
    // 12 % of signals fail (> 5 %): one critical issue.
    expect(sampleValue(p, 'perfmon_active_issues', { severity: 'critical' })).toBeGreaterThanOrEqual(1);
  });

  it('answers HEAD with the headers and no body', async () => {
    const r = await get(s, '/metrics', { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.type).toBe(TEXT_CONTENT_TYPE);
    expect(r.body).toBe('');
  });
});

describe('GET /metrics as OpenMetrics', () => {
  const clock = clockAt(Date.now());
  let s: RunningServer;

  beforeAll(async () => {
    const dir = tempDir();
    writeRecords(dir, pipelineRecords(clock.t, 40, 11));
    s = await serve([dir], clock);
  });

  for (const accept of [
    'application/openmetrics-text',
    // What Prometheus 2.x sends.
    'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
  ]) {
    it(`answers Accept: ${accept.slice(0, 40)}… with OpenMetrics ending in # EOF, counter families without _total`, async () => {
      const om = await get(s, '/metrics', { headers: { accept } });
      expect(om.status).toBe(200);
      expect(om.type).toBe(OPENMETRICS_CONTENT_TYPE);
      expect(om.type).toMatch(/^application\/openmetrics-text; version=1\.0\.0; charset=utf-8$/);
      expect(om.body.endsWith('\n# EOF\n')).toBe(true);
      expect(om.body.indexOf('# EOF')).toBe(om.body.length - '# EOF\n'.length);
      const p = parseExposition(om.body);
      const counters = [...p.types].filter(([, t]) => t === 'counter').map(([f]) => f);
      expect(counters.length).toBeGreaterThan(10);
      for (const f of counters) {
        expect(f, 'OpenMetrics counter family name').not.toMatch(/_total$/);
        expect(om.body).toMatch(new RegExp(`^# TYPE ${f} counter$`, 'm'));
      }
      // Counter samples keep _total, and every sample belongs to a declared family.
      for (const smp of p.samples) {
        const fam = familyOf(p, smp.name);
        expect(fam, smp.name).toBeDefined();
        if (fam!.type === 'counter') expect(smp.name).toBe(fam!.family + '_total');
      }
      // The same samples as the text format (nothing changes between two scrapes here).
      const text = parseExposition((await get(s, '/metrics')).body);
      expect(p.samples.map((x) => `${x.key} ${x.value}`)).toEqual(text.samples.map((x) => `${x.key} ${x.value}`));
    });
  }

  it('answers a plain Accept (text/plain, */*) with text 0.0.4', async () => {
    for (const accept of ['text/plain', '*/*', 'text/plain;version=0.0.4']) {
      const r = await get(s, '/metrics', { headers: { accept } });
      expect(r.type, accept).toBe(TEXT_CONTENT_TYPE);
      expect(r.body).not.toContain('# EOF');
    }
  });
});

describe('cumulative counters across appends', () => {
  it('never decrease, and record counts grow by exactly what was appended (createRecorder, then refresh)', async () => {
    const clock = clockAt(Date.now());
    const dir = tempDir();
    const initial = pipelineRecords(clock.t, 30, 3);
    writeRecords(dir, initial);
    const s = await serve([dir], clock);
    const rec = createRecorder({ dir, sync: true, now: clock.now, retentionHours: 0 });
    try {
      let before = await scrape(s);
      let written = initial.length;
      const perStage = new Map([...expectedStages(initial)].map(([k, v]) => [k, v.records]));
      for (let round = 0; round < 3; round++) {
        // Append: a burst of stage records (some failing, one new stage), llm calls, queue samples.
        const appended = new Map<string, number>();
        const add = (stage: string) => appended.set(stage, (appended.get(stage) ?? 0) + 1);
        const n = 7 + round * 5;
        for (let i = 0; i < n; i++) {
          clock.t += 250;
          rec.recordMetric('fetch', 30 + i * 17, { cacheHit: i % 2 === 0 });
          add('fetch');
          rec.recordMetric('total', 400 + i * 111, { success: i !== 2, llmTokens: 10 });
          add('total');
          if (i % 3 === 0) {
            rec.recordError(`stage-${round}`, new Error('boom'), 12);
            add(`stage-${round}`);
          }
          rec.recordLLMCall({ model: 'm1', durationMs: 90, llmTokens: 5, llmCost: 0.0001 });
          rec.recordQueueDepth(i);
        }
        rec.flush();
        const appendedRecords = [...appended.values()].reduce((a, b) => a + b, 0) + 2 * n;
        await s.refresh();
        const after = await scrape(s);

        // Every counter and histogram sample of the first scrape is still there, and not smaller.
        const afterByKey = new Map(after.samples.map((x) => [x.key, x.value]));
        let checked = 0;
        for (const smp of before.samples) {
          const fam = familyOf(before, smp.name)!;
          if (fam.type !== 'counter' && fam.type !== 'histogram') continue;
          const v = afterByKey.get(smp.key);
          expect(v, `${smp.key} still exported`).toBeDefined();
          expect(v!, `${smp.key} did not decrease`).toBeGreaterThanOrEqual(smp.value);
          checked++;
        }
        expect(checked).toBeGreaterThan(50);

        written += appendedRecords;
        expect(sampleValue(after, 'perfmon_records_total')).toBe(written);
        expect(sampleValue(after, 'perfmon_records_total')! - sampleValue(before, 'perfmon_records_total')!).toBe(appendedRecords);
        expect(sampleValue(after, 'perfmon_queue_samples_total')! - sampleValue(before, 'perfmon_queue_samples_total')!).toBe(n);
        expect(sampleValue(after, 'perfmon_llm_calls_total', { model: 'm1' })! - (sampleValue(before, 'perfmon_llm_calls_total', { model: 'm1' }) ?? 0)).toBe(n);
        for (const [stage, k] of appended) {
          const was = perStage.get(stage) ?? 0;
          expect(sampleValue(after, 'perfmon_stage_records_total', { stage }), stage).toBe(was + k);
          expect(sampleValue(after, 'perfmon_stage_duration_seconds_count', { stage }), stage).toBe(was + k);
          expect(sampleValue(after, 'perfmon_stage_duration_seconds_bucket', { stage, le: '+Inf' }), stage).toBe(was + k);
          perStage.set(stage, was + k);
        }
        expect(sampleValue(after, `perfmon_stage_errors_total`, { stage: `stage-${round}` })).toBe(appended.get(`stage-${round}`));
        before = after;
      }
    } finally {
      await rec.close();
    }
  });
});

describe('JSON API', () => {
  const clock = clockAt(Date.now());
  let dir: string;
  let recs: Rec[];
  let old: Rec[];
  let s: RunningServer;

  beforeAll(async () => {
    dir = tempDir();
    recs = pipelineRecords(clock.t, 60, 5, 90_000);
    // Older than the served window (30 min) and its previous one: only a read of the logs sees them.
    old = Array.from({ length: 12 }, (_, i): Rec => ({ ts: clock.t - 90 * 60_000 + i * 1000, stage: 'total', durationMs: 20_000, success: true }));
    writeRecords(dir, [...old, ...recs]);
    s = await serve([dir], clock);
  });

  it('GET /api/metrics/realtime answers the keys of `perfmon realtime --json`, with the same figures', async () => {
    const r = await get(s, '/api/metrics/realtime');
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json; charset=utf-8');
    const m = JSON.parse(r.body) as Record<string, unknown>;
    expect(Object.keys(m).sort()).toEqual(REALTIME_KEYS);
    const cli = await runPerfmon(['realtime', '--json', '--dir', dir]);
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    const c = JSON.parse(cli.stdout) as Record<string, unknown>;
    expect(Object.keys(c).sort()).toEqual(Object.keys(m).sort());
    expect(m.timestamp).toBe(new Date(clock.t).toISOString());
    const total = expectedStages(recs).get('total')!;
    expect(m.averageLatency as number).toBeCloseTo(total.durationsMs.reduce((a, b) => a + b, 0) / total.records, 6);
    expect(m.errorRate as number).toBeCloseTo((100 * total.errors) / total.records, 9);
    expect(m.currentThroughput as number).toBeCloseTo(total.records / 5, 9);
    for (const k of ['currentThroughput', 'averageLatency', 'errorRate', 'cacheHitRate', 'queueDepth', 'activeIssues']) {
      expect(m[k], k).toBeCloseTo(c[k] as number, 9);
    }
  });

  it('GET /api/metrics/report?window=5 answers a PerformanceReport of those 5 minutes, as `perfmon report --json`', async () => {
    const r = await get(s, '/api/metrics/report?window=5');
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json; charset=utf-8');
    const rep = JSON.parse(r.body) as PerformanceReport;
    expect(Object.keys(rep).sort()).toEqual(REPORT_KEYS);
    expect(rep.timeWindowMinutes).toBe(5);
    expect(rep.window.until).toBe(new Date(clock.t).toISOString());
    expect(Date.parse(rep.window.until) - Date.parse(rep.window.from)).toBe(5 * 60_000);
    const want = expectedStages(recs);
    expect(Object.keys(rep.stageBreakdown).sort()).toEqual([...want.keys()].sort());
    for (const [stage, e] of want) {
      const b = rep.stageBreakdown[stage]!;
      expect(Object.keys(b).sort()).toEqual(BREAKDOWN_KEYS);
      expect(b.count, stage).toBe(e.records);
      expect(b.errorCount, stage).toBe(e.errors);
      expect(b.maxDuration, stage).toBe(Math.max(...e.durationsMs));
      const exact = nearestRank(e.durationsMs, 95);
      expect(Math.abs(b.p95Duration - exact), `${stage} p95`).toBeLessThanOrEqual(exact * 0.01);
    }
    expect(rep.records).toBe(recs.length);
    const cli = await runPerfmon(['report', '--json', '--dir', dir, '--window', '5']);
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    const c = JSON.parse(cli.stdout) as PerformanceReport;
    expect(Object.keys(c).sort()).toEqual(Object.keys(rep).sort());
    for (const stage of Object.keys(c.stageBreakdown)) {
      expect(Object.keys(c.stageBreakdown[stage]!).sort()).toEqual(BREAKDOWN_KEYS);
      expect(rep.stageBreakdown[stage]!.count).toBe(c.stageBreakdown[stage]!.count);
    }
  });

  it('GET /api/metrics/report?window=2h (longer than the served 30 min) is read from the logs', async () => {
    const long = await get(s, '/api/metrics/report?window=2h');
    expect(long.status).toBe(200);
    expect(long.type).toBe('application/json; charset=utf-8');
    const rep = JSON.parse(long.body) as PerformanceReport;
    expect(Object.keys(rep).sort()).toEqual(REPORT_KEYS);
    expect(rep.timeWindowMinutes).toBe(120);
    const total = expectedStages(recs).get('total')!;
    // The old signals (90 minutes ago) are in it; the served window never holds them.
    expect(rep.stageBreakdown.total!.count).toBe(total.records + old.length);
    const served = JSON.parse((await get(s, '/api/metrics/report?window=30')).body) as PerformanceReport;
    expect(served.timeWindowMinutes).toBe(30);
    expect(served.stageBreakdown.total!.count).toBe(total.records);
    // Minutes as a bare number or a duration with a unit are one and the same.
    const m90s = JSON.parse((await get(s, '/api/metrics/report?window=90s')).body) as PerformanceReport;
    expect(m90s.timeWindowMinutes).toBe(1.5);
    const noWindow = JSON.parse((await get(s, '/api/metrics/report')).body) as PerformanceReport;
    expect(noWindow.timeWindowMinutes).toBe(30);
  });

  it('answers a bad ?window= with 400 and a JSON {error} naming the value', async () => {
    for (const [path, bad] of [
      ['/api/metrics/report?window=abc', 'abc'],
      ['/api/metrics/report?window=-5', '-5'],
      ['/api/metrics/report?window=0', '0'],
      ['/api/metrics/report?window=5x', '5x'],
      ['/api/metrics/issues?window=abc', 'abc'],
    ] as const) {
      const r = await get(s, path);
      expect(r.status, path).toBe(400);
      expect(r.type).toBe('application/json; charset=utf-8');
      const body = JSON.parse(r.body) as Record<string, unknown>;
      expect(Object.keys(body)).toEqual(['error']);
      expect(body.error).toContain(`"${bad}"`);
    }
  });

  it('GET /api/metrics/issues answers the issues array, critical first', async () => {
    const r = await get(s, '/api/metrics/issues');
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json; charset=utf-8');
    const issues = JSON.parse(r.body) as Array<Record<string, unknown>>;
    expect(Array.isArray(issues)).toBe(true);
    expect(issues.length).toBeGreaterThanOrEqual(1);
    const rank = { critical: 0, warning: 1, info: 2 } as const;
    for (const i of issues) {
      for (const k of ['category', 'severity', 'message', 'currentValue', 'threshold', 'recommendation']) expect(i, k).toHaveProperty(k);
      expect(Object.keys(rank)).toContain(i.severity);
    }
    const ranks = issues.map((i) => rank[i.severity as keyof typeof rank]);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    // 10 % of the signals fail: the error-rate rule speaks.
    const errors = issues.find((i) => i.category === 'errors');
    expect(errors?.severity).toBe('critical');
    expect(errors?.currentValue).toBeCloseTo(10, 9);
  });

  it('GET /api/metrics/issues of a healthy pipeline is an empty array', async () => {
    const c = clockAt(Date.now());
    const d = tempDir();
    writeRecords(d, Array.from({ length: 30 }, (_, i): Rec => ({ ts: c.t - (30 - i) * 2000, stage: 'total', durationMs: 100 + i, success: true })));
    const h = await serve([d], c);
    const r = await get(h, '/api/metrics/issues');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual([]);
  });

  it('GET /healthz answers 200, status ok, and what was read', async () => {
    const r = await get(s, '/healthz');
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json; charset=utf-8');
    const h = JSON.parse(r.body) as Record<string, unknown>;
    expect(h.status).toBe('ok');
    expect(h).not.toHaveProperty('error');
    // The old records are read when their hourly file is one the server needs at start: one that
    // may hold records of today (for the day's tokens) or of the window and the one before. Just
    // after UTC midnight they can lie in yesterday's file, outside both windows, which it rightly
    // leaves unread.
    const hour = Math.floor(old[0]!.ts / 3_600_000) * 3_600_000;
    const needed = hourMayHold(hour, { from: Math.min(Math.floor(clock.t / 86_400_000) * 86_400_000, clock.t - 60 * 60_000), until: clock.t });
    expect(h.records).toBe(recs.length + (needed ? old.length : 0));
    expect(h.malformed).toBe(0);
    expect(h.files).toBeGreaterThanOrEqual(1);
    expect(h.uptimeSeconds).toBe(0); // the server's clock has not moved
  });

  it('answers unknown paths with 404 JSON naming the path and listing the real ones', async () => {
    for (const path of ['/', '/nope', '/metrics/', '/api/metrics', '/api/metrics/reports', '/METRICS']) {
      const r = await get(s, path);
      expect(r.status, path).toBe(404);
      expect(r.type).toBe('application/json; charset=utf-8');
      const body = JSON.parse(r.body) as { error: string; paths: string[] };
      expect(body.error).toContain(path.split('?')[0]!);
      expect(body.paths.sort()).toEqual(['/api/metrics/issues', '/api/metrics/realtime', '/api/metrics/report', '/healthz', '/metrics']);
    }
  });

  it('answers other methods than GET and HEAD with 405 JSON and an Allow header', async () => {
    for (const [method, path] of [
      ['POST', '/metrics'],
      ['PUT', '/api/metrics/report'],
      ['DELETE', '/healthz'],
      ['PATCH', '/api/metrics/issues'],
    ] as const) {
      const r = await get(s, path, { method, body: method === 'DELETE' ? undefined : '{}' });
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.type).toBe('application/json; charset=utf-8');
      expect(r.headers.get('allow')).toBe('GET, HEAD');
      expect((JSON.parse(r.body) as { error: string }).error).toContain(method);
    }
  });
});

describe('serving through rotation and garbage', () => {
  it('keeps serving while a log file is rotated (rename + new file), counting every record once', async () => {
    const clock = clockAt(Date.now());
    const dir = tempDir();
    const file = join(dir, logFileName(clock.t));
    // Each batch has its own timestamps: a new file that starts with the very bytes of the old one
    // would be taken for a copy-truncate copy of it (see Tailer), which real writers never produce.
    let seq = 0;
    const batch = (n: number, stage: string): string =>
      Array.from({ length: n }, () => line({ ts: clock.t - 10_000 + seq++, stage, durationMs: 10 + seq, success: true })).join('\n') + '\n';
    writeFileSync(file, batch(20, 'total'));
    const s = await serve([dir], clock);
    expect(sampleValue(await scrape(s), 'perfmon_records_total')).toBe(20);

    // logrotate's create mode: the file is renamed, the writer finishes a batch into it, and a new
    // file takes the old name.
    renameSync(file, file + '.1');
    expect((await get(s, '/metrics')).status).toBe(200);
    appendFileSync(file + '.1', batch(5, 'total'));
    writeFileSync(file, batch(8, 'total'));
    expect((await get(s, '/metrics')).status).toBe(200);
    await s.refresh();
    let p = await scrape(s);
    expect(sampleValue(p, 'perfmon_records_total')).toBe(33);
    expect(sampleValue(p, 'perfmon_stage_duration_seconds_count', { stage: 'total' })).toBe(33);

    // A second rotation, the old copy deleted meanwhile: nothing read twice, nothing lost.
    rmSync(file + '.1');
    renameSync(file, file + '.1');
    appendFileSync(file + '.1', batch(2, 'total'));
    writeFileSync(file, batch(3, 'after'));
    await s.refresh();
    await s.refresh(); // a second poll reads nothing again
    p = await scrape(s);
    expect(sampleValue(p, 'perfmon_records_total')).toBe(38);
    expect(sampleValue(p, 'perfmon_stage_records_total', { stage: 'after' })).toBe(3);
    const h = await get(s, '/healthz');
    expect(h.status).toBe(200);
    expect((JSON.parse(h.body) as { status: string }).status).toBe('ok');
  });

  it('keeps serving a file with garbage lines: they are counted as malformed, the rest as records', async () => {
    const clock = clockAt(Date.now());
    const dir = tempDir();
    const file = join(dir, logFileName(clock.t));
    const good = (i: number) => line({ ts: clock.t - 5000 + i, stage: 'total', durationMs: 100 + i, success: true });
    const garbage = [
      'not json at all',
      '{"ts":"yesterday","stage":"total","durationMs":1}',
      '{"ts":"2026-01-01T00:00:00Z","stage":"total","durationMs":-4}',
      '[1,2,3]',
      '\u0000\u0001\u0002',
      '{"ts":', // a torn line
      '',
      '{"ts":"' + new Date(clock.t).toISOString() + '","type":"bogus"}',
    ];
    const lines: string[] = [];
    for (let i = 0; i < 12; i++) {
      lines.push(good(i));
      if (i < garbage.length) lines.push(garbage[i]!);
    }
    writeFileSync(file, lines.join('\n') + '\n' + '{"ts":"' + new Date(clock.t).toISOString() + '","stage":"to'); // unterminated: held, not counted
    const s = await serve([dir], clock);
    let r = await get(s, '/metrics');
    expect(r.status).toBe(200);
    let p = parseExposition(r.body);
    expect(sampleValue(p, 'perfmon_records_total')).toBe(12);
    expect(sampleValue(p, 'perfmon_skipped_malformed_lines_total')).toBe(garbage.length);
    expect(sampleValue(p, 'perfmon_malformed_lines')).toBe(garbage.length);
    let h = JSON.parse((await get(s, '/healthz')).body) as Record<string, unknown>;
    expect(h.status).toBe('ok');
    expect(h.malformed).toBe(garbage.length);
    const report = JSON.parse((await get(s, '/api/metrics/report')).body) as PerformanceReport;
    expect(report.malformed.count).toBe(garbage.length);

    // The torn last line is completed, and more garbage arrives with more records.
    appendFileSync(file, 'tal","durationMs":7}\nxx\n' + good(50) + '\n');
    await s.refresh();
    r = await get(s, '/metrics');
    expect(r.status).toBe(200);
    p = parseExposition(r.body);
    expect(sampleValue(p, 'perfmon_records_total')).toBe(14);
    expect(sampleValue(p, 'perfmon_skipped_malformed_lines_total')).toBe(garbage.length + 1);
    h = JSON.parse((await get(s, '/healthz')).body) as Record<string, unknown>;
    expect(h.malformed).toBe(garbage.length + 1);
  });
});

describe('a scrape answers from memory', () => {
  // Method: every file-system entry point perfmon's readers use (fs/promises open, readdir, stat,
  // readFile; fs createReadStream, readFileSync, readdirSync, openSync, readSync, statSync,
  // fstatSync) is a spy on the
  // real function (vi.mock above), and FileHandle's read/stat/readFile are spied on its prototype.
  // Background re-scans are off (rescanMs = 1 h) and no file changes during the scrapes, so any
  // call counted while scraping comes from the scrape. A report over a window longer than the
  // served one is the positive control: it must read the logs, and the spies must see it.
  // Then the log directory is deleted: /metrics must stay byte-identical, and as fast.
  const fsSpies = () => [
    vi.mocked(fsp.open), vi.mocked(fsp.readdir), vi.mocked(fsp.stat), vi.mocked(fsp.readFile),
    vi.mocked(fs.createReadStream), vi.mocked(fs.readFileSync), vi.mocked(fs.readdirSync), vi.mocked(fs.openSync), vi.mocked(fs.readSync),
    vi.mocked(fs.statSync), vi.mocked(fs.fstatSync),
  ];
  const handleSpies: Array<ReturnType<typeof vi.spyOn>> = [];
  afterEach(() => {
    for (const h of handleSpies.splice(0)) h.mockRestore();
  });

  function fsCalls(): number {
    return fsSpies().reduce((n, s) => n + s.mock.calls.length, 0) + handleSpies.reduce((n, s) => n + s.mock.calls.length, 0);
  }

  it('reads no file while scraping (spied fs), and serves unchanged counts after the logs are deleted', async () => {
    const clock = clockAt(Date.now());
    const dir = tempDir();
    const recs = pipelineRecords(clock.t, 3000, 17, 10 * 60_000);
    writeRecords(dir, recs);
    const t0 = performance.now();
    const s = await serve([dir], clock);
    const readMs = performance.now() - t0;
    let pollCalls = 0;
    const realPoll = s.live.tailer.poll.bind(s.live.tailer);
    s.live.tailer.poll = () => {
      pollCalls++;
      return realPoll();
    };

    // FileHandle methods, on the prototype of a real handle (the class is not exported).
    const fh = await fsp.open(join(ROOT, 'package.json'), 'r');
    const proto = Object.getPrototypeOf(fh) as Record<'read' | 'stat' | 'readFile', (...a: unknown[]) => unknown>;
    await fh.close();
    for (const m of ['read', 'stat', 'readFile'] as const) handleSpies.push(vi.spyOn(proto, m));

    const before = fsCalls();
    const polls = pollCalls;
    const bodies: string[] = [];
    for (let i = 0; i < 5; i++) {
      bodies.push((await get(s, '/metrics')).body);
      await get(s, '/metrics', { headers: { accept: 'application/openmetrics-text' } });
      await get(s, '/api/metrics/realtime');
      await get(s, '/api/metrics/report?window=30');
      await get(s, '/api/metrics/issues');
      await get(s, '/healthz');
    }
    expect(fsCalls() - before, 'file-system calls made by 30 requests').toBe(0);
    expect(pollCalls - polls, 'polls made by the requests').toBe(0);
    expect(new Set(bodies).size).toBe(1);

    // Positive control: the spies do see a read of the logs.
    const r = await get(s, '/api/metrics/report?window=2h');
    expect(r.status).toBe(200);
    expect(fsCalls() - before, 'a report beyond the served window reads the logs').toBeGreaterThan(0);

    // Scrape time before deleting the logs.
    const time = async (): Promise<number> => {
      const ts: number[] = [];
      for (let i = 0; i < 15; i++) {
        const a = performance.now();
        await get(s, '/metrics');
        ts.push(performance.now() - a);
      }
      return ts.sort((a, b) => a - b)[7]!;
    };
    const medianBefore = await time();

    // Delete the logs; a refresh notices (the files are let go). /metrics does not change at all.
    const metrics = bodies[0]!;
    rmSync(dir, { recursive: true, force: true });
    await s.refresh();
    expect(s.live.tailer.tracked()).toEqual([]);
    const after = await get(s, '/metrics');
    expect(after.status).toBe(200);
    expect(after.body).toBe(metrics);
    expect(sampleValue(parseExposition(after.body), 'perfmon_records_total')).toBe(recs.length);
    const medianAfter = await time();
    // Flat: a scrape costs about the same with or without the logs, and far less than reading them.
    expect(medianAfter).toBeLessThan(medianBefore * 3 + 20);
    expect(medianBefore).toBeLessThan(Math.max(readMs / 3, 25));
  });
});

describe('perfmon serve as installed', () => {
  it('a port already in use: exit 1 and one line naming the port (the error comes from the lazily loaded server bundle)', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const dir = tempDir();
      // It must exit by itself: a watcher left running would hold the process until killed (null).
      const r = await runPerfmon(['serve', '--dir', dir, '--host', '127.0.0.1', '--port', String(port)], { timeoutMs: 10_000 });
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`perfmon: port ${port} on 127.0.0.1 is in use (choose another with --port)\n`);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
