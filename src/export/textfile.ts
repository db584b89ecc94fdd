import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PerfmonError } from '../errors.js';

/**
 * Writes `content` to `path` atomically: a temp file in the same directory (so rename stays on one
 * filesystem), fsync'd, then renamed over the target. Readers such as node_exporter's textfile
 * collector see the old file or the new one, never half of one. The temp name does not end in
 * `.prom`, so the collector never picks it up.
 */
export function writeFileAtomic(path: string, content: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w', 0o644);
    const buf = Buffer.from(content);
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw new PerfmonError('TEXTFILE_WRITE', `cannot write ${path}: ${(e as Error).message} (check the directory exists and is writable)`);
  }
}
