import type { PerfmonConfig } from '../config.js';
import { evaluateRules, ruleThresholds, type Evaluation } from '../detect/detect-issues.js';
import { MalformedLog } from '../read/malformed.js';
import { Tailer } from '../read/tailer.js';
import { buildFromRollup, chooseSignalStage } from '../report/build-report.js';
import type { PerformanceReport } from '../report/types.js';
import { reportBounds } from '../report/window-accumulator.js';
import { MinuteRollups } from '../stats/minute-rollups.js';
import { MINUTE_MS } from '../stats/rollup.js';
import type { MetricRecord } from '../schema.js';

export interface LiveMonitorOptions {
  dirs: readonly string[];
  windowMinutes: number;
  config: PerfmonConfig;
  now: () => number;
  /** Also sees every record read (serve's cumulative counters). */
  onRecord?: (r: MetricRecord) => void;
}

export interface LiveSnapshot extends Evaluation {
  report: PerformanceReport;
  previous: PerformanceReport;
  /** Per minute of the window, oldest first: signals and their p95 (ms), for sparklines. */
  series: Array<{ minute: number; signals: number; p95: number }>;
}

/**
 * The live picture behind `watch` and `serve`: a Tailer feeding per-minute rollups, from which
 * the window's report (and the previous window's, for the trend rules) is merged on demand.
 */
export class LiveMonitor {
  readonly malformed = new MalformedLog();
  readonly minutes: MinuteRollups;
  readonly tailer: Tailer;

  constructor(private readonly o: LiveMonitorOptions) {
    // Keep two windows (the trend and throughput rules compare with the previous one) and a minute.
    this.minutes = new MinuteRollups(Math.ceil(o.windowMinutes) * 2 + 1, o.now);
    const since = o.now() - 2 * o.windowMinutes * MINUTE_MS;
    const dayStart = new Date(o.now()).setUTCHours(0, 0, 0, 0);
    this.tailer = new Tailer({
      dirs: o.dirs,
      malformed: this.malformed,
      // Today's tokens need records since midnight, whatever the window.
      since: Math.min(since, dayStart),
      onRecord: o.onRecord
        ? (r) => {
            this.minutes.add(r);
            o.onRecord!(r);
          }
        : (r) => this.minutes.add(r),
    });
  }

  /** Reads what was appended since the last poll and drops minutes that left the window. */
  async poll(): Promise<void> {
    await this.tailer.poll();
    this.minutes.prune();
  }

  /** The report of the last `windowMinutes` (at most the followed window) and its issues. */
  snapshot(windowMinutes = this.o.windowMinutes): LiveSnapshot {
    const now = this.o.now();
    const b = reportBounds(now, Math.min(windowMinutes, this.o.windowMinutes), true);
    const daily = this.minutes.daily(now);
    const acc = { bounds: b, dayTokens: daily.tokens, dayCost: daily.cost, latestQueueDepth: this.minutes.currentQueueDepth };
    const opts = {
      windowMinutes: Math.min(windowMinutes, this.o.windowMinutes),
      dailyTokenLimit: this.o.config.dailyTokenLimit,
      generatedAt: now,
      malformed: this.malformed.toJSON(),
      files: this.tailer.stats.files,
    };
    const windowRollup = this.minutes.rollup(b.from, now);
    const report = buildFromRollup(windowRollup, acc, opts);
    const previous = buildFromRollup(this.minutes.rollup(b.previousFrom!, b.from), { ...acc, bounds: { ...b, until: b.from, from: b.previousFrom! } }, opts);
    const signal = chooseSignalStage(windowRollup);
    const series = this.minutes.series(b.from, now).map(([minute, r]) => {
      const s = signal === null ? undefined : r.stages.get(signal);
      return { minute, signals: s?.durations.count ?? 0, p95: s?.durations.percentile(95) ?? 0 };
    });
    return { report, previous, series, ...evaluateRules(report, previous, ruleThresholds(this.o.config)) };
  }

  async close(): Promise<void> {
    await this.tailer.close();
  }
}
