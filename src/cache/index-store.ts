import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writevSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PerfmonError } from '../errors.js';
import { crc32 } from './crc32.js';
import { ByteReader, ByteWriter } from '../stats/bytes.js';
import { decodeMinutes, decodeSummary, encodeMinutes, encodeSummary, INDEX_PARAMS, indexFromJSON, indexToJSON, summarize, type FileIndex, type FileIndexData, type FileSummary } from './file-index.js';

/**
 * The on-disk cache: one entry per log directory, holding each file's index with the identity
 * of the file it describes. An entry is written whole to a temp file and renamed into place, and
 * carries its format version, the rollup parameters and a CRC-32 of its body (and each gzip
 * member its own): a torn, corrupt, foreign or outdated entry is ignored (and rebuilt), never
 * trusted.
 *
 * Layout: `PERFMON-INDEX <version> <crc32 of body, 8 hex digits> <body length> <head length>
 * <summaries length>\n`, then the body: the head, lines of JSON — the directory and parameters,
 * then one line per file (its identity, offset, malformed lines and the lengths of its summary and
 * minutes) — then each file's summary in binary (stats/bytes.ts: decoding it is reads, not
 * parsing), then each file's minutes in binary, gzipped on their own, in the order of the lines.
 * A run decodes the summaries (a few kilobytes per file) and only the minutes of the files a
 * window boundary cuts: most of a cached run's reading is skipped, not deferred. A run that saves
 * writes back the line, summary and minutes of every file it did not extend as it read them.
 */

const MAGIC = 'PERFMON-INDEX';

export interface FileIdentity {
  dev: number;
  ino: number;
  /** Hex of the first bytes (up to FINGERPRINT_BYTES) when indexed. */
  fingerprint: string;
  /** Size of a gzip file when indexed (it is read whole, so any change means reindexing). */
  size: number;
}

export interface CachedFile extends FileIdentity {
  index: FileIndex;
  /** Set when loaded and not extended since: the summary and minutes as saved, reused as is. */
  summary?: FileSummary;
  minutesBlob?: Uint8Array;
  /** Set when loaded: the file's line of the head as read, the identity it holds, and the
   *  summary's bytes as read. */
  saved?: { line: string; identity: FileIdentity; summaryBlob: Uint8Array };
}

export interface CacheEntry {
  dir: string;
  files: Map<string, CachedFile>;
}

interface SavedFile extends FileIdentity {
  offset: number;
  lines: number;
  malformed: FileIndexData['malformed'];
  /** Bytes of the file's summary (binary, a multiple of 8; 0: none), which follow those of the
   *  files before it in the summaries. */
  summaryBytes: number;
  /** Bytes of the file's gzipped minutes (binary), which follow those of the files before it.
   *  Decompressed and decoded only when a boundary cuts the file. */
  minutesBytes: number;
}

/** The head's first line. */
interface EntryTop {
  dir: string;
  params: typeof INDEX_PARAMS;
}

/** $XDG_CACHE_HOME/perfmon, else ~/.cache/perfmon. */
export function defaultCacheDir(env: Record<string, string | undefined>): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'perfmon');
}

/** The entry file for a log directory: named by a hash of its absolute path. */
export function entryPath(cacheDir: string, logDir: string): string {
  return join(cacheDir, `${nameHash(resolve(logDir))}.idx`);
}

/**
 * 96 bits of a path as 24 hex digits: three FNV-1a hashes from different starting values. Not
 * cryptographic, and need not be: an entry records its directory, so one that belongs to another
 * directory is ignored as foreign, never trusted.
 */
function nameHash(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  let out = '';
  for (const basis of [0x811c9dc5, 0x01000193, 0x5bd1e995]) {
    let h = basis;
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
    out += (h >>> 0).toString(16).padStart(8, '0');
  }
  return out;
}

/** The checksum an entry's header carries for its body. */
export function bodyChecksum(body: Uint8Array): string {
  return checksumText(crc32(body));
}

const checksumText = (crc: number): string => crc.toString(16).padStart(8, '0');

export type LoadResult = { entry: CacheEntry } | { entry: undefined; reason: 'missing' | 'corrupt' | 'version' | 'foreign' };

/** Reads and verifies the entry of `logDir`; anything wrong with it reads as "no entry". */
export function loadEntry(cacheDir: string, logDir: string): LoadResult {
  let raw: Buffer;
  try {
    raw = readFileSync(entryPath(cacheDir, logDir));
  } catch {
    return { entry: undefined, reason: 'missing' };
  }
  const nl = raw.indexOf(10);
  const header = nl === -1 ? '' : raw.subarray(0, nl).toString('latin1');
  const [magic, version, digest, length, headLength, summariesLength] = header.split(' ');
  if (magic !== MAGIC) return { entry: undefined, reason: 'corrupt' };
  if (Number(version) !== INDEX_PARAMS.version) return { entry: undefined, reason: 'version' };
  const body = raw.subarray(nl + 1);
  if (body.length !== Number(length) || bodyChecksum(body) !== digest) return { entry: undefined, reason: 'corrupt' };
  const headBytes = Number(headLength);
  const summaryBytes = Number(summariesLength);
  if (!Number.isSafeInteger(headBytes) || !Number.isSafeInteger(summaryBytes) || headBytes < 0 || summaryBytes < 0 || headBytes + summaryBytes > body.length) return { entry: undefined, reason: 'corrupt' };
  // The summaries are decoded from a copy that starts on an 8-byte boundary (see stats/bytes.ts).
  const summaries = new Uint8Array(body.subarray(headBytes, headBytes + summaryBytes));
  const blobs = body.subarray(headBytes + summaryBytes);
  let lines: string[];
  let top: EntryTop;
  try {
    lines = body.subarray(0, headBytes).toString('utf8').split('\n');
    top = JSON.parse(lines[0]!) as EntryTop;
  } catch {
    return { entry: undefined, reason: 'corrupt' };
  }
  // A body that verifies but is not shaped like an entry (e.g. written by a build that changed
  // the body and kept the version number) is corrupt: never let it throw into a report.
  if (typeof top !== 'object' || top === null || Array.isArray(top) || typeof top.dir !== 'string' || typeof top.params !== 'object' || top.params === null) return { entry: undefined, reason: 'corrupt' };
  if (JSON.stringify(top.params) !== JSON.stringify(INDEX_PARAMS)) return { entry: undefined, reason: 'version' };
  if (top.dir !== resolve(logDir)) return { entry: undefined, reason: 'foreign' };
  const files = new Map<string, CachedFile>();
  try {
    let at = 0;
    let sumAt = 0;
    for (let i = 1; i < lines.length; i++) {
      const [name, f] = JSON.parse(lines[i]!) as [string, SavedFile];
      const bytes = f.minutesBytes;
      const sBytes = f.summaryBytes;
      if (!Number.isSafeInteger(bytes) || bytes < 0 || at + bytes > blobs.length) throw new Error('minutes out of range');
      if (!Number.isSafeInteger(sBytes) || sBytes < 0 || sBytes % 8 !== 0 || sumAt + sBytes > summaries.length) throw new Error('summary out of range');
      const summaryBlob = summaries.subarray(sumAt, sumAt + sBytes);
      const summary = sBytes > 0 ? decodeSummary(new ByteReader(summaryBlob)) : undefined;
      const minutesBlob = blobs.subarray(at, at + bytes);
      at += bytes;
      sumAt += sBytes;
      const identity = { dev: f.dev, ino: f.ino, fingerprint: f.fingerprint, size: f.size };
      files.set(name, { ...identity, index: lazyIndex(f, minutesBlob, top.dir), summary, minutesBlob, saved: { line: lines[i]!, identity, summaryBlob } });
    }
    if (at !== blobs.length || sumAt !== summaries.length) throw new Error('bytes left over');
  } catch {
    return { entry: undefined, reason: 'corrupt' };
  }
  return { entry: { dir: top.dir, files } };
}

/**
 * Writes the entry atomically (temp file in the cache directory, then rename): a reader sees the
 * old entry or the new one. Concurrent runs each write a complete, consistent entry; the last
 * rename wins. Throws when the cache directory cannot be written (the caller goes on without).
 */
export function saveEntry(cacheDir: string, entry: CacheEntry): void {
  mkdirSync(cacheDir, { recursive: true });
  const blobs: Uint8Array[] = [];
  const summaries: Uint8Array[] = [];
  const lines = [JSON.stringify({ dir: resolve(entry.dir), params: INDEX_PARAMS } satisfies EntryTop)];
  for (const [name, f] of [...entry.files].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    // An unchanged file's minutes, summary and line are written back as they were read, not
    // re-encoded (the line only while the file's identity is the one it holds).
    const blob = f.minutesBlob ?? gzipSync(encodeMinutes(f.index), { level: 1 });
    const keep = f.minutesBlob !== undefined && f.saved !== undefined && sameIdentity(f.saved.identity, f);
    const summary = keep ? f.saved!.summaryBlob : encodedSummary(f.summary ?? summarize(f.index));
    lines.push(keep ? f.saved!.line : JSON.stringify([name, saved(f, blob.length, summary.length)]));
    blobs.push(blob);
    summaries.push(summary);
  }
  const head = Buffer.from(lines.join('\n'), 'utf8');
  const parts = [head, ...summaries, ...blobs];
  let crc = 0;
  let bytes = 0;
  for (const b of parts) {
    crc = crc32(b, crc);
    bytes += b.length;
  }
  const summaryBytes = summaries.reduce((n, b) => n + b.length, 0);
  const header = Buffer.from(`${MAGIC} ${INDEX_PARAMS.version} ${checksumText(crc)} ${bytes} ${head.length} ${summaryBytes}\n`, 'latin1');
  const target = entryPath(cacheDir, entry.dir);
  // pid and a random part: unique among concurrent writers; 'wx' refuses to reuse a name.
  const tmp = `${target}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`;
  try {
    const fd = openSync(tmp, 'wx');
    try {
      // Written as parts: no copy of the whole entry in memory.
      writeAll(fd, [header, ...parts]);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // never written
    }
    throw e;
  }
}

/** A summary's binary form, padded to a multiple of 8 bytes (none: no bytes). */
function encodedSummary(s: FileSummary | undefined): Uint8Array {
  if (s === undefined) return new Uint8Array(0);
  const w = new ByteWriter();
  encodeSummary(w, s);
  w.align(8);
  return w.bytes();
}

/** writev until every byte is written (a write may stop short). */
function writeAll(fd: number, parts: Uint8Array[]): void {
  let rest = parts.filter((p) => p.length > 0);
  while (rest.length > 0) {
    let n = writevSync(fd, rest.slice(0, 1024));
    while (rest.length > 0 && n >= rest[0]!.length) n -= rest.shift()!.length;
    if (n > 0) rest[0] = rest[0]!.subarray(n);
  }
}

function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.fingerprint === b.fingerprint && a.size === b.size;
}

function saved(f: CachedFile, minutesBytes: number, summaryBytes: number): SavedFile {
  const data = indexToJSON(f.index, false);
  return {
    dev: f.dev,
    ino: f.ino,
    fingerprint: f.fingerprint,
    size: f.size,
    offset: data.offset,
    lines: data.lines,
    malformed: data.malformed,
    summaryBytes,
    minutesBytes,
  };
}

/** An index whose minutes are decompressed and decoded on first use. */
function lazyIndex(f: SavedFile, blob: Uint8Array, dir: string): FileIndex {
  const malformed = indexFromJSON({ offset: f.offset, lines: f.lines, minutes: [], malformed: f.malformed }).malformed;
  let minutes: FileIndex['minutes'] | undefined;
  return {
    offset: f.offset,
    lines: f.lines,
    malformed,
    get minutes() {
      if (minutes === undefined) {
        try {
          minutes = decodeMinutes(gunzipSync(blob));
        } catch {
          // The checksum held, so only a hand-made entry gets here.
          throw new PerfmonError('CACHE_CORRUPT', `the cache entry for ${dir} holds unreadable minutes: run "perfmon cache clear", or use --no-cache`);
        }
      }
      return minutes;
    },
    set minutes(m) {
      minutes = m;
    },
  };
}

export interface CacheInfo {
  cacheDir: string;
  entries: Array<{ file: string; bytes: number; dir?: string; files?: Array<{ name: string; offset: number; lines: number; minutes: number }>; problem?: string }>;
}

/** What the cache holds (for `perfmon cache info`). */
export function cacheInfo(cacheDir: string, logDirs: readonly string[]): CacheInfo {
  const entries: CacheInfo['entries'] = [];
  for (const dir of logDirs) {
    const path = entryPath(cacheDir, dir);
    let bytes = 0;
    try {
      bytes = statSync(path).size;
    } catch {
      entries.push({ file: path, bytes: 0, dir: resolve(dir), problem: 'no entry' });
      continue;
    }
    const r = loadEntry(cacheDir, dir);
    if (!r.entry) {
      entries.push({ file: path, bytes, dir: resolve(dir), problem: `unusable (${r.reason}); it will be rebuilt` });
      continue;
    }
    entries.push({
      file: path,
      bytes,
      dir: r.entry.dir,
      files: [...r.entry.files].map(([name, f]) => ({ name, offset: f.index.offset, lines: f.index.lines, minutes: f.index.minutes.size })),
    });
  }
  return { cacheDir, entries };
}

/** Removes the entries of `logDirs`, or every entry when none is given; returns the paths removed. */
export function clearCache(cacheDir: string, logDirs?: readonly string[]): string[] {
  const removed: string[] = [];
  const targets = logDirs && logDirs.length > 0 ? logDirs.map((d) => entryPath(cacheDir, d)) : safeList(cacheDir).filter((n) => n.endsWith('.idx') || n.endsWith('.tmp')).map((n) => join(cacheDir, n));
  for (const t of targets) {
    try {
      rmSync(t);
      removed.push(t);
    } catch {
      // not there
    }
  }
  return removed;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
