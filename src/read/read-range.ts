import { closeSync, openSync, readSync } from 'node:fs';
import { LineSplitter, type LineSink } from './line-splitter.js';

/**
 * Read 64 KiB at a time, into one buffer per thread that every range reuses. On the development
 * VM, reading the benchmark day's 684 MB into a reused buffer took 97–120 ms when the buffer was
 * 64–128 KiB, and 370–450 ms when it was 160 KiB to 1 MiB, whatever the size of each read; a
 * fresh 1 MiB buffer per range (as before) took 180–390 ms, and its pages were faulted in anew
 * each time (33,500 page faults in a cold report). glibc serves allocations under 128 KiB from
 * its heap and maps larger ones from the system apart: the sizes above fall on either side of
 * that. Kept well below it. (The splitter offers a line carried over a chunk's end to the fast
 * path too, or the smaller chunks would cost more per-line work than they save in reading.)
 */
const CHUNK_BYTES = 64 * 1024;

let spare: Buffer | undefined;

/**
 * Reads the lines that start in [start, end) of a plain file: a range that begins inside a line
 * skips to the next one (the previous range owns it), and the last line is read past `end` to its
 * newline. Ranges split at any byte offsets thus cover every line exactly once. Returns the
 * number of complete lines read. `sink` may be a function of where the first line starts.
 *
 * Reads are synchronous: this runs on worker threads (and for the few lines of a cut minute),
 * where a round trip through the thread pool per megabyte left a tenth of the time idle.
 */
export async function readRange(path: string, start: number, end: number, sink: LineSink | ((firstLineStart: number) => LineSink)): Promise<number> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0; // removed since listing (retention): nothing to read
    throw e;
  }
  // Taken while in use: a read that another started meanwhile (none does today: every read here
  // is synchronous) gets a buffer of its own.
  const buf = spare ?? Buffer.allocUnsafe(CHUNK_BYTES);
  spare = undefined;
  try {
    let pos = start;
    if (start > 0) {
      // Find the first line start at or after `start`: just after a newline at start − 1 or later.
      pos = start - 1;
      for (;;) {
        const bytesRead = readSync(fd, buf, 0, CHUNK_BYTES, pos);
        if (bytesRead === 0) return 0;
        const nl = buf.subarray(0, bytesRead).indexOf(10);
        if (nl !== -1) {
          pos += nl + 1;
          break;
        }
        pos += bytesRead;
      }
    }
    if (pos >= end) return 0;
    // Lines starting before `end` are ours; stop at the first newline at or past end − 1.
    const splitter = new LineSplitter(typeof sink === 'function' ? sink(pos) : sink);
    for (;;) {
      const bytesRead = readSync(fd, buf, 0, CHUNK_BYTES, pos);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      if (pos + bytesRead >= end) {
        const nl = chunk.indexOf(10, Math.max(0, end - 1 - pos));
        if (nl !== -1) {
          splitter.push(chunk.subarray(0, nl + 1));
          break;
        }
      }
      splitter.push(chunk);
      pos += bytesRead;
    }
    return splitter.lineNo;
  } finally {
    closeSync(fd);
    spare = buf;
  }
}
