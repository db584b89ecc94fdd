import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { generateReport } from '../../src/report/generate-report.js';
import type { PerformanceReport, StageBreakdown } from '../../src/report/types.js';

// Every expected figure below is computed by hand from fixtures/report/* (see its README.md).

const FIXTURES = fileURLToPath(new URL('../../fixtures/report/', import.meta.url));
const BASIC = join(FIXTURES, 'basic');
const NO_TOTAL = join(FIXTURES, 'no-total');
const SPLIT = join(FIXTURES, 'split');
const DIR_A = join(FIXTURES, 'two-dirs', 'a');
const DIR_B = join(FIXTURES, 'two-dirs', 'b');

const at = (iso: string): number => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad test time ${iso}`);
  return ms;
};
/** The injected clock: a day after the fixtures, so "now" never leaks into the figures. */
const NOW = at('2026-11-28T12:00:00.000Z');
const now = () => NOW;

const temps: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'perfmon-report-'));
  temps.push(d);
  return d;
}
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

function report(dirs: string[], until: number | 'latest', windowMinutes = 30, extra: { dailyTokenLimit?: number; stages?: string[] } = {}) {
  return generateReport({ dirs, windowMinutes, until, now, dailyTokenLimit: extra.dailyTokenLimit ?? 50_000, stages: extra.stages });
}

/** Percentiles: within 1 % relative error of the exact nearest-rank value (DESIGN §3). */
function near(got: number, exp: number, what: string): void {
  expect(Number.isFinite(got), `${what} is not a finite number: ${got}`).toBe(true);
  expect(Math.abs(got - exp), `${what}: got ${got}, expected ${exp} ±1 %`).toBeLessThanOrEqual(0.01 * Math.abs(exp));
}

interface StageExpect {
  count: number;
  total: number;
  min: number;
  max: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
}

function expectStage(b: StageBreakdown | undefined, e: StageExpect, name: string): void {
  expect(b, `stage ${name} missing from stageBreakdown`).toBeDefined();
  const s = b!;
  expect(s.count, `${name}.count`).toBe(e.count);
  expect(s.totalDuration, `${name}.totalDuration`).toBeCloseTo(e.total, 9);
  expect(s.averageDuration, `${name}.averageDuration`).toBeCloseTo(e.total / e.count, 9);
  expect(s.minDuration, `${name}.minDuration`).toBe(e.min);
  expect(s.maxDuration, `${name}.maxDuration`).toBe(e.max);
  near(s.p50Duration, e.p50, `${name}.p50Duration`);
  near(s.p95Duration, e.p95, `${name}.p95Duration`);
  near(s.p99Duration, e.p99, `${name}.p99Duration`);
  expect(s.errorCount, `${name}.errorCount`).toBe(e.errors);
  expect(s.errorRate, `${name}.errorRate`).toBeCloseTo((e.errors / e.count) * 100, 9);
}

/** Every number in the report is finite; `null` only where the type allows it (signalStage). */
function expectNoNaN(r: PerformanceReport): void {
  const walk = (v: unknown, path: string): void => {
    if (typeof v === 'number') expect(Number.isFinite(v), `${path} = ${v}`).toBe(true);
    else if (v === null || v === undefined) expect(path, `${path} is ${v}`).toBe('signalStage');
    else if (typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
  };
  walk(r, '');
  const { signalStage: _s, ...rest } = r;
  const json = JSON.stringify(rest);
  expect(json).not.toMatch(/null|NaN|Infinity/);
}

/** The report minus what legitimately differs between equivalent inputs (file paths, file count). */
function comparable(r: PerformanceReport) {
  return { ...r, files: 0, malformed: { count: r.malformed.count, first: r.malformed.first.map((m) => ({ line: m.line, reason: m.reason })) } };
}

describe('generateReport — basic fixture, until 10:30:00.000Z, window 30 min', () => {
  const UNTIL = at('2026-11-27T10:30:00.000Z');
  const get = () => report([BASIC], UNTIL);

  it('describes the window: (10:00:00.000, 10:30:00.000], generatedAt = now', async () => {
    const r = await get();
    expect(r.generatedAt).toBe('2026-11-28T12:00:00.000Z');
    expect(r.timeWindowMinutes).toBe(30);
    expect(r.window).toEqual({ from: '2026-11-27T10:00:00.000Z', until: '2026-11-27T10:30:00.000Z' });
    // 23:00 the day before, 00:00, 09:00 and 10:00 files can all hold the window or the UTC day.
    expect(r.files).toBe(4);
  });

  it('stage breakdown: every figure, nearest-rank percentiles', async () => {
    const r = await get();
    expect(Object.keys(r.stageBreakdown).sort()).toEqual(['classify', 'preprocess', 'total']);
    // preprocess: 2,4,…,20 (n 10), sum 2·(1+…+10) = 110, mean 11; p50 rank ceil(5)=5 → 10 (rank 6 would be 12);
    // p95 rank ceil(9.5)=10 → 20; p99 rank ceil(9.9)=10 → 20. The 10 ms one failed: 1/10 = 10 %.
    expectStage(r.stageBreakdown.preprocess, { count: 10, total: 110, min: 2, max: 20, p50: 10, p95: 20, p99: 20, errors: 1 }, 'preprocess');
    // classify: 900,15,250,40.5,500,80,120 (n 7) → sorted 15,40.5,80,120,250,500,900; sum 1905.5, mean 272.2142857;
    // p50 rank ceil(3.5)=4 → 120 (rank 3 = 80, rank 5 = 250); p95 rank ceil(6.65)=7 → 900; p99 rank ceil(6.93)=7 → 900.
    // The 900 ms one failed: 1/7 = 14.2857 %.
    expectStage(r.stageBreakdown.classify, { count: 7, total: 1905.5, min: 15, max: 900, p50: 120, p95: 900, p99: 900, errors: 1 }, 'classify');
    // total: 100,200,…,2000 (n 20), sum 100·210 = 21000, mean 1050; p50 rank ceil(10)=10 → 1000 (rank 11 = 1100);
    // p95 rank ceil(19)=19 → 1900 (rank 20 = 2000, rank 18 = 1800); p99 rank ceil(19.8)=20 → 2000.
    // Failed: 300, 1200 and 2000 (the one exactly at until) → 3/20 = 15 %.
    expectStage(r.stageBreakdown.total, { count: 20, total: 21000, min: 100, max: 2000, p50: 1000, p95: 1900, p99: 2000, errors: 3 }, 'total');
  });

  it('signals, headline figures and throughput', async () => {
    const r = await get();
    expect(r.signalStage).toBe('total');
    expect(r.averageTotalTime).toBeCloseTo(1050, 9); // 21000 / 20
    near(r.p95TotalTime, 1900, 'p95TotalTime');
    expect(r.totalErrors).toBe(3);
    expect(r.errorRate).toBeCloseTo(15, 9); // 3 / 20 · 100
    expect(r.throughput.totalSignalsProcessed).toBe(20);
    expect(r.throughput.signalsPerMinute).toBeCloseTo(20 / 30, 12); // signals ÷ window minutes
    expect(r.throughput.signalsPerHour).toBeCloseTo(40, 9); // 20/30 · 60
    // First record of the window: queue sample 10:05:00.000 → 25 minutes to until → 20 / 25.
    expect(r.throughput.averageSignalsPerMinute).toBeCloseTo(0.8, 12);
    // 10 preprocess + 7 classify + 20 total + 1 llm + 8 queue.
    expect(r.records).toBe(46);
  });

  it('cache efficiency over records with a boolean cacheHit', async () => {
    const r = await get();
    // classify: hits 15, 40.5, 80; misses 900, 250, 500, 120; llm record: miss.
    expect(r.cacheEfficiency).toEqual({ totalRequests: 8, cacheHits: 3, cacheMisses: 5, hitRate: 37.5 });
  });

  it('token usage in the window and since 00:00 UTC of until’s day', async () => {
    const r = await get();
    const u = r.tokenUsage;
    // classify 750+0+450+0+600+300 (6 records with llmTokens) + llm 900 = 3000 over 7 records.
    expect(u.totalTokens).toBe(3000);
    expect(u.totalCost).toBeCloseTo(0.0075 + 0.0045 + 0.006 + 0.003 + 0.009, 12); // 0.030
    expect(u.averageTokensPerRequest).toBeCloseTo(3000 / 7, 9); // 428.571…
    // Day: 00:00:00.000 (5000, $0.05) + 09:15 llm (2000, $0.02) + 09:59:59.999 (1000, $0.01) + window (3000, $0.03).
    // Not the 23:59:59.999 record of the day before (100000), nor 10:30:00.001 after until (7000).
    expect(u.dailyTokens).toBe(11_000);
    expect(u.dailyCost).toBeCloseTo(0.11, 12);
    expect(u.dailyLimit).toBe(50_000);
    expect(u.percentOfLimit).toBeCloseTo(22, 9); // 11000 / 50000 · 100
  });

  it('queue metrics: current, average, max and a per-minute max history', async () => {
    const r = await get();
    const q = r.queueMetrics;
    // In (10:00, 10:30]: 12, 7, 4, 9, 2, 0, 5, 3 → sum 42 / 8 = 5.25, max 12. Not 40 (at 10:00:00.000 = from),
    // 50 (09:58) nor 99 (10:30:00.500, after until).
    expect(q.averageDepth).toBeCloseTo(5.25, 12);
    expect(q.maxDepth).toBe(12);
    expect(q.currentDepth).toBe(3); // the sample exactly at until
    expect(q.depthHistory).toEqual([
      { timestamp: '2026-11-27T10:05:00.000Z', depth: 12 }, // max(12, 7)
      { timestamp: '2026-11-27T10:06:00.000Z', depth: 9 }, // max(4, 9, 2)
      { timestamp: '2026-11-27T10:20:00.000Z', depth: 0 },
      { timestamp: '2026-11-27T10:29:00.000Z', depth: 5 },
      { timestamp: '2026-11-27T10:30:00.000Z', depth: 3 },
    ]);
  });

  it('llm records: counted in tokens and cache, broken down by model, not as a stage', async () => {
    const r = await get();
    expect(Object.keys(r.modelBreakdown)).toEqual(['gpt-4o']);
    expectStage(r.modelBreakdown['gpt-4o'], { count: 1, total: 1830, min: 1830, max: 1830, p50: 1830, p95: 1830, p99: 1830, errors: 0 }, 'gpt-4o');
  });

  it('malformed lines are counted with file and line; an unterminated last line is not', async () => {
    const r = await get();
    // perfmon-20261127-09.ndjson line 3 lacks durationMs. The unterminated 99 999 ms total at 10:29:30 of the
    // 10:00 file is neither malformed nor a record (total.max above stays 2000, count 20).
    expect(r.malformed.count).toBe(1);
    expect(r.malformed.first).toHaveLength(1);
    expect(r.malformed.first[0]!.file).toBe(join(BASIC, 'perfmon-20261127-09.ndjson'));
    expect(r.malformed.first[0]!.line).toBe(3);
    expect(r.malformed.first[0]!.reason).toMatch(/durationMs/);
    expectNoNaN(r);
  });

  it('the default daily limit (1,000,000) gives 1.1 %', async () => {
    const r = await generateReport({ dirs: [BASIC], windowMinutes: 30, until: UNTIL, now, dailyTokenLimit: 1_000_000 });
    expect(r.tokenUsage.dailyLimit).toBe(1_000_000);
    expect(r.tokenUsage.percentOfLimit).toBeCloseTo(1.1, 9); // 11000 / 1e6 · 100
  });

  it('stages filter limits only the stage breakdown', async () => {
    const all = await get();
    const only = await report([BASIC], UNTIL, 30, { stages: ['classify'] });
    expect(Object.keys(only.stageBreakdown)).toEqual(['classify']);
    expect(only.stageBreakdown.classify).toEqual(all.stageBreakdown.classify);
    // Headline figures stay pipeline-wide: still the 20 total records.
    expect(only.signalStage).toBe('total');
    expect(only.throughput.totalSignalsProcessed).toBe(20);
    expect(only.averageTotalTime).toBeCloseTo(1050, 9);
    expect({ ...only, stageBreakdown: {} }).toEqual({ ...all, stageBreakdown: {} });
  });
});

describe('generateReport — window edges', () => {
  it('one millisecond earlier: the record at until drops out, the ones at 10:00:00.000 come in', async () => {
    // until 10:29:59.999 → (09:59:59.999, 10:29:59.999]: the 09:59:59.999 records sit exactly on the start (out);
    // sig_0 (5000 ms, failed) and queue 40 at 10:00:00.000 are in; sig_20 and queue 3 at 10:30:00.000 are out.
    const r = await report([BASIC], at('2026-11-27T10:29:59.999Z'));
    // totals 5000 + 100…1900 → n 20, sum 5000 + 100·190 = 24000; sorted 100…1900, 5000:
    // p50 rank 10 → 1000, p95 rank 19 → 1900, p99 rank 20 → 5000.
    expectStage(r.stageBreakdown.total, { count: 20, total: 24000, min: 100, max: 5000, p50: 1000, p95: 1900, p99: 5000, errors: 3 }, 'total');
    // classify unchanged: the 09:59:59.999 classify (60000 ms) is exactly at the start.
    expect(r.stageBreakdown.classify!.count).toBe(7);
    expect(r.stageBreakdown.classify!.maxDuration).toBe(900);
    expect(r.queueMetrics.averageDepth).toBeCloseTo(79 / 8, 12); // 40+12+7+4+9+2+0+5
    expect(r.queueMetrics.maxDepth).toBe(40);
    expect(r.queueMetrics.currentDepth).toBe(5); // 10:29:59
    // First record 10:00:00.000 → 29.99998333 minutes → 20 / that.
    expect(r.throughput.averageSignalsPerMinute).toBeCloseTo(20 / ((30 * 60_000 - 1) / 60_000), 12);
  });

  it('until "latest" is the newest record’s ts (10:45:00.000), ignoring an unterminated line', async () => {
    const r = await report([BASIC], 'latest');
    expect(r.window.until).toBe('2026-11-27T10:45:00.000Z');
    expect(r.window.from).toBe('2026-11-27T10:15:00.000Z');
    // (10:15, 10:45]: sig_8 at 10:15:00.000 is out; sig_9…sig_20 (900…2000) + sig_21 (3000) → 13 signals.
    expect(r.throughput.totalSignalsProcessed).toBe(13);
    expect(r.stageBreakdown.total!.maxDuration).toBe(3000);
    expect(r.stageBreakdown.total!.minDuration).toBe(900);
    const explicit = await report([BASIC], at('2026-11-27T10:45:00.000Z'));
    expect(r).toEqual(explicit);
  });

  it('daily tokens start at 00:00 UTC of until’s day even when the window reaches into the day before', async () => {
    // until 00:10 → window (23:40 the day before, 00:10]: 23:59:59.999 (100000, $1) and 00:00:00.000 (5000, $0.05).
    const r = await report([BASIC], at('2026-11-27T00:10:00.000Z'));
    expect(r.tokenUsage.totalTokens).toBe(105_000);
    expect(r.tokenUsage.totalCost).toBeCloseTo(1.05, 12);
    expect(r.tokenUsage.dailyTokens).toBe(5000);
    expect(r.tokenUsage.dailyCost).toBeCloseTo(0.05, 12);
    expect(r.tokenUsage.percentOfLimit).toBeCloseTo(10, 9); // 5000 / 50000
    expect(r.throughput.totalSignalsProcessed).toBe(1); // the 00:00:00.800 total
    expect(r.cacheEfficiency).toEqual({ totalRequests: 2, cacheHits: 0, cacheMisses: 2, hitRate: 0 });
  });

  it('an empty window of a busy day: window figures are zeros, day figures and the current depth remain', async () => {
    const r = await report([BASIC], at('2026-11-27T15:00:00.000Z'));
    expect(r.records).toBe(0);
    expect(r.signalStage).toBeNull();
    expect(r.stageBreakdown).toEqual({});
    expect(r.averageTotalTime).toBe(0);
    expect(r.errorRate).toBe(0);
    expect(r.throughput).toEqual({ totalSignalsProcessed: 0, signalsPerMinute: 0, signalsPerHour: 0, averageSignalsPerMinute: 0 });
    expect(r.cacheEfficiency).toEqual({ totalRequests: 0, cacheHits: 0, cacheMisses: 0, hitRate: 0 });
    expect(r.tokenUsage.totalTokens).toBe(0);
    expect(r.tokenUsage.averageTokensPerRequest).toBe(0);
    // 11000 up to 10:30 + 7000 at 10:30:00.001; $0.11 + $0.07.
    expect(r.tokenUsage.dailyTokens).toBe(18_000);
    expect(r.tokenUsage.dailyCost).toBeCloseTo(0.18, 12);
    expect(r.tokenUsage.percentOfLimit).toBeCloseTo(36, 9);
    // Newest queue sample at or before until: 99 at 10:30:00.500.
    expect(r.queueMetrics).toMatchObject({ currentDepth: 99, averageDepth: 0, maxDepth: 0, depthHistory: [] });
    expectNoNaN(r);
  });

  it('an empty directory gives zeros everywhere, and no NaN or null in the JSON', async () => {
    const r = await report([tempDir()], at('2026-11-27T10:30:00.000Z'));
    expect(r.records).toBe(0);
    expect(r.files).toBe(0);
    expect(r.signalStage).toBeNull();
    expect(r.p95TotalTime).toBe(0);
    expect(r.totalErrors).toBe(0);
    expect(r.tokenUsage).toEqual({
      totalTokens: 0,
      totalCost: 0,
      averageTokensPerRequest: 0,
      dailyTokens: 0,
      dailyCost: 0,
      dailyLimit: 50_000,
      percentOfLimit: 0,
    });
    expect(r.queueMetrics).toMatchObject({ currentDepth: 0, averageDepth: 0, maxDepth: 0, depthHistory: [] });
    expect(r.malformed).toEqual({ count: 0, first: [] });
    expectNoNaN(r);
  });
});

describe('generateReport — a pipeline without a total stage', () => {
  it('counts signals by the busiest stage and says which', async () => {
    const r = await report([NO_TOTAL], at('2026-11-27T12:00:00.000Z'), 60);
    // classify has 5 records, extract 4, preprocess 3.
    expect(r.signalStage).toBe('classify');
    expect(r.throughput.totalSignalsProcessed).toBe(5);
    expect(r.averageTotalTime).toBeCloseTo(300, 9); // (100+200+300+400+500) / 5
    near(r.p95TotalTime, 500, 'p95TotalTime'); // rank ceil(4.75) = 5
    expect(r.totalErrors).toBe(1);
    expect(r.errorRate).toBeCloseTo(20, 9);
    expect(r.throughput.signalsPerMinute).toBeCloseTo(5 / 60, 12);
    expect(r.throughput.signalsPerHour).toBeCloseTo(5, 9);
    expect(r.throughput.averageSignalsPerMinute).toBeCloseTo(5 / 30, 12); // first record 11:30:00 → 30 min
    expect(r.stageBreakdown.total).toBeUndefined();
    // preprocess 5,7,9: p50 rank 2 → 7, p95 rank ceil(2.85)=3 → 9.
    expectStage(r.stageBreakdown.preprocess, { count: 3, total: 21, min: 5, max: 9, p50: 7, p95: 9, p99: 9, errors: 0 }, 'preprocess');
    // classify 100…500: p50 rank ceil(2.5)=3 → 300, p95/p99 rank 5 → 500.
    expectStage(r.stageBreakdown.classify, { count: 5, total: 1500, min: 100, max: 500, p50: 300, p95: 500, p99: 500, errors: 1 }, 'classify');
    // extract 40,60,80,100: p50 rank 2 → 60 (rank 3 = 80), p95 rank ceil(3.8)=4 → 100; 1 failed → 25 %.
    expectStage(r.stageBreakdown.extract, { count: 4, total: 280, min: 40, max: 100, p50: 60, p95: 100, p99: 100, errors: 1 }, 'extract');
    expect(r.records).toBe(12);
    expect(r.cacheEfficiency.totalRequests).toBe(0);
    expectNoNaN(r);
  });
});

describe('generateReport — a window cutting a file in half', () => {
  it('(10:30, 11:00] takes the second half only', async () => {
    const r = await report([SPLIT], at('2026-11-27T11:00:00.000Z'));
    // 10:30:00.000 (70) is exactly at the start: out. 80, 90 (failed), 100, 110, 120.
    expectStage(r.stageBreakdown.total, { count: 5, total: 500, min: 80, max: 120, p50: 100, p95: 120, p99: 120, errors: 1 }, 'total');
    expect(r.errorRate).toBeCloseTo(20, 9);
    expect(r.throughput.signalsPerMinute).toBeCloseTo(5 / 30, 12);
    expect(r.throughput.averageSignalsPerMinute).toBeCloseTo(5 / 25, 12); // first record 10:35 → 25 min
    // Queue 6 (10:35), 2 (10:50); 30 at 10:29:59.999 is before the window.
    expect(r.queueMetrics).toMatchObject({
      currentDepth: 2,
      averageDepth: 4,
      maxDepth: 6,
      depthHistory: [
        { timestamp: '2026-11-27T10:35:00.000Z', depth: 6 },
        { timestamp: '2026-11-27T10:50:00.000Z', depth: 2 },
      ],
    });
    expect(r.records).toBe(7);
  });

  it('(10:00, 10:30] takes the first half only, and the halves add up to the hour', async () => {
    const first = await report([SPLIT], at('2026-11-27T10:30:00.000Z'));
    // 10:00:00.000 (10) out; 20, 30, 40, 50, 60 (failed), 70 (at until: in). p50 rank 3 → 40, p95 rank ceil(5.7)=6 → 70.
    expectStage(first.stageBreakdown.total, { count: 6, total: 270, min: 20, max: 70, p50: 40, p95: 70, p99: 70, errors: 1 }, 'total');
    expect(first.queueMetrics.currentDepth).toBe(30);
    expect(first.queueMetrics.maxDepth).toBe(30);
    expect(first.throughput.averageSignalsPerMinute).toBeCloseTo(6 / 25, 12); // first record 10:05

    const hour = await report([SPLIT], at('2026-11-27T11:00:00.000Z'), 60);
    // 20…120 → n 11, sum (20+120)·11/2 = 770 = 270 + 500; p50 rank 6 → 70.
    expectStage(hour.stageBreakdown.total, { count: 11, total: 770, min: 20, max: 120, p50: 70, p95: 120, p99: 120, errors: 2 }, 'total');
  });
});

describe('generateReport — gzip', () => {
  it('gzipped copies of the basic files give the same report as the plain files', async () => {
    const gz = tempDir();
    const mixed = tempDir();
    const names = readdirSync(BASIC).filter((n) => n.endsWith('.ndjson'));
    expect(names).toHaveLength(4);
    names.forEach((name, i) => {
      const data = readFileSync(join(BASIC, name));
      writeFileSync(join(gz, `${name}.gz`), gzipSync(data));
      // Half plain, half gzip: a directory in the middle of compressing old hours.
      if (i % 2 === 0) writeFileSync(join(mixed, `${name}.gz`), gzipSync(data));
      else writeFileSync(join(mixed, name), data);
    });
    const until = at('2026-11-27T10:30:00.000Z');
    const plain = await report([BASIC], until);
    const fromGz = await report([gz], until);
    const fromMixed = await report([mixed], until);
    expect(fromGz.files).toBe(4);
    expect(comparable(fromGz)).toEqual(comparable(plain));
    expect(comparable(fromMixed)).toEqual(comparable(plain));
    expect(fromGz.malformed.first[0]!.file).toBe(join(gz, 'perfmon-20261127-09.ndjson.gz'));
    // Spot checks, so that two equally wrong reads cannot agree unnoticed.
    expect(fromGz.throughput.totalSignalsProcessed).toBe(20);
    expect(fromGz.tokenUsage.dailyTokens).toBe(11_000);
    // until latest reads gzip too.
    expect((await report([gz], 'latest')).window.until).toBe('2026-11-27T10:45:00.000Z');
  });
});

describe('generateReport — two directories merged', () => {
  const UNTIL = at('2026-11-27T10:30:00.000Z');

  it('merges both directories’ records, figure by figure', async () => {
    const r = await report([DIR_A, DIR_B], UNTIL);
    expect(r.files).toBe(2);
    expect(r.records).toBe(9); // 4 + 5
    // totals 100 (a), 200 (b), 300 (a, failed), 400 (b): p50 rank 2 → 200, p95 rank ceil(3.8)=4 → 400.
    expectStage(r.stageBreakdown.total, { count: 4, total: 1000, min: 100, max: 400, p50: 200, p95: 400, p99: 400, errors: 1 }, 'total');
    // classify 50 (a), 70 (b): p50 rank 1 → 50.
    expectStage(r.stageBreakdown.classify, { count: 2, total: 120, min: 50, max: 70, p50: 50, p95: 70, p99: 70, errors: 0 }, 'classify');
    expect(r.errorRate).toBeCloseTo(25, 9);
    expect(r.throughput.averageSignalsPerMinute).toBeCloseTo(4 / 25, 12); // first record 10:05 (a)
    expect(r.cacheEfficiency).toEqual({ totalRequests: 2, cacheHits: 1, cacheMisses: 1, hitRate: 50 });
    expect(r.tokenUsage.totalTokens).toBe(100);
    expect(r.tokenUsage.averageTokensPerRequest).toBe(100);
    expect(r.tokenUsage.dailyTokens).toBe(100);
    expect(r.queueMetrics.currentDepth).toBe(1); // b, 10:20
    expect(r.queueMetrics.averageDepth).toBeCloseTo(14 / 3, 12); // (5 + 8 + 1) / 3
    expect(r.queueMetrics.maxDepth).toBe(8);
    expect(r.queueMetrics.depthHistory).toEqual([
      { timestamp: '2026-11-27T10:10:00.000Z', depth: 8 }, // max(a 5, b 8)
      { timestamp: '2026-11-27T10:20:00.000Z', depth: 1 },
    ]);
  });

  it('equals the report of one directory holding the union of the lines, in either order', async () => {
    const union = tempDir();
    const name = 'perfmon-20261127-10.ndjson';
    writeFileSync(join(union, name), Buffer.concat([readFileSync(join(DIR_A, name)), readFileSync(join(DIR_B, name))]));
    const merged = await report([DIR_A, DIR_B], UNTIL);
    const reversed = await report([DIR_B, DIR_A], UNTIL);
    const one = await report([union], UNTIL);
    expect(comparable(merged)).toEqual(comparable(one));
    expect(comparable(reversed)).toEqual(comparable(one));
    // A directory alone is a strict part of the union.
    const onlyA = await report([DIR_A], UNTIL);
    expect(onlyA.throughput.totalSignalsProcessed).toBe(2);
    expect(onlyA.queueMetrics.currentDepth).toBe(5);
  });

  it('until "latest" is the newest record of all directories, whichever is listed first', async () => {
    // a's newest: total at 10:15:00.000; b's newest: queue at 10:20:00.000 (same hour file name in both).
    for (const dirs of [
      [DIR_A, DIR_B],
      [DIR_B, DIR_A],
    ]) {
      const r = await report(dirs, 'latest');
      expect(r.window.until).toBe('2026-11-27T10:20:00.000Z');
      expect(r.queueMetrics.currentDepth).toBe(1);
    }
    expect((await report([DIR_A], 'latest')).window.until).toBe('2026-11-27T10:15:00.000Z');
  });

  it('a missing directory among several is an error naming it', async () => {
    const missing = join(tempDir(), 'nope');
    await expect(report([DIR_A, missing], UNTIL)).rejects.toThrow(missing);
  });

  it('a directory of subdirectories and foreign files only is read as empty', async () => {
    const d = tempDir();
    mkdirSync(join(d, 'perfmon-20261127-10.ndjson')); // a directory with a log file's name is not a file
    writeFileSync(join(d, 'notes.txt'), 'not a log\n');
    const r = await report([d], UNTIL);
    expect(r.files).toBe(0);
    expect(r.records).toBe(0);
    expectNoNaN(r);
  });
});
