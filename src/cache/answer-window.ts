import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { LineSplitter, MAX_LINE_BYTES, type LineSink } from '../read/line-splitter.js';
import { MalformedLog } from '../read/malformed.js';
import { recordLineSink } from '../read/read-log-file.js';
import { readRange } from '../read/read-range.js';
import { WindowAccumulator, type ReportBounds } from '../report/window-accumulator.js';
import { parseRecord, type MetricRecord } from '../schema.js';
import { MINUTE_MS, Rollup, type WithoutOptions } from '../stats/rollup.js';
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
/** A minute's byte range larger than this (its lines far apart) is re-read as usual. */
const NEAR_EDGE_MAX_BYTES = 8 * 1024 * 1024;

/**
 * A minute that one boundary cuts close to its first or last record: parses only the lines on
 * the near side of the cut (and any line whose time or kind its first bytes do not tell), and
 * takes the other records as the minute's rollup less those parsed, so most of the minute is not
 * parsed. A line's time is told by its first bytes when it starts `{"ts":"` and the minute's own
 * `YYYY-MM-DDTHH:MM:SS.mmmZ"`, with no backslash and no other `"ts"` in the line; a queue sample
 * (`,"type":"queue"` next) is always parsed, samples being few and their depths often equal. The
 * unparsed records' first and last times come from their lines, and the two lines they came from
 * are checked to be records. Where the near side holds a minimum or maximum of a stage or model,
 * the far side's own comes from its lines of that name. When Rollup.without still cannot tell the
 * rest exactly, the far side's lines are parsed too: the answer is then a whole re-read's.
 *
 * The minute's lines are read in one piece and looked at as one latin1 string: in a run this
 * short V8 has optimised nothing yet, and string built-ins cost a fraction of Buffer's methods
 * per call. Returns false, before reading anything, for a minute not of this kind.
 */
async function answerNearEdge(f: IndexedFile, m: number, e: MinuteEntry, acc: WindowAccumulator, fastPath?: boolean): Promise<boolean> {
  const r = e.rollup;
  const b = acc.bounds;
  const cuts = [b.until, b.from, ...(b.previousFrom === undefined ? [] : [b.previousFrom])].filter((x) => r.firstTs <= x && r.lastTs > x);
  if (f.gzip || cuts.length !== 1 || straddlesDay(r, b) || e.to - e.from > NEAR_EDGE_MAX_BYTES) return false;
  const x = cuts[0]!;
  const before = (x - r.firstTs) / (r.lastTs - r.firstTs);
  if (before > NEAR_EDGE && before < 1 - NEAR_EDGE) return false;
  const bytes = readBytes(f.path, e.from, e.to);
  if (bytes === undefined) return false; // shorter than indexed: re-read as usual
  const text = (bytes as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(0, bytes.length);
  const nearIsBefore = before <= 0.5;
  const minuteEnd = m + MINUTE_MS;
  const inMinute = (rec: MetricRecord) => rec.ts >= m && rec.ts < minuteEnd;
  // What is parsed: its rollup, and the same records sorted into the window's ranges.
  const parsed = new Rollup();
  const parsedAcc = new WindowAccumulator(b);
  const parse = recordLineSink(
    f.path,
    (rec) => {
      if (!inMinute(rec)) return;
      parsed.add(rec);
      parsedAcc.add(rec);
    },
    new MalformedLog(), // counted when the file was indexed
    { fastPath, ids: false },
  );
  // The far side's lines as [start, end) pairs, and which of them hold its first and last time.
  const far: number[] = [];
  let first = Infinity;
  let last = -Infinity;
  let firstAt = -1;
  let lastAt = -1;
  const prefix = `{"ts":"${new Date(m).toISOString().slice(0, 16)}`;
  let backslash = text.indexOf('\\');
  for (let pos = 0, lineNo = 1; pos < text.length; lineNo++) {
    let nl = text.indexOf('\n', pos);
    if (nl === -1) nl = text.length;
    if (backslash !== -1 && backslash < pos) backslash = text.indexOf('\\', pos);
    const ts = backslash !== -1 && backslash < nl ? undefined : timeAtStart(text, pos, nl, prefix, m);
    if (nl - pos > MAX_LINE_BYTES) {
      // Malformed (too long), and counted when the file was indexed.
    } else if (ts === undefined || (ts <= x) === nearIsBefore || text.startsWith(',"type":"queue"', pos + prefix.length + 9)) {
      parse.line(bytes, pos, nl, lineNo);
    } else {
      if (ts < first) {
        first = ts;
        firstAt = far.length;
      }
      if (ts > last) {
        last = ts;
        lastAt = far.length;
      }
      far.push(pos, nl);
    }
    pos = nl + 1;
  }
  const recordAt = (i: number, ts: number) => i >= 0 && parseOne(bytes, far[i]!, far[i + 1]!, f.path, fastPath)?.ts === ts;
  const told = parsed.records === r.records || (recordAt(firstAt, first) && recordAt(lastAt, last));
  const ties: NonNullable<WithoutOptions['ties']> = [];
  let rest = told ? Rollup.without(r, parsed, { first, last, ties }) : undefined;
  if (rest === undefined && ties.length > 0) {
    // The near side holds a minimum or maximum of some stages or models: find the far side's
    // own among its lines of those names only (and lines whose name is not where a writer puts it).
    const extremes = farExtremes(bytes, text, far, ties, prefix.length + 9, inMinute, f.path, fastPath);
    rest = Rollup.without(r, parsed, { first, last, extremes: (kind, name) => extremes.get(`${kind}:${name}`) });
  }
  if (rest === undefined) {
    // Sorted into the ranges only: no rollup of them is needed.
    const sortOnly = recordLineSink(f.path, (rec) => void (inMinute(rec) && parsedAcc.add(rec)), new MalformedLog(), { fastPath, ids: false });
    for (let i = 0; i < far.length; i += 2) sortOnly.line(bytes, far[i]!, far[i + 1]!, 0);
  }
  acc.merge(parsedAcc);
  if (rest !== undefined) addWhole(acc, rest);
  return true;
}

/** The bytes [from, to) of a plain file, or undefined when it is shorter now. */
function readBytes(path: string, from: number, to: number): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const out = Buffer.allocUnsafe(to - from);
    let got = 0;
    while (got < out.length) {
      const n = readSync(fd, out, got, out.length - got, from + got);
      if (n === 0) return undefined;
      got += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** The record of one line (a copy: readers reuse theirs), or undefined if it is not one. */
function parseOne(bytes: Buffer, start: number, end: number, path: string, fastPath?: boolean): MetricRecord | undefined {
  let out: MetricRecord | undefined;
  recordLineSink(path, (rec) => (out = { ...rec }), new MalformedLog(), { fastPath, ids: false }).line(bytes, start, end, 0);
  return out;
}

/**
 * The smallest and largest duration per tied stage or model (`stage:name`, `model:name`) among
 * the far side's lines: parses a line only when it names one of them where a writer puts the
 * name — `,"stage":"` or `,"type":"llm","model":"` right after the time — or when it does not
 * name something else there for certain.
 */
function farExtremes(bytes: Buffer, text: string, far: readonly number[], ties: ReadonlyArray<{ kind: 'stage' | 'model'; name: string }>, after: number, inMinute: (r: MetricRecord) => boolean, path: string, fastPath?: boolean): Map<string, { min: number; max: number }> {
  const keys = new Set(ties.map((t) => `${t.kind}:${t.name}`));
  const leads = [',"stage":"', ',"type":"llm","model":"'];
  const out = new Map<string, { min: number; max: number }>();
  const onRecord = (rec: MetricRecord) => {
    if (!inMinute(rec) || rec.type === 'queue' || rec.durationMs === undefined) return;
    const key = rec.type === 'stage' ? `stage:${rec.stage}` : `model:${rec.model}`;
    if (!keys.has(key)) return;
    const x = out.get(key);
    if (x === undefined) out.set(key, { min: rec.durationMs, max: rec.durationMs });
    else {
      if (rec.durationMs < x.min) x.min = rec.durationMs;
      if (rec.durationMs > x.max) x.max = rec.durationMs;
    }
  };
  const parse = recordLineSink(path, onRecord, new MalformedLog(), { fastPath, ids: false });
  // Another name for certain: the line names an untied one at the writer's place and holds no
  // other key that could rename it (JSON.parse takes the last of repeated keys; these lines hold
  // no escapes).
  const namesOther = (start: number, end: number): boolean => {
    const at = start + after;
    const lead = leads.findIndex((l) => text.startsWith(l, at));
    if (lead === -1) return false;
    const nameStart = at + leads[lead]!.length;
    const nameEnd = text.indexOf('"', nameStart);
    if (nameEnd === -1 || nameEnd >= end) return false;
    const name = text.slice(nameStart, nameEnd);
    // Bytes of UTF-8 read as latin1 spell another name: parse the line.
    if (/[^\x20-\x7e]/.test(name) || keys.has(`${lead === 0 ? 'stage' : 'model'}:${name}`)) return false;
    const line = text.slice(nameEnd, end);
    return !line.includes('"stage"') && !line.includes('"type"') && !line.includes('"model"');
  };
  for (let i = 0; i < far.length; i += 2) if (!namesOther(far[i]!, far[i + 1]!)) parse.line(bytes, far[i]!, far[i + 1]!, 0);
  return out;
}

/**
 * The time of a line [start, end) of `text` that starts with `prefix` (`{"ts":"` and the minute's
 * `YYYY-MM-DDTHH:MM`) then `:SS.mmmZ"`, and holds no second `"ts"` (JSON.parse would take the
 * last of two keys; the caller rules out escapes); undefined for any other line.
 */
function timeAtStart(text: string, start: number, end: number, prefix: string, minute: number): number | undefined {
  const p = start + prefix.length;
  if (end - p < 10 || !text.startsWith(prefix, start)) return undefined;
  if (text.charCodeAt(p) !== 0x3a || text.charCodeAt(p + 3) !== 0x2e || text.charCodeAt(p + 7) !== 0x5a || text.charCodeAt(p + 8) !== 0x22) return undefined;
  const d = (i: number) => {
    const c = text.charCodeAt(p + i) - 0x30;
    return c >= 0 && c <= 9 ? c : NaN;
  };
  const sec = d(1) * 10 + d(2);
  const ms = d(4) * 100 + d(5) * 10 + d(6);
  if (!(sec <= 59) || !(ms >= 0)) return undefined;
  // The next "ts" after this one is at most the next line's own.
  const again = text.indexOf('"ts"', p);
  return again !== -1 && again < end ? undefined : minute + sec * 1000 + ms;
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
