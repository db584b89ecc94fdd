import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { LineSplitter, type LineSink } from '../read/line-splitter.js';
import { MalformedLog } from '../read/malformed.js';
import { recordLineSink } from '../read/read-log-file.js';
import { readRange } from '../read/read-range.js';
import { WindowAccumulator, type ReportBounds } from '../report/window-accumulator.js';
import { parseRecord, type MetricRecord } from '../schema.js';
import { MINUTE_MS, Rollup } from '../stats/rollup.js';
import type { DaySums, FileIndex, FileSummary, MinuteEntry } from './file-index.js';

export interface IndexedFile {
  path: string;
  gzip: boolean;
  index: FileIndex;
  /** All the file's minutes merged, and the first and last minute: lets a file that no
   *  boundary cuts be answered without reading its minutes (they are parsed lazily). */
  summary?: FileSummary;
}

/**
 * The window (and previous window, and the day) from per-file minute indexes. A set of records
 * wholly on one side of every boundary — a whole file, else a minute — is merged as a rollup;
 * whether it is comes from its first and last record times, so a boundary that falls between
 * two records cuts nothing. A minute a boundary does cut is re-read from its byte range and its
 * records sorted one by one, so the answer is exact to the millisecond.
 */
export async function answerWindow(files: readonly IndexedFile[], bounds: ReportBounds, o: { fastPath?: boolean } = {}): Promise<WindowAccumulator> {
  const acc = new WindowAccumulator(bounds);
  for (const f of files) {
    const sum = f.summary;
    if (sum && !straddlesWindows(sum.rollup, bounds)) {
      addToWindows(acc, sum.rollup);
      // Only the day's start may fall inside (a file that crosses midnight): its sums per day say
      // what the day holds, so even then the minutes stay unread.
      if (!straddlesDay(sum.rollup, bounds)) addToDay(acc, sum.rollup);
      else if (sum.rollup.firstTs <= bounds.until) addDaySums(acc, sum.days.get(bounds.dayStart));
      continue;
    }
    for (const [m, e] of [...f.index.minutes].sort((a, b) => a[0] - b[0])) {
      if (!straddles(e.rollup, bounds)) addWhole(acc, e.rollup);
      else if (!(await answerNearEdge(f, m, e, acc, o.fastPath))) await rereadMinute(f, m, e.from, e.to, acc, o.fastPath);
    }
  }
  return acc;
}

/** Whether a boundary falls between the first and the last record of `r`. */
export function straddles(r: Rollup, b: ReportBounds): boolean {
  return straddlesWindows(r, b) || straddlesDay(r, b);
}

/** Whether the window's, the previous window's or `until`'s boundary falls inside `r`. */
function straddlesWindows(r: Rollup, b: ReportBounds): boolean {
  if (r.records === 0) return false;
  const first = r.firstTs;
  const last = r.lastTs;
  // The window, the previous window and `until` are (x, y] ranges.
  const splits = (x: number) => first <= x && last > x;
  return splits(b.until) || splits(b.from) || (b.previousFrom !== undefined && splits(b.previousFrom));
}

/** Whether the day's start falls inside `r` (the day is [dayStart, until]). */
function straddlesDay(r: Rollup, b: ReportBounds): boolean {
  return r.records > 0 && r.firstTs < b.dayStart && r.lastTs >= b.dayStart;
}

/** Records no boundary separates: all fall where the first one does. */
function addWhole(acc: WindowAccumulator, r: Rollup): void {
  addToWindows(acc, r);
  addToDay(acc, r);
}

/** The window-side part of addWhole: the window or previous window, and the latest queue sample. */
function addToWindows(acc: WindowAccumulator, r: Rollup): void {
  const b = acc.bounds;
  const t = r.firstTs;
  if (r.records === 0 || t > b.until) return;
  if (t > b.from) acc.window.merge(r);
  else if (acc.previous && b.previousFrom !== undefined && t > b.previousFrom) acc.previous.merge(r);
  if (r.queueSamples > 0 && (r.lastQueueTs > acc.latestQueueTs || (r.lastQueueTs === acc.latestQueueTs && r.lastQueueDepth > acc.latestQueueDepth))) {
    acc.latestQueueTs = r.lastQueueTs;
    acc.latestQueueDepth = r.lastQueueDepth;
  }
}

/** The day-side part of addWhole: today's token and cost sums, for records no boundary separates. */
function addToDay(acc: WindowAccumulator, r: Rollup): void {
  const b = acc.bounds;
  if (r.records > 0 && r.firstTs >= b.dayStart && r.firstTs <= b.until) addDaySums(acc, { tokens: r.tokenSum, cost: r.costSum });
}

function addDaySums(acc: WindowAccumulator, d: DaySums | undefined): void {
  if (d === undefined) return;
  acc.dayTokenSum.merge(d.tokens);
  acc.dayCostSum.merge(d.cost);
}

/** The share of a cut minute's time on the cut's nearer side below which answerNearEdge tries. */
export const NEAR_EDGE = 0.1;

/**
 * A minute that one boundary cuts close to its first or last record: parses only the lines on
 * the near side of the cut (and any line whose time or kind its first bytes do not tell), and
 * takes the other records as the minute's rollup less those parsed, so most of the minute is not
 * parsed. A line's time is told by its first bytes when it starts `{"ts":"` and the minute's own
 * `YYYY-MM-DDTHH:MM:SS.mmmZ"`, with no backslash and no other `"ts"` in the line; a queue sample
 * (`,"type":"queue"` next) is always parsed, samples being few and their depths often equal. The
 * unparsed records' first and last times come from their lines, and the two lines they came from
 * are checked to be records. Returns false, having changed nothing, when the minute is not of
 * this kind or Rollup.without cannot tell the rest exactly: the caller then re-reads it whole.
 */
async function answerNearEdge(f: IndexedFile, m: number, e: MinuteEntry, acc: WindowAccumulator, fastPath?: boolean): Promise<boolean> {
  const r = e.rollup;
  const b = acc.bounds;
  const cuts = [b.until, b.from, ...(b.previousFrom === undefined ? [] : [b.previousFrom])].filter((x) => r.firstTs <= x && r.lastTs > x);
  if (f.gzip || cuts.length !== 1 || straddlesDay(r, b)) return false;
  const x = cuts[0]!;
  const before = (x - r.firstTs) / (r.lastTs - r.firstTs);
  if (before > NEAR_EDGE && before < 1 - NEAR_EDGE) return false;
  const nearIsBefore = before <= 0.5;
  const minuteEnd = m + MINUTE_MS;
  // What is parsed: its rollup, and the same records sorted into the window's ranges.
  const parsed = new Rollup();
  const parsedAcc = new WindowAccumulator(b);
  const parse = recordLineSink(
    f.path,
    (rec) => {
      if (rec.ts < m || rec.ts >= minuteEnd) return;
      parsed.add(rec);
      parsedAcc.add(rec);
    },
    new MalformedLog(), // counted when the file was indexed
    { fastPath, ids: false },
  );
  // The unparsed lines' first and last times, and copies of the lines they are read from.
  let first = Infinity;
  let last = -Infinity;
  let firstLine: Buffer | undefined;
  let lastLine: Buffer | undefined;
  const prefix = Buffer.from(`{"ts":"${new Date(m).toISOString().slice(0, 16)}`, 'latin1');
  const sink: LineSink = {
    line(buf, start, end, lineNo) {
      const ts = timeAtStart(buf, start, end, prefix, m);
      if (ts === undefined || (ts <= x) === nearIsBefore || isQueueAt(buf, start + prefix.length + 9, end)) {
        parse.line(buf, start, end, lineNo);
        return;
      }
      if (ts < first) {
        first = ts;
        firstLine = Buffer.from(buf.subarray(start, end));
      }
      if (ts > last) {
        last = ts;
        lastLine = Buffer.from(buf.subarray(start, end));
      }
    },
    tooLong() {
      // Malformed, and counted when the file was indexed.
    },
  };
  await readRange(f.path, e.from, e.to, sink);
  if (parsed.records < r.records && !(isRecordAt(firstLine, first) && isRecordAt(lastLine, last))) return false;
  const rest = Rollup.without(r, parsed, first, last);
  if (rest === undefined) return false;
  acc.merge(parsedAcc);
  addWhole(acc, rest);
  return true;
}

const QUEUE_TYPE = Buffer.from(',"type":"queue"', 'latin1');

function isQueueAt(buf: Buffer, at: number, end: number): boolean {
  return at + QUEUE_TYPE.length <= end && buf.compare(QUEUE_TYPE, 0, QUEUE_TYPE.length, at, at + QUEUE_TYPE.length) === 0;
}

/** Whether `line` is a record of time `ts` (a line that looked like one may be malformed). */
function isRecordAt(line: Buffer | undefined, ts: number): boolean {
  if (line === undefined) return false;
  const p = parseRecord(line.toString('utf8'));
  return p.ok && p.record.ts === ts;
}

/**
 * The time of a line that starts `{"ts":"` + the minute's `YYYY-MM-DDTHH:MM` (in `prefix`) +
 * `:SS.mmmZ"` and holds no backslash and no second `"ts"` (JSON.parse would take the last of two
 * keys, and an escape could spell one); undefined for any other line.
 */
function timeAtStart(buf: Buffer, start: number, end: number, prefix: Buffer, minute: number): number | undefined {
  const p = start + prefix.length;
  if (end - start < prefix.length + 10 || buf.compare(prefix, 0, prefix.length, start, p) !== 0) return undefined;
  if (buf[p] !== 0x3a || buf[p + 3] !== 0x2e || buf[p + 7] !== 0x5a || buf[p + 8] !== 0x22) return undefined;
  const d = (i: number) => {
    const c = buf[p + i]! - 0x30;
    return c >= 0 && c <= 9 ? c : NaN;
  };
  const sec = d(1) * 10 + d(2);
  const ms = d(4) * 100 + d(5) * 10 + d(6);
  if (!(sec <= 59) || !(ms >= 0)) return undefined;
  // Searched within the line only (a search from `start` would run on through the chunk).
  const line = buf.subarray(start, end);
  if (line.indexOf(0x5c) !== -1 || line.indexOf('"ts"', prefix.length) !== -1) return undefined;
  return minute + sec * 1000 + ms;
}

/** Re-reads a cut minute's byte range; only that minute's records count (its lines may mix). */
async function rereadMinute(f: IndexedFile, m: number, from: number, to: number, acc: WindowAccumulator, fastPath?: boolean): Promise<void> {
  const end = m + MINUTE_MS;
  const onRecord = (r: MetricRecord) => {
    if (r.ts >= m && r.ts < end) acc.add(r);
  };
  // Malformed lines were counted when the file was indexed: here they are only skipped.
  const sink = recordLineSink(f.path, onRecord, new MalformedLog(), { fastPath, ids: false });
  if (f.gzip) await readGzipRange(f.path, from, to, sink);
  else await readRange(f.path, from, to, sink);
}

/** The lines starting in [from, to) of a gzip file's decompressed content. */
async function readGzipRange(path: string, from: number, to: number, sink: LineSink): Promise<void> {
  const splitter = new LineSplitter(sink);
  const input = createReadStream(path);
  const gunzip = createGunzip();
  input.on('error', (e) => gunzip.destroy(e)).pipe(gunzip);
  let pos = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      const start = pos;
      pos += chunk.length;
      if (pos <= from) continue;
      const s = Math.max(0, from - start);
      const nl = to - start <= chunk.length ? chunk.indexOf(10, Math.max(s, to - 1 - start)) : -1;
      splitter.push(chunk.subarray(s, nl === -1 ? chunk.length : nl + 1));
      if (nl !== -1) break;
    }
  } catch {
    // A damaged archive was reported when it was indexed; what decompressed is what counts.
  } finally {
    input.destroy();
    gunzip.destroy();
  }
}
