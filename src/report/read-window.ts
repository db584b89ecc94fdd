import { closeSync, fstatSync, openSync, promises as fsPromises, readSync } from 'node:fs';
import { answerWindow, type IndexedFile, type SavedFiles } from '../cache/answer-window.js';
import { emptyIndex, appendIndex, type FileIndex } from '../cache/file-index.js';
import { closeEntry, loadEntry, readPrefix, saveEntry, type CacheEntry, type CachedFile } from '../cache/index-store.js';
import { readBytes } from '../cache/read-near-edge.js';
import { PerfmonError } from '../errors.js';
import { HOUR_MS } from '../record/file-name.js';
import { FILE_HOUR_SLACK_MS, listLogFiles, hourMayHold, type LogFile } from '../read/list-files.js';
import { MalformedLog } from '../read/malformed.js';
import { indexJobs, type IndexJob } from '../read/parallel-read.js';
import { recordLineSink } from '../read/read-log-file.js';
import { FINGERPRINT_BYTES } from '../read/tailer.js';
import type { MetricRecord } from '../schema.js';
import { readStart, reportBounds, type WindowAccumulator } from './window-accumulator.js';

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
   * Threads reading large logs (default: one per core, used from 32 MiB of logs up): workers,
   * whose results the calling thread joins. 1 reads on the calling thread only; a number > 1
   * forces that many workers even for small logs (tests).
   */
  threads?: number;
  /**
   * Keep the per-file minute indexes in this directory between runs, so a run reads only the
   * bytes appended since the last (see src/cache). Off unless given.
   */
  cacheDir?: string;
  /** One-line notices (e.g. the cache could not be written); the run goes on. */
  onNotice?: (message: string) => void;
  /** Called as files are read, for progress on long reads. */
  onProgress?: (done: number, total: number) => void;
}

export interface WindowData {
  acc: WindowAccumulator;
  malformed: MalformedLog;
  files: LogFile[];
  generatedAt: number;
  /** Bytes read from the logs in this run (all of them without a cache). */
  bytesRead: number;
}

/**
 * Answers a window from per-file minute indexes: built from the logs, or loaded from the cache
 * and extended with what was appended since. The window, the previous window and the UTC day
 * all come from the same indexes, so cached and uncached runs print the same numbers.
 */
export async function readWindow(o: ReadWindowOptions): Promise<WindowData> {
  try {
    return await readWindowOnce(o, true);
  } catch (e) {
    // A cached file's minutes that fail their checksum (damage the entry's head did not show):
    // the run starts again without the entry, which rebuilds it.
    if (o.cacheDir !== undefined && e instanceof PerfmonError && e.code === 'CACHE_CORRUPT') return readWindowOnce(o, false);
    throw e;
  }
}

async function readWindowOnce(o: ReadWindowOptions, useEntries: boolean): Promise<WindowData> {
  if (!(o.windowMinutes > 0)) {
    throw new PerfmonError('BAD_WINDOW', `window must be more than 0 minutes, got ${o.windowMinutes}`, 2);
  }
  const now = (o.now ?? Date.now)();
  const latest = o.until === 'latest';
  const fixedUntil = o.until === undefined || o.until === 'now' ? now : latest ? undefined : (o.until as number);

  // Which files: for a known end, those that can hold the range; for `latest`, all of them with
  // the cache (the index is kept whole: a later run reads only what is new), and without it those
  // the window ending at the newest record can need (see filesForLatest).
  let files: LogFile[];
  if (fixedUntil !== undefined) {
    files = await listLogFiles(o.dirs, { from: readStart(reportBounds(fixedUntil, o.windowMinutes, o.withPrevious)), until: fixedUntil });
  } else {
    files = await listLogFiles(o.dirs);
    if (o.cacheDir === undefined) files = filesForLatest(files, o) ?? files;
  }
  const { indexed, bytesRead, entries, saved } = await indexFiles(files, o, useEntries);
  try {
    return await answer(o, indexed, saved, fixedUntil ?? newestTs(indexed) ?? now, latest, now, bytesRead);
  } finally {
    for (const e of entries) closeEntry(e);
  }
}

/** How much of a file's end filesForLatest reads for a recent record: a few hundred lines. */
const PEEK_BYTES = 64 * 1024;

/**
 * For `--until latest` without the cache: the files that the window ending at the newest record
 * can need, found without reading every file for that record first. A recent record's time `t` is
 * read from the ends of the newest files (JSON.parse on a few hundred lines, so the byte-level
 * reader's first lines are still the day's). A file named for an hour holds records from before
 * that hour's end (a record is written after it is taken: the rule listing by range relies on);
 * trusted here to within FILE_HOUR_SLACK_MS, any newer record lies in a file whose hour ends after
 * `t` less that slack, and the window ending at the newest record needs no file the one ending at
 * `t` does not, but those newer ones: its start, the previous window's and its day's only move
 * later. So these files, read together, hold the newest record and all the window needs
 * (`answer` keeps those it needs). Undefined when no file end holds a record: read them all.
 */
function filesForLatest(files: readonly LogFile[], o: ReadWindowOptions): LogFile[] | undefined {
  const hours = [...new Set(files.map((f) => f.hourStart).filter((h) => h !== undefined))].sort((a, b) => b - a);
  let t = recentTs(files.filter((f) => f.hourStart === undefined));
  // Hour by hour from the newest, until a file's end holds a record (or no hour could beat it).
  for (const hour of hours) {
    if (t !== undefined && hour + HOUR_MS + FILE_HOUR_SLACK_MS <= t) break;
    const ts = recentTs(files.filter((f) => f.hourStart === hour));
    if (ts !== undefined && (t === undefined || ts > t)) t = ts;
    if (t !== undefined) break;
  }
  if (t === undefined) return undefined;
  const range = { from: readStart(reportBounds(t, o.windowMinutes, o.withPrevious)), until: t };
  return files.filter((f) => f.hourStart === undefined || hourMayHold(f.hourStart, range) || f.hourStart + HOUR_MS + FILE_HOUR_SLACK_MS > t);
}

/** The latest ts among the records in the last PEEK_BYTES of each file (gzip ones skipped). */
function recentTs(files: readonly LogFile[]): number | undefined {
  let latest: number | undefined;
  for (const f of files) {
    if (f.gzip || f.size === 0) continue;
    const from = Math.max(0, f.size - PEEK_BYTES);
    const bytes = readBytes(f.path, from, f.size);
    if (bytes === undefined) continue;
    const sink = recordLineSink(f.path, (r: MetricRecord) => {
      if (latest === undefined || r.ts > latest) latest = r.ts;
    }, new MalformedLog(), { fastPath: false, ids: false });
    // From the first whole line (the peek may start inside one); a last line without its newline
    // may still be being written: left out, as a read leaves it.
    let pos = 0;
    if (from > 0) {
      pos = bytes.indexOf(10) + 1;
      if (pos === 0) continue; // inside one line longer than the peek
    }
    for (let nl = bytes.indexOf(10, pos); nl !== -1; nl = bytes.indexOf(10, pos)) {
      sink.line(bytes, pos, nl, 0);
      pos = nl + 1;
    }
  }
  return latest;
}

async function answer(o: ReadWindowOptions, indexed: Indexed[], saved: SavedFiles[], until: number, latest: boolean, now: number, bytesRead: number): Promise<WindowData> {
  const bounds = reportBounds(until, o.windowMinutes, o.withPrevious);
  // With `latest` more files than the range needs may have been indexed (every one, with the
  // cache): answer from those that can hold it.
  const range = { from: readStart(bounds), until };
  const used = latest ? indexed.filter((f) => f.file.hourStart === undefined || hourMayHold(f.file.hourStart, range)) : indexed;
  const acc = await answerWindow(used, bounds, { fastPath: o.fastPath, saved });
  const malformed = new MalformedLog();
  for (const f of used) malformed.merge(f.index.malformed.toJSON());
  if (o.strict && malformed.count > 0) {
    const m = malformed.first[0]!;
    throw new PerfmonError(
      'MALFORMED',
      `${malformed.count} malformed line(s), first at ${m.file}:${m.line}: ${m.reason} (drop --strict to count and skip them)`,
    );
  }
  return { acc, malformed, files: used.map((f) => f.file), generatedAt: now, bytesRead };
}

interface Indexed extends IndexedFile {
  file: LogFile;
  /** Answered from the cache as saved: its summary is the one the entry's prefixes merged. */
  unchanged: boolean;
}

/** Brings every file's index up to its end: from the cache where it still describes the file. */
async function indexFiles(files: readonly LogFile[], o: ReadWindowOptions, useEntries = true): Promise<{ indexed: Indexed[]; bytesRead: number; entries: CacheEntry[]; saved: SavedFiles[] }> {
  const entries = new Map<string, CacheEntry>();
  if (o.cacheDir !== undefined) {
    for (const dir of new Set(files.map((f) => f.dir))) {
      const r = useEntries ? loadEntry(o.cacheDir, dir) : undefined;
      entries.set(dir, r?.entry ?? { dir, files: new Map() });
    }
  }
  // Each loaded entry's files as saved, in the order of its prefixes.
  const loaded = [...entries.values()].map((e) => ({ entry: e, files: [...e.files].map(([name, c]) => ({ name, summary: c.summary, prefix: c.prefix })) }));
  try {
    const r = await indexWith(files, o, entries);
    const saved: SavedFiles[] = [];
    for (const { entry, files: order } of loaded) {
      if (order.length === 0) continue;
      // A file of this run stands for its saved summary only while it is unchanged since.
      const here = new Map(r.indexed.filter((f) => f.file.dir === entry.dir && f.unchanged).map((f) => [f.file.name, f]));
      saved.push({
        files: order.map((x) => ({ file: here.get(x.name), summary: x.summary })),
        prefix: (k) => readPrefix(order[k - 1]!.prefix!, entry.dir),
      });
    }
    return { ...r, entries: [...entries.values()], saved };
  } catch (e) {
    for (const entry of entries.values()) closeEntry(entry);
    throw e;
  }
}

async function indexWith(files: readonly LogFile[], o: ReadWindowOptions, entries: Map<string, CacheEntry>): Promise<{ indexed: Indexed[]; bytesRead: number }> {
  const jobs: IndexJob[] = [];
  const plans: Array<{ file: LogFile; identity: Omit<CachedFile, 'index'>; base: FileIndex }> = [];
  for (const file of files) {
    const cached = entries.get(file.dir)?.files.get(file.name);
    // The bytes before the offset a cached index reaches are read with the first ones.
    const identity = cached !== undefined && unchangedSince(cached, file) ? identityOf(cached) : identify(file, cached !== undefined && !file.gzip ? cached.index.offset : 0);
    if (!identity) continue; // removed since listing
    let base = emptyIndex(0);
    if (cached && sameFile(cached, identity, file)) {
      base = cached.index;
      // Its saved summary, which appending merges the new lines' summary into: a file that only
      // grew is still answered in one merge, and saved without re-merging its minutes.
      base.summary ??= cached.summary;
      // The entry is shared by every spelling of the directory (./logs, /srv/logs, logs/): name
      // the file's malformed lines as this run names the file, as an uncached run would.
      for (const m of base.malformed.first) m.file = file.path;
    }
    const from = base.offset;
    if (file.gzip ? base !== cached?.index : identity.size > from) {
      jobs.push({ path: file.path, from: file.gzip ? 0 : from, bytes: identity.size - (file.gzip ? 0 : from), gzip: file.gzip });
    }
    plans.push({ file, identity, base });
  }
  const fragments = await indexJobs(jobs, { threads: o.threads, fastPath: o.fastPath !== false, forceParallel: o.threads !== undefined && o.threads > 1, onProgress: o.onProgress });
  const bytesRead = jobs.reduce((n, j) => n + j.bytes, 0);
  const indexed: Indexed[] = [];
  // A file listed twice (the same --dir given twice) has one cached index: extend it only once,
  // or the appended lines would count twice, in this report and in every later one.
  const extended = new Map<FileIndex, FileIndex>();
  for (const p of plans) {
    const frag = fragments.get(p.file.path);
    let index = extended.get(p.base);
    if (index === undefined) {
      index = frag ? appendIndex(p.base, frag) : p.base;
      extended.set(p.base, index);
    }
    // Unchanged since it was cached: its saved summary and minutes text are still right, so the
    // answer can skip its minutes and the next save can write them back without re-encoding.
    const cached = entries.get(p.file.dir)?.files.get(p.file.name);
    const unchanged = cached !== undefined && index === cached.index && (frag === undefined || frag.lines === 0);
    indexed.push({ path: p.file.path, gzip: p.file.gzip, file: p.file, index, summary: unchanged ? cached.summary : index.summary, unchanged });
    entries.get(p.file.dir)?.files.set(p.file.name, unchanged ? { ...cached, ...p.identity, tail: cached.tail } : { ...p.identity, index, summary: index.summary, tail: p.file.gzip ? '' : tailOf(p.file.path, index.offset) });
  }
  // Save only when something new was indexed: a run over unchanged logs writes nothing.
  const changed = plans.some((p) => (fragments.get(p.file.path)?.lines ?? 0) > 0 || (p.base.lines === 0 && fragments.has(p.file.path)));
  if (o.cacheDir !== undefined && changed) await saveEntries(o.cacheDir, entries, o.onNotice);
  return { indexed, bytesRead };
}

/**
 * Whether a cached file is, by its listing, as it was when identified: the same device, inode
 * and size, and the same modification and status-change times. Any write, truncation or
 * replacement changes one of them (the times compared to a fraction of a microsecond); `make` and
 * rsync trust the same. Then the file is not opened to compare its first and last bytes: 24
 * files of a day left unopened, 120 system calls, were ≈ 2 % of a cached run.
 */
function unchangedSince(cached: CachedFile, file: LogFile): boolean {
  return cached.mtimeMs !== undefined && cached.mtimeMs === file.mtimeMs && cached.ctimeMs === file.ctimeMs && cached.dev === file.dev && cached.ino === file.ino && cached.size === file.size;
}

/** A cached file's identity, as identify() would find it now. */
function identityOf(c: CachedFile): Omit<CachedFile, 'index'> & { tail: string } {
  return { dev: c.dev, ino: c.ino, size: c.size, fingerprint: c.fingerprint, tail: c.tail ?? '', mtimeMs: c.mtimeMs, ctimeMs: c.ctimeMs };
}

/**
 * The file's identity and size now (synchronous: a few small system calls per file), and the
 * bytes before `tailAt` (the offset a cached index reaches; 0 for none) as `tail`.
 */
function identify(file: LogFile, tailAt: number): (Omit<CachedFile, 'index'> & { tail: string }) | undefined {
  let fd: number;
  try {
    fd = openSync(file.path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined; // removed since listing (retention): nothing to read
    // Never skip a file silently: its records would be missing from the report.
    if (code === 'EACCES' || code === 'EPERM') throw new PerfmonError('FILE_UNREADABLE', `log file not readable: ${file.path} (check its permissions)`);
    throw new PerfmonError('FILE_ERROR', `cannot read ${file.path}: ${(e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    const buf = Buffer.alloc(FINGERPRINT_BYTES);
    const bytesRead = readSync(fd, buf, 0, FINGERPRINT_BYTES, 0);
    return { dev: st.dev, ino: st.ino, size: st.size, fingerprint: buf.subarray(0, bytesRead).toString('hex'), tail: tailRead(fd, tailAt), mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
  } finally {
    closeSync(fd);
  }
}

/**
 * How many bytes before the offset indexed a cached file keeps (`tail`): a file cut short and
 * grown back past that offset before the next run (logrotate's copytruncate under a busy writer)
 * keeps its inode, its first bytes and a size that looks like growth, but not, as a rule, these.
 */
const TAIL_BYTES = 32;

/** Hex of the bytes of `fd` before `offset` (up to TAIL_BYTES; '' at 0). */
function tailRead(fd: number, offset: number): string {
  if (offset <= 0) return '';
  const n = Math.min(TAIL_BYTES, offset);
  const buf = Buffer.alloc(n);
  const got = readSync(fd, buf, 0, n, offset - n);
  return buf.subarray(0, got).toString('hex');
}

/** tailRead of a file by path, for an index just extended; '' when it cannot be read (then the
 *  next run finds no match and indexes the file again). */
function tailOf(path: string, offset: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    return tailRead(fd, offset);
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Whether a cached index still describes this file: same device and inode, its first bytes
 * unchanged (a file shorter than the fingerprint when indexed must still start with what it
 * had), not shorter than what was indexed (truncation), the bytes just before that offset as
 * they were (a truncation grown back past it), and for gzip exactly the same size.
 */
function sameFile(cached: CachedFile, now: Omit<CachedFile, 'index'> & { tail: string }, file: LogFile): boolean {
  if (cached.dev !== now.dev || cached.ino !== now.ino) return false;
  if (!now.fingerprint.startsWith(cached.fingerprint)) return false;
  if (file.gzip) return cached.size === now.size;
  return now.size >= cached.index.offset && (cached.index.offset === 0 || (cached.tail !== undefined && cached.tail !== '' && now.tail === cached.tail));
}

/** Saves the entries, keeping those of files not read this time if they still exist. */
async function saveEntries(cacheDir: string, entries: Map<string, CacheEntry>, onNotice?: (m: string) => void): Promise<void> {
  for (const entry of entries.values()) {
    const present = new Set(await fsPromises.readdir(entry.dir).catch(() => [] as string[]));
    for (const name of [...entry.files.keys()]) if (!present.has(name)) entry.files.delete(name);
    try {
      saveEntry(cacheDir, entry);
    } catch (e) {
      onNotice?.(`cache not saved (${(e as Error).message}); running without it. Use --no-cache to skip it, or set XDG_CACHE_HOME to a writable place.`);
      return;
    }
  }
}

/** The newest record's ts across the directories (`--until latest`), or `fallback` when there are none. */
export async function latestTimestamp(dirs: readonly string[], fallback: number): Promise<number> {
  const all = await listLogFiles(dirs);
  const { indexed } = await indexFiles(filesForLatest(all, { dirs, windowMinutes: 1 }) ?? all, { dirs, windowMinutes: 1 });
  return newestTs(indexed) ?? fallback;
}

/** The newest record's ts in the indexes, or undefined when they hold none. */
function newestTs(indexed: readonly IndexedFile[]): number | undefined {
  let newest = -Infinity;
  for (const f of indexed) {
    // A cached summary knows the file's newest ts without parsing its minutes.
    const rollups = f.summary ? [f.summary.span] : [...f.index.minutes.values()].map((e) => e.rollup);
    for (const r of rollups) if (r.records > 0 && r.lastTs > newest) newest = r.lastTs;
  }
  return newest === -Infinity ? undefined : newest;
}


