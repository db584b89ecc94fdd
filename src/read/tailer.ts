import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
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
 * - A size below the offset is a truncation: read again from 0. For copy-truncate, the copy is
 *   recognised by the fingerprint of its first bytes: its content up to the original's offset is
 *   not read again, and the bytes the original lost to the truncation are read from the copy.
 * - An incomplete last line is carried until its newline arrives.
 */

/** Bytes at the start of a file that identify its content (with device + inode). */
export const FINGERPRINT_BYTES = 64;
const CHUNK = 1024 * 1024;

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
}

export class Tailer {
  private readonly files = new Map<string, Tracked>();
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
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
        // Deleted or moved out of the directory: read what is left through the descriptor.
        await this.readNew(t);
        await this.forget(t);
      } else {
        await this.readNew(t);
      }
    }
  }

  private async track(key: string, path: string, name: string, size: number): Promise<void> {
    const hourStart = perfmonFileHour(name);
    const t: Tracked = { key, path, fd: undefined, offset: 0, splitter: this.splitterFor(path), fingerprint: undefined, copyOf: undefined, hourStart };
    this.files.set(key, t);
    this.stats.files++;
    if (isGzipName(name)) {
      // Compressed files are finished files (rotated away): read once, never followed.
      if (this.wanted(hourStart)) await readLogFile(path, this.lineSink(path), { gzip: true, malformed: this.o.malformed });
      t.offset = size;
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
    const original = t.fingerprint && [...this.files.values()].find((o) => o !== t && o.fingerprint?.equals(t.fingerprint!) && !o.copyOf);
    if (original) {
      // A copy (copy-truncate): everything the original has read is read; the rest is the
      // original's until it is truncated, when the lost bytes are taken from here.
      t.copyOf = original;
      t.offset = size;
    } else if (!this.wanted(hourStart)) {
      t.offset = size; // older than anything wanted: follow from the end
    }
  }

  private wanted(hourStart: number | undefined): boolean {
    return this.o.since === undefined || hourStart === undefined || hourStart + HOUR_MS > this.o.since;
  }

  private async readNew(t: Tracked): Promise<void> {
    if (!t.fd || t.copyOf) return;
    const { size } = await t.fd.stat();
    // Shorter than what was read, or different first bytes: truncated (and maybe written again
    // past the old offset before this poll). Either way its content starts over.
    const now = t.fingerprint !== undefined && size >= FINGERPRINT_BYTES ? await this.fingerprintOf(t.fd) : undefined;
    const replaced = now !== undefined && !t.fingerprint!.equals(now);
    if (size < t.offset || replaced) {
      this.stats.truncations++;
      await this.recoverFromCopy(t);
      t.splitter = this.splitterFor(t.path);
      t.offset = 0;
      t.fingerprint = undefined;
    }
    if (t.fingerprint === undefined && size >= FINGERPRINT_BYTES) t.fingerprint = await this.fingerprintOf(t.fd);
    await this.readRange(t.fd, t.offset, size, t.splitter);
    t.offset = size;
  }

  /** Before forgetting a truncated file's past, read the bytes it lost from its copy, if any. */
  private async recoverFromCopy(t: Tracked): Promise<void> {
    const copy = [...this.files.values()].find((c) => c.copyOf === t);
    if (!copy?.fd) return;
    const { size } = await copy.fd.stat();
    await this.readRange(copy.fd, t.offset, size, t.splitter);
    copy.copyOf = undefined;
    copy.offset = size;
    copy.splitter = this.splitterFor(copy.path);
  }

  private async readRange(fd: FileHandle, from: number, to: number, splitter: LineSplitter): Promise<void> {
    let pos = from;
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(0, to - from)));
    while (pos < to) {
      const { bytesRead } = await fd.read(buf, 0, Math.min(buf.length, to - pos), pos);
      if (bytesRead === 0) break;
      const before = splitter.lineNo;
      splitter.push(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
      this.stats.lines += splitter.lineNo - before;
      this.stats.bytes += bytesRead;
      pos += bytesRead;
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
