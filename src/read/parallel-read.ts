import { availableParallelism } from 'node:os';
import { appendIndex, decodeMinutes, emptyIndex, indexFromJSON, summaryFromJSON, type FileIndex } from '../cache/file-index.js';
import { PerfmonError } from '../errors.js';
import { indexRange, type RangeResult, type RangeTask } from './index-range.js';
import { warmUpIndexing } from './warm-up.js';

/** Below this many bytes one thread is faster than starting workers. */
export const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;
/** The smallest range planned: ≈ 5 ms of reading, so the threads finish within that of each other. */
const MIN_RANGE_BYTES = 1 << 20;
/** A range is at most 1/(threads × this) of what is left to plan (guided self-scheduling). */
const SHARE = 4;

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

/**
 * Splits the jobs into ranges, in order, each a share of the bytes still to plan: large ones
 * first (fewer results to merge), then smaller and smaller down to MIN_RANGE_BYTES, so that the
 * last ranges taken are short and no thread waits long for another at the end. Gzip files stay
 * whole.
 */
export function planRanges(jobs: ReadonlyArray<{ path: string; from?: number; bytes: number; gzip: boolean }>, threads: number): Range[] {
  let remaining = jobs.reduce((n, j) => n + j.bytes, 0);
  const out: Range[] = [];
  for (const j of jobs) {
    const from = j.from ?? 0;
    if (!(j.bytes >= 0)) throw new Error(`planRanges: bad byte count for ${j.path}`);
    if (j.gzip) {
      out.push({ path: j.path, start: 0, end: Infinity, gzip: true });
      remaining -= j.bytes;
      continue;
    }
    const jobEnd = from + j.bytes;
    for (let s = from; ; ) {
      const size = Math.max(MIN_RANGE_BYTES, Math.ceil(remaining / (threads * SHARE)));
      // The last range is open-ended: a writer may have appended since the listing.
      const end = s + size >= jobEnd ? Infinity : s + size;
      out.push({ path: j.path, start: s, end, gzip: false });
      remaining -= Math.min(end, jobEnd) - s;
      if (end === Infinity) break;
      s = end;
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
  const warmUp = o.fastPath && bytes >= PARALLEL_MIN_BYTES;
  if (o.threads <= 1 || (!o.forceParallel && bytes < PARALLEL_MIN_BYTES)) {
    if (warmUp) warmUpIndexing({ takesResults: false });
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
  // Every thread, this one included, claims its next task from one shared counter: none waits
  // for another to hand it work, and this thread reads while the workers are still starting
  // (50-130 ms each on a 2-core VM), so `threads` counts this thread and threads − 1 workers.
  const next = new Int32Array(new SharedArrayBuffer(4));
  let done = 0;
  const finished = () => o.onProgress?.(++done, tasks.length);
  const workers = Array.from({ length: Math.min(o.threads - 1, tasks.length - 1) }, () => new Worker(WORKER_URL, { workerData: { tasks, next } satisfies WorkerInput }));
  // Warmed up after the workers are started, not before: a worker takes 50 ms (idle machine) to
  // 90-130 ms (this thread busy) to run its first line on a 2-core VM, and this thread's warm-up
  // (≈ 20 ms) then overlaps that instead of delaying it.
  if (warmUp) warmUpIndexing({ takesResults: workers.length > 0 });
  try {
    const fromWorkers = Promise.all(workers.map((w) => workerDone(w, tasks, results, finished)));
    fromWorkers.catch(() => {}); // awaited below, after this thread's share
    for (let i = Atomics.add(next, 0, 1); i < tasks.length; i = Atomics.add(next, 0, 1)) {
      try {
        results[i] = await indexRange(tasks[i]!);
      } catch (e) {
        // The same error whichever thread read the range.
        throw new PerfmonError('READ_FAILED', `cannot read ${tasks[i]!.path}: ${(e as Error).message}`);
      }
      finished();
      // Let the workers' results in between ranges: decoding them then is off the critical path.
      await new Promise(setImmediate);
    }
    await fromWorkers;
  } finally {
    // Not awaited: a worker takes 7-9 ms to stop, which joining the ranges below need not wait
    // for (the process still waits for it before it exits).
    for (const w of workers) void w.terminate();
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

/** What a worker is started with: every task, and the shared counter of the next one to take. */
export interface WorkerInput {
  tasks: RangeTask[];
  next: Int32Array;
}

/** Settles when the worker has posted `null` (no task left); rejects on its first failure. */
function workerDone(w: import('node:worker_threads').Worker, tasks: readonly RangeTask[], results: FileIndex[], finished: () => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    w.on('message', (r: RangeResult | null) => {
      if (r === null) return resolve();
      if (r.error !== undefined) return reject(new PerfmonError('READ_FAILED', `cannot read ${tasks[r.id]!.path}: ${r.error}`));
      try {
        results[r.id] = fragmentOf(r);
      } catch (e) {
        return reject(e as Error);
      }
      finished();
    });
    w.on('error', reject);
    // A worker only exits when terminated: before `null`, a task it took would be lost.
    w.on('exit', (code) => reject(new PerfmonError('READ_FAILED', `a reading thread stopped before finishing its ranges (exit code ${code})`)));
  });
}

function fragmentOf(r: RangeResult): FileIndex {
  const frag = indexFromJSON(r.fragment, decodeMinutes(r.minutes, undefined, true));
  if (r.summary) frag.summary = summaryFromJSON(r.summary);
  return frag;
}
