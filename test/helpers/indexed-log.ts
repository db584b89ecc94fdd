import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { emptyIndex, indexingSink, summarize, type FileIndex } from '../../src/cache/file-index.js';
import { LineSplitter } from '../../src/read/line-splitter.js';

/** Writes `lines` as the log file `name` in `dir`, and indexes it as the reader does (its summary too). */
export function writeIndexed(dir: string, name: string, lines: readonly string[]): { path: string; index: FileIndex } {
  const path = join(dir, name);
  const text = lines.join('\n') + '\n';
  writeFileSync(path, text);
  const index = emptyIndex(0);
  new LineSplitter(indexingSink(path, index)).push(Buffer.from(text));
  index.summary = summarize(index);
  return { path, index };
}
