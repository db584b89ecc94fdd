import { colors } from '../../src/cli/colors.js';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { downsample, formatSummary, formatTransition, renderScreen, sparkline, type ScreenOptions } from '../../src/cli/format-watch.js';
import { DEFAULT_CONFIG, mergeConfig, type PerfmonConfig } from '../../src/config.js';
import type { Issue } from '../../src/detect/types.js';
import type { PerformanceReport } from '../../src/report/types.js';
import type { IssueTransition } from '../../src/watch/issue-tracker.js';
import { LiveMonitor, type LiveSnapshot } from '../../src/watch/live-monitor.js';

// The TTY screen of `perfmon watch` is a pure function of a LiveSnapshot: rendered here to a
// string from a LiveMonitor over fixtures/sample with a fixed clock (2026-11-26T12:00:00Z).

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SAMPLE = join(ROOT, 'fixtures', 'sample');
const NOW = Date.parse('2026-11-26T12:00:00Z');

const plain = colors(false);
const colour = colors(true);
// eslint-disable-next-line no-control-regex
const SGR = /\x1b\[[0-9;]*m/g;
const BLOCKS = '▁▂▃▄▅▆▇█';

async function snapshotOf(windowMinutes: number, config: PerfmonConfig = DEFAULT_CONFIG): Promise<LiveSnapshot> {
  const live = new LiveMonitor({ dirs: [SAMPLE], windowMinutes, config, now: () => NOW });
  try {
    await live.poll();
    return live.snapshot();
  } finally {
    await live.close();
  }
}

const screen = (over: Partial<ScreenOptions> = {}): ScreenOptions => ({
  width: 100,
  height: 200,
  dirs: [SAMPLE],
  intervalLabel: '10 min',
  recent: [],
  ...over,
});

/** en-US thousands separators, written out (not via the code under test). */
function grouped(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

let snap: LiveSnapshot; // window 60, default thresholds: no issues
let snap180: LiveSnapshot; // the whole fixture: more than 1,000 signals
let withIssues: LiveSnapshot; // window 60, thresholds that fire (cache and queue)

beforeAll(async () => {
  snap = await snapshotOf(60);
  snap180 = await snapshotOf(180);
  withIssues = await snapshotOf(60, mergeConfig(DEFAULT_CONFIG, { alertThresholds: { minCacheHitRate: 50, maxQueueDepth: 10 } }));
});

describe('renderScreen (the TTY frame)', () => {
  it('the snapshot is the one described: 60 minutes of the sample, five stages, a series per minute', () => {
    const r = snap.report;
    expect(r.timeWindowMinutes).toBe(60);
    expect(r.window.until).toBe('2026-11-26T12:00:00.000Z');
    expect(Object.keys(r.stageBreakdown).sort()).toEqual(['classify', 'decide', 'extract', 'preprocess', 'total']);
    expect(r.throughput.totalSignalsProcessed).toBeGreaterThan(300);
    expect(snap.series).toHaveLength(60);
    expect(snap.series.reduce((n, p) => n + p.signals, 0)).toBe(r.throughput.totalSignalsProcessed);
    expect(snap.issues).toEqual([]);
  });

  it('shows the headline figures, a row per stage, the sparklines and the issues section', () => {
    const r = snap.report;
    const frame = renderScreen(snap, screen(), plain);
    const lines = frame.split('\n');
    expect(frame.endsWith('\n')).toBe(true);

    expect(lines[0]).toContain(' perfmon watch ');
    expect(lines[0]).toContain(SAMPLE);
    expect(lines[0]).toContain('last 1 h');
    expect(lines[0]).toContain('summary every 10 min');
    expect(lines[1]).toBe('2026-11-26 12:00:00Z');

    const headline = lines.find((l) => l.startsWith('signals '))!;
    expect(headline).toBeDefined();
    expect(headline).toContain(`signals ${grouped(r.throughput.totalSignalsProcessed)} `);
    expect(headline).toContain(`throughput ${r.throughput.signalsPerMinute.toFixed(2)}/min`);
    expect(headline).toMatch(/avg \d+(\.\d+)? (ms|s)/);
    expect(headline).toMatch(/errors \d+\.\d %/);
    const second = lines.find((l) => l.startsWith('cache hit '))!;
    expect(second).toContain(`cache hit ${r.cacheEfficiency.hitRate.toFixed(1)} %`);
    expect(second).toContain(`tokens today ${grouped(r.tokenUsage.dailyTokens)} (${r.tokenUsage.percentOfLimit.toFixed(1)} %)`);
    expect(second).toContain(`queue ${grouped(r.queueMetrics.currentDepth)}`);

    // Sparklines: block characters only, one per minute of the window (60 fit in 80 columns).
    for (const label of ['throughput ', 'p95        ']) {
      const row = lines.find((l) => l.startsWith(label + ' '))!;
      expect(row, label).toBeDefined();
      const chart = row.slice(label.length + 1);
      expect(chart).toHaveLength(60);
      expect([...chart].every((ch) => BLOCKS.includes(ch))).toBe(true);
      expect(chart).toContain('█');
    }
    const throughputChart = lines.find((l) => l.startsWith('throughput  '))!.slice(12);
    expect(throughputChart).toBe(sparkline(snap.series.map((p) => p.signals)));

    // Stage table: the header, then one row per stage with its count.
    const header = lines.findIndex((l) => /^stage\s+count\s+avg\s+p50\s+p95\s+p99\s+errors$/.test(l));
    expect(header).toBeGreaterThan(0);
    for (const [name, st] of Object.entries(r.stageBreakdown)) {
      const row = lines.find((l) => l.startsWith(name + ' '));
      expect(row, name).toBeDefined();
      expect(row!.trim().split(/\s{2,}|\s(?=\d)/)[0]).toBe(name);
      expect(row).toMatch(new RegExp(`^${name}\\s+${grouped(st.count)}\\s`));
    }

    const issuesAt = lines.indexOf('issues');
    expect(issuesAt).toBeGreaterThan(header);
    expect(lines[issuesAt + 1]).toBe('  none');
    expect(lines).toContain('1 malformed line(s) skipped');
  });

  it('groups large counts with en-US separators', () => {
    const n = snap180.report.throughput.totalSignalsProcessed;
    expect(n).toBeGreaterThanOrEqual(1000);
    const frame = renderScreen(snap180, screen(), plain);
    expect(frame).toContain(`signals ${grouped(n)} `);
    expect(grouped(n)).toContain(',');
  });

  it('lists the active issues, sorted by severity, and the recent transitions', () => {
    expect(withIssues.issues.map((i) => i.category).sort()).toEqual(['cache', 'queue']);
    const recent: IssueTransition[] = withIssues.issues.map((issue) => ({ kind: 'raised', key: issue.category, issue, at: NOW }));
    const frame = renderScreen(withIssues, screen({ recent }), plain);
    const lines = frame.split('\n');
    const at = lines.indexOf('issues');
    expect(at).toBeGreaterThan(0);
    const cache = withIssues.issues.find((i) => i.category === 'cache')!;
    expect(lines[at + 1]!.startsWith('  WARNING ')).toBe(true);
    expect(lines.slice(at + 1, at + 3).some((l) => l.includes(`cache: ${cache.message}`))).toBe(true);
    expect(frame).not.toContain('  none');
    const recentAt = lines.indexOf('recent changes');
    expect(recentAt).toBeGreaterThan(at);
    expect(lines[recentAt + 1]).toMatch(/^ {2}▲ raised \[2026-11-26 12:00:00Z\] WARNING (cache|queue): /);
  });

  it('plain (level 0) has no escape at all; colour (level 1) has SGR escapes and nothing else', () => {
    const p = renderScreen(withIssues, screen(), plain);
    expect(p).not.toContain('\x1b');
    const c = renderScreen(withIssues, screen(), colour);
    expect(c).toContain('\x1b[');
    expect(c.replace(SGR, '')).toBe(p);
  });

  it('a hostile stage name (ESC, newline) is printed escaped: no raw ESC from it, no extra line', () => {
    const hostile = 'ev\x1b[2J\x1b]0;pwned\x07il\nX';
    const withName = (name: string): LiveSnapshot => ({
      ...snap,
      report: { ...snap.report, stageBreakdown: { ...snap.report.stageBreakdown, [name]: snap.report.stageBreakdown.total! } },
    });
    const benign = renderScreen(withName('evil-X'), screen(), plain);
    for (const c of [plain, colour]) {
      const frame = renderScreen(withName(hostile), screen(), c);
      expect(frame).not.toContain('\x1b[2J');
      expect(frame).not.toContain('\x1b]');
      expect(frame).not.toContain('\x07');
      expect(frame.replace(SGR, '')).not.toContain('\x1b');
      expect(frame.split('\n')).toHaveLength(benign.split('\n').length);
      const row = frame.split('\n').find((l) => l.replace(SGR, '').startsWith('ev\\x1b'));
      expect(row, 'the escaped name starts its row').toBeDefined();
      expect(row!.replace(SGR, '')).toContain('ev\\x1b[2J\\x1b]0;');
    }
  });

  it('fits the terminal: no more rows than its height, and a narrow width still draws', () => {
    const frame = renderScreen(withIssues, screen({ height: 10 }), plain);
    expect(frame.split('\n').length - 1).toBeLessThanOrEqual(9);
    const narrow = renderScreen(snap, screen({ width: 20 }), plain);
    const chart = narrow.split('\n').find((l) => l.startsWith('throughput  '))!.slice(12);
    // 60 minutes in max(10, 40 − 20) = 20 columns: three minutes a column.
    expect(chart).toHaveLength(20);
  });
});

describe('sparkline', () => {
  it('maps 0 to ▁ and the maximum to █, linearly between', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7])).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([0, 70])).toBe('▁█');
    expect(sparkline([5])).toBe('█');
    expect(sparkline([10, 5, 0])).toBe('█▄▁');
  });

  it('is blank for no data (all zeros) and empty for no points', () => {
    expect(sparkline([0, 0, 0])).toBe('   ');
    expect(sparkline([])).toBe('');
  });
});

describe('downsample', () => {
  const series = (signals: number[], p95: number[]) => signals.map((s, i) => ({ minute: i * 60_000, signals: s, p95: p95[i]! }));

  it('sums the signals and takes the largest p95 of the minutes in each column', () => {
    const out = downsample(series([1, 2, 3, 4, 5, 6], [10, 30, 20, 5, 0, 7]), 4);
    expect(out.map((p) => p.signals)).toEqual([3, 7, 11]);
    expect(out.map((p) => p.p95)).toEqual([30, 20, 7]);
  });

  it('keeps a series that fits as it is', () => {
    const s = series([1, 2, 3], [4, 5, 6]);
    expect(downsample(s, 3).map((p) => [p.signals, p.p95])).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
  });

  it('never returns more points than the width, and keeps every signal', () => {
    for (const [n, width] of [
      [61, 60],
      [120, 50],
      [1441, 80],
      [100, 10],
      [11, 10],
    ] as const) {
      const s = series(
        Array.from({ length: n }, (_, i) => (i * 7) % 5),
        Array.from({ length: n }, (_, i) => (i * 13) % 17),
      );
      const out = downsample(s, width);
      expect(out.length, `${n} in ${width}`).toBeLessThanOrEqual(width);
      expect(out.length).toBeGreaterThan(0);
      expect(out.reduce((a, p) => a + p.signals, 0)).toBe(s.reduce((a, p) => a + p.signals, 0));
      expect(Math.max(...out.map((p) => p.p95))).toBe(Math.max(...s.map((p) => p.p95)));
    }
  });
});

describe('formatSummary', () => {
  it('includes the average time, throughput, error rate, cache, tokens against the limit, queue, per-stage averages', () => {
    const r = snap.report;
    const text = formatSummary(r, [], plain);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe(`[2026-11-26 12:00:00Z] perfmon — last 1 h (${grouped(r.records)} records)`);
    expect(text).toMatch(/avg total time \d+(\.\d+)? (ms|s) \(p95 \d+(\.\d+)? (ms|s)\)/);
    expect(text).toContain(`throughput ${r.throughput.signalsPerMinute.toFixed(2)}/min (${grouped(r.throughput.totalSignalsProcessed)} signals)`);
    expect(text).toContain(`error rate ${r.errorRate.toFixed(1)} %`);
    expect(text).toContain(`cache hit rate ${r.cacheEfficiency.hitRate.toFixed(1)} %`);
    expect(text).toContain(
      `tokens today ${grouped(r.tokenUsage.dailyTokens)} (${r.tokenUsage.percentOfLimit.toFixed(1)} % of ${grouped(r.tokenUsage.dailyLimit)})`,
    );
    expect(text).toContain('of 1,000,000');
    expect(text).toContain(`queue depth ${grouped(r.queueMetrics.currentDepth)}`);
    const stages = lines.find((l) => l.startsWith('  stages: '))!;
    for (const name of Object.keys(r.stageBreakdown)) expect(stages).toMatch(new RegExp(`${name} \\d+(\\.\\d+)? (ms|s)`));
    expect(lines).toContain('  issues: none');
    // fixtures/sample has one malformed line (11:51:06, cut short): the summary says so.
    expect(r.malformed.count).toBe(1);
    expect(lines.at(-1)).toBe('  1 malformed line(s) skipped so far');
    expect(text).not.toContain('\x1b');
  });

  it('formats the average time readably (ms below a second, s above)', () => {
    const r: PerformanceReport = { ...snap.report, averageTotalTime: 2345.6, p95TotalTime: 850.44 };
    expect(formatSummary(r, [], plain)).toContain('avg total time 2.35 s (p95 850.4 ms)');
  });

  it('lists each issue with its severity and category; n/a when nothing reported cache use', () => {
    const text = formatSummary(withIssues.report, withIssues.issues, plain);
    expect(text).not.toContain('issues: none');
    for (const i of withIssues.issues) expect(text).toContain(`  ${i.severity.toUpperCase()} ${i.category}: ${i.message}`);
    const noCache: PerformanceReport = { ...snap.report, cacheEfficiency: { totalRequests: 0, cacheHits: 0, cacheMisses: 0, hitRate: 0 } };
    expect(formatSummary(noCache, [], plain)).toContain('cache hit rate n/a');
  });

  it('escapes hostile stage names and issue messages', () => {
    const r: PerformanceReport = { ...snap.report, stageBreakdown: { 'a\x1b[2Jb\nc': snap.report.stageBreakdown.total! } };
    const bad: Issue = { category: 'latency', severity: 'critical', message: 'slow \x1b]0;x\x07 stage\nnext', currentValue: 1, threshold: 0, recommendation: 'r' };
    const text = formatSummary(r, [bad], colour);
    expect(text.replace(SGR, '')).not.toContain('\x1b');
    expect(text).toContain('a\\x1b[2Jb\\x0ac');
    // heading, three figure lines, one issue line, the malformed note: nothing more
    expect(text.trimEnd().split('\n')).toHaveLength(6);
  });
});

describe('formatTransition', () => {
  const issue = (severity: Issue['severity']): Issue => ({
    category: 'tokens',
    severity,
    message: 'Today’s tokens are high',
    currentValue: 90,
    threshold: 80,
    recommendation: 'Cache more prompts.',
  });
  const at = Date.parse('2026-11-26T12:00:05.250Z');

  it('one line per transition: ▲ raised, ◆ changed, ▼ cleared', () => {
    const raised = formatTransition({ kind: 'raised', key: 'tokens', issue: issue('warning'), at }, plain);
    expect(raised).toBe('▲ raised [2026-11-26 12:00:05Z] WARNING tokens: Today’s tokens are high — Cache more prompts.\n');
    const changed = formatTransition({ kind: 'changed', key: 'tokens', issue: issue('critical'), at }, plain);
    expect(changed).toBe('◆ changed [2026-11-26 12:00:05Z] CRITICAL tokens: Today’s tokens are high — Cache more prompts.\n');
    const cleared = formatTransition({ kind: 'cleared', key: 'tokens', issue: issue('critical'), at }, plain);
    expect(cleared).toBe('▼ cleared [2026-11-26 12:00:05Z] tokens: Today’s tokens are high\n');
  });

  it('a hostile message stays on one line', () => {
    const bad = { ...issue('warning'), message: 'x\ny\x1b[2J', recommendation: 'r\r\n' };
    const line = formatTransition({ kind: 'raised', key: 'tokens', issue: bad, at }, colour);
    expect(line.split('\n')).toHaveLength(2);
    expect(line.replace(SGR, '')).not.toContain('\x1b');
    expect(line).not.toContain('\r');
  });
});
