import { emptyIndex, indexingSink, summarize, type FileIndex, type FileIndexData, type FileSummaryData } from '../cache/file-index.js';
import { readLogFile } from './read-log-file.js';
import { readRange } from './read-range.js';

/** One piece of work: the lines starting in [start, end) of a file (a gzip file is read whole). */
export interface RangeTask {
  id: number;
  path: string;
  start: number;
  end: number;
  gzip: boolean;
  fastPath: boolean;
}

/** A task's result: the index fragment of its lines, as plain data (structured-cloned back). */
export interface RangeResult {
  id: number;
  /** The fragment without its minutes, which are `minutes`, as encodeMinutes writes them. */
  fragment: FileIndexData;
  minutes: Uint8Array;
  /** The fragment's minutes merged (computed here, in parallel, instead of on the main thread). */
  summary: FileSummaryData | null;
  error?: string;
}

/** Indexes the lines of one range: per-minute rollups with byte ranges, and malformed lines. */
export async function indexRange(t: Omit<RangeTask, 'id'>): Promise<FileIndex> {
  const frag = emptyIndex(t.start);
  if (t.gzip) {
    await readLogFile(t.path, indexingSink(t.path, frag, { fastPath: t.fastPath }), { gzip: true, malformed: frag.malformed });
  } else {
    await readRange(t.path, t.start, t.end, (first) => {
      frag.offset = first;
      return indexingSink(t.path, frag, { fastPath: t.fastPath });
    });
  }
  frag.summary = summarize(frag);
  return frag;
}
