import { createReadStream } from 'node:fs';
import { LineSplitter, type LineSink } from '../read/line-splitter.js';
import { readRange } from '../read/read-range.js';
import { WindowAccumulator, type ReportBounds } from '../report/window-accumulator.js';
import type { MetricRecord } from '../schema.js';
import { MINUTE_MS, Rollup } from '../stats/rollup.js';
import { BLOCK_MS, blockOf, spanOf, type BlockEntry, type DaySums, type FileIndex, type FileSummary, type MinuteEntry, type RecordSpan, type SummarySpan } from './file-index.js';
import { readCountingSide } from './read-counting-side.js';
import { readNearEdge, rereadSink } from './read-near-edge.js';
import { lazyZlib } from '../read/lazy-zlib.js';

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
 * records sorted one by one — only its near side's when the cut is close to its edge (see
 * read-near-edge.ts), only the side that counts when the other counts in no window (see
 * read-counting-side.ts) — so the answer is exact to the millisecond.
 */
export async function answerWindow(files: readonly IndexedFile[], bounds: ReportBounds, o: { fastPath?: boolean; saved?: readonly SavedFiles[] } = {}): Promise<WindowAccumulator> {
  const acc = new WindowAccumulator(bounds);
  // Files wholly inside the window, answered together at the end (see addWholeFiles).
  const inWindow: IndexedFile[] = [];
  for (const f of files) {
    const sum = f.summary;
    // A file is placed by its span; its rollup is decoded only when merged (see SavedSummary).
    if (sum && !straddlesWindows(sum.span, bounds)) {
      const r = sum.span;
      if (r.records > 0 && r.firstTs > bounds.from && r.firstTs <= bounds.until) inWindow.push(f);
      else addSpanToWindows(acc, r, () => sum.rollup);
      // Only the day's start may fall inside (a file that crosses midnight): its sums per day say
      // what the day holds, so even then the minutes stay unread.
      if (!straddlesDay(r, bounds)) addSpanToDay(acc, r, () => sum.rollup);
      else if (r.firstTs <= bounds.until) addDaySums(acc, sum.days.get(bounds.dayStart));
      continue;
    }
    let units = unitsOf(f.index, bounds);
    const idle = idleIn(bounds, sum?.span);
    const cuts = sum === undefined || straddlesDay(sum.span, bounds) ? [] : windowCuts(sum.span, bounds);
    if (sum !== undefined && cuts.length > 0) units = answerLargestGroup(acc, sum, units, cuts, idle);
    for (const u of units) {
      const span = spanOf(u.entry);
      if (!straddles(span, bounds)) {
        if (!idle(span)) addWhole(acc, u.entry.rollup);
        continue;
      }
      // Only a minute is cut: a block a boundary falls inside is its minutes (unitsOf).
      const m = u.start;
      const e = u.minute!;
      const x = f.gzip ? undefined : onlyCut(span, bounds);
      if (x === undefined || !(await answerCut(acc, f.path, m, e, x, o.fastPath))) await rereadMinute(f, m, e.from, e.to, acc, o.fastPath);
    }
  }
  addWholeFiles(acc, inWindow, o.saved ?? []);
  return acc;
}

/**
 * Minutes of a file answered as one: a minute, or a block of them (FileIndex.blocks) that no
 * boundary falls inside — its records all on one side of each, as a minute's are when none cuts it.
 */
interface Unit {
  /** Its first minute's start. */
  start: number;
  /** The starts of the minutes it holds. */
  minutes: readonly number[];
  entry: MinuteEntry | BlockEntry;
  /** Set when it is one minute: only a minute is ever cut. */
  minute?: MinuteEntry;
}

/** The index's minutes in time order, those of each block no boundary cuts as one unit. */
function unitsOf(index: FileIndex, bounds: ReportBounds): Unit[] {
  const sorted = [...index.minutes].sort((a, b) => a[0] - b[0]);
  const blocks = index.blocks;
  const out: Unit[] = [];
  for (let i = 0; i < sorted.length; ) {
    const [m, e] = sorted[i]!;
    const k = blockOf(m);
    const block = blocks?.get(k);
    if (block !== undefined && !straddles(spanOf(block), bounds)) {
      const minutes: number[] = [];
      for (; i < sorted.length && sorted[i]![0] < k + BLOCK_MS; i++) minutes.push(sorted[i]![0]);
      out.push({ start: m, minutes, entry: block });
    } else {
      out.push({ start: m, minutes: [m], entry: e, minute: e });
      i++;
    }
  }
  return out;
}

/**
 * A cache entry's files in the order of its prefixes (see index-store.ts): each with the summary
 * the entry saved for it, and the file of this run when that is the summary it answers with (the
 * file is unchanged since). `prefix(k)` is the merge of the first k files' saved summaries (k ≥ 1),
 * read and decoded on demand, a copy of its own each time.
 */
export interface SavedFiles {
  files: ReadonlyArray<{ file: IndexedFile | undefined; summary: FileSummary | undefined }>;
  prefix(k: number): Rollup;
}

/**
 * Adds to the window the files wholly inside it (each has a summary). Where a cache entry holds a
 * run of them, the run is answered at once as the prefix that ends it less the prefix before it
 * and the run's other files (Rollup.restOf: extremes, queue maxima and times read from each
 * summary), instead of a merge per file: a day's window over hourly files is two prefixes and a
 * subtraction, however many days the directory keeps.
 */
function addWholeFiles(acc: WindowAccumulator, inWindow: readonly IndexedFile[], saved: readonly SavedFiles[]): void {
  let left = inWindow;
  for (const s of saved) {
    const wanted = new Set(left);
    // The run of the entry's files from the first to the last of those wanted.
    let i = -1;
    let j = -1;
    s.files.forEach((x, k) => {
      if (x.file !== undefined && wanted.has(x.file)) {
        if (i < 0) i = k;
        j = k + 1;
      }
    });
    if (i < 0) continue;
    const run = s.files.slice(i, j);
    const covered = run.filter((x) => x.file !== undefined && wanted.has(x.file));
    const others = run.filter((x) => !(x.file !== undefined && wanted.has(x.file)));
    // Two prefixes and the run's other files, against a merge per file covered.
    if (2 + others.length >= covered.length) continue;
    const part = i > 0 ? s.prefix(i) : new Rollup();
    for (const x of others) if (x.summary !== undefined) part.merge(x.summary.rollup);
    const rest = Rollup.restOf(s.prefix(j), part, covered.map((x) => x.summary!.rollup));
    if (rest === undefined) continue;
    addToWindows(acc, rest);
    const done = new Set(covered.map((x) => x.file));
    left = left.filter((f) => !done.has(f));
  }
  for (const f of left) addToWindows(acc, f.summary!.rollup);
}

/**
 * Whether records of a span, in a file whose summary's span is `file`, can change nothing the
 * windows answer: they all lie after `until`, or before every range (the window, the previous
 * window, the day) and before the file's latest queue sample at or before `until` (so not the
 * latest sample either: that one is answered wherever it lies). Such minutes are neither decoded
 * nor merged. Without the file's summary, none is idle.
 */
function idleIn(b: ReportBounds, file: SummarySpan | undefined): (r: RecordSpan) => boolean {
  // Samples after which a minute cannot hold the latest one: none in the file, or the file's
  // latest if it counts; else no minute is known not to.
  const queueAfter = file === undefined ? -Infinity : file.queueSamples === 0 ? Infinity : file.lastQueueTs <= b.until ? file.lastQueueTs : -Infinity;
  const first = b.previousFrom ?? b.from;
  return (r) => r.records === 0 || r.firstTs > b.until || (r.lastTs <= first && r.lastTs < b.dayStart && r.lastTs < queueAfter);
}

/**
 * A file that window boundaries cut (not the day's start): its minutes fall into groups, those
 * between two cuts (or a cut and the file's edge), and the minutes a cut falls inside. Groups no
 * range holds (`idle`) are left out. The largest other group is answered at once, as the file's
 * summary less every other minute, its first and last times read from its minutes' spans
 * (Rollup.without; where that cannot be told, Rollup.restOf from each of its minutes); each other
 * group is merged once and answered as one rollup, no boundary separating its minutes. That pays
 * when the minutes it leaves undecoded outnumber those it merges only to subtract them (the idle
 * ones among them): the day's first file, cut by the window's start a little after its first
 * minute, or an hour both the window and the previous window start in. The minutes come as
 * units (a block no boundary cuts is one). Returns the units still to answer one by one: the cut
 * minutes, or all of them (the caller skips the idle ones).
 */
function answerLargestGroup(acc: WindowAccumulator, file: FileSummary, units: Unit[], cuts: readonly number[], idle: (r: RecordSpan) => boolean): Unit[] {
  const groups: Unit[][] = Array.from({ length: cuts.length + 1 }, () => []);
  const cutMinutes: Unit[] = [];
  for (const u of units) {
    const r = spanOf(u.entry);
    if (r.records === 0 || cuts.some((x) => r.firstTs <= x && r.lastTs > x)) cutMinutes.push(u);
    // A minute (or block) no cut falls inside lies wholly after as many cuts as its first record does.
    else groups[cuts.reduce((k, x) => (x < r.firstTs ? k + 1 : k), 0)]!.push(u);
  }
  const idleGroups = new Set(groups.filter((g) => g.every((u) => idle(spanOf(u.entry)))));
  const used = groups.filter((g) => !idleGroups.has(g));
  if (used.length === 0) return units;
  const large = used.reduce((a, b) => (b.length > a.length ? b : a));
  // Against answering each used minute (a decode and a merge), the subtraction merges the idle
  // groups' minutes and the cut ones into the part subtracted, each other used group twice more
  // (answered, and into the part), and costs about one more for the file's summary and itself.
  let extra = cutMinutes.length + 1;
  for (const g of groups) if (g !== large) extra += idleGroups.has(g) ? g.length : g.length > 0 ? 1 : 0;
  if (extra >= large.length) return units;
  const part = new Rollup();
  const answered: Rollup[] = [];
  for (const g of groups) {
    if (g === large) continue;
    if (idleGroups.has(g)) {
      for (const u of g) part.merge(u.entry.rollup);
      continue;
    }
    const together = new Rollup();
    for (const u of g) together.merge(u.entry.rollup);
    part.merge(together);
    answered.push(together);
  }
  for (const u of cutMinutes) part.merge(u.entry.rollup);
  let first = Infinity;
  let last = -Infinity;
  for (const u of large) {
    const s = spanOf(u.entry);
    if (s.firstTs < first) first = s.firstTs;
    if (s.lastTs > last) last = s.lastTs;
  }
  const largeMinutes = new Set(large.flatMap((u) => u.minutes));
  const partMinutes = new Set(units.flatMap((u) => u.minutes).filter((m) => !largeMinutes.has(m)));
  const whole = file.rollup;
  const rest = Rollup.without(whole, part, { first, last, partMinutes }) ?? Rollup.restOf(whole, part, large.map((u) => u.entry.rollup));
  if (rest === undefined) return units;
  addWhole(acc, rest);
  for (const r of answered) addWhole(acc, r);
  return cutMinutes;
}

/** Whether a boundary falls between the first and the last record of `r`. */
export function straddles(r: RecordSpan, b: ReportBounds): boolean {
  return straddlesWindows(r, b) || straddlesDay(r, b);
}

/** The window's, the previous window's and `until`'s boundaries that fall inside `r`. */
function windowCuts(r: RecordSpan, b: ReportBounds): number[] {
  if (r.records === 0) return [];
  // The window, the previous window and `until` are (x, y] ranges.
  const bounds = b.previousFrom === undefined ? [b.until, b.from] : [b.until, b.from, b.previousFrom];
  return bounds.filter((x) => r.firstTs <= x && r.lastTs > x);
}

function straddlesWindows(r: RecordSpan, b: ReportBounds): boolean {
  return windowCuts(r, b).length > 0;
}

/** The one boundary inside `r` when there is exactly one and it is not the day's start. */
function onlyCut(r: RecordSpan, b: ReportBounds): number | undefined {
  const cuts = windowCuts(r, b);
  return cuts.length === 1 && !straddlesDay(r, b) ? cuts[0] : undefined;
}

/** Whether the day's start falls inside `r` (the day is [dayStart, until]). */
function straddlesDay(r: RecordSpan, b: ReportBounds): boolean {
  return r.records > 0 && r.firstTs < b.dayStart && r.lastTs >= b.dayStart;
}

/** Records no boundary separates: all fall where the first one does. */
function addWhole(acc: WindowAccumulator, r: Rollup): void {
  addToWindows(acc, r);
  addToDay(acc, r);
}

/** The window-side part of addWhole: the window or previous window, and the latest queue sample. */
function addToWindows(acc: WindowAccumulator, r: Rollup): void {
  addSpanToWindows(acc, r, () => r);
}

/** addToWindows by the records' span, their `rollup` asked for only when merged. */
function addSpanToWindows(acc: WindowAccumulator, r: SummarySpan, rollup: () => Rollup): void {
  const b = acc.bounds;
  const t = r.firstTs;
  if (r.records === 0 || t > b.until) return;
  if (t > b.from) acc.window.merge(rollup());
  else if (acc.previous && b.previousFrom !== undefined && t > b.previousFrom) acc.previous.merge(rollup());
  addQueue(acc, r);
}

/** The latest queue sample of records at or before `until`. */
function addQueue(acc: WindowAccumulator, r: SummarySpan): void {
  if (r.queueSamples > 0 && (r.lastQueueTs > acc.latestQueueTs || (r.lastQueueTs === acc.latestQueueTs && r.lastQueueDepth > acc.latestQueueDepth))) {
    acc.latestQueueTs = r.lastQueueTs;
    acc.latestQueueDepth = r.lastQueueDepth;
  }
}

/**
 * A minute one boundary `x` cuts, answered without parsing all its lines where that can be done:
 * only the side that counts (readCountingSide), or only the side near the minute's edge
 * (readNearEdge), whichever parses less. Returns false when neither applies.
 */
async function answerCut(acc: WindowAccumulator, path: string, m: number, e: MinuteEntry, x: number, fastPath?: boolean): Promise<boolean> {
  const r = spanOf(e);
  const b = acc.bounds;
  // The share of the minute's time on the side that would count, if one side does not.
  const counting = (x === b.until ? x - r.firstTs : r.lastTs - x) / (r.lastTs - r.firstTs);
  const countingSide = () => {
    const side = readCountingSide(path, m, e, x, b, fastPath);
    if (side === undefined) return false;
    acc.merge(side.parsed);
    if (side.dayFromRollup) addDayAndQueue(acc, e.rollup);
    return true;
  };
  if (counting <= 0.5 && countingSide()) return true;
  const near = await readNearEdge(path, m, e, x, b, fastPath);
  if (near !== undefined) {
    acc.merge(near.parsed);
    if (near.rest !== undefined) addWhole(acc, near.rest);
    return true;
  }
  return counting > 0.5 && countingSide();
}

/** A minute's day sums and latest queue sample (its window side answered apart, see readCountingSide). */
function addDayAndQueue(acc: WindowAccumulator, r: Rollup): void {
  addToDay(acc, r);
  addQueue(acc, r);
}

/** The day-side part of addWhole: today's token and cost sums, for records no boundary separates. */
function addToDay(acc: WindowAccumulator, r: Rollup): void {
  addSpanToDay(acc, r, () => r);
}

/** addToDay by the records' span, their `rollup` asked for only when they count. */
function addSpanToDay(acc: WindowAccumulator, r: RecordSpan, rollup: () => Rollup): void {
  const b = acc.bounds;
  if (r.records > 0 && r.firstTs >= b.dayStart && r.firstTs <= b.until) {
    const full = rollup();
    addDaySums(acc, { tokens: full.tokenSum, cost: full.costSum });
  }
}

function addDaySums(acc: WindowAccumulator, d: DaySums | undefined): void {
  if (d === undefined) return;
  acc.dayTokenSum.merge(d.tokens);
  acc.dayCostSum.merge(d.cost);
}

/** Re-reads a cut minute's byte range; only that minute's records count (its lines may mix). */
async function rereadMinute(f: IndexedFile, m: number, from: number, to: number, acc: WindowAccumulator, fastPath?: boolean): Promise<void> {
  const end = m + MINUTE_MS;
  const onRecord = (r: MetricRecord) => {
    if (r.ts >= m && r.ts < end) acc.add(r);
  };
  const sink = rereadSink(f.path, onRecord, fastPath);
  if (f.gzip) await readGzipRange(f.path, from, to, sink);
  else await readRange(f.path, from, to, sink);
}

/** The lines starting in [from, to) of a gzip file's decompressed content. */
async function readGzipRange(path: string, from: number, to: number, sink: LineSink): Promise<void> {
  const splitter = new LineSplitter(sink);
  const input = createReadStream(path);
  const gunzip = lazyZlib().createGunzip();
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
