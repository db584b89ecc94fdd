import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync, unlinkSync, writevSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PerfmonError } from '../errors.js';
import { ByteReader, ByteWriter } from '../stats/bytes.js';
import { Rollup } from '../stats/rollup.js';
import { checksumText } from './checksum.js';
import { decodeMinutes, encodeMinutes, encodeSummary, INDEX_PARAMS, SavedSummary, indexFromJSON, indexToJSON, summarize, type DecodedMinutes, type FileIndex, type FileIndexData, type FileSummary } from './file-index.js';

/**
 * The on-disk cache: one entry per log directory, holding each file's index with the identity
 * of the file it describes. An entry is written whole to a temp file and renamed into place, and
 * carries its format version, the rollup parameters, its parts' lengths and checksums: a torn,
 * corrupt, foreign or outdated entry is ignored (and rebuilt), never trusted.
 *
 * Layout: `PERFMON-INDEX <version> <checksum of head and summaries, 8 hex digits> <head length>
 * <summaries length> <length of the minutes and prefixes>\n`, then the head, lines of JSON — the
 * directory, the parameters and the prefixes' lengths and checksums, then one line per file (its identity, offset, malformed lines, the length of its
 * summary, the length and checksum of its minutes) — padded with spaces to a multiple of 8 bytes;
 * then each file's summary in binary (stats/bytes.ts: decoding it is reads, not parsing); then
 * each file's minutes in binary, in the order of the lines; then, for each file, the merge of its
 * summary and those of the files before it (its prefix: any run of files is a prefix less an
 * earlier one, see answerWindow), their lengths and checksums in the head's first line. A run
 * reads and checks the head and the summaries (a few kilobytes per file), and reads, checks and
 * decodes only the minutes of the files a window boundary cuts and the prefixes it uses, through
 * the descriptor it opened the entry with (a writer renames a new entry into place; the one
 * opened stays as it was). Minutes or prefixes that fail their checksum when read make the run
 * start again without the entry (see readWindow), and rebuild it. A run that saves writes back
 * the line, summary and minutes of every file it did not extend as it read them.
 */

const MAGIC = 'PERFMON-INDEX';

export interface FileIdentity {
  dev: number;
  ino: number;
  /** Hex of the first bytes (up to FINGERPRINT_BYTES) when indexed. */
  fingerprint: string;
  /** Size of a gzip file when indexed (it is read whole, so any change means reindexing). */
  size: number;
  /** Hex of the bytes just before the offset indexed ('' for none, or gzip): see readWindow. */
  tail?: string;
  /**
   * Its modification and status-change times (ms, as stat gives them) when identified: a file
   * whose device, inode, size and both times are still these is taken as unchanged without
   * being opened (see readWindow). Absent: not known, the file is always opened and checked.
   */
  mtimeMs?: number;
  ctimeMs?: number;
}

export interface CachedFile extends FileIdentity {
  index: FileIndex;
  /** Set when loaded and not extended since: the summary and minutes as saved, reused as is. */
  summary?: FileSummary;
  minutes?: BlobRef;
  /** Set when loaded: the merge of this file's saved summary and those of the files before it in
   *  the entry (readPrefix). */
  prefix?: BlobRef;
  /** Set when loaded: the file's line of the head as read, the identity it holds, the summary's
   *  bytes as read, and the file's place among the entry's files. */
  saved?: { line: string; identity: FileIdentity; summaryBlob: Uint8Array; position: number };
}

export interface CacheEntry {
  dir: string;
  files: Map<string, CachedFile>;
  /** The entry file a loaded entry reads its minutes from: close it when done (closeEntry). */
  source?: EntrySource;
}

/** A loaded entry's file, open until closeEntry (then reopened by path where still needed). */
interface EntrySource {
  path: string;
  fd: number | undefined;
}

/** Where a part read on demand (a file's minutes, a prefix) lies in the entry file, and its checksum. */
interface BlobRef {
  source: EntrySource;
  at: number;
  bytes: number;
  sum: string;
}

interface SavedFile extends FileIdentity {
  offset: number;
  lines: number;
  malformed: FileIndexData['malformed'];
  /** Bytes of the file's summary (binary, a multiple of 8; 0: none), which follow those of the
   *  files before it in the summaries. */
  summaryBytes: number;
  /** Bytes of the file's minutes (binary), which follow those of the files before it: read
   *  and decoded only when a boundary cuts the file. */
  minutesBytes: number;
  /** Their checksum, 8 hex digits. */
  minutesSum: string;
}

/** The head's first line. */
interface EntryTop {
  dir: string;
  params: typeof INDEX_PARAMS;
  /** Each file's prefix (see CachedFile.prefix) as [bytes, checksum], in the order of the lines;
   *  they follow all the minutes. */
  prefixes: Array<[number, string]>;
}

/** $XDG_CACHE_HOME/perfmon, else ~/.cache/perfmon. */
export function defaultCacheDir(env: Record<string, string | undefined>): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homeDir(env), '.cache'), 'perfmon');
}

/**
 * The home directory: $HOME, as os.homedir() takes it where it is set, else os.homedir() (the
 * user database). node:os is loaded only then: ≈ 0.3 ms of a cached run's start.
 */
function homeDir(env: Record<string, string | undefined>): string {
  return env.HOME !== undefined && env.HOME !== '' ? env.HOME : process.getBuiltinModule('node:os').homedir();
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

export type LoadResult = { entry: CacheEntry } | { entry: undefined; reason: 'missing' | 'corrupt' | 'version' | 'foreign' };

/** Reads and verifies the entry of `logDir`; anything wrong with it reads as "no entry". */
export function loadEntry(cacheDir: string, logDir: string): LoadResult {
  let fd: number;
  try {
    fd = openSync(entryPath(cacheDir, logDir), 'r');
  } catch {
    return { entry: undefined, reason: 'missing' };
  }
  let r: LoadResult = { entry: undefined, reason: 'corrupt' };
  try {
    r = readEntry(fd, entryPath(cacheDir, logDir), logDir);
  } catch {
    // unreadable: corrupt
  }
  if (r.entry === undefined) closeSync(fd);
  return r;
}

const HEADER_MAX = 256;

function readEntry(fd: number, path: string, logDir: string): LoadResult {
  const size = fstatSync(fd).size;
  const first = readAt(fd, 0, Math.min(size, HEADER_MAX));
  const nl = first.indexOf(10);
  const header = nl === -1 ? '' : first.subarray(0, nl).toString('latin1');
  const [magic, version, digest, headLength, summariesLength, minutesLength, more] = header.split(' ');
  if (magic !== MAGIC) return { entry: undefined, reason: 'corrupt' };
  if (Number(version) !== INDEX_PARAMS.version) return { entry: undefined, reason: 'version' };
  const headBytes = Number(headLength);
  const summaryBytes = Number(summariesLength);
  const minuteBytes = Number(minutesLength);
  const counts = [headBytes, summaryBytes, minuteBytes];
  if (more !== undefined || !counts.every((n) => Number.isSafeInteger(n) && n >= 0) || headBytes % 8 !== 0) return { entry: undefined, reason: 'corrupt' };
  // A torn or truncated entry, or one with bytes after it, has another size.
  if (nl + 1 + headBytes + summaryBytes + minuteBytes !== size) return { entry: undefined, reason: 'corrupt' };
  // The head and the summaries in one buffer of their own: the summaries start on an 8-byte
  // boundary of it (the head is padded), as their decoding wants (see stats/bytes.ts).
  const front = readAt(fd, nl + 1, headBytes + summaryBytes);
  if (checksumText(front) !== digest) return { entry: undefined, reason: 'corrupt' };
  let summaries = front.subarray(headBytes);
  let lines: string[];
  let top: EntryTop;
  try {
    lines = front.subarray(0, headBytes).toString('utf8').split('\n').map((l) => l.trimEnd());
    top = JSON.parse(lines[0]!) as EntryTop;
  } catch {
    return { entry: undefined, reason: 'corrupt' };
  }
  // A head that verifies but is not shaped like an entry (e.g. written by a build that changed
  // the layout and kept the version number) is corrupt: never let it throw into a report.
  if (typeof top !== 'object' || top === null || Array.isArray(top) || typeof top.dir !== 'string' || typeof top.params !== 'object' || top.params === null) return { entry: undefined, reason: 'corrupt' };
  if (JSON.stringify(top.params) !== JSON.stringify(INDEX_PARAMS)) return { entry: undefined, reason: 'version' };
  if (top.dir !== resolve(logDir)) return { entry: undefined, reason: 'foreign' };
  const prefixes = top.prefixes;
  if (!Array.isArray(prefixes) || prefixes.length !== lines.length - 1) return { entry: undefined, reason: 'corrupt' };
  const source: EntrySource = { path, fd };
  const files = new Map<string, CachedFile>();
  try {
    let at = 0;
    let sumAt = 0;
    const base = nl + 1 + headBytes + summaryBytes;
    // The prefixes follow the minutes: where each starts is known once the minutes are counted.
    let prefixAt = 0;
    const prefixRefs: BlobRef[] = [];
    for (const p of prefixes) {
      const [bytes, sum] = Array.isArray(p) ? p : [];
      if (!Number.isSafeInteger(bytes) || (bytes as number) < 0 || typeof sum !== 'string') throw new Error('prefix out of range');
      prefixRefs.push({ source, at: prefixAt, bytes: bytes as number, sum });
      prefixAt += bytes as number;
    }
    for (let i = 1; i < lines.length; i++) {
      const [name, f] = JSON.parse(lines[i]!) as [string, SavedFile];
      const bytes = f.minutesBytes;
      const sBytes = f.summaryBytes;
      if (!Number.isSafeInteger(bytes) || bytes < 0 || at + bytes > minuteBytes || typeof f.minutesSum !== 'string') throw new Error('minutes out of range');
      if (!Number.isSafeInteger(sBytes) || sBytes < 0 || sBytes % 8 !== 0 || sumAt + sBytes > summaries.length) throw new Error('summary out of range');
      const summaryBlob = summaries.subarray(sumAt, sumAt + sBytes);
      // Decoded when a window asks for more than its span (see SavedSummary): bytes that passed
      // the head's checksum yet do not decode end the run as a damaged entry would (it retries
      // without the entry).
      const summary = sBytes > 0 ? new SavedSummary(summaryBlob, () => damaged('a damaged summary', top.dir)) : undefined;
      const minutes: BlobRef = { source, at: base + at, bytes, sum: f.minutesSum };
      at += bytes;
      sumAt += sBytes;
      const identity = { dev: f.dev, ino: f.ino, fingerprint: f.fingerprint, size: f.size, tail: typeof f.tail === 'string' ? f.tail : '', mtimeMs: timeOrNone(f.mtimeMs), ctimeMs: timeOrNone(f.ctimeMs) };
      files.set(name, { ...identity, index: lazyIndex(f, minutes, top.dir), summary, minutes, prefix: prefixRefs[i - 1], saved: { line: lines[i]!, identity, summaryBlob, position: i - 1 } });
    }
    for (const r of prefixRefs) r.at += base + at;
    if (at + prefixAt !== minuteBytes || sumAt !== summaries.length) throw new Error('bytes left over');
  } catch {
    return { entry: undefined, reason: 'corrupt' };
  }
  return { entry: { dir: top.dir, files, source } };
}

/** A saved time, or undefined where the line holds none (or something else). */
function timeOrNone(x: unknown): number | undefined {
  return typeof x === 'number' ? x : undefined;
}

/** `bytes` bytes of `fd` from `at`, in a buffer of their own (starting on an 8-byte boundary). */
function readAt(fd: number, at: number, bytes: number): Buffer {
  const buf = Buffer.allocUnsafeSlow(bytes);
  for (let done = 0; done < bytes; ) {
    const n = readSync(fd, buf, done, bytes - done, at + done);
    if (n === 0) throw new Error('entry shorter than its header says');
    done += n;
  }
  return buf;
}

/** Closes the entry file a loaded entry holds open (its minutes are then read by path). */
export function closeEntry(entry: CacheEntry): void {
  const s = entry.source;
  if (s?.fd !== undefined) {
    closeSync(s.fd);
    s.fd = undefined;
  }
}

/** A part as saved, when it is what its checksum says; else undefined. */
function readBlob(ref: BlobRef, check = true): Buffer | undefined {
  let fd = ref.source.fd;
  const own = fd === undefined;
  try {
    if (own) fd = openSync(ref.source.path, 'r');
    const bytes = readAt(fd!, ref.at, ref.bytes);
    return !check || checksumText(bytes) === ref.sum ? bytes : undefined;
  } catch {
    return undefined;
  } finally {
    if (own && fd !== undefined) closeSync(fd);
  }
}

/** A file's prefix (CachedFile.prefix), read, checked and decoded; its own copy each time. */
export function readPrefix(ref: BlobRef, dir: string): Rollup {
  return readDecoded(ref, (bytes) => Rollup.decode(new ByteReader(bytes)), 'a damaged prefix', dir);
}

/** A part read, checked and decoded; a damaged one throws CACHE_CORRUPT, on which readWindow
 *  starts again without the entry, and so rebuilds it. */
function readDecoded<T>(ref: BlobRef, decode: (bytes: Buffer) => T, what: string, dir: string): T {
  const bytes = readBlob(ref);
  try {
    if (bytes === undefined) throw new Error('checksum');
    return decode(bytes);
  } catch {
    damaged(what, dir);
  }
}

/** Damage found in an entry after it loaded: the run restarts without the entry (readWindow). */
function damaged(what: string, dir: string): never {
  throw new PerfmonError('CACHE_CORRUPT', `the cache entry for ${dir} holds ${what}: run "perfmon cache clear", or use --no-cache`);
}

/**
 * Reads every part of the entry of `logDir`, minutes included, and checks them all: what a run
 * would find wrong with it, whichever files its windows cut (for `perfmon cache info`).
 */
export function verifyEntry(cacheDir: string, logDir: string): LoadResult {
  const r = loadEntry(cacheDir, logDir);
  if (r.entry === undefined) return r;
  try {
    for (const f of r.entry.files.values()) {
      if (f.minutes === undefined) continue;
      const bytes = readBlob(f.minutes);
      if (bytes === undefined) return { entry: undefined, reason: 'corrupt' };
      // Every minute's rollup and the summary decoded too (a run decodes only those it uses).
      const { minutes, blocks } = decodeMinutes(bytes);
      for (const e of [...minutes.values(), ...blocks.values()]) void e.rollup;
      void f.summary?.rollup;
      if (f.prefix !== undefined) readPrefix(f.prefix, r.entry.dir);
    }
  } catch {
    return { entry: undefined, reason: 'corrupt' };
  } finally {
    closeEntry(r.entry);
  }
  return r;
}

/**
 * Writes the entry atomically (temp file in the cache directory, then rename): a reader sees the
 * old entry or the new one. Concurrent runs each write a complete, consistent entry; the last
 * rename wins. Throws when the cache directory cannot be written (the caller goes on without).
 * A file whose saved minutes no longer read back as saved is left out (and indexed anew next time).
 */
export function saveEntry(cacheDir: string, entry: CacheEntry): void {
  mkdirSync(cacheDir, { recursive: true });
  const blobs: Uint8Array[] = [];
  const summaries: Uint8Array[] = [];
  const lines: string[] = [];
  const prefixes: Array<{ bytes: Uint8Array; sum: string }> = [];
  // While the files so far are the saved entry's first ones, unchanged and in its order, each
  // one's saved prefix is still its prefix: copied as read, its checksum with it (as minutes are),
  // not merged and encoded again — a run after new lines in the newest file re-encodes one prefix,
  // not the day's. From the first file that differs, the prefix is merged on from the last copied.
  let copying = true;
  let lastCopied: BlobRef | undefined;
  let prefix: Rollup | undefined;
  const written: Array<FileSummary | undefined> = [];
  for (const [name, f] of [...entry.files].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    // An unchanged file's minutes, summary and line are written back as they were read, not
    // re-encoded (the line only while the file's identity is the one it holds).
    const keep = f.minutes !== undefined && f.saved !== undefined && sameIdentity(f.saved.identity, f);
    // Minutes that keep their line are copied unchecked (checking a day's would cost ≈ 20 ms):
    // the line's checksum goes with them, so damage is still found when they are read. Under a
    // new line, which gets a new checksum, they are checked first.
    const blob = f.minutes !== undefined ? readBlob(f.minutes, !keep) : encodeMinutes(f.index);
    if (blob === undefined) {
      copying = false;
      continue;
    }
    const fileSummary = f.summary ?? summarize(f.index);
    const summary = keep ? f.saved!.summaryBlob : encodedSummary(fileSummary);
    lines.push(keep ? f.saved!.line : JSON.stringify([name, saved(f, blob, summary.length)]));
    blobs.push(blob);
    summaries.push(summary);
    written.push(fileSummary);
    copying &&= keep && f.prefix !== undefined && f.saved!.position === prefixes.length;
    const copied = copying ? readBlob(f.prefix!, false) : undefined;
    if (copied !== undefined) {
      prefixes.push({ bytes: copied, sum: f.prefix!.sum });
      lastCopied = f.prefix;
      continue;
    }
    copying = false;
    prefix ??= prefixBefore(lastCopied, written.slice(0, -1), entry.dir);
    if (fileSummary !== undefined) prefix.merge(fileSummary.rollup);
    // Rollup.restOf takes depths by minute (like every maximum) from the files themselves, not
    // from the prefixes it subtracts: a prefix need not carry them (a day's would be 1,440).
    prefix.depthByMinute.clear();
    const w = new ByteWriter();
    prefix.encode(w);
    const bytes = w.bytes();
    prefixes.push({ bytes, sum: checksumText(bytes) });
  }
  const top: EntryTop = { dir: resolve(entry.dir), params: INDEX_PARAMS, prefixes: prefixes.map((p) => [p.bytes.length, p.sum]) };
  lines.unshift(JSON.stringify(top));
  let text = lines.join('\n');
  // Spaces to a multiple of 8 bytes: the summaries that follow start aligned (see readEntry).
  text += ' '.repeat((8 - (Buffer.byteLength(text) % 8)) % 8);
  const front = Buffer.concat([Buffer.from(text, 'utf8'), ...summaries]);
  const headBytes = Buffer.byteLength(text);
  blobs.push(...prefixes.map((p) => p.bytes));
  const minuteBytes = blobs.reduce((n, b) => n + b.length, 0);
  const header = Buffer.from(`${MAGIC} ${INDEX_PARAMS.version} ${checksumText(front)} ${headBytes} ${front.length - headBytes} ${minuteBytes}\n`, 'latin1');
  const target = entryPath(cacheDir, entry.dir);
  // pid and a random part: unique among concurrent writers; 'wx' refuses to reuse a name.
  const tmp = `${target}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`;
  try {
    const fd = openSync(tmp, 'wx');
    try {
      // Written as parts: no copy of the minutes in memory.
      writeAll(fd, [header, front, ...blobs]);
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

/**
 * The merge of the files' summaries before the first whose prefix is not copied: the last copied
 * prefix as saved, or (when that no longer reads back as saved) the summaries merged anew.
 */
function prefixBefore(lastCopied: BlobRef | undefined, before: ReadonlyArray<FileSummary | undefined>, dir: string): Rollup {
  if (lastCopied !== undefined) {
    try {
      return readPrefix(lastCopied, dir);
    } catch {
      // damaged since it was read: merged from the summaries below
    }
  }
  const prefix = new Rollup();
  for (const s of before) if (s !== undefined) prefix.merge(s.rollup);
  return prefix;
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
  return a.dev === b.dev && a.ino === b.ino && a.fingerprint === b.fingerprint && a.size === b.size && (a.tail ?? '') === (b.tail ?? '') && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

function saved(f: CachedFile, minutes: Uint8Array, summaryBytes: number): SavedFile {
  const data = indexToJSON(f.index, false);
  return {
    dev: f.dev,
    ino: f.ino,
    fingerprint: f.fingerprint,
    size: f.size,
    tail: f.tail ?? '',
    mtimeMs: f.mtimeMs,
    ctimeMs: f.ctimeMs,
    offset: data.offset,
    lines: data.lines,
    malformed: data.malformed,
    summaryBytes,
    minutesBytes: minutes.length,
    minutesSum: checksumText(minutes),
  };
}

/** An index whose minutes and blocks are read, checked and decoded on first use. */
function lazyIndex(f: SavedFile, ref: BlobRef, dir: string): FileIndex {
  const malformed = indexFromJSON({ offset: f.offset, lines: f.lines, minutes: [], malformed: f.malformed }).malformed;
  let parts: DecodedMinutes | undefined;
  const read = () => (parts ??= readDecoded(ref, (bytes) => decodeMinutes(bytes, () => damaged('damaged minutes', dir)), 'damaged minutes', dir));
  return {
    offset: f.offset,
    lines: f.lines,
    malformed,
    get minutes() {
      return read().minutes;
    },
    set minutes(m) {
      read().minutes = m;
    },
    get blocks() {
      return read().blocks;
    },
    set blocks(b) {
      read().blocks = b ?? new Map();
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
    const r = verifyEntry(cacheDir, dir);
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
