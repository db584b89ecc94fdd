/**
 * LiveMonitor (Tailer + MinuteRollups) against the one-shot report over the same directory, with
 * an injected clock: what `watch` shows must be what `report` prints for the same window.
 *
 * Window edges: generateReport's window is (until − w, until] by the millisecond, the live one is
 * the minutes that start in [until − w, until). With a minute-aligned `until` they differ only for
 * records exactly at until − w (live: in) or exactly at `until` (live: out); the records below
 * avoid those two instants; inside minutes they are spread over the seconds.
 * Durations, tokens and costs are integers or short binary fractions, so that sums are exact
 * whatever order the per-minute rollups merge in.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DEFAULT_CONFIG, mergeConfig } from '../../src/config.js';
import { evaluateRules, ruleThresholds } from '../../src/detect/detect-issues.js';
import { generateReports } from '../../src/report/generate-report.js';
import type { PerformanceReport } from '../../src/report/types.js';
import { LiveMonitor } from '../../src/watch/live-monitor.js';

const T = (day: number, h: number, m: number, s = 0, ms = 0) => Date.UTC(2026, 10, day, h, m, s, ms);
const MIN = 60_000;
const WINDOW = 30;
const config = mergeConfig(DEFAULT_CONFIG, { dailyTokenLimit: 65_000 });

let dir: string;
const monitors: LiveMonitor[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'perfmon-live-'));
});

afterEach(async () => {
  for (const m of monitors.splice(0)) await m.close();
  rmSync(dir, { recursive: true, force: true });
});

interface StageOpts {
  stage?: string;
  durationMs: number;
  success?: boolean;
  llmTokens?: number;
  llmCost?: number;
  cacheHit?: boolean;
}

const stageLine = (ts: number, o: StageOpts) => JSON.stringify({ ts: new Date(ts).toISOString(), stage: o.stage ?? 'total', ...o }) + '\n';
const queueLine = (ts: number, depth: number) => JSON.stringify({ ts: new Date(ts).toISOString(), type: 'queue', depth }) + '\n';
const llmLine = (ts: number, tokens: number, cost: number) =>
  JSON.stringify({ ts: new Date(ts).toISOString(), type: 'llm', model: 'gpt-4o', durationMs: 900, llmTokens: tokens, llmCost: cost, cacheHit: false }) + '\n';

const SECONDS = [0, 7.5, 23, 41, 59.998]; // each total 1 ms after its classify: all in the minute

/** A busy, unhealthy window: slow signals, 1 in 6 failing, few cache hits, a deep queue. */
function windowMinuteLines(minute: number): string {
  let text = '';
  SECONDS.forEach((s, k) => {
    const ts = minute + s * 1000;
    text += stageLine(ts, { stage: 'classify', durationMs: 800 + k * 50, llmTokens: 100 + k, llmCost: 0.125, cacheHit: k === 0 });
    text += stageLine(ts + 1, { durationMs: 5200 + ((minute / MIN) % 7) * 300 + k * 10, success: (minute / MIN + k) % 6 !== 0 });
  });
  text += queueLine(minute + 30_000, 50 + ((minute / MIN) % 5) * 10); // 50–90: under the threshold
  text += llmLine(minute + 45_000, 300, 0.5);
  return text;
}

/** The previous window: more and faster signals (so throughput and trend rules speak). */
function previousMinuteLines(minute: number): string {
  let text = '';
  for (let k = 0; k < 14; k++) {
    const ts = minute + k * 4_200;
    text += stageLine(ts, { durationMs: 900 + k * 20, llmTokens: 50, llmCost: 0.25, cacheHit: k % 2 === 0 });
  }
  return text;
}

/** The shared part of both reports; `files` counts differ by design (the tailer counts every file it follows). */
function comparable(r: PerformanceReport): Omit<PerformanceReport, 'files'> {
  const { files: _files, ...rest } = r;
  return rest;
}

async function oneShot(now: number) {
  return generateReports({ dirs: [dir], windowMinutes: WINDOW, until: 'now', now: () => now, dailyTokenLimit: config.dailyTokenLimit });
}

function writeFixture(): void {
  // Yesterday: outside the day and both windows.
  writeFileSync(join(dir, 'perfmon-20261126-23.ndjson'), stageLine(T(26, 23, 50), { durationMs: 1, llmTokens: 1_000_000 }));
  // Earlier today: only today's tokens.
  writeFileSync(join(dir, 'perfmon-20261127-02.ndjson'), stageLine(T(27, 2, 15), { durationMs: 5, llmTokens: 20_000, llmCost: 2 }) + llmLine(T(27, 2, 16), 1_000, 0.5));
  // The previous window, compressed by logrotate.
  let prev = '';
  for (let m = 35; m <= 55; m++) prev += previousMinuteLines(T(27, 9, m));
  writeFileSync(join(dir, 'perfmon-20261127-09.ndjson.gz'), gzipSync(prev));
  // The window, with one malformed line, and a few records in a file named otherwise.
  let cur = '';
  for (let m = 5; m <= 27; m++) cur += windowMinuteLines(T(27, 10, m));
  cur += '{"ts": not json\n';
  cur += stageLine(T(27, 10, 30) - 1, { durationMs: 6000 }); // the last ms before `until`: in both
  writeFileSync(join(dir, 'perfmon-20261127-10.ndjson'), cur);
  writeFileSync(join(dir, 'pipeline.ndjson.1'), windowMinuteLines(T(27, 10, 28)) + windowMinuteLines(T(27, 10, 29)));
}

describe('LiveMonitor', () => {
  it('gives the report, the previous window and the issues that generateReports gives for the same window', async () => {
    writeFixture();
    let now = T(27, 10, 30);
    const live = new LiveMonitor({ dirs: [dir], windowMinutes: WINDOW, config, now: () => now });
    monitors.push(live);
    await live.poll();
    const snap = live.snapshot();
    const want = await oneShot(now);

    // Not a vacuous comparison: the window holds what was written.
    expect(want.report.throughput.totalSignalsProcessed).toBe(25 * 5 + 1);
    expect(want.report.records).toBe(25 * 12 + 1);
    expect(want.report.tokenUsage.dailyTokens).toBe(21_000 + 25 * (510 + 300) + 21 * 14 * 50);
    expect(want.report.malformed.count).toBe(1);

    expect(comparable(snap.report)).toEqual(comparable(want.report));
    expect(comparable(snap.previous)).toEqual({ ...comparable(want.previous), malformed: snap.previous.malformed });
    const rules = evaluateRules(want.report, want.previous, ruleThresholds(config));
    expect(snap.issues).toEqual(rules.issues);
    expect(snap.checks).toEqual(rules.checks);
    expect(snap.issues.map((i) => `${i.severity}:${i.category}`).sort()).toEqual(
      ['critical:errors', 'critical:latency', 'info:throughput', 'info:trend', 'warning:cache', 'warning:tokens'].sort(),
    );

    // One series point per minute of the window, with that minute's signals.
    expect(snap.series.map((p) => p.minute)).toEqual(Array.from({ length: WINDOW }, (_, i) => T(27, 10, i)));
    expect(snap.series.map((p) => p.signals)).toEqual(Array.from({ length: WINDOW }, (_, i) => (i === 29 ? 6 : i >= 5 ? 5 : 0)));
    expect(snap.series.filter((p) => p.signals > 0).every((p) => p.p95 > 5000)).toBe(true);

    // Live: records keep arriving, the clock moves on a minute, the picture follows the report.
    appendFileSync(join(dir, 'perfmon-20261127-10.ndjson'), windowMinuteLines(T(27, 10, 30)) + queueLine(T(27, 10, 30, 58), 150));
    appendFileSync(join(dir, 'perfmon-20261127-10.ndjson'), stageLine(T(27, 10, 31), { durationMs: 7000, success: false }).slice(0, 20)); // half a line
    now = T(27, 10, 31);
    await live.poll();
    const next = live.snapshot();
    const want2 = await oneShot(now);
    expect(comparable(next.report)).toEqual(comparable(want2.report));
    expect(next.report.queueMetrics.currentDepth).toBe(150);
    expect(next.issues).toEqual(evaluateRules(want2.report, want2.previous, ruleThresholds(config)).issues);
    expect(next.issues.map((i) => i.category)).toContain('queue');
    expect(next.series.length).toBe(WINDOW);
    expect(next.series[0]!.minute).toBe(T(27, 10, 1));
  });

  it('keeps memory to the minutes of two windows as the clock runs on', async () => {
    let now = T(27, 10, 0);
    const path = join(dir, 'perfmon-20261127-10.ndjson');
    writeFileSync(path, '');
    const live = new LiveMonitor({ dirs: [dir], windowMinutes: 5, config, now: () => now });
    monitors.push(live);
    for (let m = 0; m < 50; m++) {
      now = T(27, 10, m, 30);
      appendFileSync(path, stageLine(now - 1000, { durationMs: 100 }) + stageLine(now, { durationMs: 200 }));
      await live.poll();
    }
    // 2 × 5 + 1 minutes back from the current one, and the current one; no token minutes.
    expect(live.minutes.size).toBe(12);
    const snap = live.snapshot();
    expect(snap.report.throughput.totalSignalsProcessed).toBe(10);
    expect(snap.previous.throughput.totalSignalsProcessed).toBe(10);
  });
});
