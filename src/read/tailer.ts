import { createReadStream } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { constants as zlibConstants, createGunzip, gunzipSync } from 'node:zlib';
import { PerfmonError } from '../errors.js';
import { HOUR_MS, isGzipName, isLogFileName, perfmonFileHour } from '../record/file-name.js';
import type { MetricRecord } from '../schema.js';
import { LineSplitter } from './line-splitter.js';
import type { MalformedLog } from './malformed.js';
import { readLogFile, recordLineSink } from './read-log-file.js';

/**
 * Follows the log files of some directories: reads each from its stored offset to EOF whenever
 * `poll()` runs, so nothing is lost and nothing is read twice across rotation, renames, deletion
 * and copy-truncation. The caller decides when to poll (file-change events, a periodic re-scan,
 * or a test), and polls never overlap.
 *
 * - Files are known by device + inode, so a rename (logrotate's `create` mode) keeps its reader;
 *   a new file at the old path is a new file, read from 0.
 * - The descriptor stays open: a renamed or deleted file is read to its end before it is let go.
 * - A size below the offset is a truncation: read again from 0 (one scan later when no copy is
 *   known yet, so that a copy made just before it is listed first). For copy-truncate, the copy
 *   is recognised by the fingerprint of its first bytes: its content up to the original's offset
 *   is not read again, and the bytes the original lost to the truncation are read from the copy.
 * - A file no scan lists is read to its end and let go: at once when deleted, one scan later when
 *   it still has a name (renamed while a scan ran, the next one finds it under the new name).
 * - An incomplete last line is carried until its newline arrives.
 */

/** Bytes at the start of a file that identify its content (with device + inode). */
export const FINGERPRINT_BYTES = 64;
const CHUNK = 1024 * 1024;
/** How much of a presumed copy is compared with its original (beyond the fingerprint). */
const COPY_CHECK_BYTES = 64 * 1024;

export interface TailerOptions {
  dirs: readonly string[];
  onRecord: (r: MetricRecord) => void;
  malformed: MalformedLog;
  /** Records before this (epoch ms) are not wanted: perfmon files whose hour ended earlier are skipped. */
  since?: number;
}

export interface TailStats {
  files: number;
  bytes: number;
  lines: number;
  truncations: number;
}

interface Tracked {
  key: string;
  path: string;
  fd: FileHandle | undefined;
  offset: number;
  splitter: LineSplitter;
  fingerprint: Buffer | undefined;
  /** A copy-truncate copy of another tracked file: its content is read through the original. */
  copyOf: Tracked | undefined;
  hourStart: number | undefined;
  /** Compressed: read once when found (no descriptor kept), or a copy of a followed file. */
  gzip: boolean;
  /** Scans in a row that did not list it. */
  missed: number;
  /** Found truncated with no copy known: handled at the next scan, which lists a copy if any. */
  truncationSeen: boolean;
}

export class Tailer {
  private readonly files = new Map<string, Tracked>();
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private chunk: Buffer | undefined;
  readonly stats: TailStats = { files: 0, bytes: 0, lines: 0, truncations: 0 };

  constructor(private readonly o: TailerOptions) {}

  /**
   * Re-scans the directories and reads every new complete line. Calls made while a poll runs
   * are folded into one more poll after it, so a burst of change events costs two polls at most.
   */
  poll(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.scanAndRead();
        } while (this.again && !this.closed);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Closes every descriptor; later polls do nothing. */
  async close(): Promise<void> {
    this.closed = true;
    await this.running?.catch(() => {});
    for (const t of this.files.values()) await t.fd?.close().catch(() => {});
    this.files.clear();
  }

  /** Files currently followed (for tests and `--debug`). */
  tracked(): Array<{ path: string; offset: number; pending: number }> {
    return [...this.files.values()].map((t) => ({ path: t.path, offset: t.offset, pending: t.splitter.pendingBytes }));
  }

  private async scanAndRead(): Promise<void> {
    const seen = new Set<string>();
    for (const dir of this.o.dirs) {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (e) {
        // A directory that vanishes while watched is a condition to report, not to crash on.
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new PerfmonError('DIR_UNREADABLE', `cannot read log directory ${dir}: ${(e as Error).message}`);
      }
      for (const name of names.sort()) {
        if (!isLogFileName(name)) continue;
        const path = join(dir, name);
        const st = await stat(path).catch(() => undefined);
        if (!st?.isFile()) continue;
        const key = `${st.dev}:${st.ino}`;
        seen.add(key);
        const known = this.files.get(key);
        if (known) {
          known.path = path; // renamed: same file, same reader
          continue;
        }
        await this.track(key, path, name, st.size);
      }
    }
    for (const t of [...this.files.values()]) {
      if (!seen.has(t.key)) {
        // Deleted or moved out of the directory: read what is left through the descriptor. A
        // file that still has a name may have been renamed between readdir and stat: it is kept
        // for one more scan, which finds it under its new name, instead of being read again.
        await this.readNew(t, false);
        const linked = t.fd !== undefined && (await t.fd.stat()).nlink > 0;
        if (!linked || ++t.missed > 1) await this.forget(t);
      } else {
        t.missed = 0;
        await this.readNew(t);
      }
    }
  }

  private async track(key: string, path: string, name: string, size: number): Promise<void> {
    const hourStart = perfmonFileHour(name);
    const t: Tracked = { key, path, fd: undefined, offset: 0, splitter: this.splitterFor(path), fingerprint: undefined, copyOf: undefined, hourStart, gzip: false, missed: 0, truncationSeen: false };
    this.files.set(key, t);
    this.stats.files++;
    if (isGzipName(name)) {
      // Compressed files are finished files (rotated away): read once, never followed. One that
      // starts like a followed file is that file compressed by logrotate (`compress`): what it
      // holds was read through the original, except what a copy-truncate took, recovered from it.
      t.gzip = true;
      t.offset = size;
      if (!this.wanted(hourStart)) return;
      const head = await gzipHead(path);
      const original = head && (await this.copySource(t, head.subarray(0, FINGERPRINT_BYTES), async () => head, undefined));
      if (original) t.copyOf = original;
      else await readLogFile(path, this.lineSink(path), { gzip: true, malformed: this.o.malformed });
      return;
    }
    try {
      t.fd = await open(path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.files.delete(key);
        return;
      }
      throw e;
    }
    t.fingerprint = await this.fingerprintOf(t.fd);
    const fd = t.fd;
    const original = t.fingerprint && (await this.copySource(t, t.fingerprint, () => readHead(fd, size), size));
    if (original) {
      // A copy (copy-truncate): everything the original has read is read; the rest is the
      // original's until it is truncated, when the lost bytes are taken from here.
      t.copyOf = original;
      t.offset = size;
    } else if (!this.wanted(hourStart)) {
      t.offset = size; // older than anything wanted: follow from the end
    }
  }

  /**
   * The followed file a new file is a copy of (copy-truncate), if any. Equal first bytes are not
   * enough: they are a line's ts and stage, which two files can share (per-process files of one
   * hour, a file recreated in the same millisecond). The original must also have been truncated
   * since it was read (the copy then holds what it lost), or still start with the copy's bytes.
   * `head` gives the new file's first bytes (up to COPY_CHECK_BYTES); `size` its size, if known.
   */
  private async copySource(t: Tracked, fingerprint: Buffer, head: () => Promise<Buffer>, size: number | undefined): Promise<Tracked | undefined> {
    for (const o of this.files.values()) {
      if (o === t || o.copyOf || !o.fd || !o.fingerprint?.equals(fingerprint)) continue;
      const { size: oSize } = await o.fd.stat();
      if (oSize < o.offset) return o;
      const oHead = await this.fingerprintOf(o.fd);
      if (!oHead?.equals(o.fingerprint)) return o;
      if (size !== undefined && size > oSize) continue; // a copy is never larger than its original
      const h = await head();
      if (h.length <= oSize && h.equals(await readHead(o.fd, h.length))) return o;
    }
    return undefined;
  }

  private wanted(hourStart: number | undefined): boolean {
    return this.o.since === undefined || hourStart === undefined || hourStart + HOUR_MS > this.o.since;
  }

  /** @param listed whether this scan listed the file (a last read before letting it go, if not) */
  private async readNew(t: Tracked, listed = true): Promise<void> {
    if (!t.fd || t.copyOf) return;
    const { size } = await t.fd.stat();
    // Shorter than what was read, or different first bytes: truncated (and maybe written again
    // past the old offset before this poll). Either way its content starts over.
    const now = t.fingerprint !== undefined && size >= FINGERPRINT_BYTES ? await this.fingerprintOf(t.fd) : undefined;
    const replaced = now !== undefined && !t.fingerprint!.equals(now);
    if (size < t.offset || replaced) {
      // A copy-truncate's copy is made before the truncation, but possibly after this scan's
      // readdir: the next scan lists it. Until then the file waits, with its fingerprint, so that
      // the copy is recognised and only what the truncation took is read from it.
      if (listed && !t.truncationSeen && ![...this.files.values()].some((c) => c.copyOf === t)) {
        t.truncationSeen = true;
        return;
      }
      t.truncationSeen = false;
      this.stats.truncations++;
      await this.recoverFromCopy(t);
      t.splitter = this.splitterFor(t.path);
      t.offset = 0;
      t.fingerprint = undefined;
    }
    if (t.fingerprint === undefined && size >= FINGERPRINT_BYTES) t.fingerprint = await this.fingerprintOf(t.fd);
    // The offset is where reading stopped: a truncation during the read ends it early, and the
    // rest is then recovered from a copy (or known lost), never skipped as if read.
    t.offset = await this.readRange(t.fd, t.offset, size, t.splitter);
  }

  /** Before forgetting a truncated file's past, read the bytes it lost from its copy, if any. */
  private async recoverFromCopy(t: Tracked): Promise<void> {
    const copy = [...this.files.values()].find((c) => c.copyOf === t);
    if (copy?.gzip) {
      copy.copyOf = undefined;
      await this.readGzipFrom(copy.path, t.offset, t.splitter);
      return;
    }
    if (!copy?.fd) return;
    const { size } = await copy.fd.stat();
    await this.readRange(copy.fd, t.offset, size, t.splitter);
    copy.copyOf = undefined;
    copy.offset = size;
    copy.splitter = this.splitterFor(copy.path);
  }

  /** Reads [from, to) into the splitter; returns the position reached (short of `to` at EOF). */
  private async readRange(fd: FileHandle, from: number, to: number, splitter: LineSplitter): Promise<number> {
    let pos = from;
    // One buffer for every read: polls never overlap, and the splitter copies what it keeps.
    const buf = (this.chunk ??= Buffer.allocUnsafe(CHUNK));
    while (pos < to) {
      const { bytesRead } = await fd.read(buf, 0, Math.min(buf.length, to - pos), pos);
      if (bytesRead === 0) break;
      const before = splitter.lineNo;
      splitter.push(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
      this.stats.lines += splitter.lineNo - before;
      this.stats.bytes += bytesRead;
      pos += bytesRead;
    }
    return pos;
  }

  /** Feeds a gzip file's content from byte `from` (of the decompressed text) into the splitter. */
  private async readGzipFrom(path: string, from: number, splitter: LineSplitter): Promise<void> {
    const input = createReadStream(path);
    const gunzip = createGunzip();
    input.on('error', (e) => gunzip.destroy(e)).pipe(gunzip);
    let pos = 0;
    try {
      for await (const chunk of gunzip) {
        const b = chunk as Buffer;
        const end = pos + b.length;
        if (end > from) {
          const before = splitter.lineNo;
          splitter.push(pos >= from ? b : b.subarray(from - pos));
          this.stats.lines += splitter.lineNo - before;
        }
        pos = end;
      }
    } catch (e) {
      // Gone since, or damaged: what decompressed is kept, the rest reported.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.o.malformed.add(path, splitter.lineNo + 1, `gzip: ${(e as Error).message}`);
    } finally {
      input.destroy();
    }
  }

  private async forget(t: Tracked): Promise<void> {
    await t.fd?.close().catch(() => {});
    this.files.delete(t.key);
    for (const c of this.files.values()) if (c.copyOf === t) c.copyOf = undefined;
  }

  private async fingerprintOf(fd: FileHandle): Promise<Buffer | undefined> {
    const buf = Buffer.alloc(FINGERPRINT_BYTES);
    const { bytesRead } = await fd.read(buf, 0, FINGERPRINT_BYTES, 0);
    return bytesRead === FINGERPRINT_BYTES ? buf : undefined;
  }

  private lineSink(path: string) {
    return recordLineSink(path, this.o.onRecord, this.o.malformed);
  }

  private splitterFor(path: string): LineSplitter {
    return new LineSplitter(this.lineSink(path));
  }
}

/** The first `min(size, COPY_CHECK_BYTES)` bytes of a file (fewer if it is shorter now). */
async function readHead(fd: FileHandle, size: number): Promise<Buffer> {
  const buf = Buffer.alloc(Math.min(size, COPY_CHECK_BYTES));
  const { bytesRead } = await fd.read(buf, 0, buf.length, 0);
  return buf.subarray(0, bytesRead);
}

/**
 * The first decompressed bytes of a gzip file (up to COPY_CHECK_BYTES), from its first 4 KiB,
 * or undefined when fewer than FINGERPRINT_BYTES can be had (damaged, or still being written).
 */
async function gzipHead(path: string): Promise<Buffer | undefined> {
  let fd: FileHandle | undefined;
  try {
    fd = await open(path, 'r');
    const buf = Buffer.alloc(4 * 1024);
    const { bytesRead } = await fd.read(buf, 0, buf.length, 0);
    const head = gunzipSync(buf.subarray(0, bytesRead), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    return head.length >= FINGERPRINT_BYTES ? head.subarray(0, COPY_CHECK_BYTES) : undefined;
  } catch {
    return undefined;
  } finally {
    await fd?.close().catch(() => {});
  }
}
