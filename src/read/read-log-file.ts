import { createReadStream, promises as fsPromises } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { parseRecord, type MetricRecord } from '../schema.js';
import { PerfmonError } from '../errors.js';
import { fastParseRecord } from './fast-parse.js';
import { LineSplitter, MAX_LINE_BYTES, type LineSink } from './line-splitter.js';
import { patternParseRecord } from './pattern-parse.js';
import type { MalformedLog } from './malformed.js';
import { lazyZlib } from './lazy-zlib.js';

const CHUNK_BYTES = 1024 * 1024;

/**
 * A LineSink that parses each line into a record for `onRecord`, and counts each bad line in
 * `malformed` with its file and line number. Shared by one-shot reads and tailing. Lines go
 * through the byte-level fast path first; whatever it declines goes through JSON.parse and the
 * schema check (`fastPath: false` forces the latter, for the differential test). With `pattern`
 * (and without `ids`), the recorder's own lines are first tried with a regular expression
 * (pattern-parse.ts): the quicker way for a few hundred lines in a short run.
 */
export function recordLineSink(
  file: string,
  onRecord: (r: MetricRecord) => void,
  malformed: MalformedLog,
  options: { fastPath?: boolean; ids?: boolean; pattern?: boolean } = {},
): LineSink {
  const fast = options.fastPath !== false;
  const ids = options.ids !== false;
  const pattern = fast && !ids && options.pattern === true;
  return {
    line(buf, start, end, lineNo) {
      if (pattern) {
        const r = patternParseRecord(buf, start, end);
        if (r !== undefined) {
          onRecord(r);
          return;
        }
      }
      if (fast) {
        const r = fastParseRecord(buf, start, end, ids);
        if (r !== undefined) {
          onRecord(r);
          return;
        }
      }
      if (end === start || (end === start + 1 && buf[start] === 13)) {
        malformed.add(file, lineNo, 'empty line');
        return;
      }
      const text = buf.toString('utf8', start, end);
      // Decoding replaces bad bytes with U+FFFD; only then is the (rarer) exact check worth it.
      if (text.includes('\uFFFD') && !isUtf8(buf.subarray(start, end))) {
        malformed.add(file, lineNo, 'not valid UTF-8');
        return;
      }
      const parsed = parseRecord(text);
      if (parsed.ok) onRecord(parsed.record);
      else malformed.add(file, lineNo, parsed.reason);
    },
    tooLong(lineNo, bytes) {
      malformed.add(file, lineNo, `line longer than ${MAX_LINE_BYTES} bytes (${bytes} bytes), skipped`);
    },
  };
}

/**
 * Streams one log file (plain or gzip) through `sink`. An unterminated last line is left unread
 * (a writer may be mid-write). Returns the number of complete lines.
 */
export async function readLogFile(
  path: string,
  sink: LineSink,
  options: { gzip?: boolean; malformed?: MalformedLog } = {},
): Promise<number> {
  const splitter = new LineSplitter(sink);
  if (options.gzip) {
    const input = createReadStream(path);
    const gunzip = lazyZlib().createGunzip();
    input.on('error', (e) => gunzip.destroy(e)).pipe(gunzip);
    try {
      for await (const chunk of gunzip) splitter.push(chunk as Buffer);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT') return 0;
      if (err.syscall !== undefined) throw fileError(path, err);
      // A damaged or truncated archive: keep what decompressed, report the rest.
      options.malformed?.add(path, splitter.lineNo + 1, `gzip: ${err.message}`);
    } finally {
      input.destroy();
    }
    return splitter.lineNo;
  }
  let handle;
  try {
    handle = await fsPromises.open(path, 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return 0; // removed since listing (retention): nothing to read
    throw fileError(path, err);
  }
  try {
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      splitter.push(bytesRead === CHUNK_BYTES ? buf : buf.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return splitter.lineNo;
}

function fileError(path: string, err: NodeJS.ErrnoException): PerfmonError {
  if (err.code === 'EACCES' || err.code === 'EPERM') {
    return new PerfmonError('FILE_UNREADABLE', `log file not readable: ${path} (check its permissions)`);
  }
  return new PerfmonError('FILE_ERROR', `cannot read ${path}: ${err.message}`);
}
