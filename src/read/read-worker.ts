import { parentPort, workerData } from 'node:worker_threads';
import { encodeMinutes, indexToJSON, summaryToJSON } from '../cache/file-index.js';
import { indexRange, type RangeResult } from './index-range.js';
import type { WorkerInput } from './parallel-read.js';
import { warmUpIndexing } from './warm-up.js';

// A worker thread of parallel-read: takes ranges from the shared counter until none is left,
// posting each one's index back, then `null`. It stays alive (listening) until terminated, so
// that an exit always means something went wrong.
const { tasks, next } = workerData as WorkerInput;
parentPort?.on('message', () => {});

async function run(): Promise<void> {
  if (tasks[0]?.fastPath) warmUpIndexing();
  for (let i = Atomics.add(next, 0, 1); i < tasks.length; i = Atomics.add(next, 0, 1)) {
    const t = tasks[i]!;
    try {
      const frag = await indexRange(t);
      const summary = frag.summary ? summaryToJSON(frag.summary, true) : null;
      // Minutes in the cache's binary form, in a buffer of their own (a message copies a view's
      // whole buffer): the main thread decodes only those a window cuts or fragments share.
      const minutes = new Uint8Array(encodeMinutes(frag));
      parentPort!.postMessage({ id: t.id, fragment: indexToJSON(frag, false, true), minutes, summary } satisfies RangeResult);
    } catch (e) {
      parentPort!.postMessage({ id: t.id, error: (e as Error).message } as Partial<RangeResult>);
      return;
    }
  }
  parentPort!.postMessage(null);
}
void run();
