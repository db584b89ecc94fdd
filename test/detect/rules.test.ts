import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { cacheRule } from '../../src/detect/cache.js';
import { evaluateRules, exitCodeFor, RULES, ruleThresholds } from '../../src/detect/detect-issues.js';
import { errorsRule } from '../../src/detect/errors.js';
import { latencyRule } from '../../src/detect/latency.js';
import { queueRule } from '../../src/detect/queue.js';
import { stalenessRule } from '../../src/detect/staleness.js';
import { throughputRule } from '../../src/detect/throughput.js';
import { tokensRule } from '../../src/detect/tokens.js';
import { trendRule } from '../../src/detect/trend.js';
import type { Category, Issue, RuleResult, RuleThresholds, Severity } from '../../src/detect/types.js';
import type { PerformanceReport, StageBreakdown } from '../../src/report/types.js';

// Pure unit tests of each issue rule (DESIGN §4) on hand-built reports. Defaults:
// maxAverageProcessingTime 5000 ms, maxErrorRate 5 %, minCacheHitRate 30 %, tokenLimitWarningPercent 80
// (critical above 95), maxQueueDepth 100, minSamples 10.

const T: RuleThresholds = ruleThresholds(DEFAULT_CONFIG);

// ---------------------------------------------------------------------------------------------
// makeReport: a complete PerformanceReport whose figures agree with each other (DESIGN §3).

interface StageSpec {
  count?: number;
  /** Mean duration (ms); totalDuration = count · avg. */
  avg?: number;
  p95?: number;
  errors?: number;
}

interface ReportOverrides {
  windowMinutes?: number;
  /** Stage whose records are the signals; null = no stage records at all. */
  signalStage?: string | null;
  /** Signals (records of the signal stage). */
  signals?: number;
  failedSignals?: number;
  /** Mean signal duration (ms). */
  avgMs?: number;
  /** p95 of signal durations (ms). */
  p95Ms?: number;
  /** Non-signal stages; each defaults to `signals` records, no errors, p95 = avg. */
  stages?: Record<string, StageSpec>;
  cacheHits?: number;
  cacheMisses?: number;
  dailyTokens?: number;
  dailyLimit?: number;
  queueCurrent?: number;
  queueSamples?: number;
  /** Well-formed records in the window; by default every stage record plus the queue samples. */
  records?: number;
}

const UNTIL = '2026-11-26T12:00:00.000Z';

function breakdown(count: number, avg: number, p95: number, errors: number): StageBreakdown {
  return {
    count,
    totalDuration: count * avg,
    averageDuration: count === 0 ? 0 : avg,
    minDuration: count === 0 ? 0 : Math.min(avg, p95),
    maxDuration: count === 0 ? 0 : Math.max(avg, p95),
    p50Duration: count === 0 ? 0 : avg,
    p95Duration: count === 0 ? 0 : p95,
    p99Duration: count === 0 ? 0 : p95,
    errorCount: errors,
    errorRate: count === 0 ? 0 : (errors / count) * 100,
  };
}

/**
 * A healthy 30-minute window by default: 20 signals of 1650 ms (preprocess 20, classify 800,
 * decide 300, extract 500, + 30 ms overhead), no errors, 10 of 20 cache hits, 16 000 of 1 000 000
 * daily tokens, 10 queue samples ending at depth 6.
 */
function makeReport(o: ReportOverrides = {}): PerformanceReport {
  const windowMinutes = o.windowMinutes ?? 30;
  const signalStage = o.signalStage === undefined ? 'total' : o.signalStage;
  const n = signalStage === null ? 0 : (o.signals ?? 20);
  const failed = o.failedSignals ?? 0;
  const avg = n === 0 ? 0 : (o.avgMs ?? 1650);
  const p95 = n === 0 ? 0 : (o.p95Ms ?? avg);
  const stageSpecs: Record<string, StageSpec> =
    o.stages ?? (signalStage === null ? {} : { preprocess: { avg: 20 }, classify: { avg: 800 }, decide: { avg: 300 }, extract: { avg: 500 } });
  const stageBreakdown: Record<string, StageBreakdown> = {};
  for (const [name, s] of Object.entries(stageSpecs)) {
    const count = s.count ?? n;
    stageBreakdown[name] = breakdown(count, s.avg ?? 0, s.p95 ?? s.avg ?? 0, s.errors ?? 0);
  }
  if (signalStage !== null) stageBreakdown[signalStage] = breakdown(n, avg, p95, failed);
  const hits = o.cacheHits ?? 10;
  const misses = o.cacheMisses ?? 10;
  const lookups = hits + misses;
  const dailyTokens = o.dailyTokens ?? 16_000;
  const dailyLimit = o.dailyLimit ?? 1_000_000;
  const queueSamples = o.queueSamples ?? 10;
  const queueCurrent = o.queueCurrent ?? (queueSamples === 0 ? 0 : 6);
  const stageRecords = Object.values(stageBreakdown).reduce((sum, s) => sum + s.count, 0);
  const records = o.records ?? stageRecords + queueSamples;
  const untilMs = Date.parse(UNTIL);
  const from = new Date(untilMs - windowMinutes * 60_000).toISOString();
  return {
    generatedAt: UNTIL,
    timeWindowMinutes: windowMinutes,
    window: { from, until: UNTIL },
    signalStage,
    averageTotalTime: avg,
    p95TotalTime: p95,
    errorRate: n === 0 ? 0 : (failed / n) * 100,
    totalErrors: failed,
    throughput: {
      totalSignalsProcessed: n,
      signalsPerMinute: n / windowMinutes,
      signalsPerHour: (n / windowMinutes) * 60,
      averageSignalsPerMinute: n / windowMinutes,
    },
    stageBreakdown,
    modelBreakdown: {},
    cacheEfficiency: { totalRequests: lookups, cacheHits: hits, cacheMisses: misses, hitRate: lookups === 0 ? 0 : (hits / lookups) * 100 },
    tokenUsage: {
      totalTokens: Math.min(dailyTokens, 8_000),
      totalCost: Math.min(dailyTokens, 8_000) * 0.000005,
      averageTokensPerRequest: misses === 0 ? 0 : Math.min(dailyTokens, 8_000) / lookups,
      dailyTokens,
      dailyCost: dailyTokens * 0.000005,
      dailyLimit,
      percentOfLimit: (dailyTokens / dailyLimit) * 100,
    },
    queueMetrics: {
      currentDepth: queueCurrent,
      samples: queueSamples,
      averageDepth: queueCurrent,
      maxDepth: queueCurrent,
      depthHistory: queueSamples === 0 ? [] : [{ timestamp: '2026-11-26T11:58:00.000Z', depth: queueCurrent }],
    },
    records,
    files: records === 0 ? 0 : 1,
    malformed: { count: 0, first: [] },
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

function only(r: RuleResult): Issue {
  expect(r.issues).toHaveLength(1);
  return r.issues[0]!;
}

function expectIssue(i: Issue, e: { category: Category; severity: Severity; currentValue: number; threshold: number; stage?: string }): void {
  expect(i.category).toBe(e.category);
  expect(i.severity).toBe(e.severity);
  expect(i.currentValue).toBeCloseTo(e.currentValue, 9);
  expect(i.threshold).toBeCloseTo(e.threshold, 9);
  expect(typeof i.message).toBe('string');
  expect(i.message.trim().length).toBeGreaterThan(10);
  expect(typeof i.recommendation).toBe('string');
  expect(i.recommendation.trim().length).toBeGreaterThan(20);
  if ('stage' in e) {
    expect(i.stage).toBe(e.stage);
    // A named stage appears in the advice, so it says where to look.
    expect(i.recommendation).toContain(`"${e.stage}"`);
  }
}

/** The rule stays quiet and its one check is `ok` (it did speak). */
function expectQuiet(r: RuleResult, category: Category): void {
  expect(r.issues).toEqual([]);
  expect(r.checks).toHaveLength(1);
  expect(r.checks[0]!.category).toBe(category);
  expect(r.checks[0]!.status).toBe('ok');
}

/** The rule could not speak: no issue, one `skipped` check that says why. */
function expectSkipped(r: RuleResult, category: Category): void {
  expect(r.issues).toEqual([]);
  expect(r.checks).toHaveLength(1);
  const c = r.checks[0]!;
  expect(c.category).toBe(category);
  expect(c.status).toBe('skipped');
  expect(c.skipped).toMatch(/minSamples/);
}

function firingCheck(r: RuleResult, category: Category): void {
  expect(r.checks).toHaveLength(1);
  expect(r.checks[0]!.category).toBe(category);
  expect(r.checks[0]!.status).toBe('firing');
}

// ---------------------------------------------------------------------------------------------

describe('makeReport', () => {
  it('gives a consistent healthy report on which no rule fires', () => {
    const r = makeReport();
    // 20 signals / 30 min = 0.667 /min; 10 / 20 = 50 %; 16 000 / 1 000 000 = 1.6 %.
    expect(r.throughput.signalsPerMinute).toBeCloseTo(20 / 30, 12);
    expect(r.cacheEfficiency.hitRate).toBe(50);
    expect(r.tokenUsage.percentOfLimit).toBeCloseTo(1.6, 12);
    // 5 stages × 20 records + 10 queue samples.
    expect(r.records).toBe(110);
    const e = evaluateRules(r, makeReport(), T);
    expect(e.issues).toEqual([]);
    expect(e.checks.map((c) => c.status)).toEqual(Array(8).fill('ok'));
  });
});

describe('latency rule (averageTotalTime > maxAverageProcessingTime → critical)', () => {
  it('fires critical and names the slowest non-signal stage', () => {
    // extract 6000 ms: signals 20 + 800 + 300 + 6000 + 30 = 7150 ms. The `total` stage has the
    // largest figures of all but counts the signals; the slowest real stage is extract.
    const r = makeReport({ avgMs: 7150, stages: { preprocess: { avg: 20 }, classify: { avg: 800 }, decide: { avg: 300 }, extract: { avg: 6000 } } });
    const res = latencyRule(r, undefined, T);
    expectIssue(only(res), { category: 'latency', severity: 'critical', currentValue: 7150, threshold: 5000, stage: 'extract' });
    firingCheck(res, 'latency');
  });

  it('names a stage that is not first in pipeline order', () => {
    // classify is slowest this time.
    const r = makeReport({ avgMs: 9000, stages: { preprocess: { avg: 20 }, classify: { avg: 8000 }, decide: { avg: 300 }, extract: { avg: 650 } } });
    expect(only(latencyRule(r, undefined, T)).stage).toBe('classify');
  });

  it('leaves out the stage that stands in for signals when there is no total stage', () => {
    // No `total`: classify (the busiest) counts the signals and is left out; extract is next.
    const r = makeReport({
      signalStage: 'classify',
      signals: 20,
      avgMs: 6000,
      stages: { preprocess: { count: 10, avg: 20 }, extract: { count: 10, avg: 900 } },
    });
    expectIssue(only(latencyRule(r, undefined, T)), { category: 'latency', severity: 'critical', currentValue: 6000, threshold: 5000, stage: 'extract' });
  });

  it('does not fire at exactly the threshold, and fires just past it', () => {
    expectQuiet(latencyRule(makeReport({ avgMs: 5000 }), undefined, T), 'latency');
    expect(only(latencyRule(makeReport({ avgMs: 5000.001 }), undefined, T)).currentValue).toBe(5000.001);
  });

  it('follows a configured threshold', () => {
    const t = { ...T, maxAverageProcessingTime: 1000 };
    // 1650 > 1000.
    expectIssue(only(latencyRule(makeReport(), undefined, t)), { category: 'latency', severity: 'critical', currentValue: 1650, threshold: 1000 });
  });

  it('is skipped below minSamples signals, and speaks at exactly minSamples', () => {
    expectSkipped(latencyRule(makeReport({ signals: 9, avgMs: 60_000 }), undefined, T), 'latency');
    expect(latencyRule(makeReport({ signals: 10, avgMs: 60_000 }), undefined, T).issues).toHaveLength(1);
    // With minSamples 3, three signals are enough.
    expect(latencyRule(makeReport({ signals: 3, avgMs: 60_000 }), undefined, { ...T, minSamples: 3 }).issues).toHaveLength(1);
    expectSkipped(latencyRule(makeReport({ signalStage: null, records: 0, queueSamples: 0 }), undefined, T), 'latency');
  });
});

describe('errors rule (errorRate > maxErrorRate → critical)', () => {
  it('fires critical and names the stage that fails most', () => {
    // 4 of 20 signals failed = 20 %; decide failed 3 times, classify once.
    const r = makeReport({
      failedSignals: 4,
      stages: { preprocess: { avg: 20 }, classify: { avg: 800, errors: 1 }, decide: { avg: 300, count: 19, errors: 3 }, extract: { avg: 500, count: 16 } },
    });
    expect(r.errorRate).toBe(20);
    const res = errorsRule(r, undefined, T);
    expectIssue(only(res), { category: 'errors', severity: 'critical', currentValue: 20, threshold: 5, stage: 'decide' });
    firingCheck(res, 'errors');
  });

  it('names no stage when failures are only recorded on the signal stage, but still advises', () => {
    const i = only(errorsRule(makeReport({ failedSignals: 5 }), undefined, T));
    // 5 / 20 = 25 %.
    expectIssue(i, { category: 'errors', severity: 'critical', currentValue: 25, threshold: 5 });
    expect(i.stage).toBeUndefined();
  });

  it('does not fire at exactly the threshold, and fires just past it', () => {
    // 50 / 1000 = 5 % exactly; 51 / 1000 = 5.1 %.
    const at = makeReport({ signals: 1000, failedSignals: 50 });
    expect(at.errorRate).toBe(5);
    expectQuiet(errorsRule(at, undefined, T), 'errors');
    const past = makeReport({ signals: 1000, failedSignals: 51 });
    expect(only(errorsRule(past, undefined, T)).currentValue).toBeCloseTo(5.1, 12);
  });

  it('is skipped below minSamples signals', () => {
    // 9 signals, all failed: still not enough to speak.
    expectSkipped(errorsRule(makeReport({ signals: 9, failedSignals: 9 }), undefined, T), 'errors');
    expect(errorsRule(makeReport({ signals: 10, failedSignals: 10 }), undefined, T).issues).toHaveLength(1);
  });
});

describe('cache rule (hitRate < minCacheHitRate → warning)', () => {
  it('fires a warning', () => {
    // 2 of 20 = 10 %.
    const res = cacheRule(makeReport({ cacheHits: 2, cacheMisses: 18 }), undefined, T);
    const i = only(res);
    expectIssue(i, { category: 'cache', severity: 'warning', currentValue: 10, threshold: 30 });
    expect(i.recommendation).toMatch(/cache/i);
    firingCheck(res, 'cache');
  });

  it('does not fire at exactly the threshold, and fires just past it', () => {
    // 3 of 10 = 30 % exactly; 299 of 1000 = 29.9 %.
    const at = makeReport({ cacheHits: 3, cacheMisses: 7 });
    expect(at.cacheEfficiency.hitRate).toBe(30);
    expectQuiet(cacheRule(at, undefined, T), 'cache');
    expect(only(cacheRule(makeReport({ cacheHits: 299, cacheMisses: 701 }), undefined, T)).currentValue).toBeCloseTo(29.9, 12);
  });

  it('is skipped below minSamples cache lookups (whatever the signal count)', () => {
    // 9 lookups, none hit; the window has 20 signals, which does not count.
    const r = cacheRule(makeReport({ cacheHits: 0, cacheMisses: 9 }), undefined, T);
    expectSkipped(r, 'cache');
    expect(r.checks[0]!.skipped).toMatch(/cache lookups/);
    expect(cacheRule(makeReport({ cacheHits: 0, cacheMisses: 10 }), undefined, T).issues).toHaveLength(1);
    // No lookups at all: 0 % but nothing to judge.
    expectSkipped(cacheRule(makeReport({ cacheHits: 0, cacheMisses: 0 }), undefined, T), 'cache');
  });
});

describe('tokens rule (percentOfLimit > 95 → critical, > tokenLimitWarningPercent → warning)', () => {
  it('fires a warning above the warning percent', () => {
    // 850 000 / 1 000 000 = 85 %.
    const res = tokensRule(makeReport({ dailyTokens: 850_000 }), undefined, T);
    expectIssue(only(res), { category: 'tokens', severity: 'warning', currentValue: 85, threshold: 80 });
    firingCheck(res, 'tokens');
  });

  it('fires critical above 95 %, with 95 as the threshold', () => {
    // 960 000 / 1 000 000 = 96 %.
    expectIssue(only(tokensRule(makeReport({ dailyTokens: 960_000 }), undefined, T)), {
      category: 'tokens',
      severity: 'critical',
      currentValue: 96,
      threshold: 95,
    });
  });

  it('the warning and critical advice differ', () => {
    const w = only(tokensRule(makeReport({ dailyTokens: 850_000 }), undefined, T));
    const c = only(tokensRule(makeReport({ dailyTokens: 960_000 }), undefined, T));
    expect(w.recommendation).not.toBe(c.recommendation);
  });

  it('exactly the warning percent is nothing; just past it is a warning', () => {
    const at = makeReport({ dailyTokens: 800_000 });
    expect(at.tokenUsage.percentOfLimit).toBe(80);
    expectQuiet(tokensRule(at, undefined, T), 'tokens');
    // 800 001 → 80.0001 %.
    expect(only(tokensRule(makeReport({ dailyTokens: 800_001 }), undefined, T)).severity).toBe('warning');
  });

  it('exactly 95 % is a warning, not critical; just past 95 is critical', () => {
    const at = makeReport({ dailyTokens: 950_000 });
    expect(at.tokenUsage.percentOfLimit).toBe(95);
    const i = only(tokensRule(at, undefined, T));
    expect(i.severity).toBe('warning');
    expect(i.threshold).toBe(80);
    const past = only(tokensRule(makeReport({ dailyTokens: 950_001 }), undefined, T));
    expect(past.severity).toBe('critical');
    expect(past.threshold).toBe(95);
  });

  it('uses the report’s own daily limit', () => {
    // 45 000 of 50 000 = 90 % → warning (the same tokens are 4.5 % of 1 000 000).
    expect(only(tokensRule(makeReport({ dailyTokens: 45_000, dailyLimit: 50_000 }), undefined, T)).currentValue).toBe(90);
    expectQuiet(tokensRule(makeReport({ dailyTokens: 45_000 }), undefined, T), 'tokens');
  });

  it('follows a configured warning percent', () => {
    // 60 % > 50 %.
    expect(only(tokensRule(makeReport({ dailyTokens: 600_000 }), undefined, { ...T, tokenLimitWarningPercent: 50 })).threshold).toBe(50);
  });

  it('speaks regardless of minSamples: no signals, no records in the window', () => {
    const r = makeReport({ signalStage: null, records: 0, queueSamples: 0, cacheHits: 0, cacheMisses: 0, dailyTokens: 990_000 });
    expect(r.throughput.totalSignalsProcessed).toBe(0);
    expect(only(tokensRule(r, undefined, T)).severity).toBe('critical');
  });
});

describe('queue rule (currentDepth > maxQueueDepth → warning)', () => {
  it('fires a warning', () => {
    const res = queueRule(makeReport({ queueCurrent: 150 }), undefined, T);
    const i = only(res);
    expectIssue(i, { category: 'queue', severity: 'warning', currentValue: 150, threshold: 100 });
    expect(i.recommendation).toMatch(/worker|concurren/i);
    firingCheck(res, 'queue');
  });

  it('does not fire at exactly the threshold, and fires just past it', () => {
    expectQuiet(queueRule(makeReport({ queueCurrent: 100 }), undefined, T), 'queue');
    expect(only(queueRule(makeReport({ queueCurrent: 101 }), undefined, T)).currentValue).toBe(101);
  });

  it('is skipped below minSamples queue samples', () => {
    const r = queueRule(makeReport({ queueCurrent: 500, queueSamples: 9 }), undefined, T);
    expectSkipped(r, 'queue');
    expect(r.checks[0]!.skipped).toMatch(/queue samples/);
    expect(queueRule(makeReport({ queueCurrent: 500, queueSamples: 10 }), undefined, T).issues).toHaveLength(1);
  });
});

describe('staleness rule (no record in the window → warning)', () => {
  it('fires a warning when the window holds no record', () => {
    const r = makeReport({ signalStage: null, records: 0, queueSamples: 0, cacheHits: 0, cacheMisses: 0 });
    const res = stalenessRule(r, undefined, T);
    const i = only(res);
    expectIssue(i, { category: 'staleness', severity: 'warning', currentValue: 0, threshold: 0 });
    // The message says which window was empty.
    expect(i.message).toMatch(/30 min/);
    firingCheck(res, 'staleness');
  });

  it('one record is enough to be quiet, whatever minSamples is', () => {
    // A single queue sample: far below minSamples for every other rule, but not stale.
    const r = makeReport({ signalStage: null, queueSamples: 1, cacheHits: 0, cacheMisses: 0 });
    expect(r.records).toBe(1);
    expectQuiet(stalenessRule(r, undefined, T), 'staleness');
    expectQuiet(stalenessRule(r, undefined, { ...T, minSamples: 1000 }), 'staleness');
  });
});

describe('throughput rule (signals/min below half of the previous window → info)', () => {
  it('fires info when signals/min fell below half', () => {
    // Previous 30 signals in 30 min = 1 /min → threshold 0.5; now 12 / 30 = 0.4.
    const res = throughputRule(makeReport({ signals: 12 }), makeReport({ signals: 30 }), T);
    expectIssue(only(res), { category: 'throughput', severity: 'info', currentValue: 0.4, threshold: 0.5 });
    firingCheck(res, 'throughput');
  });

  it('does not fire at exactly half, and fires just below it', () => {
    // Previous 20 / 30 min; half is 10 / 30 min.
    const prev = makeReport({ signals: 20 });
    const half = makeReport({ signals: 10 });
    expect(half.throughput.signalsPerMinute).toBe(prev.throughput.signalsPerMinute / 2);
    expectQuiet(throughputRule(half, prev, T), 'throughput');
    // 9 / 30 = 0.3 < 0.333. (9 signals are below minSamples for the window itself, which this rule
    // does not need: a drop to nothing is what it is for.)
    expect(only(throughputRule(makeReport({ signals: 9 }), prev, T)).currentValue).toBeCloseTo(0.3, 12);
  });

  it('fires when the window has no signals at all', () => {
    const i = only(throughputRule(makeReport({ signalStage: null }), makeReport({ signals: 20 }), T));
    expect(i.currentValue).toBe(0);
    expect(i.threshold).toBeCloseTo(1 / 3, 12);
  });

  it('is skipped without enough previous signals, or without a previous window', () => {
    expectSkipped(throughputRule(makeReport({ signalStage: null }), makeReport({ signals: 9 }), T), 'throughput');
    expectSkipped(throughputRule(makeReport({ signalStage: null }), undefined, T), 'throughput');
    // Exactly minSamples previous signals: it speaks (0 < 10/30/2).
    expect(throughputRule(makeReport({ signalStage: null }), makeReport({ signals: 10 }), T).issues).toHaveLength(1);
  });

  it('a rise is not an issue', () => {
    expectQuiet(throughputRule(makeReport({ signals: 40 }), makeReport({ signals: 20 }), T), 'throughput');
  });
});

describe('trend rule (p95 of signals > 1.5 × previous p95 → info)', () => {
  const stages = (classify: number, extract: number): Record<string, StageSpec> => ({
    preprocess: { avg: 20 },
    classify: { avg: classify },
    decide: { avg: 300 },
    extract: { avg: extract },
  });

  it('fires info and names the stage whose p95 rose most', () => {
    // Previous: classify 800, extract 500 → signals 1650. Now classify 2000 (×2.5), extract 500
    // (×1) → signals 2850 > 1.5 × 1650 = 2475. The signal stage itself (×1.73) is left out.
    const prev = makeReport({ avgMs: 1650, stages: stages(800, 500) });
    const now = makeReport({ avgMs: 2850, stages: stages(2000, 500) });
    const res = trendRule(now, prev, T);
    expectIssue(only(res), { category: 'trend', severity: 'info', currentValue: 2850, threshold: 2475, stage: 'classify' });
    firingCheck(res, 'trend');
  });

  it('names extract when extract is the one that slowed down', () => {
    // extract 500 → 2000 (×4); classify unchanged. Signals 1650 → 3150.
    const i = only(trendRule(makeReport({ avgMs: 3150, stages: stages(800, 2000) }), makeReport({ avgMs: 1650, stages: stages(800, 500) }), T));
    expect(i.stage).toBe('extract');
  });

  it('never names the signal stage, even when it rose most', () => {
    // total 1000 → 3000 (×3); classify 800 → 1600 (×2), extract 100 → 150 (×1.5): classify.
    const prev = makeReport({ avgMs: 1000, stages: { classify: { avg: 800 }, extract: { avg: 100 } } });
    const now = makeReport({ avgMs: 3000, stages: { classify: { avg: 1600 }, extract: { avg: 150 } } });
    const i = only(trendRule(now, prev, T));
    expect(i.stage).toBe('classify');
  });

  it('ranks stages by the rise of their p95, not of their average', () => {
    // classify: avg 800 → 850, p95 900 → 2700 (×3). extract: avg 500 → 1500 (×3), p95 600 → 1200
    // (×2). classify's p95 rose most. Signals p95 2000 → 4000.
    const prev = makeReport({ avgMs: 1650, p95Ms: 2000, stages: { classify: { avg: 800, p95: 900 }, extract: { avg: 500, p95: 600 } } });
    const now = makeReport({ avgMs: 2400, p95Ms: 4000, stages: { classify: { avg: 850, p95: 2700 }, extract: { avg: 1500, p95: 1200 } } });
    expect(only(trendRule(now, prev, T)).stage).toBe('classify');
  });

  it('does not fire at exactly 1.5 ×, and fires just past it', () => {
    const prev = makeReport({ p95Ms: 1000, avgMs: 900 });
    expectQuiet(trendRule(makeReport({ p95Ms: 1500, avgMs: 900 }), prev, T), 'trend');
    const i = only(trendRule(makeReport({ p95Ms: 1500.5, avgMs: 900 }), prev, T));
    expect(i.currentValue).toBe(1500.5);
    expect(i.threshold).toBe(1500);
  });

  it('compares p95, not the average', () => {
    // Average doubled, p95 unchanged: no trend. p95 doubled, average unchanged: trend.
    const prev = makeReport({ avgMs: 1000, p95Ms: 2000 });
    expectQuiet(trendRule(makeReport({ avgMs: 2000, p95Ms: 2000 }), prev, T), 'trend');
    expect(trendRule(makeReport({ avgMs: 1000, p95Ms: 4000 }), prev, T).issues).toHaveLength(1);
  });

  it('is skipped with too few signals in this or the previous window, or no previous window', () => {
    const slow = (signals: number) => makeReport({ signals, avgMs: 9000, p95Ms: 9000 });
    const fast = (signals: number) => makeReport({ signals, avgMs: 1000, p95Ms: 1000 });
    expectSkipped(trendRule(slow(9), fast(20), T), 'trend');
    expectSkipped(trendRule(slow(20), fast(9), T), 'trend');
    expectSkipped(trendRule(slow(20), undefined, T), 'trend');
    expect(trendRule(slow(10), fast(10), T).issues).toHaveLength(1);
  });

  it('a fall is not an issue', () => {
    expectQuiet(trendRule(makeReport({ avgMs: 800 }), makeReport({ avgMs: 1650 }), T), 'trend');
  });
});

describe('recommendations', () => {
  it('every rule gives its own advice', () => {
    const bad = makeReport({
      avgMs: 9000,
      failedSignals: 10,
      cacheHits: 0,
      cacheMisses: 20,
      dailyTokens: 900_000,
      queueCurrent: 500,
      signals: 20,
      stages: { preprocess: { avg: 20 }, classify: { avg: 8000, errors: 10 } },
    });
    const prev = makeReport({ signals: 60, avgMs: 1000 });
    const issues = evaluateRules(bad, prev, T).issues;
    const empty = makeReport({ signalStage: null, records: 0, queueSamples: 0, cacheHits: 0, cacheMisses: 0 });
    issues.push(...stalenessRule(empty, undefined, T).issues);
    // latency, errors, cache, tokens, queue, staleness, throughput (20 < 60/2), trend (9000 > 1500).
    expect(new Set(issues.map((i) => i.category)).size).toBe(8);
    expect(new Set(issues.map((i) => i.recommendation)).size).toBe(8);
  });
});

describe('evaluateRules', () => {
  it('runs every rule and sorts issues critical → warning → info', () => {
    // Fires: latency (9000 > 5000) critical, errors (50 %) critical, tokens (96 %) critical,
    // cache (0 %) warning, queue (500) warning, throughput (20 < 60 / 2 per 30 min) info,
    // trend (p95 9000 > 1500) info. Not staleness.
    const r = makeReport({
      avgMs: 9000,
      failedSignals: 10,
      cacheHits: 0,
      cacheMisses: 20,
      dailyTokens: 960_000,
      queueCurrent: 500,
    });
    const prev = makeReport({ signals: 60, avgMs: 1000 });
    const e = evaluateRules(r, prev, T);
    expect(e.checks).toHaveLength(RULES.length);
    expect(e.checks.map((c) => c.category).sort()).toEqual(['cache', 'errors', 'latency', 'queue', 'staleness', 'throughput', 'tokens', 'trend']);
    const got = e.issues.map((i) => `${i.severity}:${i.category}`);
    expect(got.slice(0, 3).sort()).toEqual(['critical:errors', 'critical:latency', 'critical:tokens']);
    expect(got.slice(3, 5).sort()).toEqual(['warning:cache', 'warning:queue']);
    expect(got.slice(5).sort()).toEqual(['info:throughput', 'info:trend']);
  });

  it("puts a later rule's critical before an earlier rule's warning", () => {
    // Rule order is latency, errors, cache, tokens, queue, staleness, throughput, trend. Here only
    // cache (0 % → warning), tokens (96 % → critical) and trend (p95 5000 > 1.5 × 2000 = 3000 →
    // info) fire: tokens must come first although the cache rule runs before it.
    const r = makeReport({ cacheHits: 0, cacheMisses: 20, dailyTokens: 960_000, p95Ms: 5000, avgMs: 1650 });
    const prev = makeReport({ p95Ms: 2000, avgMs: 1650 });
    const sev = evaluateRules(r, prev, T).issues.map((i) => [i.severity, i.category]);
    expect(sev).toEqual([
      ['critical', 'tokens'],
      ['warning', 'cache'],
      ['info', 'trend'],
    ]);
  });

  it('healthy report: no issues, every check ok', () => {
    const e = evaluateRules(makeReport(), makeReport(), T);
    expect(e.issues).toEqual([]);
    expect(e.checks.every((c) => c.status === 'ok')).toBe(true);
  });
});

describe('exitCodeFor', () => {
  const issue = (severity: Severity): Issue => ({ category: 'latency', severity, message: 'm', currentValue: 1, threshold: 0, recommendation: 'r' });

  it('none or info only → 0, warning → 1, critical → 2', () => {
    expect(exitCodeFor([])).toBe(0);
    expect(exitCodeFor([issue('info')])).toBe(0);
    expect(exitCodeFor([issue('info'), issue('warning')])).toBe(1);
    expect(exitCodeFor([issue('warning')])).toBe(1);
    expect(exitCodeFor([issue('info'), issue('warning'), issue('critical')])).toBe(2);
    expect(exitCodeFor([issue('critical')])).toBe(2);
  });

  it("failOn 'critical' makes warnings exit 0, but not criticals", () => {
    expect(exitCodeFor([issue('warning')], 'critical')).toBe(0);
    expect(exitCodeFor([issue('warning'), issue('info')], 'critical')).toBe(0);
    expect(exitCodeFor([issue('warning'), issue('critical')], 'critical')).toBe(2);
    expect(exitCodeFor([issue('warning')], 'warning')).toBe(1);
  });
});
