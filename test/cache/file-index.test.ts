import { describe, expect, it, vi } from 'vitest';
import { appendIndex, BLOCK_MS, blockOf, decodeMinutes, emptyIndex, encodeMinutes, encodeSummary, indexFromJSON, indexingSink, indexToJSON, minuteOf, SavedRollup, SavedSummary, summarize, type FileIndex } from '../../src/cache/file-index.js';
import { ByteWriter } from '../../src/stats/bytes.js';
import { Rollup } from '../../src/stats/rollup.js';
import { LineSplitter } from '../../src/read/line-splitter.js';
import { rng } from '../helpers/rng.js';
import { rollupView } from '../helpers/window-reference.js';

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

describe('blocks: ten minutes of an index merged', () => {
  /**
   * An hour of lines from 10:00, a little out of order, with queue samples; each ten minutes keeps
   * all its minutes, one of them, or none (so some blocks have no second minute).
   */
  function hour(seed: number): string {
    const rand = rng(seed);
    const keep = Array.from({ length: 6 }, () => [10, 10, 10, 1, 0][Math.floor(rand() * 5)]!);
    let text = '';
    for (let i = 0; i < 1200; i++) {
      const ts = M + Math.floor((i / 1200) * 3_600_000 - rand() * 2_000);
      const k = Math.floor((ts - M) / BLOCK_MS);
      if (k >= 0 && ((ts - M) % BLOCK_MS) / 60_000 >= keep[k]!) continue;
      const iso = new Date(ts).toISOString();
      text += rand() < 0.1 ? JSON.stringify({ ts: iso, type: 'queue', depth: Math.floor(rand() * 50) }) : JSON.stringify({ ts: iso, stage: ['total', 'classify'][i % 2], durationMs: Math.round(rand() * 5e5) / 100, success: rand() > 0.1, llmTokens: i % 9 });
      text += '\n';
    }
    return text;
  }

  /** The index's minutes by block. */
  function minutesByBlock(index: FileIndex): Map<number, number[]> {
    const out = new Map<number, number[]>();
    for (const m of index.minutes.keys()) out.set(blockOf(m), [...(out.get(blockOf(m)) ?? []), m]);
    return out;
  }

  /** Each block is exactly its minutes merged, and has two or more; returns the blocks that have. */
  function checkBlocks(index: FileIndex, label: string): Set<number> {
    const byBlock = minutesByBlock(index);
    for (const [k, b] of index.blocks!) {
      const minutes = byBlock.get(k) ?? [];
      expect(minutes.length, `${label}: block ${k}`).toBeGreaterThan(1);
      const want = new Rollup();
      for (const m of minutes) want.merge(index.minutes.get(m)!.rollup);
      expect(rollupView(b.rollup), `${label}: block ${k}`).toEqual(rollupView(want));
      expect([b.rollup.lastQueueTs, b.rollup.lastQueueDepth], `${label}: block ${k}`).toEqual([want.lastQueueTs, want.lastQueueDepth]);
    }
    return new Set(index.blocks!.keys());
  }

  /** Blocks that ten minutes with two or more minutes ought to have. */
  const due = (index: FileIndex) => new Set([...minutesByBlock(index)].filter(([, ms]) => ms.length > 1).map(([k]) => k));

  /** The text cut at `cuts` line boundaries, each piece indexed and summarised as a reader's range is. */
  function fragments(text: string, cuts: number): FileIndex[] {
    const ends = [...text.matchAll(/\n/g)].map((m) => m.index! + 1);
    const rand = rng(text.length);
    const at = [...new Set(Array.from({ length: cuts }, () => ends[Math.floor(rand() * (ends.length - 1))]!))].sort((a, b) => a - b);
    return [0, ...at].map((from, i) => {
      const frag = indexOf(text.slice(from, at[i] ?? text.length), from);
      frag.summary = summarize(frag);
      return frag;
    });
  }

  it('summarize makes one of every ten minutes holding two or more, each exactly their merge (40 hours)', () => {
    let lone = 0;
    for (let seed = 0; seed < 40; seed++) {
      const index = indexOf(hour(seed));
      const summary = summarize(index)!;
      expect(checkBlocks(index, `seed ${seed}`)).toEqual(due(index));
      lone += [...minutesByBlock(index).values()].filter((ms) => ms.length === 1).length;
      // The summary, merged through the blocks, is still every minute merged.
      const all = new Rollup();
      for (const e of index.minutes.values()) all.merge(e.rollup);
      expect(rollupView(summary.rollup)).toEqual(rollupView(all));
    }
    expect(lone).toBeGreaterThan(10); // ten minutes with a single minute, which get no block, were seen
  });

  it('appending fragments keeps each block exactly its minutes merged; one both hold is merged, or left out when asked (40 hours × 2)', () => {
    let leftOut = 0;
    for (let seed = 0; seed < 40; seed++) {
      const text = hour(seed);
      for (const mergeBlocks of [true, false]) {
        const parts = fragments(text, 1 + (seed % 4));
        // Which fragments hold minutes of each block, before appending changes them.
        const holders = new Map<number, number>();
        for (const f of parts) for (const k of new Set([...f.minutes.keys()].map(blockOf))) holders.set(k, (holders.get(k) ?? 0) + 1);
        const index = parts.slice(1).reduce((a, b) => appendIndex(a, b, { mergeBlocks }), appendIndex(emptyIndex(0), parts[0]!));
        const label = `seed ${seed}, merge ${mergeBlocks}`;
        const got = checkBlocks(index, label);
        const want = [...due(index)].filter((k) => mergeBlocks || holders.get(k) === 1);
        expect([...got].sort(), label).toEqual(want.sort());
        if (!mergeBlocks) leftOut += due(index).size - got.size;
      }
    }
    expect(leftOut).toBeGreaterThan(20); // blocks a boundary fell inside were seen, and left out
  });

  it('a block whose parts are not all known is none: never made from its minutes', () => {
    // Cut at a quarter past: b holds the boundary's block and whole ones of its own.
    const text = hour(7);
    const at = text.indexOf('"ts":"2026-11-27T10:15');
    const cut = text.lastIndexOf('\n', at) + 1;
    const [a, b] = [indexOf(text.slice(0, cut)), indexOf(text.slice(cut), cut)];
    summarize(a);
    summarize(b);
    const blocksOfB = [...b.blocks!.keys()];
    expect(blocksOfB.filter((k) => k > blockOf(Date.parse('2026-11-27T10:15:00Z'))).length).toBeGreaterThan(1);
    // b's blocks unknown (as from plain data): none of b's ten minutes with several gets one,
    // whether a holds minutes of them or not.
    b.blocks = new Map();
    const index = appendIndex(appendIndex(emptyIndex(0), a), b);
    for (const k of blocksOfB) expect(index.blocks!.has(k), `block ${k}`).toBe(false);
    expect(index.blocks!.size).toBeGreaterThan(0); // a's own stay
    checkBlocks(index, 'unknown parts');
  });

  it('are encoded after the minutes and decode undecoded, spans read at once, copied as they are when encoded again', () => {
    const index = indexOf(hour(3));
    summarize(index);
    const bytes = encodeMinutes(index);
    const back = decodeMinutes(bytes, undefined, true);
    expect([...back.minutes.keys()]).toEqual([...index.minutes.keys()].sort((x, y) => x - y));
    expect([...back.blocks.keys()]).toEqual([...index.blocks!.keys()].sort((x, y) => x - y));
    const decode = vi.spyOn(Rollup, 'decode');
    try {
      for (const [k, b] of back.blocks) {
        expect(b).toBeInstanceOf(SavedRollup);
        const r = index.blocks!.get(k)!.rollup;
        expect(b.span).toEqual({ records: r.records, firstTs: r.firstTs, lastTs: r.lastTs });
      }
      expect(decode).not.toHaveBeenCalled();
      // Encoded again undecoded: the same bytes, copied.
      expect(Buffer.compare(encodeMinutes({ ...index, ...back }), bytes)).toBe(0);
    } finally {
      decode.mockRestore();
    }
    for (const [k, b] of back.blocks) expect(rollupView(b.rollup)).toEqual(rollupView(index.blocks!.get(k)!.rollup));
  });
});
