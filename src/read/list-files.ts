import { readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { PerfmonError } from '../errors.js';
import { HOUR_MS, isGzipName, isLogFileName, perfmonFileHour } from '../record/file-name.js';

export interface LogFile {
  path: string;
  dir: string;
  name: string;
  size: number;
  /** Device, inode and times as listed: see FileIdentity.mtimeMs. */
  dev: number;
  ino: number;
  mtimeMs: number;
  ctimeMs: number;
  gzip: boolean;
  /** Start of the UTC hour named in a perfmon file name; undefined for other names. */
  hourStart: number | undefined;
}

/**
 * How far before its named hour a perfmon file may hold records: a record's `ts` is taken when it
 * is recorded and the file is chosen when its batch is written, normally ≤ 100 ms later. Ten
 * minutes also covers an event loop stalled at the turn of the hour.
 */
export const FILE_HOUR_SLACK_MS = 10 * 60_000;

/** Time range (from, until] of records wanted; omit for every file. */
export interface TimeRange {
  from: number;
  until: number;
}

/**
 * Log files of the given directories that can hold records in `range`, sorted by hour then path.
 * A missing or unreadable directory is an error naming it; other file names are left alone.
 * Synchronous calls: a listing is a few dozen small system calls, which the thread pool's round
 * trips made several times slower (a tenth of a cached run).
 */
export async function listLogFiles(dirs: readonly string[], range?: TimeRange): Promise<LogFile[]> {
  const files: LogFile[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (e) {
      throw dirError(dir, e);
    }
    for (const name of names.sort()) {
      if (!isLogFileName(name)) continue;
      const hourStart = perfmonFileHour(name);
      if (range && hourStart !== undefined && !hourMayHold(hourStart, range)) continue;
      const path = join(dir, name);
      let st: Stats | undefined;
      try {
        st = statSync(path);
      } catch {
        continue; // removed (e.g. by retention) between readdir and stat: nothing to read
      }
      if (!st.isFile()) continue;
      files.push({ path, dir, name, size: st.size, dev: st.dev, ino: st.ino, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, gzip: isGzipName(name), hourStart });
    }
  }
  return files.sort((a, b) => (a.hourStart ?? -1) - (b.hourStart ?? -1) || cmp(a.path, b.path));
}

/** Whether a file named for `hourStart` can hold a record with ts in (from, until]. */
export function hourMayHold(hourStart: number, range: TimeRange): boolean {
  return hourStart + HOUR_MS > range.from && hourStart - FILE_HOUR_SLACK_MS <= range.until;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function dirError(dir: string, e: unknown): PerfmonError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    return new PerfmonError('DIR_NOT_FOUND', `log directory not found: ${dir} (pass --dir DIR or set PERFMON_DIR)`);
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new PerfmonError('DIR_UNREADABLE', `log directory not readable: ${dir} (check its permissions)`);
  }
  if (code === 'ENOTDIR') {
    return new PerfmonError('DIR_NOT_DIR', `not a directory: ${dir} (--dir takes the log directory, not a file)`);
  }
  return new PerfmonError('DIR_ERROR', `cannot read log directory ${dir}: ${(e as Error).message}`);
}
