import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { LineSplitter, type LineSink } from '../read/line-splitter.js';
import { MalformedLog } from '../read/malformed.js';
import { recordLineSink } from '../read/read-log-file.js';
import { readRange } from '../read/read-range.js';
import { WindowAccumulator, type ReportBounds } from '../report/window-accumulator.js';
import type { MetricRecord } from '../schema.js';
import { MINUTE_MS, Rollup } from '../stats/rollup.js';
import { minuteOf, type FileIndex } from './file-index.js';

export interface IndexedFile {
  path: string;
  gzip: boolean;
  index: FileIndex;
  /** All the file's minutes merged, and the first and last minute: lets a file that no
   *  boundary cuts be answered without reading its minutes (they are parsed lazily). */
  summary?: FileSummary;
}

export interface FileSummary {
  rollup: Rollup;
  first: number;
  last: number;
}

/** The merge of every minute of an index. */
export function summarize(index: FileIndex): FileSummary | undefined {
  let first = Infinity;
  let last = -Infinity;
  const rollup = new Rollup();
  for (const [m, e] of index.minutes) {
    rollup.merge(e.rollup);
    if (m < first) first = m;
    if (m > last) last = m;
  }
  return first === Infinity ? undefined : { rollup, first, last };
}

/**
 * The window (and previous window, and the day) from per-file minute indexes: a minute wholly
 * on one side of every boundary is merged as a rollup; a minute a boundary cuts is re-read from
 * its byte range and its records sorted exactly, so the answer is exact to the millisecond.
 */
export async function answerWindow(files: readonly IndexedFile[], bounds: ReportBounds, o: { fastPath?: boolean } = {}): Promise<WindowAccumulator> {
  const acc = new WindowAccumulator(bounds);
  const cut = new Set<number>([minuteOf(bounds.from), minuteOf(bounds.until)]);
  if (bounds.previousFrom !== undefined) cut.add(minuteOf(bounds.previousFrom));
  const side = (m: number) => {
    const place = m > bounds.until ? 0 : m > bounds.from ? 1 : bounds.previousFrom !== undefined && m > bounds.previousFrom ? 2 : 3;
    return place * 2 + (m >= bounds.dayStart ? 1 : 0);
  };
  for (const f of files) {
    const sum = f.summary;
    // Minutes are ordered, and each boundary splits them once: when the first and the last
    // minute lie on the same sides and no boundary cuts a minute in between, all of them do.
    if (sum && side(sum.first) === side(sum.last) && ![...cut].some((c) => c >= sum.first && c <= sum.last)) {
      if (sum.first <= bounds.until) addWholeMinute(acc, sum.first, sum.rollup);
      continue;
    }
    for (const [m, e] of [...f.index.minutes].sort((a, b) => a[0] - b[0])) {
      if (cut.has(m)) {
        await rereadMinute(f, m, e.from, e.to, acc, o.fastPath);
      } else if (m <= bounds.until) {
        addWholeMinute(acc, m, e.rollup);
      }
    }
  }
  return acc;
}

/** A minute no boundary cuts: every record in it falls on the same side of each boundary. */
function addWholeMinute(acc: WindowAccumulator, m: number, r: Rollup): void {
  const b = acc.bounds;
  if (m > b.from) acc.window.merge(r);
  else if (acc.previous && b.previousFrom !== undefined && m > b.previousFrom) acc.previous.merge(r);
  // dayStart is a minute boundary: the minute is wholly in the day or wholly before it.
  if (m >= b.dayStart) {
    acc.dayTokenSum.merge(r.tokenSum);
    acc.dayCostSum.merge(r.costSum);
  }
  if (r.queueSamples > 0 && (r.lastQueueTs > acc.latestQueueTs || (r.lastQueueTs === acc.latestQueueTs && r.lastQueueDepth > acc.latestQueueDepth))) {
    acc.latestQueueTs = r.lastQueueTs;
    acc.latestQueueDepth = r.lastQueueDepth;
  }
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
