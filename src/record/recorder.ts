import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { HOUR_MS, logFileName } from './file-name.js';
import {
  badMetadata,
  isCount,
  llmLine,
  queueLine,
  stageLine,
  type LlmCall,
  type MetricMetadata,
} from './line-format.js';
import { pruneExpired } from './retention.js';

export interface RecorderOptions {
  /** The log directory; created on first write. */
  dir: string;
  /** Write each line as it is recorded instead of in batches. */
  sync?: boolean;
  /** Append `-<host>-<pid>` to file names (one writer per file, for network filesystems). */
  perProcessFiles?: boolean;
  /** Files whose hour ended longer ago are deleted at each rotation. 0 keeps everything. */
  retentionHours?: number;
  /** Longest a recorded line waits in memory. */
  flushIntervalMs?: number;
  /** Largest single write(), in bytes. Batches hold whole lines only. */
  maxBatchBytes?: number;
  /** Injected clock (epoch ms). */
  now?: () => number;
  /** Receives the one warning about bad arguments and any write failure. */
  onWarning?: (message: string) => void;
}

export interface RecorderStats {
  /** Lines written to disk. */
  written: number;
  /** Calls dropped for bad arguments. */
  dropped: number;
  /** Lines lost to write errors (disk full, permissions). */
  failed: number;
  /** Lines waiting in memory. */
  buffered: number;
}

export interface Recorder {
  recordMetric(stage: string, durationMs: number, metadata?: MetricMetadata): void;
  recordError(stage: string, error: string | Error, durationMs?: number, metadata?: MetricMetadata): void;
  recordQueueDepth(depth: number): void;
  recordLLMCall(call: LlmCall): void;
  /** Writes every buffered line now, synchronously. */
  flush(): void;
  /** Flushes and releases the file; later records are dropped. */
  close(): Promise<void>;
  stats(): RecorderStats;
}

const DEFAULT_FLUSH_MS = 100;
const DEFAULT_BATCH_BYTES = 64 * 1024;
/** Beyond this many buffered characters a recording call flushes inline: a tight loop that never
 *  yields to the event loop must not grow the buffer without bound. */
const INLINE_FLUSH_CHARS = 1024 * 1024;

export function createRecorder(options: RecorderOptions): Recorder {
  return new FileRecorder(options);
}

class FileRecorder implements Recorder {
  private readonly dir: string;
  private readonly sync: boolean;
  private readonly suffix: string;
  private readonly retentionHours: number;
  private readonly flushMs: number;
  private readonly batchBytes: number;
  private readonly now: () => number;
  private readonly warn: (m: string) => void;

  private lines: string[] = [];
  private chars = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private fd: number | undefined;
  private fdHour = NaN;
  private closed = false;
  private warnedBadArgs = false;
  private readonly warnedWrite = new Set<string>();
  private readonly counts = { written: 0, dropped: 0, failed: 0 };

  constructor(o: RecorderOptions) {
    this.dir = o.dir;
    this.sync = o.sync ?? false;
    this.suffix = o.perProcessFiles ? `-${safeHost()}-${process.pid}` : '';
    this.retentionHours = o.retentionHours ?? 24;
    this.flushMs = o.flushIntervalMs ?? DEFAULT_FLUSH_MS;
    this.batchBytes = o.maxBatchBytes ?? DEFAULT_BATCH_BYTES;
    this.now = o.now ?? Date.now;
    this.warn = o.onWarning ?? ((m) => process.emitWarning(m, { code: 'PERFMON' }));
    live.add(this);
    installExitHooks();
  }

  recordMetric(stage: string, durationMs: number, metadata?: MetricMetadata): void {
    // The hot path: no closure, no object but the line. try/catch costs nothing when nothing throws.
    try {
      if (this.accept(stage, durationMs, metadata)) this.push(stageLine(this.now(), stage, durationMs, metadata));
    } catch (e) {
      this.unformattable(e);
    }
  }

  recordError(stage: string, error: string | Error, durationMs = 0, metadata?: MetricMetadata): void {
    try {
      const message = error instanceof Error ? error.message : String(error);
      this.recordMetric(stage, durationMs, { ...metadata, success: false, error: message });
    } catch (e) {
      this.unformattable(e);
    }
  }

  recordQueueDepth(depth: number): void {
    this.guard(() => {
      if (this.closed) this.drop('recorder is closed');
      else if (!isCount(depth)) this.drop(`queue depth must be a finite number >= 0, got ${String(depth)}`);
      else this.push(queueLine(this.now(), depth));
    });
  }

  recordLLMCall(call: LlmCall): void {
    this.guard(() => {
      if (this.closed) {
        this.drop('recorder is closed');
        return;
      }
      if (call === null || typeof call !== 'object') {
        this.drop('recordLLMCall takes an object');
        return;
      }
      const bad =
        call.durationMs !== undefined && !isCount(call.durationMs)
          ? `durationMs must be a finite number >= 0, got ${String(call.durationMs)}`
          : badMetadata(call);
      if (bad !== undefined) this.drop(bad);
      else this.push(llmLine(this.now(), { ...call, model: call.model || 'unknown' }));
    });
  }

  flush(): void {
    this.clearTimers();
    if (this.lines.length === 0) return;
    const lines = this.lines;
    this.lines = [];
    this.chars = 0;
    const writtenBefore = this.counts.written;
    try {
      this.openForHour(Math.floor(this.now() / HOUR_MS));
      this.writeBatches(lines);
    } catch (e) {
      // Batches written before the failure are on disk (and counted in `written`): only the rest is lost.
      this.counts.failed += lines.length - (this.counts.written - writtenBefore);
      this.warnOnce(e as NodeJS.ErrnoException);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    live.delete(this);
  }

  stats(): RecorderStats {
    return { ...this.counts, buffered: this.lines.length };
  }

  /**
   * Recording never throws into the pipeline: a value that cannot even be turned into text
   * (a BigInt stage, an object without toString) is dropped and counted like any bad argument.
   */
  private guard(record: () => void): void {
    try {
      record();
    } catch (e) {
      this.unformattable(e);
    }
  }

  private unformattable(e: unknown): void {
    this.drop(`a value could not be formatted: ${e instanceof Error ? e.message : 'unknown error'}`);
  }

  private accept(stage: string, durationMs: number, metadata: MetricMetadata | undefined): boolean {
    if (this.closed) return this.drop('recorder is closed');
    if (typeof stage !== 'string' || stage === '') return this.drop(`stage must be a non-empty string, got ${JSON.stringify(stage)}`);
    if (!isCount(durationMs)) return this.drop(`durationMs must be a finite number >= 0, got ${String(durationMs)}`);
    const bad = badMetadata(metadata);
    return bad === undefined ? true : this.drop(bad);
  }

  /** Counts a dropped call; warns about the first one only, so a bad loop cannot flood stderr. */
  private drop(reason: string): false {
    this.counts.dropped++;
    if (!this.warnedBadArgs) {
      this.warnedBadArgs = true;
      this.warn(`perfmon: dropped a record with bad arguments (${reason}); further ones are counted in stats().dropped`);
    }
    return false;
  }

  private push(line: string): void {
    this.lines.push(line);
    this.chars += line.length;
    if (this.sync || this.chars >= INLINE_FLUSH_CHARS) {
      this.flush();
    } else if (this.chars >= this.batchBytes) {
      this.immediate ??= setImmediate(() => this.flush());
    } else {
      this.timer ??= setTimeout(() => this.flush(), this.flushMs).unref();
    }
  }

  private clearTimers(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  /** Opens the file of the current UTC hour, rotating (and applying retention) when it changed. */
  private openForHour(hour: number): void {
    if (this.fd !== undefined && hour === this.fdHour) return;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    mkdirSync(this.dir, { recursive: true });
    this.fd = openSync(join(this.dir, logFileName(hour * HOUR_MS, this.suffix)), 'a', 0o644);
    this.fdHour = hour;
    if (this.retentionHours > 0) {
      try {
        pruneExpired(this.dir, { retentionHours: this.retentionHours, now: this.now() });
      } catch (e) {
        this.warnOnce(e as NodeJS.ErrnoException);
      }
    }
  }

  /**
   * Each write() carries whole lines only and at most `batchBytes` (a longer single line goes
   * alone), so writers sharing an O_APPEND file never interleave inside a line.
   */
  private writeBatches(lines: string[]): void {
    let batch = '';
    let batchLen = 0;
    let batchLines = 0;
    for (const line of lines) {
      const len = Buffer.byteLength(line);
      if (batchLen > 0 && batchLen + len > this.batchBytes) {
        this.writeAll(batch, batchLines);
        batch = '';
        batchLen = 0;
        batchLines = 0;
      }
      batch += line;
      batchLen += len;
      batchLines++;
    }
    if (batchLen > 0) this.writeAll(batch, batchLines);
  }

  private writeAll(text: string, lineCount: number): void {
    const buf = Buffer.from(text);
    let off = 0;
    // A short write (a signal, a full disk) leaves the rest to write: check the count and go on.
    while (off < buf.length) {
      const n = writeSync(this.fd!, buf, off, buf.length - off);
      if (n <= 0) throw Object.assign(new Error('write() wrote nothing'), { code: 'EIO' });
      off += n;
    }
    this.counts.written += lineCount;
  }

  private warnOnce(e: NodeJS.ErrnoException): void {
    const code = e.code ?? 'ERROR';
    if (this.warnedWrite.has(code)) return;
    this.warnedWrite.add(code);
    this.warn(`perfmon: cannot write metrics to ${this.dir}: ${e.message} (records are counted in stats().failed)`);
  }
}

function safeHost(): string {
  return hostname().replace(/[^A-Za-z0-9_.-]/g, '_') || 'host';
}

// Every open recorder, so one set of process hooks can flush them all.
const live = new Set<FileRecorder>();
let hooksInstalled = false;

function flushAll(): void {
  for (const r of live) r.flush();
}

/**
 * Flush on `exit` (normal end and process.exit()) and on SIGINT/SIGTERM/SIGHUP. A signal handler
 * replaces the default "terminate", so when perfmon's is the only one it re-raises the signal after
 * flushing: the process still dies by that signal, as it would have without perfmon.
 */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', flushAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      flushAll();
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}
