import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { answerWindow, straddles, type IndexedFile, type SavedFiles } from '../../src/cache/answer-window.js';
import { decodeMinutes, encodeMinutes, encodeSummary, SavedSummary, type FileIndex } from '../../src/cache/file-index.js';
import { ByteWriter } from '../../src/stats/bytes.js';
import { reportBounds, WindowAccumulator, type ReportBounds } from '../../src/report/window-accumulator.js';
import { Rollup } from '../../src/stats/rollup.js';
import { rng } from '../helpers/rng.js';
import { writeIndexed } from '../helpers/indexed-log.js';
import { reference, seen } from '../helpers/window-reference.js';

const T = (iso: string) => Date.parse(iso);
const temps: string[] = [];
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

function rollupOf(...isos: string[]): Rollup {
  const r = new Rollup();
  for (const iso of isos) r.add({ type: 'stage', ts: T(iso), stage: 's', durationMs: 1, success: true, llmTokens: 1, llmCost: undefined, cacheHit: undefined, model: undefined, error: undefined, signalId: undefined });
  return r;
}


/** answerWindow over one file, noting which of the rollups `keys` names get merged (their keys). */
async function answerNotingMerges<K>(file: IndexedFile, b: ReportBounds, keys: ReadonlyMap<Rollup, K>): Promise<{ got: WindowAccumulator; merged: Set<K> }> {
  const merged = new Set<K>();
  const realMerge = Rollup.prototype.merge;
  Rollup.prototype.merge = function (o: Rollup) {
    const k = keys.get(o);
    if (k !== undefined) merged.add(k);
    return realMerge.call(this, o);
  };
  try {
    return { got: await answerWindow([file], b), merged };
  } finally {
    Rollup.prototype.merge = realMerge;
  }
}

describe('straddles: whether a boundary falls between the first and the last record', () => {
  const b: ReportBounds = { until: T('2026-11-27T10:30:00.000Z'), from: T('2026-11-27T10:00:00.000Z'), previousFrom: T('2026-11-27T09:30:00.000Z'), dayStart: T('2026-11-27T00:00:00.000Z') };

  it('windows are (x, y]: a record at a boundary belongs to the earlier side', () => {
    // All at or before `from`: one side of it.
    expect(straddles(rollupOf('2026-11-27T09:59:10.000Z', '2026-11-27T10:00:00.000Z'), b)).toBe(false);
    // One at `from`, one after: split.
    expect(straddles(rollupOf('2026-11-27T10:00:00.000Z', '2026-11-27T10:00:00.001Z'), b)).toBe(true);
    // `until` and `previousFrom` alike.
    expect(straddles(rollupOf('2026-11-27T10:29:59.000Z', '2026-11-27T10:30:00.000Z'), b)).toBe(false);
    expect(straddles(rollupOf('2026-11-27T10:30:00.000Z', '2026-11-27T10:30:00.001Z'), b)).toBe(true);
    expect(straddles(rollupOf('2026-11-27T09:29:00.000Z', '2026-11-27T09:31:00.000Z'), b)).toBe(true);
  });

  it('the day is [dayStart, until]: a record at dayStart belongs to the day', () => {
    expect(straddles(rollupOf('2026-11-27T00:00:00.000Z', '2026-11-27T00:05:00.000Z'), b)).toBe(false);
    expect(straddles(rollupOf('2026-11-26T23:59:59.999Z', '2026-11-27T00:00:00.000Z'), b)).toBe(true);
  });

  it('an empty rollup straddles nothing', () => {
    expect(straddles(new Rollup(), b)).toBe(false);
  });
});

describe('answerWindow reads only what a boundary really cuts', () => {
  /** A file of one line per ts, indexed; the lines, for the reference. */
  function indexed(isos: string[]): { path: string; index: FileIndex; lines: string[] } {
    const dir = mkdtempSync(join(tmpdir(), 'perfmon-answer-'));
    temps.push(dir);
    const lines = isos.map((iso, i) => JSON.stringify({ ts: iso, stage: i % 2 ? 'classify' : 'total', durationMs: 10 + i, success: i % 3 !== 0, llmTokens: i }));
    return { ...writeIndexed(dir, 'app.ndjson', lines), lines };
  }

  // Stages and models by name: the order a rollup first met them in is no part of an answer.
  const byName = (d: ReturnType<Rollup['toJSON']>) => ({ ...d, stages: Object.fromEntries(Object.entries(d.stages).sort()), models: Object.fromEntries(Object.entries(d.models).sort()) });
  const json = (a: WindowAccumulator) => JSON.stringify({ w: byName(a.window.toJSON()), p: a.previous && byName(a.previous.toJSON()), t: a.dayTokens, c: a.dayCost });

  // Minute 10:00 holds records at :10 and :20 only; the window starts at 10:00:30.
  const isos = ['2026-11-27T09:59:50.000Z', '2026-11-27T10:00:10.000Z', '2026-11-27T10:00:20.000Z', '2026-11-27T10:01:10.000Z', '2026-11-27T10:02:00.000Z'];

  it('a boundary inside a minute but between its records cuts nothing: answered with the file gone', async () => {
    const { path, index, lines } = indexed(isos);
    const b = reportBounds(T('2026-11-27T10:30:30.000Z'), 30); // from = 10:00:30
    const want = json(reference(lines, b));
    rmSync(path); // a re-read would find nothing (and count nothing)
    expect(json(await answerWindow([{ path, gzip: false, index }], b))).toBe(want);
    expect(json(await answerWindow([{ path, gzip: false, index, summary: index.summary }], b))).toBe(want);
  });

  it('a boundary between two records of one minute is re-read from the file, exactly', async () => {
    const { path, index, lines } = indexed(isos);
    const b = reportBounds(T('2026-11-27T10:30:15.000Z'), 30); // from = 10:00:15, between :10 and :20
    const want = json(reference(lines, b));
    expect(json(await answerWindow([{ path, gzip: false, index, summary: index.summary }], b))).toBe(want);
    // The proof it was read: without the file (removed since, say by retention) the minute's
    // records are missing from the answer, and the rest is still answered.
    rmSync(path);
    const without = await answerWindow([{ path, gzip: false, index }], b);
    expect(json(without)).not.toBe(want);
    expect(without.window.records).toBe(reference(lines, b).window.records - 1); // 10:00:20 is the cut minute's only window record
  });

  it('a file whose records all lie inside the window is answered from its summary alone', async () => {
    const { path, index, lines } = indexed(isos);
    const b = reportBounds(T('2026-11-27T12:00:00.000Z'), 180, true);
    const want = json(reference(lines, b));
    rmSync(path);
    // Even its minutes are not needed: the summary is the whole answer.
    const noMinutes: FileIndex = { ...index, minutes: new Map() };
    expect(json(await answerWindow([{ path, gzip: false, index: noMinutes, summary: index.summary }], b))).toBe(want);
  });

  it('a file that crosses midnight, inside the window: the day\'s tokens come from its sums per day, not its minutes', async () => {
    const crossing = ['2026-11-26T23:58:00.000Z', '2026-11-26T23:59:30.000Z', '2026-11-27T00:00:00.000Z', '2026-11-27T00:01:10.000Z', '2026-11-27T00:03:00.000Z'];
    const { path, index, lines } = indexed(crossing);
    expect([...index.summary!.days.keys()]).toEqual([T('2026-11-26T00:00:00.000Z'), T('2026-11-27T00:00:00.000Z')]);
    for (const [until, minutes, previous] of [['2026-11-27T00:10:00.000Z', 60, true], ['2026-11-27T00:04:00.000Z', 10, false]] as const) {
      const b = reportBounds(T(until), minutes, previous);
      const want = reference(lines, b);
      expect(want.dayTokens).toBe(2 + 3 + 4); // the records of 00:00:00, 00:01:10 and 00:03:00
      rmSync(path, { force: true });
      const noMinutes: FileIndex = { ...index, minutes: new Map() };
      expect(json(await answerWindow([{ path, gzip: false, index: noMinutes, summary: index.summary }], b))).toBe(json(want));
    }
  });
});

describe('answerWindow: a file one boundary cuts, its larger side answered as the summary less the rest', () => {
  const START = T('2026-11-27T10:00:00.000Z');

  /** Half an hour of a pipeline's lines, a little out of order, queue samples and llm calls among them. */
  function halfHour(seed: number): string[] {
    const rand = rng(seed);
    const lines: string[] = [];
    for (let i = 0; i < 400; i++) {
      const ts = new Date(START + Math.floor((i / 400) * 30 * 60_000 + rand() * 4_000)).toISOString();
      const u = rand();
      if (u < 0.1) lines.push(JSON.stringify({ ts, type: 'queue', depth: Math.floor(rand() * 50) }));
      else if (u < 0.25) lines.push(JSON.stringify({ ts, type: 'llm', model: rand() < 0.5 ? 'a' : 'b', durationMs: Math.round(rand() * 900), success: rand() > 0.1, llmTokens: Math.floor(rand() * 500), llmCost: rand() / 100 }));
      else lines.push(JSON.stringify({ ts, stage: ['total', 'classify', 'decide'][Math.floor(rand() * 3)], durationMs: seed % 2 ? Math.round(rand() * 20) * 50 : rand() * 3_000, success: rand() > 0.05, cacheHit: rand() < 0.5 }));
    }
    return lines;
  }

  /** Runs `body`, counting the rests Rollup.restOf could tell (of those `which` picks). */
  async function countingRestOf(body: () => Promise<void>, which: (rest: readonly Rollup[]) => boolean = () => true): Promise<number> {
    const real = Rollup.restOf;
    let answered = 0;
    Rollup.restOf = (...a) => {
      const r = real(...a);
      if (r !== undefined && which(a[2])) answered++;
      return r;
    };
    try {
      await body();
    } finally {
      Rollup.restOf = real;
    }
    return answered;
  }

  it('answers exactly what reading every line answers, and cuts away from the middle take the shortcut (60 logs × 6 windows)', async () => {
    // The larger side is told as the file less the other minutes (Rollup.without, its minutes
    // undecoded) or, where that declines, from each of its minutes (restOf): count both.
    const realWithout = Rollup.without;
    let lessTheOthers = 0;
    Rollup.without = (...a) => {
      const r = realWithout(...a);
      if (r !== undefined && a[2].partMinutes !== undefined) lessTheOthers++;
      return r;
    };
    const answered = await countingRestOf(async () => {
      try {
        for (let seed = 0; seed < 60; seed++) {
          const lines = halfHour(seed);
          const dir = mkdtempSync(join(tmpdir(), 'perfmon-answer-side-'));
          temps.push(dir);
          const { path, index } = writeIndexed(dir, 'app.ndjson', lines);
          const rand = rng(70_000 + seed);
          for (let k = 0; k < 6; k++) {
            // One boundary inside the file: the window's start (its end after the file), or its end.
            const x = START + Math.floor(rand() * 30 * 60_000);
            const minutes = 5 + Math.floor(rand() * 40);
            const until = k % 3 === 2 ? x : x + minutes * 60_000 + 40 * 60_000 * (k % 2);
            const b = reportBounds(until, k % 3 === 2 ? minutes : minutes + 40 * (k % 2), false);
            const got = await answerWindow([{ path, gzip: false, index, summary: index.summary }], b);
            expect(seen(got), `seed ${seed}, window ${k}`).toEqual(seen(reference(lines, b)));
          }
        }
      } finally {
        Rollup.without = realWithout;
      }
    });
    // Not a test that passes by never taking it: windows with one cut in the file's first or last
    // third take it (a third of the windows end inside the file, cutting it twice), each way often.
    expect(answered + lessTheOthers).toBeGreaterThan(60 * 6 * 0.3);
    expect(lessTheOthers).toBeGreaterThan(20);
    expect(answered).toBeGreaterThan(20);
  });

  it('answers a file the window and the previous window both start in by groups of minutes: the largest never merged, exactly (30 logs)', async () => {
    for (let seed = 0; seed < 30; seed++) {
      // An hour of lines, a little out of order; a window of 30 or 25 minutes ending after it, its
      // start and the previous window's both inside it (three groups around the two cut minutes,
      // the largest between them).
      const rand = rng(5_000 + seed);
      const lines = Array.from({ length: 900 }, (_, i) => {
        const ts = new Date(START + Math.floor((i / 900) * 60 * 60_000 + rand() * 3_000)).toISOString();
        return rand() < 0.1
          ? JSON.stringify({ ts, type: 'queue', depth: Math.floor(rand() * 40) })
          : JSON.stringify({ ts, stage: ['total', 'classify'][i % 2], durationMs: Math.round(rand() * 2_000), success: rand() > 0.1, llmTokens: i % 7 });
      });
      const dir = mkdtempSync(join(tmpdir(), 'perfmon-answer-groups-'));
      temps.push(dir);
      const { path, index } = writeIndexed(dir, 'app.ndjson', lines);
      const minutes = seed % 2 === 0 ? 30 : 25;
      const b = reportBounds(START + 70 * 60_000 + 30_000 + Math.floor(rand() * 20_000), minutes, true);
      // Which minutes' rollups get merged (into a window, a group or the part subtracted).
      const { got, merged } = await answerNotingMerges({ path, gzip: false, index, summary: index.summary }, b, new Map([...index.minutes].map(([m, e]) => [e.rollup, m])));
      expect(seen(got), `seed ${seed}`).toEqual(seen(reference(lines, b)));
      // The minutes between the two starts (the largest group, 18 or more of them) are answered
      // as the file less the others: none is merged. Minute by minute, all of the file's would be.
      const between = [...index.minutes.keys()].filter((m) => m > b.previousFrom! && m + 60_000 <= b.from);
      expect(between.length).toBeGreaterThanOrEqual(18);
      expect(between.filter((m) => merged.has(m))).toEqual([]);
      expect(merged.size).toBeLessThan(index.minutes.size - 15);
    }
  });

  it('neither decodes nor merges minutes no range holds, and answers exactly (200 windows over hours before midnight)', async () => {
    // The last hour of the 26th, windows ending up to half an hour either side of midnight: once
    // the day asked about is the 27th, minutes before the earliest range start count only for the
    // latest queue sample, and not at all before the file's latest one.
    const HOUR = T('2026-11-26T23:00:00.000Z');
    let fromUsedAlone = 0;
    let afterMidnight = 0;
    for (let seed = 0; seed < 40; seed++) {
      const rand = rng(11_000 + seed);
      // Queue samples through the hour, or only in its first part (then the minutes after the
      // last sample are not idle: one of them may hold nothing later, the sample must be found).
      const samplesUntil = seed % 3 === 0 ? 0.3 : 1;
      const lines = Array.from({ length: 600 }, (_, i) => {
        const at = (i / 600) * 60 * 60_000;
        const ts = new Date(HOUR + Math.floor(at + rand() * 2_000)).toISOString();
        return rand() < 0.08 && at < samplesUntil * 60 * 60_000
          ? JSON.stringify({ ts, type: 'queue', depth: Math.floor(rand() * 90) })
          : JSON.stringify({ ts, stage: ['total', 'classify'][i % 2], durationMs: Math.round(rand() * 900), success: rand() > 0.1, llmTokens: i % 5 });
      });
      const dir = mkdtempSync(join(tmpdir(), 'perfmon-answer-idle-'));
      temps.push(dir);
      const { path, index } = writeIndexed(dir, 'app.ndjson', lines);
      // Minutes whose rollup says when it is read (their spans are known without it, as saved).
      const touched = new Set<number>();
      const watched: FileIndex = {
        ...index,
        minutes: new Map(
          [...index.minutes].map(([m, e]) => {
            const r = e.rollup;
            return [m, { from: e.from, to: e.to, late: e.late, span: { records: r.records, firstTs: r.firstTs, lastTs: r.lastTs }, get rollup() {
              touched.add(m);
              return r;
            } }];
          }),
        ),
      };
      for (let w = 0; w < 5; w++) {
        touched.clear();
        // The window ends inside the hour or after it, with or without the previous window.
        const until = HOUR + Math.floor((0.5 + rand()) * 60 * 60_000);
        if (until >= HOUR + 60 * 60_000) afterMidnight++;
        const b = reportBounds(until, 5 + Math.floor(rand() * 30), w % 2 === 0);
        let summaryRead = false;
        const summary = { ...index.summary!, get rollup() {
          summaryRead = true;
          return index.summary!.rollup;
        } };
        const got = await answerWindow([{ path, gzip: false, index: watched, summary }], b);
        expect(seen(got), `seed ${seed}, window ${w}`).toEqual(seen(reference(lines, b)));
        // A file a boundary cuts, answered from the minutes the ranges hold alone: none before
        // them read, and not the file's summary (nothing subtracted from it).
        const first = b.previousFrom ?? b.from;
        const before = [...index.minutes.keys()].filter((m) => m + 60_000 <= first);
        const span = index.summary!.span;
        const cut = [b.until, b.from, b.previousFrom].some((x) => x !== undefined && span.firstTs <= x && span.lastTs > x);
        if (cut && !summaryRead && before.length > 10 && before.every((m) => !touched.has(m))) fromUsedAlone++;
      }
    }
    // Not a test that passes by never taking it (each cut file was answered by a subtraction from
    // its summary, or from every minute, before).
    expect(afterMidnight).toBeGreaterThan(80);
    expect(fromUsedAlone).toBeGreaterThan(20);
  });

  it('answers a run of files wholly inside the window from two prefixes less the run\'s other files, exactly (40 directories × 5 windows)', async () => {
    // The subtractions whose rest is files' summaries (not a file's minutes).
    const fileSummaries = new Set<Rollup>();
    const answered = await countingRestOf(async () => {
      for (let seed = 0; seed < 40; seed++) {
        // Six files of half an hour each, one after another.
        const dir = mkdtempSync(join(tmpdir(), 'perfmon-answer-total-'));
        temps.push(dir);
        const files: IndexedFile[] = [];
        const all: string[] = [];
        for (let k = 0; k < 6; k++) {
          const lines = halfHour(1_000 * seed + k).map((l) => l.replace(/"ts":"([^"]+)"/, (_, ts: string) => `"ts":"${new Date(Date.parse(ts) + k * 30 * 60_000).toISOString()}"`));
          const { path, index } = writeIndexed(dir, `app-${k}.ndjson`, lines);
          files.push({ path, gzip: false, index, summary: index.summary });
          fileSummaries.add(index.summary!.rollup);
          all.push(...lines);
        }
        // As a cache entry saves them: two older files first (not in this run), then these six,
        // one of which has changed since (its saved summary is another's).
        const older = [0, 1].map((k) => writeIndexed(dir, `old-${k}.ndjson`, halfHour(7_000 + k)).index.summary!);
        const changed = seed % 6;
        const entry = [
          ...older.map((summary) => ({ file: undefined, summary })),
          ...files.map((f, k) => (k === changed ? { file: undefined, summary: older[0] } : { file: f, summary: f.summary! })),
        ];
        const saved: SavedFiles = {
          files: entry,
          prefix: (k) => entry.slice(0, k).reduce((r, x) => r.merge(x.summary!.rollup), new Rollup()),
        };
        const rand = rng(90_000 + seed);
        for (let w = 0; w < 5; w++) {
          const until = START + Math.floor(rand() * 200 * 60_000);
          const b = reportBounds(until, 30 + Math.floor(rand() * 150), w % 2 === 0);
          const got = await answerWindow(files, b, { saved: [saved] });
          expect(seen(got), `seed ${seed}, window ${w}`).toEqual(seen(reference(all, b)));
        }
      }
    }, (rest) => rest.every((r) => fileSummaries.has(r)));
    // Not a test that passes by never taking it: windows of two hours and more hold runs of three
    // files and more (38 of the 200).
    expect(answered).toBeGreaterThan(20);
  });
});


describe('answerWindow decodes only the saved summaries it merges', () => {
  it('places files by their spans: those outside the windows and the day stay undecoded, and the answer is exact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'perfmon-lazy-'));
    temps.push(dir);
    const t0 = T('2026-11-26T18:00:00.000Z');
    const files: IndexedFile[] = [];
    const all: string[] = [];
    // Twelve half-hour files up to 00:00 of the 27th, and one after it: a 30-minute window at
    // 00:20 takes the last, its previous window the one before, the day only the last.
    for (let k = 0; k < 13; k++) {
      const lines = Array.from({ length: 40 }, (_, i) => {
        const ts = new Date(t0 + k * 30 * 60_000 + i * 40_000 + (k === 12 ? 1 : 0)).toISOString();
        return i % 10 === 0 ? JSON.stringify({ ts, type: 'queue', depth: k + i }) : JSON.stringify({ ts, stage: i % 2 ? 'classify' : 'total', durationMs: 10 + k + i, success: i % 7 !== 0, llmTokens: i });
      });
      const { path, index } = writeIndexed(dir, `app-${String(k).padStart(2, '0')}.ndjson`, lines);
      const w = new ByteWriter();
      encodeSummary(w, index.summary!);
      files.push({ path, gzip: false, index, summary: new SavedSummary(w.bytes(), () => { throw new Error('damaged'); }) });
      all.push(...lines);
    }
    const b = reportBounds(T('2026-11-27T00:20:00.000Z'), 30, true);
    const decode = vi.spyOn(Rollup, 'decode');
    try {
      const got = await answerWindow(files, b);
      expect(seen(got)).toEqual(seen(reference(all, b)));
      // Two decodes, not thirteen: the file wholly in the window (merged), and the one the
      // window's start cuts (answered as its summary less the minutes on the cut's smaller side).
      // The file the previous window's start cuts is answered from its minutes after the cut:
      // those before it lie outside every range, before the file's latest queue sample, so they
      // are neither decoded nor subtracted. The other ten are placed by their spans alone.
      expect(decode).toHaveBeenCalledTimes(2);
      // The latest queue sample came from a span, the day's tokens from the last file alone.
      expect(got.latestQueueTs).toBe(Math.max(...all.filter((l) => l.includes('"queue"')).map((l) => Date.parse(JSON.parse(l).ts as string)).filter((t) => t <= b.until)));
    } finally {
      decode.mockRestore();
    }
  });

  it('a file cut near its start: the larger side is the file less the cut minute, its own saved minutes undecoded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'perfmon-lazy-minutes-'));
    temps.push(dir);
    const t0 = T('2026-11-26T10:00:00.000Z');
    const rand = rng(404);
    const lines: string[] = [];
    for (let k = 0; k < 30; k++) {
      for (let i = 0; i < 40; i++) {
        const ts = new Date(t0 + k * 60_000 + i * 1_500).toISOString();
        lines.push(i % 8 === 0 ? JSON.stringify({ ts, type: 'queue', depth: Math.floor(rand() * 60) }) : JSON.stringify({ ts, stage: i % 2 ? 'classify' : 'total', durationMs: Math.round(rand() * 1e6) / 100, success: rand() > 0.05, llmTokens: Math.floor(rand() * 900) }));
      }
    }
    const { path, index } = writeIndexed(dir, 'app.ndjson', lines);
    // The minutes as the cache saves and loads them: each rollup decoded when first used.
    const saved = { ...index, ...decodeMinutes(encodeMinutes(index)) };
    // The window starts 5 s into the file's first minute and ends after the file.
    const b = reportBounds(t0 + 5_000 + 30 * 60_000, 30, false);
    const decode = vi.spyOn(Rollup, 'decode');
    try {
      const got = await answerWindow([{ path, gzip: false, index: saved, summary: index.summary }], b);
      expect(seen(got)).toEqual(seen(reference(lines, b)));
      // The cut minute only (re-read near its edge), not the 29 on the window's side.
      expect(decode).toHaveBeenCalledTimes(1);
    } finally {
      decode.mockRestore();
    }
  });
});

describe('answerWindow: a cut file\'s minutes merged a block (ten minutes) at a time', () => {
  it('merges a block no boundary falls inside as one, none of its minutes, and answers exactly (30 logs)', async () => {
    const START = T('2026-11-27T10:00:00.000Z');
    let blocksMerged = 0;
    for (let seed = 0; seed < 30; seed++) {
      // An hour of lines, a little out of order; a window of 20-40 minutes ending after it.
      const rand = rng(31_000 + seed);
      const lines = Array.from({ length: 1200 }, (_, i) => {
        const ts = new Date(START + Math.floor((i / 1200) * 60 * 60_000 + rand() * 3_000)).toISOString();
        return rand() < 0.05
          ? JSON.stringify({ ts, type: 'queue', depth: Math.floor(rand() * 40) })
          : JSON.stringify({ ts, stage: ['total', 'classify', 'extract'][i % 3], durationMs: Math.round(rand() * 3e5) / 100, success: rand() > 0.1, llmTokens: i % 7, llmCost: (i % 7) / 1000 });
      });
      const dir = mkdtempSync(join(tmpdir(), 'perfmon-answer-blocks-'));
      temps.push(dir);
      const { path, index } = writeIndexed(dir, 'app.ndjson', lines);
      const b = reportBounds(START + 60 * 60_000 + Math.floor(rand() * 60_000), 20 + Math.floor(rand() * 20), seed % 3 === 0);
      const rollups = new Map([...[...index.minutes].map(([m, e]) => [e.rollup, `minute ${m}`] as const), ...[...index.blocks!].map(([k, e]) => [e.rollup, `block ${k}`] as const)]);
      const { got, merged } = await answerNotingMerges({ path, gzip: false, index, summary: index.summary }, b, rollups);
      expect(seen(got), `seed ${seed}`).toEqual(seen(reference(lines, b)));
      // The blocks wholly inside the window: none of their minutes merged one by one.
      const inside = [...index.blocks!].filter(([, e]) => e.rollup.firstTs > b.from);
      expect(inside.length, `seed ${seed}`).toBeGreaterThanOrEqual(1);
      for (const [k] of inside) {
        const minutes = [...index.minutes.keys()].filter((m) => m >= k && m < k + 600_000);
        expect(minutes.filter((m) => merged.has(`minute ${m}`)), `seed ${seed}, block ${k}`).toEqual([]);
      }
      blocksMerged += inside.filter(([k]) => merged.has(`block ${k}`)).length;
    }
    // Not a test that passes by never taking it: the blocks themselves were merged, many times.
    expect(blocksMerged).toBeGreaterThan(30);
  });
});
