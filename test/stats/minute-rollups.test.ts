/**
 * MinuteRollups, the live window in bounded memory: per-minute rollups with an injected clock,
 * windows of whole minutes that partition the minutes, pruning, today's tokens, late records,
 * and memory that follows the minutes kept, never the records seen.
 */
import { describe, expect, it } from 'vitest';
import type { MetricRecord, QueueRecord, StageRecord } from '../../src/schema.js';
import { dayStart, MinuteRollups } from '../../src/stats/minute-rollups.js';
import { MINUTE_MS } from '../../src/stats/rollup.js';

const T = (h: number, m: number, s = 0, ms = 0) => Date.UTC(2026, 10, 27, h, m, s, ms);

function stage(ts: number, o: Partial<StageRecord> = {}): StageRecord {
  return {
    type: 'stage',
    ts,
    stage: 'total',
    durationMs: 100,
    success: true,
    llmTokens: undefined,
    llmCost: undefined,
    cacheHit: undefined,
    model: undefined,
    error: undefined,
    signalId: undefined,
    ...o,
  };
}

function queue(ts: number, depth: number): QueueRecord {
  return { type: 'queue', ts, depth };
}

/** A clock the test moves. */
function clock(start: number) {
  const c = { now: start, fn: () => c.now };
  return c;
}

describe('MinuteRollups: windows of whole minutes', () => {
  it('rollup(from, until) merges the minutes that start in [from, until)', () => {
    const c = clock(T(10, 30));
    const m = new MinuteRollups(120, c.fn);
    m.add(stage(T(10, 0, 0)));          // minute 10:00: starts at `from`, included
    m.add(stage(T(10, 0, 59, 999)));    // minute 10:00
    m.add(stage(T(10, 1, 0)));          // minute 10:01
    m.add(stage(T(10, 17, 30)));
    m.add(stage(T(10, 29, 59, 999)));   // minute 10:29: the last in
    m.add(stage(T(10, 30, 0)));         // minute 10:30: starts at `until`, excluded
    const r = m.rollup(T(10, 0), T(10, 30));
    expect(r.records).toBe(5);
    expect(r.firstTs).toBe(T(10, 0));
    expect(r.lastTs).toBe(T(10, 29, 59, 999));
    expect(m.rollup(T(10, 0), T(10, 30, 0, 1)).records).toBe(6);
    expect(m.rollup(T(10, 0, 0, 1), T(10, 30)).records).toBe(3);
  });

  it('consecutive windows partition the minutes: each record in exactly one', () => {
    const c = clock(T(12, 0));
    const m = new MinuteRollups(240, c.fn);
    let tokens = 0;
    let n = 0;
    // 2 h of records at irregular times, some exactly on minute starts.
    for (let ts = T(10, 0, 0, 0); ts < T(12, 0); ts += 7_919) {
      m.add(stage(ts, { llmTokens: n % 11, durationMs: 10 + (n % 50) }));
      tokens += n % 11;
      n++;
    }
    for (const stepMs of [MINUTE_MS, 5 * MINUTE_MS, 7 * MINUTE_MS + 30_000, 60 * MINUTE_MS]) {
      let records = 0;
      let sum = 0;
      // Boundaries need not be minute-aligned: a minute belongs to the window its start falls in.
      for (let from = T(9, 59, 59, 999); from < T(12, 0); from += stepMs) {
        const r = m.rollup(from, Math.min(from + stepMs, T(12, 0)));
        records += r.records;
        sum += r.tokens;
      }
      expect({ stepMs, records, sum }).toEqual({ stepMs, records: n, sum: tokens });
    }
    expect(m.rollup(T(10, 0), T(12, 0)).records).toBe(n);
  });

  it('series gives one point per minute of [from, until), empty minutes included', () => {
    const c = clock(T(10, 30));
    const m = new MinuteRollups(120, c.fn);
    m.add(stage(T(10, 5, 1)));
    m.add(stage(T(10, 5, 2)));
    m.add(stage(T(10, 29, 30)));
    const s = m.series(T(10, 0), T(10, 30));
    expect(s.length).toBe(30);
    expect(s[0]![0]).toBe(T(10, 0));
    expect(s.at(-1)![0]).toBe(T(10, 29));
    expect(s.map(([, r]) => r.records)).toEqual(s.map(([minute]) => (minute === T(10, 5) ? 2 : minute === T(10, 29) ? 1 : 0)));
    // An unaligned window: the first point is the first minute starting in it, the last the current one.
    expect(m.series(T(9, 59, 30), T(10, 29, 30)).map(([minute]) => minute)).toEqual(s.map(([minute]) => minute));
  });
});

describe('MinuteRollups: pruning, the day, late records', () => {
  it('prune drops minutes older than keepMinutes before now', () => {
    const c = clock(T(10, 0));
    const m = new MinuteRollups(5, c.fn);
    for (let i = 0; i < 20; i++) {
      c.now = T(10, i, 30);
      m.add(stage(c.now));
    }
    m.prune();
    // now is 10:19:30: minutes from 10:14 on are kept (5 back from the current minute, and it).
    const kept = m.series(T(9, 0), T(11, 0)).filter(([, r]) => r.records > 0).map(([minute]) => minute);
    expect(kept).toEqual([14, 15, 16, 17, 18, 19].map((min) => T(10, min)));
    expect(m.size).toBe(6);
    expect(m.rollup(T(9, 0), T(11, 0)).records).toBe(6);
  });

  it('daily() sums tokens and cost since 00:00 UTC, whatever the minutes kept', () => {
    const c = clock(T(0, 0) - 2 * MINUTE_MS);
    const m = new MinuteRollups(10, c.fn);
    m.add(stage(c.now, { llmTokens: 1000, llmCost: 1 })); // yesterday 23:58
    c.now = T(8, 0);
    m.add(stage(T(0, 0), { llmTokens: 5, llmCost: 0.5 })); // today's first ms: late, but today
    m.add(stage(T(7, 0), { llmTokens: 7, llmCost: 0.25 })); // late too
    m.add({ type: 'llm', ts: T(7, 59), model: 'm', durationMs: 1, success: true, llmTokens: 11, llmCost: 0.125, cacheHit: undefined });
    m.add(stage(T(7, 59, 30), { llmTokens: undefined, llmCost: 0.0625 })); // cost without tokens
    m.add(stage(T(7, 59, 40))); // neither
    m.add(stage(T(0, 0) - 1, { llmTokens: 100_000 })); // yesterday, arriving today: not today's

    expect(m.daily(T(8, 0))).toEqual({ tokens: 23, cost: 0.9375 });
    expect(m.late).toBe(3);
    // The window only has what is kept.
    expect(m.rollup(T(7, 50), T(8, 0)).tokens).toBe(11);
    // Held: minutes 23:58 (yesterday) and 07:59; token minutes 23:58, 00:00, 07:00, 07:59.
    expect(m.size).toBe(2 + 4);
    // The next prune drops yesterday's minute from both: it left the window and the day.
    m.prune();
    expect(m.size).toBe(1 + 3);
    expect(m.daily(T(8, 0))).toEqual({ tokens: 23, cost: 0.9375 });
  });

  it('prune drops yesterday’s token minutes once the day turns', () => {
    const c = clock(T(23, 50));
    const m = new MinuteRollups(60, c.fn);
    for (let i = 0; i < 10; i++) m.add(stage(T(23, 50 + i), { llmTokens: 10 }));
    expect(m.daily(T(23, 59, 59))).toEqual({ tokens: 100, cost: 0 });
    c.now = T(23, 59) + 2 * MINUTE_MS; // 00:01 the next day
    m.add(stage(c.now, { llmTokens: 3 }));
    m.prune();
    expect(m.daily(c.now)).toEqual({ tokens: 3, cost: 0 });
    // Yesterday's minutes are still in the sliding window (within 60 minutes)…
    expect(m.rollup(T(23, 0), c.now + 1).tokens).toBe(103);
    // …but their day-token entries are gone: 11 window minutes + 1 token minute today.
    expect(m.size).toBe(11 + 1);
    expect(dayStart(c.now)).toBe(Date.UTC(2026, 10, 28));
  });

  it('counts a record older than the kept span as late, and keeps it out of the windows', () => {
    const c = clock(T(10, 30));
    const m = new MinuteRollups(10, c.fn);
    m.add(stage(T(10, 20)));        // the oldest minute kept
    m.add(stage(T(10, 19, 59, 999))); // just before it
    m.add(stage(T(9, 0), { llmTokens: 4 }));
    expect(m.late).toBe(2);
    expect(m.rollup(0, T(11, 0)).records).toBe(1);
    expect(m.daily(T(10, 30)).tokens).toBe(4);
  });

  it('the current queue depth is the newest sample at or before now, in any arrival order', () => {
    const c = clock(T(10, 30));
    const m = new MinuteRollups(60, c.fn);
    m.add(queue(T(10, 29), 7));
    m.add(queue(T(10, 10), 99)); // older, arrives later
    m.add(queue(T(10, 31), 500)); // in the future: not current
    expect(m.currentQueueDepth).toBe(7);
    c.now = T(10, 32);
    m.add(queue(T(10, 31, 30), 12));
    expect(m.currentQueueDepth).toBe(12);
  });
});

describe('MinuteRollups: memory', () => {
  /** Feeds `records` records evenly over `hours` simulated hours from 00:00, pruning each minute. */
  function feed(records: number, hours: number, keepMinutes: number) {
    const c = clock(T(0, 0));
    const m = new MinuteRollups(keepMinutes, c.fn);
    const span = hours * 60 * MINUTE_MS;
    const step = span / records;
    let lastPrune = c.now;
    let maxSize = 0;
    for (let i = 0; i < records; i++) {
      c.now = T(0, 0) + Math.floor(i * step);
      const r: MetricRecord =
        i % 10 === 0
          ? queue(c.now, i % 50)
          : stage(c.now, { stage: i % 3 === 0 ? 'total' : 'classify', durationMs: 1 + (i % 5000), llmTokens: i % 100, cacheHit: i % 2 === 0 });
      m.add(r);
      if (c.now - lastPrune >= MINUTE_MS) {
        m.prune();
        lastPrune = c.now;
        if (m.size > maxSize) maxSize = m.size;
      }
    }
    m.prune();
    return { m, maxSize, now: c.now };
  }

  it('1,000,000 records over 10 simulated hours keep at most keepMinutes + 1 minutes (and today’s token minutes)', () => {
    const keep = 61;
    const big = feed(1_000_000, 10, keep);
    const windowMinutes = big.m.series(big.now - 3 * 60 * MINUTE_MS, big.now).filter(([, r]) => r.records > 0).length;
    expect(windowMinutes).toBeLessThanOrEqual(keep + 1);
    // 600 token minutes today (one number pair each) + the window's minutes.
    expect(big.maxSize).toBeLessThanOrEqual(keep + 1 + 1440);
    expect(big.m.size).toBe(keep + 1 + 600);
    expect(big.m.late).toBe(0);
    // Memory follows the minutes, not the records: a tenth of the records, the same size.
    const small = feed(100_000, 10, keep);
    expect(small.m.size).toBe(big.m.size);
    // And the last hour still adds up: every record of the kept minutes is in the rollup.
    const last = big.m.rollup(big.now - 60 * MINUTE_MS, big.now);
    expect(last.records).toBeGreaterThan(90_000);
    expect(last.records).toBeLessThan(110_000);
  });
});
