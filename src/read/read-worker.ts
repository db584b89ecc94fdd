import { parentPort } from 'node:worker_threads';
import { indexToJSON, summaryToJSON } from '../cache/file-index.js';
import { indexRange, type RangeResult, type RangeTask } from './index-range.js';

// A worker thread of parallel-read: indexes each range it is given and posts the result back.
parentPort?.on('message', (t: RangeTask) => {
  indexRange(t).then(
    (frag) => {
      const summary = frag.summary ? summaryToJSON(frag.summary, true) : null;
      parentPort!.postMessage({ id: t.id, fragment: indexToJSON(frag, true, true), summary } satisfies RangeResult);
    },
    (e: Error) => parentPort!.postMessage({ id: t.id, error: e.message } as Partial<RangeResult>),
  );
});
