import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { answerWindow } from '../../src/cache/answer-window.js';
import type { FileIndex } from '../../src/cache/file-index.js';
import { reportBounds, type ReportBounds } from '../../src/report/window-accumulator.js';
import { rng } from '../helpers/rng.js';
import { writeIndexed } from '../helpers/indexed-log.js';
import { trickyLines } from '../helpers/tricky-lines.js';
import { reference, seen } from '../helpers/window-reference.js';

// src/cache/read-counting-side.ts, through answerWindow, which uses it for a minute cut in its
// middle where one side of the cut counts in no window.

const M = Date.parse('2026-11-27T10:00:00.000Z');
const iso = (ts: number) => new Date(ts).toISOString();
const temps: string[] = [];
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

function write(lines: string[]): { path: string; index: FileIndex } {
  const dir = mkdtempSync(join(tmpdir(), 'perfmon-counting-side-'));
  temps.push(dir);
  return writeIndexed(dir, 'app.ndjson', lines);
}

const answer = async (path: string, index: FileIndex, b: ReportBounds) => seen(await answerWindow([{ path, gzip: false, index, summary: index.summary }], b));

describe('answerWindow on a minute cut in its middle: only the side that counts is read', () => {
  it('answers exactly what reading every line answers, for cuts at the end, the window\'s start and the previous window\'s (150 logs × 8 windows)', async () => {
    for (let seed = 0; seed < 150; seed++) {
      const lines = trickyLines(seed, M);
      const { path, index } = write(lines);
      const rand = rng(90_000 + seed);
      for (let k = 0; k < 8; k++) {
        // A cut 10–90 % into one of the four minutes: past readNearEdge's reach.
        const cut = M + Math.floor(rand() * 4) * 60_000 + 6_000 + Math.floor(rand() * 48_000);
        const windowMinutes = 1 + Math.floor(rand() * 2);
        const previous = rand() < 0.5;
        const at = Math.floor(rand() * (previous ? 3 : 2));
        // at 0: the cut is `until`; 1: the window's start; 2: the previous window's start.
        const until = cut + at * windowMinutes * 60_000;
        const b = reportBounds(until, windowMinutes, previous);
        expect(await answer(path, index, b), `seed ${seed}, window ${k}`).toEqual(seen(reference(lines, b)));
      }
    }
  });

  /** 3,000 records of minute 10:00, one every 20 ms (in time order unless `late` moves some). */
  function busyMinute(late: (i: number) => number = () => 0): string[] {
    const lines: string[] = [];
    for (let i = 0; i < 3_000; i++) {
      const ts = Math.max(M, M + 20 * i - late(i));
      lines.push(JSON.stringify({ ts: iso(ts), stage: i % 3 ? 'classify' : 'total', durationMs: 100 + ((i * 7919) % 3_000) / 10, success: i % 11 !== 0, llmTokens: i % 5, llmCost: (i % 7) / 1000 }));
    }
    return lines;
  }
  /** The lines with the time of those between `a` and `b` ms into the minute moved `by` ms (same length). */
  const moveTimes = (lines: string[], a: number, b: number, by: number) =>
    lines.map((l) => {
      const ts = Date.parse(JSON.parse(l).ts);
      return ts >= M + a && ts < M + b ? l.replace(iso(ts), iso(ts + by)) : l;
    });

  async function afterChange(lines: string[], b: ReportBounds, change: (lines: string[]) => string[], late?: number) {
    const { path, index } = write(lines);
    if (late !== undefined) index.minutes.get(M)!.late = late;
    const changed = change(lines);
    expect(changed).not.toEqual(lines);
    writeFileSync(path, changed.join('\n') + '\n');
    return { got: await answer(path, index, b), before: seen(reference(lines, b)), after: seen(reference(changed, b)) };
  }

  // The cut falls 30.01 s into the minute, between records 1,500 and 1,501. The lines changed
  // below are those of its first or last 5 s, which the bisection towards the cut does not probe;
  // moved 28 s towards the cut, some would count if they were read.
  const cut = M + 30_010;

  it('at the window\'s end: lines well after the cut go unread (their times moved into the window unseen)', async () => {
    const b = reportBounds(cut, 1);
    const r = await afterChange(busyMinute(), b, (l) => moveTimes(l, 55_000, 60_000, -28_000));
    expect(r.after.window!.records).toBeGreaterThan(r.before.window!.records);
    expect(r.got).toEqual(r.before);
  });

  it('at the window\'s start: lines well before the cut go unread, and the day\'s sums are the whole minute\'s', async () => {
    for (const previous of [false, true]) {
      // With the trend rules' previous window the cut is the previous window's start.
      const b = previous ? reportBounds(cut + 120_000, 1, true) : reportBounds(cut + 60_000, 1);
      const r = await afterChange(busyMinute(), b, (l) => moveTimes(l, 0, 5_000, 28_000));
      expect(r.after).not.toEqual(r.before);
      expect(r.got).toEqual(r.before);
      expect(r.got.day[0]).toBeGreaterThan(0);
    }
  });

  it('reads as far past the cut as the minute\'s records lie out of order, and answers them exactly', async () => {
    // Every 7th record written up to 2.5 s late: a record at 32 s may follow one at 34.5 s.
    const lines = busyMinute((i) => (i % 7 === 0 ? (i * 37) % 2_500 : 0));
    const { path, index } = write(lines);
    expect(index.minutes.get(M)!.late).toBeGreaterThan(2_000);
    for (const b of [reportBounds(cut, 1), reportBounds(cut + 60_000, 1), reportBounds(cut + 120_000, 1, true)]) {
      expect(await answer(path, index, b)).toEqual(seen(reference(lines, b)));
    }
  });

  it('reads the whole side when the minute\'s disorder is not known: then changed lines are seen', async () => {
    const r = await afterChange(busyMinute(), reportBounds(cut, 1), (l) => moveTimes(l, 55_000, 60_000, -28_000), Infinity);
    expect(r.got).toEqual(r.after);
    const s = await afterChange(busyMinute(), reportBounds(cut + 60_000, 1), (l) => moveTimes(l, 0, 5_000, 28_000), Infinity);
    expect(s.got).toEqual(s.after);
  });

  it('reads both sides when both count (the window\'s start with a previous window): changed lines are seen', async () => {
    const r = await afterChange(busyMinute(), reportBounds(cut + 60_000, 1, true), (l) => moveTimes(l, 0, 5_000, 28_000));
    expect(r.got).toEqual(r.after);
  });
});
