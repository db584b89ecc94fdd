import { availableParallelism } from 'node:os';
import { appendIndex, emptyIndex, indexFromJSON, summaryFromJSON, type FileIndex } from '../cache/file-index.js';
import { PerfmonError } from '../errors.js';
import { indexRange, type RangeResult, type RangeTask } from './index-range.js';

/** Below this many bytes one thread is faster than starting workers. */
export const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;
/** Ranges per worker: small enough to balance uneven files, large enough to cost nothing. */
const RANGES_PER_WORKER = 4;

// Under vitest the sources are TypeScript, which a worker cannot load: use the build.
const WORKER_URL = import.meta.url.endsWith('.ts') ? new URL('../../dist/read/read-worker.js', import.meta.url) : new URL('./read-worker.js', import.meta.url);

export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

/** What to index: a file from byte `from` (0, or where its cached index ends) to its end. */
export interface IndexJob {
  path: string;
  from: number;
  /** Bytes to read (size − from), for planning. */
  bytes: number;
  gzip: boolean;
}

type Range = Pick<RangeTask, 'path' | 'start' | 'end' | 'gzip'>;

/** Splits the jobs into ranges of roughly equal byte counts (gzip files stay whole). */
export function planRanges(jobs: ReadonlyArray<{ path: string; from?: number; bytes: number; gzip: boolean }>, threads: number): Range[] {
  const total = jobs.reduce((n, j) => n + j.bytes, 0);
  const target = Math.max(1 << 20, Math.ceil(total / (threads * RANGES_PER_WORKER)));
  const out: Range[] = [];
  for (const j of jobs) {
    const from = j.from ?? 0;
    if (!(j.bytes >= 0)) throw new Error(`planRanges: bad byte count for ${j.path}`);
    if (j.gzip) {
      out.push({ path: j.path, start: 0, end: Infinity, gzip: true });
      continue;
    }
    for (let s = from; ; s += target) {
      // The last range is open-ended: a writer may have appended since the listing.
      const end = s + target >= from + j.bytes ? Infinity : s + target;
      out.push({ path: j.path, start: s, end, gzip: false });
      if (end === Infinity) break;
    }
  }
  return out;
}

export interface IndexOptions {
  threads: number;
  fastPath: boolean;
  /** Use workers even below PARALLEL_MIN_BYTES (tests). */
  forceParallel?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Indexes each job's bytes, as one fragment per file (lines counted from the job's start). Large
 * reads use worker threads over byte ranges split at newlines, merged in file order; sums are
 * exact, so the result is the same as one thread's.
 */
export async function indexJobs(jobs: readonly IndexJob[], o: IndexOptions): Promise<Map<string, FileIndex>> {
  const bytes = jobs.reduce((n, j) => n + j.bytes, 0);
  const out = new Map<string, FileIndex>();
  if (o.threads <= 1 || (!o.forceParallel && bytes < PARALLEL_MIN_BYTES)) {
    for (let i = 0; i < jobs.length; i++) {
      const j = jobs[i]!;
      out.set(j.path, await indexRange({ path: j.path, start: j.from, end: Infinity, gzip: j.gzip, fastPath: o.fastPath }));
      o.onProgress?.(i + 1, jobs.length);
    }
    return out;
  }
  // Loaded here: a run that reads little (a cached one) does not pay for loading worker_threads.
  const { Worker } = await import('node:worker_threads');
  const tasks: RangeTask[] = planRanges(jobs, o.threads).map((p, id) => ({ ...p, id, fastPath: o.fastPath }));
  const results: FileIndex[] = new Array(tasks.length);
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
              // Next task first, so the worker is busy while this thread decodes the result.
              give();
              try {
                results[r.id] = fragmentOf(r);
              } catch (e) {
                return reject(e as Error);
              }
              o.onProgress?.(++done, tasks.length);
            });
            w.on('error', reject);
            give();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i]!;
    const frag = results[i]!;
    const acc = out.get(t.path);
    if (!acc) out.set(t.path, appendIndex(emptyIndex(frag.offset), frag));
    else appendIndex(acc, frag);
  }
  return out;
}

function fragmentOf(r: RangeResult): FileIndex {
  const frag = indexFromJSON(r.fragment);
  if (r.summary) frag.summary = summaryFromJSON(r.summary);
  return frag;
}
