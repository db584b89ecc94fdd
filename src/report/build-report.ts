import type { MalformedSummary } from '../read/malformed.js';
import type { Rollup, StageStats } from '../stats/rollup.js';
import { minuteIso } from './minute-iso.js';
import type { PerformanceReport, StageBreakdown } from './types.js';
import type { WindowAccumulator } from './window-accumulator.js';

export interface BuildOptions {
  windowMinutes: number;
  dailyTokenLimit: number;
  generatedAt: number;
  malformed: MalformedSummary;
  files: number;
  /** Limit the stage breakdown to these stages; headline figures stay pipeline-wide. */
  stages?: readonly string[];
}

/** Records → PerformanceReport: a pure function of the accumulated window (DESIGN §3). */
export function buildReport(acc: WindowAccumulator, o: BuildOptions): PerformanceReport {
  return buildFromRollup(acc.window, acc, o);
}

/** The report of one rollup (the window, or the previous window for the trend rules). */
export function buildFromRollup(
  w: Rollup,
  acc: Pick<WindowAccumulator, 'bounds' | 'dayTokens' | 'dayCost' | 'latestQueueDepth'>,
  o: BuildOptions,
): PerformanceReport {
  const until = acc.bounds.until;
  const signalStage = chooseSignalStage(w);
  const signals = signalStage === null ? undefined : w.stages.get(signalStage);
  const signalCount = signals?.durations.count ?? 0;
  const failed = signals?.errors ?? 0;

  const sinceFirstMin = w.records === 0 ? 0 : (until - w.firstTs) / 60_000;
  const cacheRequests = w.cacheHits + w.cacheMisses;

  const stageBreakdown: Record<string, StageBreakdown> = Object.create(null);
  const wanted = o.stages && o.stages.length > 0 ? new Set(o.stages) : undefined;
  for (const name of orderStages([...w.stages.keys()])) {
    if (!wanted || wanted.has(name)) stageBreakdown[name] = breakdown(w.stages.get(name)!);
  }
  const modelBreakdown: Record<string, StageBreakdown> = Object.create(null);
  for (const name of [...w.models.keys()].sort()) modelBreakdown[name] = breakdown(w.models.get(name)!);
  const iso = minuteIso();

  return {
    generatedAt: new Date(o.generatedAt).toISOString(),
    timeWindowMinutes: o.windowMinutes,
    window: { from: new Date(acc.bounds.from).toISOString(), until: new Date(until).toISOString() },
    signalStage,
    averageTotalTime: signals?.durations.mean ?? 0,
    p95TotalTime: signals?.durations.percentile(95) ?? 0,
    errorRate: percent(failed, signalCount),
    totalErrors: failed,
    throughput: {
      totalSignalsProcessed: signalCount,
      signalsPerMinute: o.windowMinutes > 0 ? signalCount / o.windowMinutes : 0,
      signalsPerHour: o.windowMinutes > 0 ? (signalCount / o.windowMinutes) * 60 : 0,
      // A first record exactly at `until` spans no time: count it as one minute's worth.
      averageSignalsPerMinute: sinceFirstMin > 0 ? signalCount / sinceFirstMin : signalCount,
    },
    stageBreakdown,
    modelBreakdown,
    cacheEfficiency: {
      totalRequests: cacheRequests,
      cacheHits: w.cacheHits,
      cacheMisses: w.cacheMisses,
      hitRate: percent(w.cacheHits, cacheRequests),
    },
    tokenUsage: {
      totalTokens: w.tokens,
      totalCost: w.cost,
      averageTokensPerRequest: w.tokenRecords === 0 ? 0 : w.tokens / w.tokenRecords,
      dailyTokens: acc.dayTokens,
      dailyCost: acc.dayCost,
      dailyLimit: o.dailyTokenLimit,
      percentOfLimit: o.dailyTokenLimit > 0 ? (acc.dayTokens / o.dailyTokenLimit) * 100 : 0,
    },
    queueMetrics: {
      currentDepth: acc.latestQueueDepth,
      samples: w.queueSamples,
      averageDepth: w.queueSamples === 0 ? 0 : w.queueSum / w.queueSamples,
      maxDepth: w.queueMax,
      depthHistory: [...w.depthByMinute].sort((a, b) => a[0] - b[0]).map(([minute, depth]) => ({ timestamp: iso(minute), depth })),
    },
    records: w.records,
    files: o.files,
    malformed: o.malformed,
  };
}

const CONVENTIONAL = ['preprocess', 'classify', 'decide', 'extract'];

/** Pipeline order for the conventional stages, then the others by name, `total` last. */
export function orderStages(names: string[]): string[] {
  const rank = (n: string) => (n === 'total' ? 1e9 : CONVENTIONAL.includes(n) ? CONVENTIONAL.indexOf(n) : CONVENTIONAL.length);
  return names.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** `total` when the window has it, else the stage with the most records (ties: first by name). */
export function chooseSignalStage(w: Rollup): string | null {
  if (w.stages.has('total')) return 'total';
  let best: string | null = null;
  let bestCount = -1;
  for (const name of [...w.stages.keys()].sort()) {
    const c = w.stages.get(name)!.durations.count;
    if (c > bestCount) {
      best = name;
      bestCount = c;
    }
  }
  return best;
}

function breakdown(s: StageStats): StageBreakdown {
  const d = s.durations;
  return {
    count: d.count,
    totalDuration: d.sum,
    averageDuration: d.mean,
    minDuration: d.count === 0 ? 0 : d.min,
    maxDuration: d.count === 0 ? 0 : d.max,
    p50Duration: d.percentile(50),
    p95Duration: d.percentile(95),
    p99Duration: d.percentile(99),
    errorCount: s.errors,
    errorRate: percent(s.errors, d.count),
  };
}

function percent(part: number, whole: number): number {
  return whole === 0 ? 0 : (part / whole) * 100;
}
