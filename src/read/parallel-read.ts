import { appendIndex, decodeMinutes, emptyIndex, indexFromJSON, summaryFromJSON, type FileIndex } from '../cache/file-index.js';
import { PerfmonError } from '../errors.js';
import { indexRange, type RangeResult, type RangeTask } from './index-range.js';
import { holdSyncCompile, releaseSyncCompile } from './sync-compile.js';
import { warmUpIndexing } from './warm-up.js';
import { useBucketTable } from '../stats/duration-histogram.js';

/** Below this many bytes one thread is faster than starting workers. */
export const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;
/** From this many bytes to read on this thread, the histograms' bucket table pays (see useBucketTable). */
const BUCKET_TABLE_MIN_BYTES = 1 << 20;
/** The smallest range planned: ≈ 5 ms of reading, so the threads finish within that of each other. */
const MIN_RANGE_BYTES = 1 << 20;
/** A range is at most 1/(threads × this) of what is left to plan (guided self-scheduling). */
const SHARE = 4;

/** The worker's script. Under vitest the sources are TypeScript, which a worker cannot load: use the build. */
function workerUrl(): URL {
  return import.meta.url.endsWith('.ts') ? new URL('../../dist/read/read-worker.js', import.meta.url) : new URL('./read-worker.js', import.meta.url);
}

/** One thread per core. (node:os is loaded here, on first use: a run from the cache reads no log.) */
export function defaultThreads(): number {
  return Math.max(1, process.getBuiltinModule('node:os').availableParallelism());
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
 * Splits the jobs into ranges, each a share of the bytes still to plan: large ones first (fewer
 * results to merge), then smaller and smaller down to MIN_RANGE_BYTES, so that the last ranges
 * taken are short and no thread waits long for another at the end. Gzip files stay whole. The
 * jobs come oldest first (listLogFiles sorts by hour) and are planned newest first: the files a
 * window asks about most, the latest, are read whole where they fit a range, and keep every block
 * of their index (see indexJobs), while the oldest are the ones cut into the short last ranges.
 */
export function planRanges(jobs: ReadonlyArray<{ path: string; from?: number; bytes: number; gzip: boolean }>, threads: number): Range[] {
  let remaining = jobs.reduce((n, j) => n + j.bytes, 0);
  const out: Range[] = [];
  for (const j of [...jobs].reverse()) {
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
  /** Threads to read with (default: defaultThreads(), asked only when the jobs are large enough). */
  threads?: number;
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
  const threads = (o.forceParallel || bytes >= PARALLEL_MIN_BYTES) && jobs.length > 0 ? (o.threads ?? defaultThreads()) : 1;
  const tasks: RangeTask[] = threads > 1 ? planRanges(jobs, threads).map((p, id) => ({ ...p, id, fastPath: o.fastPath })) : [];
  // One range (a single gzip file) is read here: a worker would only add its start-up.
  if (tasks.length < 2) {
    if (bytes >= BUCKET_TABLE_MIN_BYTES) useBucketTable();
    if (o.fastPath && bytes >= PARALLEL_MIN_BYTES) warmUpIndexing();
    for (let i = 0; i < jobs.length; i++) {
      const j = jobs[i]!;
      out.set(j.path, await indexRange({ path: j.path, start: j.from, end: Infinity, gzip: j.gzip, fastPath: o.fastPath }));
      o.onProgress?.(i + 1, jobs.length);
    }
    return out;
  }
  const results: FileIndex[] = new Array(tasks.length);
  // The workers claim their next task from one shared counter: none waits for another to hand it
  // work. This thread reads nothing itself (see startReaders): it takes the workers' results in
  // as they come, off the critical path, and joins them at the end.
  const next = new Int32Array(new SharedArrayBuffer(4));
  let done = 0;
  const finished = () => o.onProgress?.(++done, tasks.length);
  const workers = await startReaders(Math.min(threads, tasks.length), { tasks, next });
  try {
    await Promise.all(workers.map((w) => workerDone(w, tasks, results, finished)));
  } finally {
    // Not awaited: a worker takes 7-9 ms to stop, which joining the ranges below need not wait
    // for (the process still waits for it before it exits).
    for (const w of workers) void w.terminate();
  }
  // A block (ten minutes, see FileIndex.blocks) that a range boundary falls inside is left out
  // rather than merged from both ranges' parts: 31 of them over the benchmark day, decoded and
  // merged by this thread's unoptimised code, cost 20-33 ms of a 2 s report. Windows over those
  // ten minutes are answered a minute at a time, as exactly.
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i]!;
    const frag = results[i]!;
    const acc = out.get(t.path);
    if (!acc) out.set(t.path, appendIndex(emptyIndex(frag.offset), frag));
    else appendIndex(acc, frag, { mergeBlocks: false });
  }
  return out;
}

/**
 * Starts `n` reading workers whose V8 compiles their hot code synchronously.
 *
 * With V8's default, concurrent compilation, a thread goes on running its parser unoptimised
 * while a background thread compiles it (≈ 60 ms of CPU for the parser alone, 100-130 ms of wall
 * time on a 2-core machine whose two cores are busy reading), and the loop around it is compiled
 * twice (again for on-stack replacement). Compiled on the spot, the code a reader needs is ready
 * after its warm-up, before its first range: a cold report of the benchmark day took 0.92-0.93×
 * the time and CPU (median of 20 paired rounds; docs/benchmarks.md). The command's own thread
 * cannot be switched (V8 fixes the mode when it creates a thread's isolate), which is why it
 * leaves the reading to workers. The flag is process-wide: it is set for the workers' start
 * only and put back once they run (and those of any read overlapping this one: see
 * sync-compile.ts), unless the process was started with a choice of its own.
 */
async function startReaders(n: number, input: WorkerInput): Promise<import('node:worker_threads').Worker[]> {
  // Loaded here: a run that reads little (a cached one) does not pay for loading these.
  const [{ Worker }, v8] = await Promise.all([import('node:worker_threads'), import('node:v8')]);
  const ownChoice = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('concurrent-recompilation'));
  if (!ownChoice) holdSyncCompile(v8, n);
  const workers: import('node:worker_threads').Worker[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const w = new Worker(workerUrl(), { workerData: input });
      workers.push(w);
      if (ownChoice) continue;
      let counted = false;
      // A worker's isolate exists once it runs ('online'); one that fails to start counts as started.
      const once = () => {
        if (!counted) releaseSyncCompile(v8);
        counted = true;
      };
      w.once('online', once);
      w.once('error', once);
      w.once('exit', once);
    }
  } catch (e) {
    // The readers not created will never run; those created are stopped.
    if (!ownChoice) for (let i = workers.length; i < n; i++) releaseSyncCompile(v8);
    for (const w of workers) void w.terminate();
    throw e;
  }
  return workers;
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
