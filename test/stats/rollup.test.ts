import { describe, expect, it } from 'vitest';
import { MINUTE_MS, Rollup } from '../../src/stats/rollup.js';
import type { LlmRecord, MetricRecord, QueueRecord, StageRecord } from '../../src/schema.js';
import { rng } from '../helpers/rng.js';

const T0 = Date.UTC(2026, 10, 27, 9, 0, 0); // 2026-11-27T09:00:00Z, a whole minute

function stage(ts: number, name: string, durationMs: number, extra: Partial<StageRecord> = {}): StageRecord {
  return {
    type: 'stage',
    ts,
    stage: name,
    durationMs,
    success: true,
    llmTokens: undefined,
    llmCost: undefined,
    cacheHit: undefined,
    model: undefined,
    error: undefined,
    signalId: undefined,
    ...extra,
  };
}

function llm(ts: number, model: string, extra: Partial<LlmRecord> = {}): LlmRecord {
  return {
    type: 'llm',
    ts,
    model,
    durationMs: undefined,
    success: true,
    llmTokens: undefined,
    llmCost: undefined,
    cacheHit: undefined,
    ...extra,
  };
}

function queue(ts: number, depth: number): QueueRecord {
  return { type: 'queue', ts, depth };
}

function rollupOf(records: readonly MetricRecord[]): Rollup {
  const r = new Rollup();
  for (const rec of records) r.add(rec);
  return r;
}

/**
 * Everything observable about a rollup, in comparable plain form. Float sums (cost, duration sums)
 * depend on addition order, so `approx` rounds them to 12 significant digits for merge comparisons.
 */
function summary(r: Rollup, approx = false) {
  const f = (x: number) => (approx ? Number(x.toPrecision(12)) : x);
  const stats = (m: Rollup['stages']) =>
    Object.fromEntries(
      [...m.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, s]) => [
          name,
          {
            count: s.durations.count,
            sum: f(s.durations.sum),
            min: s.durations.min,
            max: s.durations.max,
            p50: s.durations.percentile(50),
            p95: s.durations.percentile(95),
            p99: s.durations.percentile(99),
            errors: s.errors,
          },
        ]),
    );
  return {
    records: r.records,
    firstTs: r.firstTs,
    lastTs: r.lastTs,
    stageNames: [...r.stages.keys()].sort(),
    stages: stats(r.stages),
    models: stats(r.models),
    cacheHits: r.cacheHits,
    cacheMisses: r.cacheMisses,
    tokenRecords: r.tokenRecords,
    tokens: r.tokens,
    cost: f(r.cost),
    queueSamples: r.queueSamples,
    queueSum: r.queueSum,
    queueMax: r.queueMax,
    lastQueueTs: r.lastQueueTs,
    lastQueueDepth: r.lastQueueDepth,
    depthByMinute: [...r.depthByMinute.entries()].sort((a, b) => a[0] - b[0]),
  };
}

/** Deterministic pseudo-random records across many minutes and all three types. */
function randomRecords(n: number, seed: number): MetricRecord[] {
  const rand = rng(seed);
  const stages = ['preprocess', 'classify', 'decide', 'extract', 'total', '__proto__', 'constructor'];
  const out: MetricRecord[] = [];
  for (let i = 0; i < n; i++) {
    const ts = T0 + Math.floor(rand() * 30 * MINUTE_MS);
    const u = rand();
    if (u < 0.2) {
      out.push(queue(ts, Math.floor(rand() * 200)));
    } else if (u < 0.35) {
      out.push(
        llm(ts, rand() < 0.5 ? 'gpt-4o' : 'gpt-4o-mini', {
          durationMs: rand() < 0.9 ? rand() * 3000 : undefined,
          success: rand() > 0.1,
          llmTokens: rand() < 0.8 ? Math.floor(rand() * 1000) : undefined,
          llmCost: rand() < 0.8 ? rand() / 100 : undefined,
          cacheHit: rand() < 0.3 ? undefined : rand() < 0.5,
        }),
      );
    } else {
      out.push(
        stage(ts, stages[Math.floor(rand() * stages.length)]!, rand() * 5000, {
          success: rand() > 0.05,
          llmTokens: rand() < 0.3 ? Math.floor(rand() * 500) : undefined,
          llmCost: rand() < 0.3 ? rand() / 1000 : undefined,
          cacheHit: rand() < 0.5 ? undefined : rand() < 0.4,
        }),
      );
    }
  }
  return out;
}

describe('Rollup.add', () => {
  it('counts stage records, durations and errors per stage', () => {
    const r = rollupOf([
      stage(T0 + 1000, 'classify', 800),
      stage(T0 + 2000, 'classify', 900, { success: false, error: 'timeout' }),
      stage(T0 + 3000, 'classify', 1000),
      stage(T0 + 500, 'total', 1200, { success: false }),
    ]);
    expect(r.records).toBe(4);
    expect(r.firstTs).toBe(T0 + 500);
    expect(r.lastTs).toBe(T0 + 3000);
    expect([...r.stages.keys()].sort()).toEqual(['classify', 'total']);
    const c = r.stages.get('classify')!;
    expect(c.durations.count).toBe(3);
    expect(c.durations.sum).toBe(2700);
    expect(c.durations.min).toBe(800);
    expect(c.durations.max).toBe(1000);
    expect(c.errors).toBe(1);
    const t = r.stages.get('total')!;
    expect(t.durations.count).toBe(1); // failed records still count in durations
    expect(t.errors).toBe(1);
    expect(r.models.size).toBe(0);
    expect(r.queueSamples).toBe(0);
  });

  it('counts cache hits and misses only from boolean cacheHit', () => {
    const r = rollupOf([
      stage(T0, 'classify', 1, { cacheHit: true }),
      stage(T0, 'classify', 1, { cacheHit: false }),
      stage(T0, 'classify', 1, { cacheHit: false }),
      stage(T0, 'classify', 1), // no cacheHit: neither
      llm(T0, 'gpt-4o', { cacheHit: true }),
    ]);
    expect(r.cacheHits).toBe(2);
    expect(r.cacheMisses).toBe(2);
  });

  it('sums tokens and cost from stage and llm records; tokenRecords counts carriers of llmTokens', () => {
    const r = rollupOf([
      stage(T0, 'classify', 10, { llmTokens: 450, llmCost: 0.0023 }),
      stage(T0, 'decide', 10, { llmTokens: 0 }), // zero tokens still a token record
      stage(T0, 'extract', 10, { llmCost: 0.01 }), // cost without tokens
      stage(T0, 'total', 10),
      llm(T0, 'gpt-4o', { durationMs: 1830, llmTokens: 900, llmCost: 0.009 }),
      queue(T0, 5),
    ]);
    expect(r.tokenRecords).toBe(3);
    expect(r.tokens).toBe(1350);
    expect(r.cost).toBeCloseTo(0.0023 + 0.01 + 0.009, 12);
  });

  it('groups llm records by model, with optional durations and errors', () => {
    const r = rollupOf([
      llm(T0, 'gpt-4o', { durationMs: 1000 }),
      llm(T0, 'gpt-4o', { durationMs: 3000, success: false }),
      llm(T0, 'gpt-4o'), // no duration: counted as an error-free call but not a duration sample
      llm(T0, 'gpt-4o-mini', { durationMs: 200, success: false }),
    ]);
    expect(r.records).toBe(4);
    expect(r.stages.size).toBe(0);
    const big = r.models.get('gpt-4o')!;
    expect(big.durations.count).toBe(2);
    expect(big.durations.sum).toBe(4000);
    expect(big.errors).toBe(1);
    const mini = r.models.get('gpt-4o-mini')!;
    expect(mini.durations.count).toBe(1);
    expect(mini.errors).toBe(1);
  });

  it('tracks queue sum, max, latest sample and per-minute max', () => {
    const r = rollupOf([
      queue(T0 + 10_000, 5),
      queue(T0 + 50_000, 40), // same minute, larger
      queue(T0 + 59_999, 7), // same minute, smaller: minute keeps 40
      queue(T0 + MINUTE_MS + 1, 3),
      queue(T0 + 5 * MINUTE_MS, 12), // newest
      queue(T0 + 2 * MINUTE_MS, 90), // read later but older: not the latest
    ]);
    expect(r.queueSamples).toBe(6);
    expect(r.queueSum).toBe(5 + 40 + 7 + 3 + 12 + 90);
    expect(r.queueMax).toBe(90);
    expect(r.lastQueueTs).toBe(T0 + 5 * MINUTE_MS);
    expect(r.lastQueueDepth).toBe(12);
    expect([...r.depthByMinute.entries()].sort((a, b) => a[0] - b[0])).toEqual([
      [T0, 40],
      [T0 + MINUTE_MS, 3],
      [T0 + 2 * MINUTE_MS, 90],
      [T0 + 5 * MINUTE_MS, 12],
    ]);
    // queue records do not touch stage data
    expect(r.stages.size).toBe(0);
    expect(r.tokenRecords).toBe(0);
  });

  it('depthByMinute keys are minute starts, also before 1970', () => {
    const before = -90_000; // 1969-12-31T23:58:30Z, minute starts at -120000
    const r = rollupOf([queue(before, 4), queue(-120_000, 2), queue(-60_001, 9)]);
    expect([...r.depthByMinute.entries()]).toEqual([[-120_000, 9]]);
  });

  it('ties on queue ts keep the later-read sample', () => {
    const r = rollupOf([queue(T0, 1), queue(T0, 2)]);
    expect(r.lastQueueDepth).toBe(2);
  });

  it('a stage named "__proto__" or "constructor" works like any other', () => {
    const r = rollupOf([
      stage(T0, '__proto__', 10),
      stage(T0, '__proto__', 30, { success: false }),
      stage(T0, 'constructor', 20),
      stage(T0, 'toString', 5),
      stage(T0, 'hasOwnProperty', 6),
    ]);
    expect(r.stages.size).toBe(4);
    expect(r.stages.get('__proto__')!.durations.count).toBe(2);
    expect(r.stages.get('__proto__')!.errors).toBe(1);
    expect(r.stages.get('constructor')!.durations.sum).toBe(20);
    // nothing leaked onto Object.prototype
    expect(({} as Record<string, unknown>).durations).toBeUndefined();
    expect(({} as Record<string, unknown>).errors).toBeUndefined();

    const back = Rollup.fromJSON(JSON.parse(JSON.stringify(r.toJSON())));
    expect([...back.stages.keys()].sort()).toEqual(['__proto__', 'constructor', 'hasOwnProperty', 'toString']);
    expect(back.stages.get('__proto__')!.durations.count).toBe(2);
    expect(back.stages.get('__proto__')!.errors).toBe(1);
    expect(back.stages.get('constructor')!.durations.sum).toBe(20);
    expect(summary(back)).toEqual(summary(r));

    const merged = new Rollup().merge(r).merge(back);
    expect(merged.stages.get('__proto__')!.durations.count).toBe(4);
    expect(merged.stages.get('constructor')!.durations.count).toBe(2);
  });

  it('an llm model named "__proto__" round-trips too', () => {
    const r = rollupOf([llm(T0, '__proto__', { durationMs: 5 })]);
    const back = Rollup.fromJSON(JSON.parse(JSON.stringify(r)));
    expect(back.models.get('__proto__')!.durations.count).toBe(1);
  });
});

describe('Rollup.merge', () => {
  it('two rollups merged equal one rollup fed both sets of records', () => {
    const records = randomRecords(4000, 1);
    const single = rollupOf(records);
    for (const cut of [0, 1, 1234, 3999, 4000]) {
      const merged = rollupOf(records.slice(0, cut)).merge(rollupOf(records.slice(cut)));
      expect(summary(merged, true), `cut at ${cut}`).toEqual(summary(single, true));
    }
  });

  it('many per-minute rollups merged equal one pass', () => {
    const records = randomRecords(3000, 2);
    const byMinute = new Map<number, MetricRecord[]>();
    for (const rec of records) {
      const m = Math.floor(rec.ts / MINUTE_MS);
      if (!byMinute.has(m)) byMinute.set(m, []);
      byMinute.get(m)!.push(rec);
    }
    const total = new Rollup();
    for (const recs of byMinute.values()) total.merge(rollupOf(recs));
    expect(summary(total, true)).toEqual(summary(rollupOf(records), true));
  });

  it('latest queue sample follows the newest ts regardless of merge order', () => {
    const older = rollupOf([queue(T0, 11)]);
    const newer = rollupOf([queue(T0 + 1000, 22)]);
    expect(new Rollup().merge(older).merge(newer).lastQueueDepth).toBe(22);
    expect(new Rollup().merge(newer).merge(older).lastQueueDepth).toBe(22);
    // a rollup without queue samples does not reset the latest depth
    const noQueue = rollupOf([stage(T0 + 5000, 'x', 1)]);
    const m = rollupOf([queue(T0, 8)]).merge(noQueue);
    expect(m.lastQueueDepth).toBe(8);
    expect(m.lastQueueTs).toBe(T0);
  });

  it('per-minute depth keeps the max across merged rollups', () => {
    const a = rollupOf([queue(T0 + 1, 10), queue(T0 + MINUTE_MS, 1)]);
    const b = rollupOf([queue(T0 + 2, 30), queue(T0 + MINUTE_MS + 5, 0)]);
    const m = a.merge(b);
    expect(m.depthByMinute.get(T0)).toBe(30);
    expect(m.depthByMinute.get(T0 + MINUTE_MS)).toBe(1);
    expect(m.queueMax).toBe(30);
    expect(m.queueSamples).toBe(4);
  });

  it('merging empty rollups changes nothing', () => {
    const r = rollupOf(randomRecords(200, 3));
    const before = summary(r);
    r.merge(new Rollup());
    expect(summary(r)).toEqual(before);
    expect(summary(new Rollup().merge(new Rollup()))).toEqual(summary(new Rollup()));
  });
});

describe('Rollup toJSON / fromJSON', () => {
  it('round-trips through JSON.stringify', () => {
    const r = rollupOf(randomRecords(3000, 4));
    const text = JSON.stringify(r.toJSON());
    const back = Rollup.fromJSON(JSON.parse(text));
    expect(summary(back)).toEqual(summary(r));
    // and again: the serialised form is stable
    expect(JSON.stringify(back.toJSON())).toBe(text);
  });

  it('an empty rollup round-trips (no Infinity lost as null)', () => {
    const back = Rollup.fromJSON(JSON.parse(JSON.stringify(new Rollup().toJSON())));
    expect(back.records).toBe(0);
    expect(back.firstTs).toBe(Infinity);
    expect(back.lastTs).toBe(-Infinity);
    expect(back.lastQueueTs).toBe(-Infinity);
    // behaves as empty afterwards: the first record sets first/last ts
    back.add(queue(T0, 3));
    expect(back.firstTs).toBe(T0);
    expect(back.lastTs).toBe(T0);
    expect(back.lastQueueDepth).toBe(3);
  });

  it('restored rollups merge like the originals', () => {
    const recs = randomRecords(2000, 5);
    const a = rollupOf(recs.slice(0, 700));
    const b = rollupOf(recs.slice(700));
    const viaJson = Rollup.fromJSON(JSON.parse(JSON.stringify(a))).merge(Rollup.fromJSON(JSON.parse(JSON.stringify(b))));
    expect(summary(viaJson, true)).toEqual(summary(rollupOf(recs), true));
  });

  it('restored rollup keeps accepting records', () => {
    const recs = randomRecords(500, 6);
    const back = Rollup.fromJSON(JSON.parse(JSON.stringify(rollupOf(recs.slice(0, 250)))));
    for (const rec of recs.slice(250)) back.add(rec);
    expect(summary(back)).toEqual(summary(rollupOf(recs)));
  });
});

describe('Rollup.restOf', () => {
  /** Every bucket and the second extremes too: what a later merge or subtraction would see. */
  function exact(r: Rollup) {
    const stats = (m: Rollup['stages']) =>
      [...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, s]) => {
        const buckets: number[][] = [];
        s.durations.forEachBucket((ub, n) => buckets.push([ub, n]));
        const h = s.durations;
        return [name, buckets, h.count, h.sum, h.min, h.max, h.min2, h.max2, h.secondExact, s.errors];
      });
    return { ...summary(r), stages: stats(r.stages), models: stats(r.models) };
  }

  it('gives exactly what merging the rest gives, for 500 random files split into part and rest by minute', () => {
    for (let trial = 0; trial < 500; trial++) {
      const rand = rng(7_000 + trial);
      // Coarse durations in some trials: ties at the extremes, between part and rest, are common.
      const records = randomRecords(50 + Math.floor(rand() * 600), 9_000 + trial).map((r) => (trial % 3 === 0 && r.type === 'stage' ? { ...r, durationMs: 10 * Math.floor(r.durationMs / 1000) } : r));
      const byMinute = new Map<number, MetricRecord[]>();
      for (const r of records) {
        const m = Math.floor(r.ts / MINUTE_MS) * MINUTE_MS;
        byMinute.set(m, [...(byMinute.get(m) ?? []), r]);
      }
      const minutes = [...byMinute].sort((a, b) => a[0] - b[0]).map(([, rs]) => rollupOf(rs));
      const whole = new Rollup();
      for (const m of minutes) whole.merge(m);
      // The part: the minutes before a cut (or after it), some of them at random in other trials.
      const cut = Math.floor(rand() * minutes.length);
      const inPart = (i: number) => (trial % 2 === 0 ? i < cut : rand() < 0.3);
      const part = new Rollup();
      const rest: Rollup[] = [];
      minutes.forEach((m, i) => (inPart(i) ? part.merge(m) : rest.push(m)));
      const want = new Rollup();
      for (const m of rest) want.merge(m);
      const got = Rollup.restOf(whole, part, rest);
      expect(got, `trial ${trial}`).toBeDefined();
      expect(exact(got!), `trial ${trial}`).toEqual(exact(want));
    }
  });

  it('declines when part and rest do not make up the whole', () => {
    const minutes = [0, 1, 2].map((i) => rollupOf(randomRecords(40, 300 + i).map((r) => ({ ...r, ts: T0 + i * MINUTE_MS + (r.ts % MINUTE_MS) }))));
    const whole = new Rollup().merge(minutes[0]!).merge(minutes[1]!).merge(minutes[2]!);
    // A minute missing from both, or counted in both.
    expect(Rollup.restOf(whole, minutes[0]!, [minutes[1]!])).toBeUndefined();
    expect(Rollup.restOf(whole, new Rollup().merge(minutes[0]!).merge(minutes[1]!), [minutes[1]!, minutes[2]!])).toBeUndefined();
    expect(Rollup.restOf(whole, minutes[0]!, [minutes[1]!, minutes[2]!])).toBeDefined();
  });
});

describe('Rollup.without', () => {
  /** Records of one minute, with durations drawn from a few values so that ties are common. */
  function minuteRecords(n: number, seed: number, coarse: boolean): MetricRecord[] {
    const rand = rng(seed);
    const out: MetricRecord[] = [];
    const value = () => (coarse ? 10 * Math.floor(rand() * 8) + 5 : Math.round(rand() * 500_000) / 100);
    for (let i = 0; i < n; i++) {
      const ts = T0 + Math.floor(rand() * MINUTE_MS);
      const u = rand();
      if (u < 0.05) out.push(queue(ts, Math.floor(rand() * 40)));
      else if (u < 0.25) out.push(llm(ts, rand() < 0.5 ? 'gpt-4o' : 'gpt-4o-mini', { durationMs: rand() < 0.95 ? value() : undefined, success: rand() > 0.05, llmTokens: Math.floor(rand() * 900), llmCost: rand() / 1000, cacheHit: rand() < 0.5 }));
      else out.push(stage(ts, ['preprocess', 'classify', 'total'][Math.floor(rand() * 3)]!, value(), { success: rand() > 0.03, llmTokens: rand() < 0.3 ? Math.floor(rand() * 400) : undefined }));
    }
    return out;
  }

  it('gives what a rollup of the rest gives, or undefined; never anything else (2,000 random splits)', () => {
    let small = 0;
    let answered = 0;
    for (let trial = 0; trial < 2_000; trial++) {
      const rand = rng(1_000 + trial);
      const coarse = trial % 3 === 0;
      const records = minuteRecords(20 + Math.floor(rand() * 300), trial, coarse);
      // The part: the records on one side of an instant (and, as the re-read takes them, the
      // queue samples on both sides); the rest is everything else. Half the time the part is
      // what the re-read near a minute's edge takes: its first or last 3 seconds.
      const near = trial % 2 === 0;
      const before = rand() < 0.5;
      const x = T0 + Math.floor(near ? (before ? 0.05 : 0.95) * MINUTE_MS : rand() * MINUTE_MS);
      const counted = near && !coarse;
      if (counted) small++;
      const queuesInPart = trial % 4 < 2;
      const inPart = (r: MetricRecord) => (queuesInPart && r.type === 'queue') || (r.ts <= x) === before;
      const rest = records.filter((r) => !inPart(r));
      const got = Rollup.without(rollupOf(records), rollupOf(records.filter(inPart)), { first: Math.min(...rest.map((r) => r.ts)), last: Math.max(...rest.map((r) => r.ts)) });
      if (got === undefined) continue;
      if (counted) answered++;
      expect(summary(got)).toEqual(summary(rollupOf(rest)));
    }
    // Not a test that passes by always declining: most small parts of finely spread durations
    // are answered.
    expect(answered).toBeGreaterThan(small / 2);
  });

  it('tells the rest\'s minimum from the second smallest, and declines when the part holds both samples kept', () => {
    const whole = [stage(T0 + 1, 'total', 5), stage(T0 + 2, 'total', 9), stage(T0 + 3, 'total', 5), stage(T0 + 4, 'total', 7)];
    // The part holds a 5, the whole's minimum; the whole's second smallest is the other 5.
    const noFirst = Rollup.without(rollupOf(whole), rollupOf(whole.slice(0, 1)), { first: T0 + 2, last: T0 + 4 })!;
    expect(summary(noFirst)).toEqual(summary(rollupOf(whole.slice(1))));
    // The part holds neither extreme: the rest's are the whole's.
    const rest = Rollup.without(rollupOf(whole), rollupOf([whole[3]!]), { first: T0 + 1, last: T0 + 3 })!;
    expect(summary(rest)).toEqual(summary(rollupOf(whole.slice(0, 3))));
    // The part holds both 5s, the two smallest the whole keeps: is the rest's 7 or something
    // between? Not known from the two.
    const more = [...whole, stage(T0 + 5, 'total', 6)];
    expect(Rollup.without(rollupOf(more), rollupOf([more[0]!, more[2]!]), { first: T0 + 2, last: T0 + 5 })).toBeUndefined();
  });

  it('with the part whole minutes, tells the rest\'s queue figures when both hold samples (500 random files split by minute)', () => {
    let told = 0;
    for (let trial = 0; trial < 500; trial++) {
      const rand = rng(31_000 + trial);
      const minutes = 3 + Math.floor(rand() * 12);
      const records: MetricRecord[] = [];
      for (let k = 0; k < minutes; k++) {
        for (const r of minuteRecords(10 + Math.floor(rand() * 80), trial * 100 + k, trial % 3 === 0)) records.push({ ...r, ts: r.ts + k * MINUTE_MS });
        if (rand() < 0.7) records.push(queue(T0 + k * MINUTE_MS + Math.floor(rand() * MINUTE_MS), Math.floor(rand() * 50)));
      }
      const minuteOf = (r: MetricRecord) => Math.floor(r.ts / MINUTE_MS) * MINUTE_MS;
      // The part: a run of minutes at the start or the end (a cut near one end of a file).
      const n = 1 + Math.floor(rand() * 2);
      const partMinutes = new Set(Array.from({ length: n }, (_, i) => T0 + (trial % 2 === 0 ? i : minutes - 1 - i) * MINUTE_MS));
      const part = records.filter((r) => partMinutes.has(minuteOf(r)));
      const rest = records.filter((r) => !partMinutes.has(minuteOf(r)));
      if (rest.length === 0) continue;
      const got = Rollup.without(rollupOf(records), rollupOf(part), { first: Math.min(...rest.map((r) => r.ts)), last: Math.max(...rest.map((r) => r.ts)), partMinutes });
      if (got === undefined) continue;
      told++;
      const want = rollupOf(rest);
      expect(summary(got), `trial ${trial}`).toEqual(summary(want));
      expect([...got.depthByMinute].sort((a, b) => a[0] - b[0]), `trial ${trial}`).toEqual([...want.depthByMinute].sort((a, b) => a[0] - b[0]));
    }
    // Not a test that passes by always declining.
    expect(told).toBeGreaterThan(80);
    // The whole's latest sample in the part: the rest's latest is not known from the two.
    const q = [queue(T0 + 1, 3), stage(T0 + 2, 'total', 1), queue(T0 + MINUTE_MS + 5, 4), stage(T0 + MINUTE_MS + 6, 'total', 2)];
    expect(Rollup.without(rollupOf(q), rollupOf(q.slice(2)), { first: T0 + 1, last: T0 + 2, partMinutes: new Set([T0 + MINUTE_MS]) })).toBeUndefined();
    expect(summary(Rollup.without(rollupOf(q), rollupOf(q.slice(0, 2)), { first: T0 + MINUTE_MS + 5, last: T0 + MINUTE_MS + 6, partMinutes: new Set([T0]) })!)).toEqual(summary(rollupOf(q.slice(2))));
  });

  it('declines when an llm record without duration or failure may be left, or both sides hold queue samples', () => {
    const bare = [llm(T0 + 1, 'm', { durationMs: undefined }), llm(T0 + 2, 'm', { durationMs: undefined })];
    expect(Rollup.without(rollupOf(bare), rollupOf(bare.slice(0, 1)), { first: T0 + 2, last: T0 + 2 })).toBeUndefined();
    const queues = [queue(T0 + 1, 3), queue(T0 + 2, 4), stage(T0 + 3, 'total', 1)];
    expect(Rollup.without(rollupOf(queues), rollupOf(queues.slice(0, 1)), { first: T0 + 2, last: T0 + 3 })).toBeUndefined();
  });
});
