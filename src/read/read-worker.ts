import { parentPort } from 'node:worker_threads';
import { WindowAccumulator, type ReportBounds } from '../report/window-accumulator.js';
import { ExactSum } from '../stats/exact-sum.js';
import { Rollup, type RollupData } from '../stats/rollup.js';
import { MalformedLog, type MalformedSummary } from './malformed.js';
import { readLogFile, recordLineSink } from './read-log-file.js';
import { readRange } from './read-range.js';

/** One piece of work: the lines starting in [start, end) of a file (a gzip file is read whole). */
export interface RangeTask {
  id: number;
  path: string;
  start: number;
  end: number;
  gzip: boolean;
  bounds: ReportBounds;
  fastPath: boolean;
}

/** A task's result, as plain data (structured-cloned back to the main thread). */
export interface RangeResult {
  id: number;
  lines: number;
  window: RollupData;
  previous: RollupData | null;
  dayTokens: number[];
  dayCost: number[];
  latestQueueTs: number | null;
  latestQueueDepth: number;
  /** Line numbers relative to the range's first line (1-based). */
  malformed: MalformedSummary;
  error?: string;
}

export async function runTask(t: RangeTask): Promise<RangeResult> {
  const acc = new WindowAccumulator(t.bounds);
  const malformed = new MalformedLog();
  const sink = recordLineSink(t.path, (r) => acc.add(r), malformed, { fastPath: t.fastPath });
  const lines = t.gzip ? await readLogFile(t.path, sink, { gzip: true, malformed }) : await readRange(t.path, t.start, t.end, sink);
  return toResult(t.id, lines, acc, malformed);
}

export function toResult(id: number, lines: number, acc: WindowAccumulator, malformed: MalformedLog): RangeResult {
  return {
    id,
    lines,
    window: acc.window.toJSON(),
    previous: acc.previous ? acc.previous.toJSON() : null,
    dayTokens: acc.dayTokenSum.toJSON(),
    dayCost: acc.dayCostSum.toJSON(),
    latestQueueTs: acc.latestQueueTs === -Infinity ? null : acc.latestQueueTs,
    latestQueueDepth: acc.latestQueueDepth,
    malformed: malformed.toJSON(),
  };
}

/** Rebuilds a task's accumulator on the main thread, to merge in task order. */
export function fromResult(r: RangeResult, bounds: ReportBounds): WindowAccumulator {
  const acc = new WindowAccumulator(bounds);
  acc.window.merge(Rollup.fromJSON(r.window));
  if (r.previous && acc.previous) acc.previous.merge(Rollup.fromJSON(r.previous));
  acc.dayTokenSum.merge(ExactSum.fromJSON(r.dayTokens));
  acc.dayCostSum.merge(ExactSum.fromJSON(r.dayCost));
  acc.latestQueueTs = r.latestQueueTs ?? -Infinity;
  acc.latestQueueDepth = r.latestQueueDepth;
  return acc;
}

parentPort?.on('message', (t: RangeTask) => {
  runTask(t).then(
    (r) => parentPort!.postMessage(r),
    (e: Error) => parentPort!.postMessage({ id: t.id, error: e.message } as Partial<RangeResult>),
  );
});
