/**
 * Splits a byte stream into lines at `\n` without decoding it. A line is handed to the sink as a
 * slice of the chunk it ended in (or of the carry buffer when it spans chunks); the sink must use
 * the bytes before returning. An unterminated last line is held, never emitted: a writer may be
 * mid-write. A line longer than `maxLineBytes` is not buffered: its bytes are counted and dropped
 * until its newline, then reported once through `tooLong`.
 */
export interface LineSink {
  line(buf: Buffer, start: number, end: number, lineNo: number): void;
  tooLong(lineNo: number, bytes: number): void;
  /**
   * Optional fast path: take as many lines as it can from `start` on, each ending at a newline
   * before `limit` and no longer than `maxLineBytes`, finding each newline while reading its line
   * (no search per line), numbering them on from `lines.lineNo`, which it advances. Returns where
   * the first line it did not take starts (`start` if none): the splitter finds that line's
   * newline and calls `line` (or `tooLong`), then offers the rest again.
   */
  linesAt?(buf: Buffer, start: number, limit: number, maxLineBytes: number, lines: { lineNo: number }): number;
}

export const MAX_LINE_BYTES = 1024 * 1024;

export class LineSplitter {
  /** Lines completed so far (the number of the last emitted line). */
  lineNo = 0;
  private carry: Buffer = Buffer.alloc(0);
  private carryLen = 0;
  private skipping = false;
  private skipped = 0;

  constructor(
    private readonly sink: LineSink,
    private readonly maxLineBytes = MAX_LINE_BYTES,
  ) {}

  /** Bytes of the incomplete last line seen so far (held or being skipped). */
  get pendingBytes(): number {
    return this.skipping ? this.skipped : this.carryLen;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    const len = chunk.length;
    const sink = this.sink;
    // linesAt is only given lines whose newline is in the chunk: a parse then never reads past
    // the chunk's last newline (every scan stops at a newline), so never beyond the chunk, where
    // V8 would deoptimise the parser for an out-of-bounds read.
    const lastNl = sink.linesAt !== undefined ? chunk.lastIndexOf(10) : -1;
    let offered = -1;
    while (pos < len) {
      if (pos <= lastNl && pos > offered && this.carryLen === 0 && !this.skipping) {
        offered = pos;
        pos = sink.linesAt!(chunk, pos, lastNl + 1, this.maxLineBytes, this);
        if (pos > lastNl) continue;
      }
      const nl = chunk.indexOf(10, pos);
      if (nl === -1) {
        this.hold(chunk, pos, len);
        return;
      }
      if (this.carryLen > 0 && !this.skipping && this.carryLen + (nl - pos) <= this.maxLineBytes && sink.linesAt !== undefined) {
        // The line the last chunk ended in, whole with its newline: offered to linesAt like the
        // others (a chunk's first line, in every chunk of a large read, would otherwise take
        // the per-line path, which V8 optimises late if at all).
        const total = this.carryLen + (nl - pos);
        this.append(chunk, pos, nl + 1);
        this.carryLen = 0;
        if (sink.linesAt(this.carry, 0, total + 1, this.maxLineBytes, this) <= total) this.sink.line(this.carry, 0, total, ++this.lineNo);
        pos = nl + 1;
        continue;
      }
      const lineNo = ++this.lineNo;
      if (this.skipping) {
        this.sink.tooLong(lineNo, this.skipped + (nl - pos));
        this.skipping = false;
        this.skipped = 0;
      } else if (this.carryLen > 0) {
        const total = this.carryLen + (nl - pos);
        if (total > this.maxLineBytes) {
          this.sink.tooLong(lineNo, total);
        } else {
          this.append(chunk, pos, nl);
          this.sink.line(this.carry, 0, total, lineNo);
        }
        this.carryLen = 0;
      } else if (nl - pos > this.maxLineBytes) {
        this.sink.tooLong(lineNo, nl - pos);
      } else {
        this.sink.line(chunk, pos, nl, lineNo);
      }
      pos = nl + 1;
    }
  }

  /** Forgets any held partial line (after truncation, the bytes it came from are gone). */
  reset(): void {
    this.carryLen = 0;
    this.skipping = false;
    this.skipped = 0;
  }

  private hold(chunk: Buffer, start: number, end: number): void {
    const n = end - start;
    if (this.skipping) {
      this.skipped += n;
    } else if (this.carryLen + n > this.maxLineBytes) {
      this.skipping = true;
      this.skipped = this.carryLen + n;
      this.carryLen = 0;
    } else {
      this.append(chunk, start, end);
    }
  }

  private append(chunk: Buffer, start: number, end: number): void {
    const need = this.carryLen + (end - start);
    if (need > this.carry.length) {
      const next = Buffer.allocUnsafe(Math.max(need, this.carry.length * 2, 4096));
      this.carry.copy(next, 0, 0, this.carryLen);
      this.carry = next;
    }
    chunk.copy(this.carry, this.carryLen, start, end);
    this.carryLen = need;
  }
}
