import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { PerfmonError } from '../errors.js';
import type { ReportBounds, WindowAccumulator } from '../report/window-accumulator.js';
import type { LogFile } from './list-files.js';
import type { MalformedLog } from './malformed.js';
import { fromResult, type RangeResult, type RangeTask } from './read-worker.js';

/** Below this many bytes one thread is faster than starting workers. */
export const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;
/** Ranges per worker: small enough to balance uneven files, large enough to cost nothing. */
const RANGES_PER_WORKER = 4;

// Under vitest the sources are TypeScript, which a worker cannot load: use the build.
const WORKER_URL = import.meta.url.endsWith('.ts') ? new URL('../../dist/read/read-worker.js', import.meta.url) : new URL('./read-worker.js', import.meta.url);

export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

/** Splits the files into ranges at roughly equal byte counts (gzip files stay whole). */
export function planRanges(files: readonly LogFile[], threads: number): Array<Pick<RangeTask, 'path' | 'start' | 'end' | 'gzip'>> {
  const total = files.reduce((n, f) => n + f.size, 0);
  const target = Math.max(1 << 20, Math.ceil(total / (threads * RANGES_PER_WORKER)));
  const out: Array<Pick<RangeTask, 'path' | 'start' | 'end' | 'gzip'>> = [];
  for (const f of files) {
    if (f.gzip) {
      out.push({ path: f.path, start: 0, end: Infinity, gzip: true });
      continue;
    }
    for (let s = 0; s < f.size; s += target) {
      // The last range is open-ended: a writer may have appended since the listing.
      const end = s + target >= f.size ? Infinity : s + target;
      out.push({ path: f.path, start: s, end, gzip: false });
      if (end === Infinity) break;
    }
  }
  return out;
}

/**
 * Reads the files with worker threads over byte ranges split at newlines; each range's
 * accumulator comes back as plain data and is merged in file order, so the result does not
 * depend on which worker finished first. Malformed lines keep their file line numbers.
 */
export async function readParallel(
  files: readonly LogFile[],
  bounds: ReportBounds,
  into: WindowAccumulator,
  malformed: MalformedLog,
  o: { threads: number; fastPath: boolean; onProgress?: (done: number, total: number) => void },
): Promise<void> {
  const plan = planRanges(files, o.threads);
  const tasks: RangeTask[] = plan.map((p, id) => ({ ...p, id, bounds, fastPath: o.fastPath }));
  const results: RangeResult[] = new Array(tasks.length);
  let next = 0;
  let done = 0;
  const workers = Array.from({ length: Math.min(o.threads, tasks.length) }, () => new Worker(WORKER_URL));
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const give = () => {
              if (next >= tasks.length) return resolve();
              w.postMessage(tasks[next++]);
            };
            w.on('message', (r: RangeResult) => {
              if (r.error !== undefined) return reject(new PerfmonError('READ_FAILED', `cannot read ${tasks[r.id]!.path}: ${r.error}`));
              results[r.id] = r;
              o.onProgress?.(++done, tasks.length);
              give();
            });
            w.on('error', reject);
            give();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  // Line numbers: each range counted from its own first line; add the lines of the ranges of
  // the same file before it.
  let file = '';
  let linesBefore = 0;
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i]!;
    const r = results[i]!;
    if (t.path !== file) {
      file = t.path;
      linesBefore = 0;
    }
    into.merge(fromResult(r, bounds));
    malformed.merge({ count: r.malformed.count, first: r.malformed.first.map((m) => ({ ...m, line: m.line + linesBefore })) });
    linesBefore += r.lines;
  }
}
