import { describe, expect, it } from 'vitest';
import { parseIsoUtcMillis, parseRecord, parseTimestamp, type MetricRecord } from '../src/schema.js';
import { rng } from './helpers/rng.js';

const TS = '2026-11-27T09:00:00.123Z';
const TS_MS = Date.UTC(2026, 10, 27, 9, 0, 0, 123);

function ok(line: string): MetricRecord {
  const r = parseRecord(line);
  if (!r.ok) throw new Error(`expected ${line} to parse, got: ${r.reason}`);
  return r.record;
}

function reasonOf(line: string): string {
  const r = parseRecord(line);
  if (r.ok) throw new Error(`expected ${line} to be malformed, got ${JSON.stringify(r.record)}`);
  expect(typeof r.reason).toBe('string');
  expect(r.reason.length).toBeGreaterThan(0);
  return r.reason;
}

const line = (o: Record<string, unknown>) => JSON.stringify(o);

describe('parseRecord accepts the DESIGN examples', () => {
  it('stage record with every field', () => {
    const r = ok(
      '{"ts":"2026-11-27T09:00:00.123Z","stage":"classify","durationMs":850.4,"success":true,"signalId":"sig_123","llmTokens":450,"llmCost":0.0023,"cacheHit":false,"model":"gpt-4o-mini"}',
    );
    expect(r).toEqual({
      type: 'stage',
      ts: TS_MS,
      stage: 'classify',
      durationMs: 850.4,
      success: true,
      signalId: 'sig_123',
      llmTokens: 450,
      llmCost: 0.0023,
      cacheHit: false,
      model: 'gpt-4o-mini',
      error: undefined,
    });
  });

  it('stage error', () => {
    const r = ok(`{"ts":"${TS}","stage":"total","durationMs":1200,"success":false,"error":"timeout"}`);
    expect(r).toMatchObject({ type: 'stage', stage: 'total', durationMs: 1200, success: false, error: 'timeout', ts: TS_MS });
  });

  it('queue depth', () => {
    expect(ok(`{"ts":"${TS}","type":"queue","depth":23}`)).toEqual({ type: 'queue', ts: TS_MS, depth: 23 });
    expect(ok(`{"ts":"${TS}","type":"queue","depth":0}`)).toEqual({ type: 'queue', ts: TS_MS, depth: 0 });
  });

  it('llm call', () => {
    const r = ok(
      `{"ts":"${TS}","type":"llm","model":"gpt-4o","durationMs":1830,"llmTokens":900,"llmCost":0.009,"cacheHit":false,"success":true}`,
    );
    expect(r).toEqual({
      type: 'llm',
      ts: TS_MS,
      model: 'gpt-4o',
      durationMs: 1830,
      llmTokens: 900,
      llmCost: 0.009,
      cacheHit: false,
      success: true,
    });
  });

  it('explicit "type":"stage" is the same as no type', () => {
    const a = ok(line({ ts: TS, stage: 'x', durationMs: 1 }));
    const b = ok(line({ ts: TS, type: 'stage', stage: 'x', durationMs: 1 }));
    expect(a).toEqual(b);
    expect(a.type).toBe('stage');
  });

  it('epoch-millisecond ts', () => {
    expect(ok(line({ ts: TS_MS, stage: 'x', durationMs: 1 })).ts).toBe(TS_MS);
    expect(ok(line({ ts: 0, type: 'queue', depth: 1 })).ts).toBe(0);
    expect(ok(line({ ts: 1.5, type: 'queue', depth: 1 })).ts).toBe(1.5);
  });

  it('ISO times with offsets, without milliseconds or seconds, with more fraction digits', () => {
    const cases: Array<[string, number]> = [
      ['2026-11-27T10:00:00.123+01:00', TS_MS],
      ['2026-11-27T10:00:00.123+0100', TS_MS],
      ['2026-11-27T04:30:00.123-04:30', TS_MS],
      ['2026-11-27T09:00:00.123+00:00', TS_MS],
      ['2026-11-27T09:00:00Z', Date.UTC(2026, 10, 27, 9)],
      ['2026-11-27T09:00Z', Date.UTC(2026, 10, 27, 9)],
      ['2026-11-27T09:00:00.1Z', Date.UTC(2026, 10, 27, 9, 0, 0, 100)],
      ['2026-11-27T09:00:00.123456Z', TS_MS],
      ['2026-11-28T00:30:00.000+01:00', Date.UTC(2026, 10, 27, 23, 30)], // offset crosses a day
    ];
    for (const [ts, ms] of cases) expect(ok(line({ ts, stage: 'x', durationMs: 1 })).ts, ts).toBe(ms);
  });

  it('ignores unknown fields', () => {
    const r = ok(line({ ts: TS, stage: 'x', durationMs: 2, v: 2, host: 'a', nested: { deep: [1] }, depth: 'not-checked' }));
    expect(r).toMatchObject({ type: 'stage', stage: 'x', durationMs: 2 });
    expect(r).not.toHaveProperty('host');
    expect(ok(line({ ts: TS, type: 'queue', depth: 3, stage: 5 }))).toEqual({ type: 'queue', ts: TS_MS, depth: 3 });
  });

  it('success defaults to true; only false makes a failure', () => {
    const s = ok(line({ ts: TS, stage: 'x', durationMs: 1 }));
    expect(s.type === 'stage' && s.success).toBe(true);
    const l = ok(line({ ts: TS, type: 'llm', model: 'm' }));
    expect(l.type === 'llm' && l.success).toBe(true);
    const f = ok(line({ ts: TS, stage: 'x', durationMs: 1, success: false }));
    expect(f.type === 'stage' && f.success).toBe(false);
  });

  it('optional fields are undefined when absent', () => {
    expect(ok(line({ ts: TS, stage: 'x', durationMs: 0 }))).toEqual({
      type: 'stage',
      ts: TS_MS,
      stage: 'x',
      durationMs: 0,
      success: true,
      llmTokens: undefined,
      llmCost: undefined,
      cacheHit: undefined,
      model: undefined,
      error: undefined,
      signalId: undefined,
    });
  });

  it('llm record without a model is counted under "unknown"; without duration has durationMs undefined', () => {
    const r = ok(line({ ts: TS, type: 'llm', llmTokens: 5 }));
    expect(r).toMatchObject({ type: 'llm', model: 'unknown', durationMs: undefined, llmTokens: 5 });
  });

  it('stage names are any non-empty text, including "__proto__"', () => {
    for (const stage of ['__proto__', 'constructor', 'a b', 'ü', '"quoted"', 'x\ny']) {
      const r = ok(line({ ts: TS, stage, durationMs: 1 }));
      expect(r.type === 'stage' && r.stage).toBe(stage);
    }
  });

  it('tolerates surrounding whitespace and a trailing CR', () => {
    expect(ok(`  ${line({ ts: TS, type: 'queue', depth: 1 })}\r`).type).toBe('queue');
  });
});

describe('parseRecord rejects malformed lines with a reason', () => {
  it('not JSON', () => {
    expect(reasonOf('{"ts":')).toMatch(/JSON/);
    expect(reasonOf('hello')).toMatch(/JSON/);
    expect(reasonOf("{'ts': 1}")).toMatch(/JSON/);
  });

  it('empty or blank line', () => {
    expect(reasonOf('')).toMatch(/empty/);
    expect(reasonOf('   ')).toMatch(/empty/);
  });

  it('JSON that is not an object: array, null, number, string, boolean', () => {
    for (const text of ['[]', '[{"ts":1}]', 'null', '42', '"x"', 'true']) expect(reasonOf(text), text).toMatch(/object/);
  });

  it('missing ts', () => {
    expect(reasonOf(line({ stage: 'x', durationMs: 1 }))).toMatch(/missing "ts"/);
  });

  it('mistyped ts', () => {
    for (const ts of [true, null, {}, [TS], '', 'yesterday', '1764234000000']) {
      expect(reasonOf(line({ ts, stage: 'x', durationMs: 1 })), JSON.stringify(ts)).toMatch(/"ts"/);
    }
  });

  it('ts without a zone', () => {
    for (const ts of ['2026-11-27T09:00:00.123', '2026-11-27T09:00:00', '2026-11-27 09:00:00Z', '2026-11-27']) {
      expect(reasonOf(line({ ts, stage: 'x', durationMs: 1 })), ts).toMatch(/"ts"/);
    }
  });

  it('impossible dates and times (which Date.parse would roll over)', () => {
    for (const ts of [
      '2026-02-30T09:00:00.000Z',
      '2026-02-29T09:00:00Z', // 2026 is not a leap year
      '2026-04-31T00:00:00.000+02:00',
      '2026-13-01T00:00:00.000Z',
      '2026-00-10T00:00:00.000Z',
      '2026-11-00T00:00:00.000Z',
      '2026-11-27T24:00:00.000Z',
      '2026-11-27T24:00Z',
      '2026-11-27T09:60:00.000Z',
      '2026-11-27T09:00:60.000Z',
      '2026-11-27T09:00:61Z',
    ]) {
      expect(reasonOf(line({ ts, stage: 'x', durationMs: 1 })), ts).toMatch(/"ts"/);
    }
    // a real leap day is fine
    expect(ok(line({ ts: '2028-02-29T09:00:00.000Z', stage: 'x', durationMs: 1 })).ts).toBe(Date.UTC(2028, 1, 29, 9));
    expect(ok(line({ ts: '2028-02-29T09:00:00+01:00', stage: 'x', durationMs: 1 })).ts).toBe(Date.UTC(2028, 1, 29, 8));
  });

  it('missing or empty stage', () => {
    expect(reasonOf(line({ ts: TS, durationMs: 1 }))).toMatch(/missing "stage"/);
    expect(reasonOf(line({ ts: TS, stage: '', durationMs: 1 }))).toMatch(/"stage"/);
    expect(reasonOf(line({ ts: TS, stage: 5, durationMs: 1 }))).toMatch(/"stage"/);
    expect(reasonOf(line({ ts: TS, stage: null, durationMs: 1 }))).toMatch(/"stage"/);
  });

  it('missing, negative, non-number or non-finite durationMs', () => {
    expect(reasonOf(line({ ts: TS, stage: 'x' }))).toMatch(/missing "durationMs"/);
    for (const d of [-1, -0.001, '5', 'NaN', null, true, [1], {}]) {
      expect(reasonOf(line({ ts: TS, stage: 'x', durationMs: d })), JSON.stringify(d)).toMatch(/"durationMs"/);
    }
    // 1e400 is Infinity after JSON.parse; NaN / Infinity literals are not JSON at all
    expect(reasonOf(`{"ts":"${TS}","stage":"x","durationMs":1e400}`)).toMatch(/"durationMs"/);
    expect(reasonOf(`{"ts":"${TS}","stage":"x","durationMs":NaN}`)).toMatch(/JSON/);
    expect(reasonOf(`{"ts":"${TS}","stage":"x","durationMs":Infinity}`)).toMatch(/JSON/);
    // on llm records durationMs is optional but still checked when present
    expect(reasonOf(line({ ts: TS, type: 'llm', model: 'm', durationMs: -5 }))).toMatch(/"durationMs"/);
  });

  it('negative or mistyped tokens and cost', () => {
    expect(reasonOf(line({ ts: TS, stage: 'x', durationMs: 1, llmTokens: -1 }))).toMatch(/"llmTokens"/);
    expect(reasonOf(line({ ts: TS, stage: 'x', durationMs: 1, llmTokens: '450' }))).toMatch(/"llmTokens"/);
    expect(reasonOf(line({ ts: TS, stage: 'x', durationMs: 1, llmCost: -0.01 }))).toMatch(/"llmCost"/);
    expect(reasonOf(line({ ts: TS, stage: 'x', durationMs: 1, llmCost: null }))).toMatch(/"llmCost"/);
    expect(reasonOf(line({ ts: TS, type: 'llm', model: 'm', llmTokens: -900 }))).toMatch(/"llmTokens"/);
    expect(reasonOf(line({ ts: TS, type: 'llm', model: 'm', llmCost: -1 }))).toMatch(/"llmCost"/);
  });

  it('non-boolean cacheHit or success', () => {
    for (const v of ['true', 1, 0, null, 'false']) {
      expect(reasonOf(line({ ts: TS, stage: 'x', durationMs: 1, cacheHit: v })), JSON.stringify(v)).toMatch(/"cacheHit"/);
      expect(reasonOf(line({ ts: TS, stage: 'x', durationMs: 1, success: v })), JSON.stringify(v)).toMatch(/"success"/);
      expect(reasonOf(line({ ts: TS, type: 'llm', model: 'm', success: v })), JSON.stringify(v)).toMatch(/"success"/);
    }
  });

  it('unknown or mistyped type', () => {
    expect(reasonOf(line({ ts: TS, type: 'gauge', stage: 'x', durationMs: 1 }))).toMatch(/unknown "type".*gauge/);
    expect(reasonOf(line({ ts: TS, type: 'Stage', stage: 'x', durationMs: 1 }))).toMatch(/"type"/);
    expect(reasonOf(line({ ts: TS, type: 3, stage: 'x', durationMs: 1 }))).toMatch(/"type"/);
    expect(reasonOf(line({ ts: TS, type: null, stage: 'x', durationMs: 1 }))).toMatch(/"type"/);
    // a huge unknown type is not echoed whole into the reason
    expect(reasonOf(line({ ts: TS, type: 'x'.repeat(10_000) })).length).toBeLessThan(200);
  });

  it('queue without depth, or with a bad depth', () => {
    expect(reasonOf(line({ ts: TS, type: 'queue' }))).toMatch(/missing "depth"/);
    for (const depth of [-1, '23', null, 1e400]) {
      const text = depth === 1e400 ? `{"ts":"${TS}","type":"queue","depth":1e400}` : line({ ts: TS, type: 'queue', depth });
      expect(reasonOf(text), text).toMatch(/"depth"/);
    }
  });

  it('llm model must be a string when present', () => {
    expect(reasonOf(line({ ts: TS, type: 'llm', model: 4 }))).toMatch(/"model"/);
  });

  it('never throws, whatever the input', () => {
    const inputs = ['\u0000', '{"__proto__":{"ts":1}}', '{"ts":1,"stage":{"toString":1},"durationMs":1}', '{'.repeat(5000), '"\\ud800"'];
    for (const text of inputs) expect(() => parseRecord(text)).not.toThrow();
    // a __proto__ key in the JSON does not provide a ts through the prototype
    expect(parseRecord('{"__proto__":{"ts":1,"stage":"x","durationMs":1}}').ok).toBe(false);
  });
});

const pad = (n: number, w: number) => String(n).padStart(w, '0');

describe('parseIsoUtcMillis', () => {
  it('agrees with Date.parse on random valid timestamps, across day changes', () => {
    const r = rng(2026);
    const lo = Date.UTC(1970, 0, 1);
    const hi = Date.UTC(2100, 0, 1);
    let t = Date.UTC(2026, 10, 27, 22, 0); // a walk that crosses midnights: exercises the day cache
    const mismatches: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const ms = i % 2 === 0 ? lo + Math.floor(r() * (hi - lo)) : (t += Math.floor(r() * 600_000));
      const s = new Date(ms).toISOString();
      const got = parseIsoUtcMillis(s);
      if (got !== Date.parse(s) || got !== ms) mismatches.push(`${s}: ${got}`);
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  });

  it('agrees with Date.parse on hand-built strings, including leap days and month ends', () => {
    const mismatches: string[] = [];
    for (const y of [1970, 1999, 2000, 2024, 2026, 2100, 2400, 9999]) {
      for (let mo = 1; mo <= 12; mo++) {
        for (const d of [1, 28, 29, 30, 31]) {
          const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
          if (d > days) continue;
          for (const [h, mi, s, ms] of [
            [0, 0, 0, 0],
            [23, 59, 59, 999],
            [12, 34, 56, 789],
          ] as const) {
            const text = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(ms, 3)}Z`;
            if (parseIsoUtcMillis(text) !== Date.parse(text)) mismatches.push(text);
          }
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('years 0000–0099 are not taken as 1900–1999', () => {
    for (const text of ['0000-01-01T00:00:00.000Z', '0050-03-01T12:00:00.000Z', '0099-12-31T23:59:59.999Z', '0004-02-29T00:00:00.000Z']) {
      expect(parseIsoUtcMillis(text), text).toBe(Date.parse(text));
    }
  });

  it('returns the same value when the cached day is reused, and after switching days', () => {
    const a = '2026-11-27T09:00:00.123Z';
    const b = '2026-11-28T00:00:00.000Z';
    expect(parseIsoUtcMillis(a)).toBe(Date.parse(a));
    expect(parseIsoUtcMillis(a)).toBe(Date.parse(a));
    expect(parseIsoUtcMillis(b)).toBe(Date.parse(b));
    expect(parseIsoUtcMillis(a)).toBe(Date.parse(a));
    // an invalid string sharing a cached day's prefix is still rejected
    expect(parseIsoUtcMillis('2026-11-27T25:00:00.000Z')).toBeUndefined();
  });

  it('returns undefined for near-miss strings', () => {
    const nearMisses = [
      '2026-11-27T09:00:00.123', // no Z
      '2026-11-27T09:00:00.12Z', // 2 ms digits
      '2026-11-27T09:00:00.1234Z', // 4 ms digits
      '2026-11-27 09:00:00.123Z', // space for T
      '2026-11-27t09:00:00.123Z',
      '2026-11-27T09:00:00.123z',
      '2026/11/27T09:00:00.123Z',
      '2026-11-27T09-00-00.123Z',
      '2026-11-27T09:00:00,123Z',
      '2026-11-27T09:00:00:123Z',
      '2026-13-27T09:00:00.123Z',
      '2026-00-27T09:00:00.123Z',
      '2026-11-00T09:00:00.123Z',
      '2026-11-31T09:00:00.123Z',
      '2026-02-29T09:00:00.123Z',
      '2026-02-30T09:00:00.123Z',
      '2026-11-27T24:00:00.000Z',
      '2026-11-27T09:60:00.000Z',
      '2026-11-27T09:00:60.000Z',
      '2026-1a-27T09:00:00.123Z',
      '2026-11-27T0a:00:00.123Z',
      '2026-11-27T09:00:00.12aZ',
      '-026-11-27T09:00:00.123Z',
      '2026-11-27T09:00:00.123+00:00',
      '2026-11-27T09:00:00.123ZZ',
      '',
      'x'.repeat(24),
    ];
    for (const s of nearMisses) expect(parseIsoUtcMillis(s), s).toBeUndefined();
  });
});

describe('parseTimestamp', () => {
  it('accepts finite numbers only', () => {
    expect(parseTimestamp(TS_MS)).toBe(TS_MS);
    expect(parseTimestamp(Number.NaN)).toBeUndefined();
    expect(parseTimestamp(Infinity)).toBeUndefined();
    expect(parseTimestamp(undefined)).toBeUndefined();
    expect(parseTimestamp(null)).toBeUndefined();
  });

  it('slow path (offsets, no ms) agrees with Date.parse on random valid times', () => {
    const r = rng(77);
    const mismatches: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const ms = Date.UTC(2000, 0, 1) + Math.floor(r() * 40 * 365 * 86_400_000);
      const offMin = (Math.floor(r() * 49) - 24) * 30; // −12:00 … +12:00 in half hours
      const local = new Date(ms + offMin * 60_000).toISOString().slice(0, 19);
      const sign = offMin < 0 ? '-' : '+';
      const text = `${local}${sign}${pad(Math.floor(Math.abs(offMin) / 60), 2)}:${pad(Math.abs(offMin) % 60, 2)}`;
      const expected = Math.floor(ms / 1000) * 1000;
      if (parseTimestamp(text) !== expected || Date.parse(text) !== expected) mismatches.push(text);
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  });
});
