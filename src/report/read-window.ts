import { PerfmonError } from '../errors.js';
import { HOUR_MS } from '../record/file-name.js';
import { listLogFiles, type LogFile } from '../read/list-files.js';
import { MalformedLog } from '../read/malformed.js';
import { readLogFile, recordLineSink } from '../read/read-log-file.js';
import { defaultThreads, PARALLEL_MIN_BYTES, readParallel } from '../read/parallel-read.js';
import { readStart, reportBounds, WindowAccumulator } from './window-accumulator.js';

/** `now`, `latest` (the newest record's ts), or an epoch-ms instant. */
export type Until = 'now' | 'latest' | number;

export interface ReadWindowOptions {
  dirs: readonly string[];
  windowMinutes: number;
  until?: Until;
  /** Also accumulate the previous window of equal length (for the issue rules). */
  withPrevious?: boolean;
  /** Fail when any line is malformed, instead of counting it. */
  strict?: boolean;
  /** The clock, injected so tests replay a fixed "now". */
  now?: () => number;
  /** false: parse every line with JSON.parse (the reference the fast path is tested against). */
  fastPath?: boolean;
  /**
   * Worker threads for large reads (default: one per core, used from 32 MiB of logs up).
   * 1 reads on the calling thread; a number > 1 forces workers even for small logs (tests).
   */
  threads?: number;
  /** Called after each file, for progress on long reads. */
  onProgress?: (done: number, total: number) => void;
}

export interface WindowData {
  acc: WindowAccumulator;
  malformed: MalformedLog;
  files: LogFile[];
  generatedAt: number;
}

/** One pass over the files that can hold the window, the previous window and the UTC day. */
export async function readWindow(o: ReadWindowOptions): Promise<WindowData> {
  if (!(o.windowMinutes > 0)) {
    throw new PerfmonError('BAD_WINDOW', `window must be more than 0 minutes, got ${o.windowMinutes}`, 2);
  }
  const now = (o.now ?? Date.now)();
  const until = o.until === undefined || o.until === 'now' ? now : o.until === 'latest' ? await latestTimestamp(o.dirs, now) : o.until;
  const bounds = reportBounds(until, o.windowMinutes, o.withPrevious);
  const files = await listLogFiles(o.dirs, { from: readStart(bounds), until });
  const acc = new WindowAccumulator(bounds);
  const malformed = new MalformedLog();
  const threads = o.threads ?? defaultThreads();
  const bytes = files.reduce((n, f) => n + f.size, 0);
  if (threads > 1 && (o.threads !== undefined || bytes >= PARALLEL_MIN_BYTES)) {
    await readParallel(files, bounds, acc, malformed, { threads, fastPath: o.fastPath !== false, onProgress: (d, t) => o.onProgress?.(d, t) });
  } else {
    const onRecord = acc.add.bind(acc);
    for (let i = 0; i < files.length; i++) {
      const f = files[i]!;
      await readLogFile(f.path, recordLineSink(f.path, onRecord, malformed, { fastPath: o.fastPath }), { gzip: f.gzip, malformed });
      o.onProgress?.(i + 1, files.length);
    }
  }
  if (o.strict && malformed.count > 0) {
    const m = malformed.first[0]!;
    throw new PerfmonError(
      'MALFORMED',
      `${malformed.count} malformed line(s), first at ${m.file}:${m.line}: ${m.reason} (drop --strict to count and skip them)`,
    );
  }
  return { acc, malformed, files, generatedAt: now };
}

/**
 * The newest record's ts across the directories (`--until latest`), or `fallback` when there are
 * none. Perfmon files are visited newest hour first; a file whose hour ends before the newest ts
 * found so far cannot hold a newer one and is not opened.
 */
export async function latestTimestamp(dirs: readonly string[], fallback: number): Promise<number> {
  const files = await listLogFiles(dirs);
  files.sort((a, b) => (b.hourStart ?? Infinity) - (a.hourStart ?? Infinity));
  let latest = -Infinity;
  const malformed = new MalformedLog();
  const onRecord = (r: { ts: number }) => {
    if (r.ts > latest) latest = r.ts;
  };
  for (const f of files) {
    if (f.hourStart !== undefined && f.hourStart + HOUR_MS <= latest) continue;
    await readLogFile(f.path, recordLineSink(f.path, onRecord, malformed), { gzip: f.gzip });
  }
  return latest === -Infinity ? fallback : latest;
}
