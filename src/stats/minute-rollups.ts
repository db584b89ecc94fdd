import type { MetricRecord } from '../schema.js';
import { ExactSum } from './exact-sum.js';
import { MINUTE_MS, Rollup } from './rollup.js';

/**
 * A sliding window in bounded memory: one Rollup per minute (ts in [m, m + 1 min)), merged on
 * demand, with minutes that leave the retained span dropped. Memory grows with the minutes kept,
 * never with the records seen or the hours running. Today's tokens and cost are kept per minute
 * too (two numbers each), since the daily budget spans the whole UTC day whatever the window.
 */
export class MinuteRollups {
  private readonly minutes = new Map<number, Rollup>();
  private readonly dayTokens = new Map<number, { tokens: ExactSum; cost: ExactSum }>();
  private latestQueueTs = -Infinity;
  private latestQueueDepth = 0;
  /** Records older than the retained span when they arrived. */
  late = 0;

  /** @param keepMinutes how many minutes back from `now` to keep (2 × window for the trend rules). */
  constructor(
    private keepMinutes: number,
    private readonly now: () => number,
  ) {}

  add(r: MetricRecord): void {
    const minute = Math.floor(r.ts / MINUTE_MS) * MINUTE_MS;
    const now = this.now();
    if (r.type === 'queue' && r.ts <= now && (r.ts > this.latestQueueTs || (r.ts === this.latestQueueTs && r.depth > this.latestQueueDepth))) {
      this.latestQueueTs = r.ts;
      this.latestQueueDepth = r.depth;
    }
    if (r.type !== 'queue' && (r.llmTokens !== undefined || r.llmCost !== undefined) && minute >= dayStart(now)) {
      let d = this.dayTokens.get(minute);
      if (!d) this.dayTokens.set(minute, (d = { tokens: new ExactSum(), cost: new ExactSum() }));
      if (r.llmTokens !== undefined) d.tokens.add(r.llmTokens);
      if (r.llmCost !== undefined) d.cost.add(r.llmCost);
    }
    if (minute < this.oldestKept(now)) {
      this.late++;
      return;
    }
    let m = this.minutes.get(minute);
    if (!m) this.minutes.set(minute, (m = new Rollup()));
    m.add(r);
  }

  /**
   * The merge of the minutes that start in [from, until): whole minutes. When `until` falls on a
   * minute boundary this is the report's window (until − w, until] to the minute; otherwise the
   * minute the window starts in is left out (at most a minute's records at the far edge), and
   * the current minute is in. Consecutive windows partition the minutes exactly.
   */
  rollup(from: number, until: number): Rollup {
    const out = new Rollup();
    for (const minute of [...this.minutes.keys()].sort((a, b) => a - b)) {
      if (minute >= from && minute < until) out.merge(this.minutes.get(minute)!);
    }
    return out;
  }

  /** Per-minute rollups that start in [from, until), oldest first (for sparklines). */
  series(from: number, until: number): Array<[number, Rollup]> {
    const out: Array<[number, Rollup]> = [];
    const first = Math.ceil(from / MINUTE_MS) * MINUTE_MS;
    for (let m = first; m < until; m += MINUTE_MS) out.push([m, this.minutes.get(m) ?? EMPTY]);
    return out;
  }

  daily(until: number): { tokens: number; cost: number } {
    const start = dayStart(until);
    const tokens = new ExactSum();
    const cost = new ExactSum();
    for (const [minute, d] of this.dayTokens) {
      if (minute >= start && minute <= until) {
        tokens.merge(d.tokens);
        cost.merge(d.cost);
      }
    }
    return { tokens: tokens.value, cost: cost.value };
  }

  get currentQueueDepth(): number {
    return this.latestQueueDepth;
  }

  /** Drops minutes that left the retained span, and token minutes of past days. */
  prune(): void {
    const now = this.now();
    const oldest = this.oldestKept(now);
    for (const minute of this.minutes.keys()) if (minute < oldest) this.minutes.delete(minute);
    const today = dayStart(now);
    for (const minute of this.dayTokens.keys()) if (minute < today) this.dayTokens.delete(minute);
  }

  /** Minutes held (for tests and memory checks). */
  get size(): number {
    return this.minutes.size + this.dayTokens.size;
  }

  private oldestKept(now: number): number {
    return Math.floor(now / MINUTE_MS) * MINUTE_MS - this.keepMinutes * MINUTE_MS;
  }
}

const EMPTY = new Rollup();

export function dayStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}
