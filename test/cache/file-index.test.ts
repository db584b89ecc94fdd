import { describe, expect, it, vi } from 'vitest';
import { appendIndex, emptyIndex, encodeSummary, indexFromJSON, indexingSink, indexToJSON, minuteOf, SavedSummary, summarize, type FileIndex } from '../../src/cache/file-index.js';
import { ByteWriter } from '../../src/stats/bytes.js';
import { Rollup } from '../../src/stats/rollup.js';
import { LineSplitter } from '../../src/read/line-splitter.js';
import { rng } from '../helpers/rng.js';

// src/cache/file-index.ts: what a minute's entry says of its records' order (`late`).

const M = Date.parse('2026-11-27T10:00:00.000Z');

/** Lines over three minutes, mostly in time order, some of them late by up to `lateMs`. */
function lines(seed: number, lateMs: number): { text: string; times: number[] } {
  const rand = rng(seed);
  const n = 50 + Math.floor(rand() * 300);
  const times: number[] = [];
  let text = '';
  for (let i = 0; i < n; i++) {
    const ts = M + Math.floor((i / n) * 180_000) - (rand() < 0.15 ? Math.floor(rand() * lateMs) : 0);
    times.push(ts);
    const u = rand();
    // Malformed lines and other kinds of record count as lines, not as records of a minute.
    if (u < 0.05) text += `{"ts":"${new Date(ts).toISOString()}","stage":"x"}\n`;
    else if (u < 0.1) text += `{"ts":"${new Date(ts).toISOString()}","type":"queue","depth":3}\n`;
    else text += JSON.stringify({ ts: new Date(ts).toISOString(), stage: 'total', durationMs: 1 + Math.floor(rand() * 900), success: true }) + '\n';
    if (u < 0.05) times[times.length - 1] = NaN; // malformed: no record
  }
  return { text, times };
}

/** Per minute: the most a record's time falls short of an earlier record's of that minute. */
function lateness(times: number[]): Map<number, number> {
  const out = new Map<number, number>();
  const latest = new Map<number, number>();
  for (const ts of times) {
    if (Number.isNaN(ts)) continue;
    const m = minuteOf(ts);
    const before = latest.get(m) ?? -Infinity;
    out.set(m, Math.max(out.get(m) ?? 0, before - ts));
    latest.set(m, Math.max(before, ts));
  }
  return out;
}

function indexOf(text: string, offset = 0): FileIndex {
  const index = emptyIndex(offset);
  new LineSplitter(indexingSink('app.ndjson', index)).push(Buffer.from(text));
  return index;
}

const lateOf = (index: FileIndex) => new Map([...index.minutes].map(([m, e]) => [m, e.late]));

describe('a minute entry\'s late: how far out of time order its records lie', () => {
  it('is the most a record falls behind an earlier one of its minute, in one pass or in two fragments (300 logs)', () => {
    let disordered = 0;
    for (let seed = 0; seed < 300; seed++) {
      const { text, times } = lines(seed, seed % 3 === 0 ? 0 : 4_000);
      const want = lateness(times);
      expect(lateOf(indexOf(text)), `seed ${seed}`).toEqual(want);
      // Split at a line boundary, as parallel ranges and appended bytes are.
      const cut = text.indexOf('\n', Math.floor(rng(seed)() * text.length)) + 1;
      const whole = appendIndex(indexOf(text.slice(0, cut)), indexOf(text.slice(cut), cut));
      expect(lateOf(whole), `seed ${seed}, cut at ${cut}`).toEqual(want);
      if ([...want.values()].some((v) => v > 0)) disordered++;
    }
    expect(disordered).toBeGreaterThan(150);
  });

  it('survives the cache\'s JSON, and an entry without it reads as not known (Infinity)', () => {
    const index = indexOf(lines(7, 4_000).text);
    const back = indexFromJSON(JSON.parse(JSON.stringify(indexToJSON(index))));
    expect(lateOf(back)).toEqual(lateOf(index));
    const data = indexToJSON(index);
    for (const row of data.minutes) row.length = 4;
    expect([...lateOf(indexFromJSON(JSON.parse(JSON.stringify(data)))).values()].every((v) => v === Infinity)).toBe(true);
  });
});

describe('a new minute\'s histograms start with the room the minute before needed', () => {
  // Room only (Rollup.sizeLike): each stage's histogram of a minute is created as large as the
  // same stage's was in the minute before, so it does not grow two or three times again.
  const roomOf = (index: FileIndex, m: number, stage: string) => (index.minutes.get(m)!.rollup.stages.get(stage)!.durations as unknown as { counts: Float64Array }).counts.length;

  it('sizes each stage like the previous minute, and only the minute being filled keeps a hint', () => {
    let text = '';
    for (let i = 0; i < 600; i++) {
      const ts = new Date(M + i * 300).toISOString(); // three minutes
      text += `{"ts":"${ts}","stage":"classify","durationMs":${10 + (i % 60) * 40},"success":true}\n`;
    }
    const index = indexOf(text);
    const minutes = [...index.minutes.keys()].sort((a, b) => a - b);
    expect(minutes).toHaveLength(3);
    // The first minute grew to hold durations from 10 to 2,370 ms; the next ones start there.
    const first = roomOf(index, minutes[0]!, 'classify');
    expect(first).toBeGreaterThan(128);
    expect(roomOf(index, minutes[1]!, 'classify')).toBe(first);
    expect(roomOf(index, minutes[2]!, 'classify')).toBe(first);
    expect(minutes.map((m) => index.minutes.get(m)!.rollup.sizeLike !== undefined)).toEqual([false, false, true]);
  });
});

describe('SavedSummary: a summary as the cache saved it', () => {
  function saved(seed: number) {
    const index = indexOf(lines(seed, 2_000).text + `{"ts":"${new Date(M + 170_000).toISOString()}","type":"queue","depth":9}\n`);
    const summary = summarize(index)!;
    const w = new ByteWriter();
    encodeSummary(w, summary);
    return { summary, bytes: w.bytes() };
  }

  it('answers its span from its first bytes, decodes the rest once when asked, and then is its rollup', () => {
    for (let seed = 0; seed < 20; seed++) {
      const { summary, bytes } = saved(seed);
      const decode = vi.spyOn(Rollup, 'decode');
      try {
        const s = new SavedSummary(bytes, () => {
          throw new Error('damaged');
        });
        const r = summary.rollup;
        expect({ ...s.span }).toEqual({ records: r.records, firstTs: r.firstTs, lastTs: r.lastTs, queueSamples: r.queueSamples, lastQueueTs: r.lastQueueTs, lastQueueDepth: r.lastQueueDepth });
        expect([s.first, s.last]).toEqual([summary.first, summary.last]);
        expect(decode).not.toHaveBeenCalled();
        expect(s.rollup.toJSON()).toEqual(r.toJSON());
        expect([...s.days].map(([d, x]) => [d, x.tokens.value, x.cost.value])).toEqual([...summary.days].map(([d, x]) => [d, x.tokens.value, x.cost.value]));
        expect(decode).toHaveBeenCalledTimes(1);
        // Decoded, its span is the rollup itself: it follows the rollup as appended lines grow it.
        expect(s.span).toBe(s.rollup);
      } finally {
        decode.mockRestore();
      }
    }
  });

  it('calls onDamage for too few bytes, and for bytes that pass for a span but do not decode', () => {
    const { bytes } = saved(1);
    const damage = () => {
      throw new Error('damaged');
    };
    expect(() => new SavedSummary(bytes.subarray(0, 40), damage)).toThrow('damaged');
    const cut = new SavedSummary(bytes.subarray(0, 72), damage);
    expect(cut.span.records).toBeGreaterThan(0);
    expect(() => cut.rollup).toThrow('damaged');
  });
});
