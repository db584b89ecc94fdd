import type { MetricRecord } from '../schema.js';
import type { LineSink } from '../read/line-splitter.js';
import { MAX_LINE_BYTES } from '../read/line-splitter.js';
import { fastParseFlat, parsedLineEnd } from '../read/fast-parse.js';
import { MalformedLog, type MalformedSummary } from '../read/malformed.js';
import { recordLineSink } from '../read/read-log-file.js';
import { ByteFormError, ByteReader, ByteWriter } from '../stats/bytes.js';
import { RELATIVE_ACCURACY } from '../stats/duration-histogram.js';
import { ExactSum } from '../stats/exact-sum.js';
import { FlatRecord } from '../stats/flat-record.js';
import { MINUTE_MS, Rollup, type RollupData } from '../stats/rollup.js';

/**
 * The index of one log file: a mergeable Rollup per minute of record time, with the byte range
 * that holds that minute's lines, plus the file's malformed lines. Every report is answered from
 * these rollups — whole minutes merged, the minutes cut by the window's edges re-read from their
 * byte ranges — whether the index was just built (`--no-cache`) or loaded from the cache and
 * extended with the bytes appended since: the same structure computes both.
 */

export interface MinuteEntry {
  rollup: Rollup;
  /** When its records begin and end, where known without `rollup` (a minute the cache saved:
   *  see SavedMinute); spanOf() gives it or the rollup. */
  readonly span?: RecordSpan;
  /** Byte range [from, to) of the file (decompressed, for gzip) holding this minute's lines. */
  from: number;
  to: number;
  /**
   * How far out of time order this minute's records lie in the file: the most a record's time
   * falls short of a time before it in the file (ms; 0 in order, Infinity when not known). Writers
   * append in time order, and several writers' batches interleave only a little: a re-read of the
   * minute's start can stop once a record lies later than the cut by more than this, as no line
   * after it can be earlier than the cut (see read-near-edge.ts).
   */
  late: number;
}

export interface FileIndex {
  /** Where the indexed bytes end: the end of the last complete line. */
  offset: number;
  /** Complete lines indexed (in a fragment: counted from the fragment's first line). */
  lines: number;
  minutes: Map<number, MinuteEntry>;
  /**
   * The minutes of each ten (BLOCK_MS, from a multiple of it) merged, where two or more of them
   * hold records: a window's side of a file it cuts is merged a block at a time where no boundary
   * falls inside one (see answerWindow) — 29 minutes are 11 merges, not 29, and a merge in a
   * cached run is code V8 has not optimised, ≈ 65 µs a histogram. A block present is exactly the
   * merge of the index's minutes in it; a block absent is answered minute by minute.
   */
  blocks?: Map<number, BlockEntry>;
  malformed: MalformedLog;
  /** All minutes merged, when known (indexing computes it; an index loaded from the cache has
   *  its own saved copy beside it). Lets a file no boundary cuts be answered in one merge. */
  summary?: FileSummary;
}

export interface FileSummary {
  rollup: Rollup;
  /**
   * Where the file's records lie in time, and its latest queue sample: what a report asks of
   * every file, whether or not the file falls in its windows. A summary loaded from the cache
   * answers it from a few bytes and decodes `rollup` and `days` only when asked for them (a
   * directory's entry holds a summary per file: a month of hourly files is 720 of them).
   */
  readonly span: SummarySpan;
  first: number;
  last: number;
  /**
   * Token and cost sums per UTC day (the day's start, epoch ms): the day's totals (DESIGN §3) of
   * a file that crosses midnight come from here, without its minutes.
   */
  days: Map<number, DaySums>;
}

/** Ten minutes: the span of a block (FileIndex.blocks). A UTC day holds 144 of them. */
export const BLOCK_MS = 10 * MINUTE_MS;

/** Start of the block holding `ts`. */
export function blockOf(ts: number): number {
  return Math.floor(ts / BLOCK_MS) * BLOCK_MS;
}

/** A block's minutes merged, and when its records begin and end where known without the rollup. */
export interface BlockEntry {
  rollup: Rollup;
  readonly span?: RecordSpan;
}

/** How many records, from when to when (a Rollup is one). */
export type RecordSpan = Pick<Rollup, 'records' | 'firstTs' | 'lastTs'>;

/** A minute's (or block's) span, read without decoding its rollup where the cache saved it. */
export function spanOf(e: MinuteEntry | BlockEntry): RecordSpan {
  return e.span ?? e.rollup;
}

/** See FileSummary.span (a Rollup is one). */
export type SummarySpan = RecordSpan & Pick<Rollup, 'queueSamples' | 'lastQueueTs' | 'lastQueueDepth'>;

export interface DaySums {
  tokens: ExactSum;
  cost: ExactSum;
}

/** Plain data of a FileSummary, for worker messages (`typed`) and the cache's head. */
export interface FileSummaryData {
  rollup: RollupData;
  first: number;
  last: number;
  /** [day start, token partials, cost partials] */
  days: Array<[number, number[], number[]]>;
}

const DAY_MS = 86_400_000;

/** Start of the UTC day holding `ts` (UTC days are 86,400,000 ms in epoch time). */
export function dayOf(ts: number): number {
  return Math.floor(ts / DAY_MS) * DAY_MS;
}

/**
 * The merge of every minute of an index; its blocks (FileIndex.blocks) are made on the way, as
 * the minutes are merged a block at a time (ten minutes never cross a UTC day).
 */
export function summarize(index: FileIndex): FileSummary | undefined {
  let first = Infinity;
  let last = -Infinity;
  const rollup = new Rollup();
  const days = new Map<number, DaySums>();
  const blocks = (index.blocks ??= new Map());
  blocks.clear();
  for (const [k, minutes] of byBlock(index.minutes.keys())) {
    const r = minutes.length === 1 ? index.minutes.get(minutes[0]!)!.rollup : mergeMinutes(index, minutes);
    if (minutes.length > 1) blocks.set(k, { rollup: r });
    rollup.merge(r);
    addDay(days, dayOf(k), r.tokenSum, r.costSum);
    for (const m of minutes) {
      if (m < first) first = m;
      if (m > last) last = m;
    }
  }
  return first === Infinity ? undefined : { rollup, span: rollup, first, last, days };
}

/** Minutes by the block they fall in. */
function byBlock(minutes: Iterable<number>): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const m of minutes) {
    const k = blockOf(m);
    const list = out.get(k);
    if (list === undefined) out.set(k, [m]);
    else list.push(m);
  }
  return out;
}

/** A new rollup of the index's `minutes` merged. */
function mergeMinutes(index: FileIndex, minutes: readonly number[]): Rollup {
  const r = new Rollup();
  for (const m of minutes) r.merge(index.minutes.get(m)!.rollup);
  return r;
}

/** The index's minutes in the block starting at `k`. */
function minutesIn(index: FileIndex, k: number): number[] {
  const out: number[] = [];
  for (let m = k; m < k + BLOCK_MS; m += MINUTE_MS) if (index.minutes.has(m)) out.push(m);
  return out;
}

function addDay(days: Map<number, DaySums>, day: number, tokens: ExactSum, cost: ExactSum): void {
  let d = days.get(day);
  if (d === undefined) days.set(day, (d = { tokens: new ExactSum(), cost: new ExactSum() }));
  d.tokens.merge(tokens);
  d.cost.merge(cost);
}

/** Adds `b`'s records (a fragment that follows) to the summary `a`. */
function mergeSummary(a: FileSummary, b: FileSummary): void {
  a.rollup.merge(b.rollup);
  a.first = Math.min(a.first, b.first);
  a.last = Math.max(a.last, b.last);
  for (const [day, d] of b.days) addDay(a.days, day, d.tokens, d.cost);
}

export function summaryToJSON(s: FileSummary, typed = false): FileSummaryData {
  return { rollup: s.rollup.toJSON(typed), first: s.first, last: s.last, days: [...s.days].map(([day, d]) => [day, d.tokens.toJSON(), d.cost.toJSON()]) };
}

export function summaryFromJSON(d: FileSummaryData): FileSummary {
  const days = new Map<number, DaySums>();
  for (const [day, tokens, cost] of d.days) days.set(day, { tokens: ExactSum.fromJSON(tokens), cost: ExactSum.fromJSON(cost) });
  const rollup = Rollup.fromJSON(d.rollup);
  return { rollup, span: rollup, first: d.first, last: d.last, days };
}

/** The binary form of a summary (see stats/bytes.ts), which the cache keeps for every file. */
export function encodeSummary(w: ByteWriter, s: FileSummary): void {
  w.f64(s.first);
  w.f64(s.last);
  // The span first, at fixed places (see SavedSummary), then the whole rollup.
  const r = s.rollup;
  for (const x of [r.records, r.firstTs, r.lastTs, r.queueSamples, r.lastQueueTs, r.lastQueueDepth]) w.f64(x);
  r.encode(w);
  w.u32(s.days.size);
  for (const [day, d] of s.days) {
    w.f64(day);
    d.tokens.encode(w);
    d.cost.encode(w);
  }
}

/** Fields of a saved summary before its rollup: its first and last minute, then its span. */
const SPAN_FIELDS = 6;

/**
 * A summary as the cache saved it (encodeSummary's bytes): its first and last minute and its
 * span read at once from their fixed places, its rollup and day sums decoded on first use. `onDamage` turns a
 * decoding failure (bytes that passed their checksum yet do not decode) into the caller's error.
 */
export class SavedSummary implements FileSummary {
  first: number;
  last: number;
  private readonly saved: SummarySpan;
  private decoded: { rollup: Rollup; days: Map<number, DaySums> } | undefined;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly onDamage: () => never,
    private readonly copyable = false,
  ) {
    if (bytes.length < 8 * (2 + SPAN_FIELDS)) onDamage();
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const f = (i: number) => v.getFloat64(8 * i, true);
    this.first = f(0);
    this.last = f(1);
    this.saved = { records: f(2), firstTs: f(3), lastTs: f(4), queueSamples: f(5), lastQueueTs: f(6), lastQueueDepth: f(7) };
  }

  /** The saved span until the rollup is decoded, then the rollup itself (which may grow). */
  get span(): SummarySpan {
    return this.decoded?.rollup ?? this.saved;
  }

  get rollup(): Rollup {
    return this.load().rollup;
  }

  get days(): Map<number, DaySums> {
    return this.load().days;
  }

  private load(): { rollup: Rollup; days: Map<number, DaySums> } {
    if (this.decoded === undefined) {
      try {
        const r = new ByteReader(this.bytes);
        r.pos = 8 * (2 + SPAN_FIELDS);
        const rollup = Rollup.decode(r);
        const days = new Map<number, DaySums>();
        for (let n = r.u32(); n > 0; n--) {
          const day = r.f64();
          days.set(day, { tokens: ExactSum.decode(r), cost: ExactSum.decode(r) });
        }
        this.decoded = { rollup, days };
      } catch {
        this.onDamage();
      }
    }
    return this.decoded!;
  }
}

/**
 * The binary form of an index's minutes, in time order: [minute, from, to, late, the rollup's
 * length, the rollup from an 8-byte boundary], so that a minute can be passed over undecoded;
 * then its blocks, in time order: [start, the rollup's length, the rollup from an 8-byte boundary].
 */
export function encodeMinutes(x: FileIndex): Buffer {
  const w = new ByteWriter();
  w.u32(x.minutes.size);
  for (const [m, e] of [...x.minutes].sort((p, q) => p[0] - q[0])) {
    w.f64(m);
    w.f64(e.from);
    w.f64(e.to);
    w.f64(e.late);
    encodeRollupAt(w, e);
  }
  const blocks = x.blocks ?? new Map<number, BlockEntry>();
  w.u32(blocks.size);
  for (const [k, b] of [...blocks].sort((p, q) => p[0] - q[0])) {
    w.f64(k);
    encodeRollupAt(w, b);
  }
  return w.bytes();
}

/** The rollup's length, then the rollup from an 8-byte boundary (copied as it is where it may be). */
function encodeRollupAt(w: ByteWriter, e: MinuteEntry | BlockEntry): void {
  const lengthAt = w.pos;
  w.u32(0);
  w.align(8);
  const start = w.pos;
  const raw = e instanceof SavedRollup ? e.undecodedCopy : undefined;
  if (raw !== undefined) w.raw(raw);
  else e.rollup.encode(w);
  w.u32At(lengthAt, w.pos - start);
}

/** What decodeMinutes reads: the minutes of an index and its blocks. */
export interface DecodedMinutes {
  minutes: Map<number, MinuteEntry>;
  blocks: Map<number, BlockEntry>;
}

/**
 * Minutes and blocks as encodeMinutes wrote them, each rollup decoded when first used
 * (SavedRollup); throws ByteFormError on bytes it did not write. `onDamage` is called for a
 * rollup that does not decode. `copyable`: the bytes were just encoded in this process (a
 * worker's), so encodeMinutes may copy a rollup still undecoded as it is; bytes read from a file
 * are decoded first, which checks them.
 */
export function decodeMinutes(
  bytes: Uint8Array,
  onDamage: () => never = () => {
    throw new ByteFormError('a minute that does not decode');
  },
  copyable = false,
): DecodedMinutes {
  const r = new ByteReader(bytes);
  const rollupAt = () => {
    const length = r.u32();
    r.align(8);
    return r.slice(r.skip(length), length);
  };
  const minutes = new Map<number, MinuteEntry>();
  for (let n = r.u32(); n > 0; n--) {
    const m = r.f64();
    const from = r.f64();
    const to = r.f64();
    const late = r.f64();
    minutes.set(m, new SavedMinute(rollupAt(), from, to, late >= 0 ? late : Infinity, onDamage, copyable));
  }
  const blocks = new Map<number, BlockEntry>();
  for (let n = r.u32(); n > 0; n--) {
    const k = r.f64();
    if (k !== blockOf(k)) throw new ByteFormError(`a block starting at ${k}`);
    blocks.set(k, new SavedRollup(rollupAt(), onDamage, copyable));
  }
  if (!r.done) throw new ByteFormError('bytes left after the blocks');
  return { minutes, blocks };
}

/**
 * A rollup the cache saved: its span read at once from its first bytes (records, first and last
 * time), the rest decoded when first used. A window that takes a file's minutes on one side of a
 * cut as the file less the other side needs only the other side's.
 */
export class SavedRollup implements BlockEntry {
  private decoded: Rollup | undefined;
  private readonly saved: RecordSpan;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly onDamage: () => never,
    private readonly copyable = false,
  ) {
    if (bytes.length < 24) onDamage();
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.saved = { records: v.getFloat64(0, true), firstTs: v.getFloat64(8, true), lastTs: v.getFloat64(16, true) };
  }

  get span(): RecordSpan {
    return this.decoded ?? this.saved;
  }

  /** The rollup's bytes, when they may be copied as they are: copyable, and not decoded (and so not changed). */
  get undecodedCopy(): Uint8Array | undefined {
    return this.copyable && this.decoded === undefined ? this.bytes : undefined;
  }

  get rollup(): Rollup {
    if (this.decoded === undefined) {
      try {
        this.decoded = Rollup.decode(new ByteReader(this.bytes));
      } catch {
        this.onDamage();
      }
    }
    return this.decoded!;
  }
}

/** A minute the cache saved (see SavedRollup), with where its lines lie. */
export class SavedMinute extends SavedRollup implements MinuteEntry {
  constructor(
    bytes: Uint8Array,
    public from: number,
    public to: number,
    public late: number,
    onDamage: () => never,
    copyable = false,
  ) {
    super(bytes, onDamage, copyable);
  }
}

/** An empty index (or fragment) whose first line starts at byte `offset`. */
export function emptyIndex(offset = 0): FileIndex {
  return { offset, lines: 0, minutes: new Map(), blocks: new Map(), malformed: new MalformedLog() };
}

export function minuteOf(ts: number): number {
  return Math.floor(ts / MINUTE_MS) * MINUTE_MS;
}

/**
 * A LineSink that fills the fragment `index` with the lines it is fed, which must start at byte
 * `index.offset` and follow each other as in the file. Line numbers (of malformed lines) count
 * from the fragment's first line; appendIndex shifts them.
 */
export function indexingSink(path: string, index: FileIndex, o: { fastPath?: boolean } = {}): LineSink {
  let lineStart = index.offset;
  let lineEnd = index.offset;
  // Lines come in time order, nearly: most find the previous line's minute, and for a few
  // seconds after each minute starts, writers' late lines alternate with the new minute's (an
  // hour of the generated benchmark day turns between minutes 3,412 times; between more than
  // the last two, 60). The two minutes last used are kept, their starts in a Float64Array: a
  // start kept in a variable, or looked up in the map, is a heap number allocated at each turn
  // (epoch milliseconds are no small integers).
  const starts = new Float64Array([NaN, NaN]);
  let last: MinuteEntry | undefined;
  let before: MinuteEntry | undefined;
  /** The entry of the minute holding `ts`, its byte range widened to the line [ls, le). */
  const entryFor = (ts: number, ls: number, le: number): MinuteEntry => {
    let e: MinuteEntry | undefined;
    if (ts >= starts[0]! && ts < starts[0]! + MINUTE_MS) e = last!;
    else if (ts >= starts[1]! && ts < starts[1]! + MINUTE_MS) {
      e = before!;
      before = last;
      last = e;
      const s = starts[0]!;
      starts[0] = starts[1]!;
      starts[1] = s;
    } else {
      const m = minuteOf(ts);
      e = index.minutes.get(m);
      if (!e) {
        const rollup = new Rollup();
        if (last !== undefined) {
          // Sized like the minute before, which lets go of its own hint: no chain of minutes.
          rollup.sizeLike = last.rollup;
          last.rollup.sizeLike = undefined;
        }
        index.minutes.set(m, (e = { rollup, from: ls, to: le, late: 0 }));
      }
      before = last;
      last = e;
      starts[1] = starts[0]!;
      starts[0] = m;
    }
    if (ls < e.from) e.from = ls;
    if (le > e.to) e.to = le;
    // The rollup's lastTs is the latest time of the minute's records before this one.
    const behind = e.rollup.lastTs - ts;
    if (behind > e.late) e.late = behind;
    return e;
  };
  const onRecord = (r: MetricRecord) => entryFor(r.ts, lineStart, lineEnd).rollup.add(r);
  const base = index.lines;
  // Aggregation needs no signalId or error text: skip decoding them on the fast path.
  const parse = recordLineSink(path, onRecord, index.malformed, { ...o, ids: false });
  const sink: LineSink = {
    line(buf, start, end, lineNo) {
      lineStart = lineEnd;
      lineEnd = lineStart + (end - start) + 1;
      parse.line(buf, start, end, base + lineNo);
      index.lines = base + lineNo;
      index.offset = lineEnd;
    },
    tooLong(lineNo, bytes) {
      lineStart = lineEnd;
      lineEnd = lineStart + bytes + 1;
      parse.tooLong(base + lineNo, bytes);
      index.lines = base + lineNo;
      index.offset = lineEnd;
    },
  };
  if (o.fastPath !== false) {
    const flat = new FlatRecord();
    // The common lines, each read and its newline found in one pass (see LineSink.linesAt), in a
    // loop of its own: per line, no call from the splitter and no writes to the index.
    sink.linesAt = (buf, start, limit, maxLineBytes, lines) => {
      let pos = start;
      let taken = 0;
      let ls = lineStart;
      let le = lineEnd;
      while (pos < limit) {
        if (!fastParseFlat(buf, pos, Math.min(limit, pos + maxLineBytes + 1), flat)) break;
        const nl = parsedLineEnd;
        ls = le;
        le = ls + (nl - pos) + 1;
        entryFor(flat.ts, ls, le).rollup.addFlat(flat);
        pos = nl + 1;
        taken++;
      }
      if (taken > 0) {
        lineStart = ls;
        lineEnd = le;
        lines.lineNo += taken;
        index.lines = base + lines.lineNo;
        index.offset = le;
      }
      return pos;
    };
  }
  return sink;
}

/**
 * Adds the fragment `b` (the lines that follow `a`'s) to `a`. A block both have minutes in is
 * the merge of their parts in it, or with `mergeBlocks: false` left out (see appendBlocks).
 */
export function appendIndex(a: FileIndex, b: FileIndex, o: { mergeBlocks?: boolean } = {}): FileIndex {
  // Only looked at when b has minutes: a loaded index parses its minutes on first access.
  const aEmpty = b.minutes.size > 0 && a.minutes.size === 0;
  if (b.minutes.size > 0) {
    if (aEmpty) a.summary = b.summary;
    else if (a.summary && b.summary) mergeSummary(a.summary, b.summary);
    else a.summary = undefined;
  }
  appendBlocks(a, b, o.mergeBlocks ?? true);
  for (const [m, e] of b.minutes) {
    const mine = a.minutes.get(m);
    if (!mine) a.minutes.set(m, e);
    else {
      // b's records follow a's in the file: b's earliest may fall behind a's latest.
      mine.late = Math.max(mine.late, e.late, mine.rollup.lastTs - e.rollup.firstTs);
      mine.rollup.merge(e.rollup);
      if (e.from < mine.from) mine.from = e.from;
      if (e.to > mine.to) mine.to = e.to;
    }
  }
  const shift = a.lines;
  a.malformed.merge({ count: b.malformed.count, first: b.malformed.first.map((m) => ({ ...m, line: m.line + shift })) });
  if (b.lines > 0) a.offset = b.offset;
  a.lines += b.lines;
  return a;
}

/**
 * `a`'s blocks with the minutes of `b` (lines that follow `a`'s) added, before either's minutes
 * change: a block only `b` has minutes in is `b`'s as it is (undecoded); one both have is the
 * merge of their parts in it (each a block, or a lone minute), or none unless `merge`. A block
 * whose parts are not all known (minutes without their block) is none either: blocks are never
 * made from minutes here, which would decode ten of them.
 */
function appendBlocks(a: FileIndex, b: FileIndex, merge: boolean): void {
  if (b.minutes.size === 0) return;
  const blocks = (a.blocks ??= new Map());
  for (const [k, theirs] of byBlock(b.minutes.keys())) {
    const mine = minutesIn(a, k);
    const block = mine.length === 0 ? b.blocks?.get(k) : merge ? mergedBlock(a, b, k, mine, theirs) : undefined;
    if (block === undefined) blocks.delete(k);
    else blocks.set(k, block);
  }
}

/** The block at `k` of `a`'s `mine` minutes and `b`'s `theirs`, when it is one and its parts are known. */
function mergedBlock(a: FileIndex, b: FileIndex, k: number, mine: readonly number[], theirs: readonly number[]): BlockEntry | undefined {
  if (new Set([...mine, ...theirs]).size < 2) return undefined;
  const p = blockPart(a, k, mine);
  const q = blockPart(b, k, theirs);
  return p !== undefined && q !== undefined ? { rollup: new Rollup().merge(p).merge(q) } : undefined;
}

/** The merge of an index's `minutes` in the block at `k`: its one minute, or its block if known. */
function blockPart(x: FileIndex, k: number, minutes: readonly number[]): Rollup | undefined {
  if (minutes.length === 1) return x.minutes.get(minutes[0]!)!.rollup;
  return x.blocks?.get(k)?.rollup;
}

export interface FileIndexData {
  offset: number;
  lines: number;
  /** [minute, from, to, rollup, late] (late absent: not known). */
  minutes: Array<[number, number, number, RollupData, number?]>;
  malformed: MalformedSummary;
}

/** Plain data for the cache (JSON) or, with `typed`, for a worker's message. */
export function indexToJSON(x: FileIndex, withMinutes = true, typed = false): FileIndexData {
  return {
    offset: x.offset,
    lines: x.lines,
    minutes: withMinutes ? [...x.minutes].sort((p, q) => p[0] - q[0]).map(([m, e]) => [m, e.from, e.to, e.rollup.toJSON(typed), e.late]) : [],
    malformed: x.malformed.toJSON(),
  };
}

/**
 * `decoded`, when given, holds the index's minutes instead of `d.minutes`, and its blocks (decoded
 * apart, see decodeMinutes): set here, not assigned after, as a second store to the field made V8 throw away
 * the optimised indexing code that had taken it for a constant.
 */
export function indexFromJSON(d: FileIndexData, decoded?: DecodedMinutes): FileIndex {
  const malformed = new MalformedLog();
  malformed.merge(d.malformed);
  return {
    offset: d.offset,
    lines: d.lines,
    minutes: decoded?.minutes ?? new Map(d.minutes.map(([m, from, to, r, late]) => [m, { rollup: Rollup.fromJSON(r), from, to, late: typeof late === 'number' && late >= 0 ? late : Infinity }])),
    // From plain data, none: the minutes answer alone until summarize() makes them.
    blocks: decoded?.blocks ?? new Map(),
    malformed,
  };
}

/**
 * What the rollups depend on: a change here invalidates every cached index. `version` is the
 * entry layout, so each build reads another's entries as outdated instead of failing on them:
 * 17 since a file's line holds its modification and status-change times (an unchanged file is
 * not opened); 16 since a file's minutes are followed by its blocks (ten minutes merged, see FileIndex.blocks);
 * 15 since a minute's rollup is preceded by its length (decoded when used, see SavedMinute); 14
 * since a summary starts with its span (read alone, the rest decoded when used); 13 since a
 * file's line keeps the bytes before its offset (a truncation grown back past it is told); 12 since each file has a prefix (the merge of its summary and those of the files before it); 11
 * kept one total of the directory instead; 10
 * since each file's minutes are stored as they are (not gzipped) with a checksum of their own,
 * read only when used (the head and summaries under one checksum); 9 since summaries and minutes
 * are stored in binary (stats/bytes.ts), the head as plain text; 8 since a histogram keeps its second smallest and second largest samples, and a minute how far
 * out of time order its records lie; 7 since a bucket's bounds are the table of γ^i (a value exactly on a bound could fall in the
 * next bucket when it was found by a logarithm); 6 since the head is a line of JSON per file
 * (kept as read for files a run did not extend); 5 since a file's summary holds its token and cost sums per UTC day; 4 since the checksum is a
 * CRC-32 and entries are named by an FNV-1a hash of their directory (3 used SHA-256 for both:
 * its entries keep their names until `perfmon cache clear --all`); 3 since each file's minutes
 * are gzipped apart from the head (2 kept them as text in one gzipped body, 1 saved `index`).
 */
export const INDEX_PARAMS = { version: 17, minuteMs: MINUTE_MS, maxLineBytes: MAX_LINE_BYTES, relativeAccuracy: RELATIVE_ACCURACY } as const;
