import { MAX_LINE_BYTES } from '../read/line-splitter.js';
import { WindowAccumulator, type ReportBounds } from '../report/window-accumulator.js';
import type { MetricRecord } from '../schema.js';
import { MINUTE_MS } from '../stats/rollup.js';
import type { MinuteEntry } from './file-index.js';
import { NEAR_EDGE_MAX_BYTES, parseOne, readBytes, rereadSink } from './read-near-edge.js';

/**
 * A cut minute re-read on one side of its cut only. `parsed` holds that side's records sorted into
 * the window's ranges; when `dayFromRollup`, it holds no day sums or queue sample, and the minute's
 * own rollup (all of which lies in the day, if any does) answers those.
 */
export interface CountingSide {
  parsed: WindowAccumulator;
  dayFromRollup: boolean;
}

/** Probing stops once the lines left to tell apart fit in this many bytes. */
const PROBE_SPAN = 4096;

/**
 * A minute that one boundary `x` cuts where one side of the cut counts in no window: the side
 * after `until`, or the side before the window's start (the previous window's, for the trend
 * rules) that only the day's sums and the latest queue sample see — and those the minute's rollup
 * answers whole. Only the other side's lines are parsed: a window ending at a time of day (`perfmon
 * issues` from cron) cuts its minutes anywhere, and the whole minute would be thousands of lines
 * parsed by code V8 has not optimised yet.
 *
 * Where the counting side begins (or ends) in the file is found by bisecting the minute's bytes
 * and parsing a line at each probe. The minute's records lie at most `late` ms out of time order
 * (see MinuteEntry.late): a record at t ≤ x − late has no record after x before it, and a record at
 * t > x + late none at or before x after it, so the lines past such a record (or before it) are
 * left unread. Only records parsed at a probe prove anything; a malformed line, or one of another
 * minute, is stepped over. Returns undefined, before reading, for a minute of another kind (or one
 * shorter now than when indexed): the caller reads it another way.
 */
export function readCountingSide(path: string, m: number, e: MinuteEntry, x: number, b: ReportBounds, fastPath?: boolean): CountingSide | undefined {
  const atEnd = x === b.until;
  if (!atEnd && x !== (b.previousFrom ?? b.from)) return undefined; // both sides count
  if (e.to - e.from > NEAR_EDGE_MAX_BYTES) return undefined;
  const bytes = readBytes(path, e.from, e.to);
  if (bytes === undefined) return undefined;
  const minuteEnd = m + MINUTE_MS;
  const timeAt = (start: number, end: number): number | undefined => {
    const ts = end - start <= MAX_LINE_BYTES ? parseOne(bytes, start, end, path, fastPath)?.ts : undefined;
    return ts !== undefined && ts >= m && ts < minuteEnd ? ts : undefined;
  };
  // The day's sums of the side before the window come with the minute's rollup: none from here.
  const bounds = atEnd ? b : { ...b, dayStart: Infinity };
  const parsed = new WindowAccumulator(bounds);
  // Before the window, only records after x count; at the end, parsed.add leaves those after x.
  const sink = rereadSink(path, (r: MetricRecord) => void (r.ts >= m && r.ts < minuteEnd && (atEnd || r.ts > x) && parsed.add(r)), fastPath);
  // At the end: parse up to a record later than x + late. Before the window: from a record no
  // later than x − late.
  const [from, to] = atEnd ? [0, firstLineWhere(bytes, timeAt, (t) => t > x + e.late)] : [lastLineWhere(bytes, timeAt, (t) => t <= x - e.late), bytes.length];
  for (let pos = from; pos < to; ) {
    let nl = bytes.indexOf(10, pos);
    if (nl === -1 || nl > to) nl = to;
    // Malformed lines were counted when the file was indexed: here too-long ones are skipped.
    if (nl - pos <= MAX_LINE_BYTES) sink.line(bytes, pos, nl, 0);
    pos = nl + 1;
  }
  return { parsed, dayFromRollup: !atEnd };
}

type TimeAt = (start: number, end: number) => number | undefined;

interface Timed {
  start: number;
  end: number;
  ts: number;
}

/**
 * The records in [from, to) that `timeAt` tells, in file order, until `stop` returns true for
 * one: that one (its line's start and end, and its time), or undefined.
 */
function scanTimed(bytes: Buffer, from: number, to: number, timeAt: TimeAt, stop: (r: Timed) => boolean): Timed | undefined {
  for (let pos = from; pos < to; ) {
    let nl = bytes.indexOf(10, pos);
    if (nl === -1) nl = bytes.length;
    const ts = timeAt(pos, nl);
    if (ts !== undefined) {
      const r = { start: pos, end: nl, ts };
      if (stop(r)) return r;
    }
    pos = nl + 1;
  }
  return undefined;
}

const any = () => true;

/** The first line starting at or after byte `at`. */
function lineStartAtOrAfter(bytes: Buffer, at: number): number {
  if (at <= 0) return 0;
  const nl = bytes.indexOf(10, at - 1);
  return nl === -1 ? bytes.length : nl + 1;
}

interface Probe {
  mid: number;
  probe: Timed | undefined;
}

/**
 * A probe of [lo, hi): the first line starting at or after its middle, and the first record from
 * there on (undefined when there is none before hi); undefined when no line starts there.
 */
function probeMiddle(bytes: Buffer, lo: number, hi: number, timeAt: TimeAt): Probe | undefined {
  const mid = lineStartAtOrAfter(bytes, (lo + hi) >>> 1);
  return mid >= hi ? undefined : { mid, probe: scanTimed(bytes, mid, hi, timeAt, any) };
}

/**
 * A line start p such that `ok` holds for the time of a record starting at p, or p = bytes.length;
 * bisected towards the earliest such record (any one found will do: it only bounds the read).
 */
function firstLineWhere(bytes: Buffer, timeAt: TimeAt, ok: (ts: number) => boolean): number {
  // Invariant: hi is bytes.length or the start of a record where ok holds; lo ≤ hi.
  let lo = 0;
  let hi = bytes.length;
  for (let p: Probe | undefined; hi - lo > PROBE_SPAN && (p = probeMiddle(bytes, lo, hi, timeAt)) !== undefined; ) {
    // No record between the middle and hi: the middle's line start bounds the read as hi does.
    if (p.probe === undefined) hi = p.mid;
    else if (ok(p.probe.ts)) hi = p.probe.start;
    else lo = p.probe.end + 1;
  }
  return scanTimed(bytes, lo, hi, timeAt, (r) => ok(r.ts))?.start ?? hi;
}

/**
 * A line start p such that `ok` holds for the time of a record starting at p, or 0; bisected
 * towards the latest such record.
 */
function lastLineWhere(bytes: Buffer, timeAt: TimeAt, ok: (ts: number) => boolean): number {
  // Invariant: lo is 0 or the start of a record where ok holds; the answer lies in [lo, hi).
  let lo = 0;
  let hi = bytes.length;
  for (let p: Probe | undefined; hi - lo > PROBE_SPAN && (p = probeMiddle(bytes, lo, hi, timeAt)) !== undefined; ) {
    if (p.probe !== undefined && ok(p.probe.ts)) lo = p.probe.start;
    else hi = p.mid;
  }
  // The latest record in [lo, hi) where ok holds, else lo.
  let best = lo;
  scanTimed(bytes, lo, hi, timeAt, (r) => {
    if (ok(r.ts)) best = r.start;
    return false;
  });
  return best;
}
