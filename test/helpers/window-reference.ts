import { WindowAccumulator, type ReportBounds } from '../../src/report/window-accumulator.js';
import type { Rollup } from '../../src/stats/rollup.js';
import { parseRecord } from '../../src/schema.js';

/** The reference a window's answer is held to: every line parsed and sorted into the ranges one by one. */
export function reference(lines: readonly string[], b: ReportBounds): WindowAccumulator {
  const acc = new WindowAccumulator(b);
  for (const l of lines) {
    const p = parseRecord(l);
    if (p.ok) acc.add(p.record);
  }
  return acc;
}

/**
 * What a report can see of an accumulator, whatever way its sums were kept (a sum's partials
 * differ between merging and subtracting; its value does not): for comparing answers.
 */
export function seen(a: WindowAccumulator) {
  return { window: rollupView(a.window), previous: rollupView(a.previous), day: [a.dayTokens, a.dayCost], latestQueue: [a.latestQueueTs, a.latestQueueDepth] };
}

/** What a report can see of a rollup (see seen). */
export function rollupView(r: Rollup | undefined) {
  if (r === undefined) return undefined;
  const stats = (m: Rollup['stages']) =>
    [...m].sort(([x], [y]) => (x < y ? -1 : 1)).map(([name, s]) => {
      const buckets: number[][] = [];
      s.durations.forEachBucket((ub, n) => buckets.push([ub, n]));
      return { name, count: s.durations.count, sum: s.durations.sum, min: s.durations.min, max: s.durations.max, errors: s.errors, buckets };
    });
  return {
    records: r.records,
    firstTs: r.firstTs,
    lastTs: r.lastTs,
    stages: stats(r.stages),
    models: stats(r.models),
    cache: [r.cacheHits, r.cacheMisses],
    tokens: [r.tokenRecords, r.tokens, r.cost],
    queue: [r.queueSamples, r.queueSum, r.queueMax, [...r.depthByMinute].sort((x, y) => x[0] - y[0])],
  };
}
