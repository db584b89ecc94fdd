import type { MetricRecord } from '../schema.js';
import { ExactSum } from '../stats/exact-sum.js';
import { Rollup } from '../stats/rollup.js';

/**
 * The time ranges one pass over the logs feeds. All ranges end at `until`; the window is
 * (from, until], the previous window (previousFrom, from], the day [dayStart, until].
 */
export interface ReportBounds {
  until: number;
  from: number;
  dayStart: number;
  /** Start of the previous window of equal length, when the issue rules need it. */
  previousFrom?: number;
}

export function reportBounds(until: number, windowMinutes: number, withPrevious = false): ReportBounds {
  const windowMs = windowMinutes * 60_000;
  const from = until - windowMs;
  const d = new Date(until);
  const dayStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return withPrevious ? { until, from, dayStart, previousFrom: from - windowMs } : { until, from, dayStart };
}

/** Earliest ts a pass for these bounds must read (exclusive). */
export function readStart(b: ReportBounds): number {
  // dayStart is inclusive, the others exclusive: step back 1 ms so (start, until] covers it.
  return Math.min(b.previousFrom ?? b.from, b.from, b.dayStart - 1);
}

/**
 * Sorts each record into the ranges it belongs to. Mergeable, so workers over byte ranges and
 * per-file passes combine into the same result as one pass.
 */
export class WindowAccumulator {
  readonly window = new Rollup();
  readonly previous: Rollup | undefined;
  readonly dayTokenSum = new ExactSum();
  readonly dayCostSum = new ExactSum();
  /** Newest queue sample at or before `until`, wherever it falls in what was read. */
  latestQueueTs = -Infinity;
  latestQueueDepth = 0;

  constructor(readonly bounds: ReportBounds) {
    this.previous = bounds.previousFrom === undefined ? undefined : new Rollup();
  }

  get dayTokens(): number {
    return this.dayTokenSum.value;
  }

  get dayCost(): number {
    return this.dayCostSum.value;
  }

  add(r: MetricRecord): void {
    const { until, from, dayStart, previousFrom } = this.bounds;
    const ts = r.ts;
    if (ts > until) return;
    if (ts > from) this.window.add(r);
    else if (this.previous !== undefined && ts > previousFrom!) this.previous.add(r);
    if (r.type === 'queue') {
      if (ts > this.latestQueueTs || (ts === this.latestQueueTs && r.depth > this.latestQueueDepth)) {
        this.latestQueueTs = ts;
        this.latestQueueDepth = r.depth;
      }
    } else if (ts >= dayStart) {
      if (r.llmTokens !== undefined) this.dayTokenSum.add(r.llmTokens);
      if (r.llmCost !== undefined) this.dayCostSum.add(r.llmCost);
    }
  }

  merge(o: WindowAccumulator): this {
    this.window.merge(o.window);
    if (this.previous && o.previous) this.previous.merge(o.previous);
    this.dayTokenSum.merge(o.dayTokenSum);
    this.dayCostSum.merge(o.dayCostSum);
    if (o.latestQueueTs !== -Infinity && (o.latestQueueTs > this.latestQueueTs || (o.latestQueueTs === this.latestQueueTs && o.latestQueueDepth > this.latestQueueDepth))) {
      this.latestQueueTs = o.latestQueueTs;
      this.latestQueueDepth = o.latestQueueDepth;
    }
    return this;
  }
}
