/** What these helpers need of node:v8 (a stand-in in tests). */
export interface FlagSetter {
  setFlagsFromString(flags: string): void;
}

/**
 * Readers started and not yet running, over every read in this process. V8's
 * `--concurrent-recompilation` is one process-wide flag that a thread's isolate reads when it is
 * created (see startReaders in parallel-read.ts): reads that overlap (two requests to `serve`, a
 * library's Promise.all) must not turn it back on while the other's readers are still starting.
 */
let starting = 0;

/** Marks `n` readers as starting; the first mark while none is turns concurrent compilation off. */
export function holdSyncCompile(v8: FlagSetter, n: number): void {
  if (n <= 0) return;
  if (starting === 0) v8.setFlagsFromString('--no-concurrent-recompilation');
  starting += n;
}

/** One reader runs (or failed to start): when it was the last one starting, the flag goes back. */
export function releaseSyncCompile(v8: FlagSetter): void {
  if (starting === 0) return;
  if (--starting === 0) v8.setFlagsFromString('--concurrent-recompilation');
}
