import { closeSync, openSync, readSync } from 'node:fs';
import { MAX_LINE_BYTES, type LineSink } from '../read/line-splitter.js';
import { MalformedLog } from '../read/malformed.js';
import { recordLineSink } from '../read/read-log-file.js';
import { WindowAccumulator, type ReportBounds } from '../report/window-accumulator.js';
import type { MetricRecord } from '../schema.js';
import { MINUTE_MS, Rollup, type WithoutOptions } from '../stats/rollup.js';
import type { MinuteEntry } from './file-index.js';

/**
 * A cut minute re-read in part: its records on the cut's near side (and any it could not tell)
 * sorted into the window's ranges, and the rest as one rollup, all on the far side — or, when
 * the rest could not be told, undefined and every record in `parsed`.
 */
export interface NearEdge {
  parsed: WindowAccumulator;
  rest: Rollup | undefined;
}

/** The share of a cut minute's time on the cut's nearer side below which readNearEdge applies. */
export const NEAR_EDGE = 0.1;
/** A minute's byte range larger than this (its lines far apart) is re-read as usual. */
export const NEAR_EDGE_MAX_BYTES = 8 * 1024 * 1024;

/**
 * A minute that one boundary `x` cuts close to its first or last record: parses only the lines on
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
 * per call. Returns undefined, before reading anything, for a minute not of this kind (or one
 * shorter now than when indexed): the caller re-reads it as usual.
 */
export async function readNearEdge(path: string, m: number, e: MinuteEntry, x: number, b: ReportBounds, fastPath?: boolean): Promise<NearEdge | undefined> {
  const r = e.rollup;
  const before = (x - r.firstTs) / (r.lastTs - r.firstTs);
  if ((before > NEAR_EDGE && before < 1 - NEAR_EDGE) || e.to - e.from > NEAR_EDGE_MAX_BYTES) return undefined;
  const bytes = readBytes(path, e.from, e.to);
  if (bytes === undefined) return undefined; // shorter than indexed: re-read as usual
  const text = (bytes as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(0, bytes.length);
  const nearIsBefore = before <= 0.5;
  const minuteEnd = m + MINUTE_MS;
  const inMinute = (rec: MetricRecord) => rec.ts >= m && rec.ts < minuteEnd;
  // What is parsed: its rollup, and the same records sorted into the window's ranges.
  const parsed = new Rollup();
  const parsedAcc = new WindowAccumulator(b);
  const parse = rereadSink(path, (rec) => {
    if (!inMinute(rec)) return;
    parsed.add(rec);
    parsedAcc.add(rec);
  }, fastPath);
  // The far side's lines as [start, end) pairs, and which of them hold its first and last time.
  const far: number[] = [];
  let first = Infinity;
  let last = -Infinity;
  let firstAt = -1;
  let lastAt = -1;
  const prefix = `{"ts":"${new Date(m).toISOString().slice(0, 16)}`;
  /** Whether far line i (an index into `far`) is a record at `ts`. */
  const recordAt = (i: number, ts: number) => i >= 0 && parseOne(bytes, far[i]!, far[i + 1]!, path, fastPath)?.ts === ts;
  let backslash = text.indexOf('\\');
  // Where the scan stopped early (see below), and the latest far time so far with its line.
  let stoppedAt = -1;
  let maxFar = -Infinity;
  let maxFarAt = -1;
  let late = nearIsBefore ? e.late : Infinity;
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
      if (ts > maxFar) {
        maxFar = ts;
        maxFarAt = far.length;
      }
      far.push(pos, nl);
      // A record at maxFar is followed by none earlier than maxFar − late: once that is past the
      // cut and no earlier than the far side's first time so far, the lines left hold no record
      // of the near side and none earlier than `first`. Whether the line at maxFar is a record is
      // checked (a malformed line's time proves nothing); if not, the scan goes on to the end.
      if (maxFar - late >= first) {
        if (recordAt(maxFarAt, maxFar)) {
          stoppedAt = nl + 1;
          break;
        }
        late = Infinity;
      }
    }
    pos = nl + 1;
  }
  if (stoppedAt !== -1) {
    // The minute's latest record is on the far side (one past the cut has been seen). Queue
    // samples left are parsed as before (Rollup.without tells the rest's queue figures exactly
    // only without samples on both sides), found by their text.
    last = r.lastTs;
    lastAt = -1;
    for (let q = text.indexOf(',"type":"queue"', stoppedAt); q !== -1; ) {
      const start = text.lastIndexOf('\n', q) + 1;
      let end = text.indexOf('\n', q);
      if (end === -1) end = text.length;
      if (end - start <= MAX_LINE_BYTES) parse.line(bytes, start, end, 0);
      q = text.indexOf(',"type":"queue"', end);
    }
  }
  /**
   * The lines after the stop not parsed yet, for the ways that need every line: into `far`, but
   * those with an escape parsed now, as before the stop (farExtremes reads names from the text).
   * Returns whether the minute's latest record may now be among the parsed ones: then the far
   * side's last time is not known.
   */
  const addTail = (): boolean => {
    if (stoppedAt === -1) return false;
    for (let pos = stoppedAt; pos < text.length; ) {
      let nl = text.indexOf('\n', pos);
      if (nl === -1) nl = text.length;
      const line = text.slice(pos, nl);
      if (nl - pos > MAX_LINE_BYTES || line.includes(',"type":"queue"')) {
        // too long (malformed), or parsed already
      } else if (line.includes('\\')) parse.line(bytes, pos, nl, 0);
      else far.push(pos, nl);
      pos = nl + 1;
    }
    stoppedAt = -1;
    return parsed.lastTs >= r.lastTs;
  };
  // After a stop, a parsed record at the minute's latest time leaves the far side's last unknown.
  const lastKnown = stoppedAt !== -1 ? parsed.lastTs < r.lastTs : recordAt(lastAt, last);
  const told = parsed.records === r.records || (recordAt(firstAt, first) && lastKnown);
  const ties: NonNullable<WithoutOptions['ties']> = [];
  let rest = told ? Rollup.without(r, parsed, { first, last, ties }) : undefined;
  if (rest === undefined && ties.length > 0) {
    // The near side holds a minimum or maximum of some stages or models: find the far side's
    // own among its lines of those names only (and lines whose name is not where a writer puts it).
    const lastLost = addTail();
    const extremes = farExtremes(bytes, text, far, ties, prefix.length + 9, inMinute, path, fastPath);
    if (!lastLost) rest = Rollup.without(r, parsed, { first, last, extremes: (kind, name) => extremes.get(`${kind}:${name}`) });
  }
  if (rest === undefined) {
    addTail();
    // Sorted into the ranges only: no rollup of them is needed.
    const sortOnly = rereadSink(path, (rec) => void (inMinute(rec) && parsedAcc.add(rec)), fastPath);
    for (let i = 0; i < far.length; i += 2) sortOnly.line(bytes, far[i]!, far[i + 1]!, 0);
  }
  return { parsed: parsedAcc, rest };
}

/**
 * The sink a cut minute's lines are re-read through: records only (no ids), the recorder's own
 * lines by their pattern first (see pattern-parse.ts), malformed lines skipped — they were
 * counted when the file was indexed.
 */
export function rereadSink(path: string, onRecord: (r: MetricRecord) => void, fastPath?: boolean): LineSink {
  return recordLineSink(path, onRecord, new MalformedLog(), { fastPath, ids: false, pattern: true });
}

/** The bytes [from, to) of a plain file, or undefined when it is shorter now. */
export function readBytes(path: string, from: number, to: number): Buffer | undefined {
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
export function parseOne(bytes: Buffer, start: number, end: number, path: string, fastPath?: boolean): MetricRecord | undefined {
  let out: MetricRecord | undefined;
  rereadSink(path, (rec) => (out = { ...rec }), fastPath).line(bytes, start, end, 0);
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
  const parse = rereadSink(path, onRecord, fastPath);
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

