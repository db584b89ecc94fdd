import type { MetricRecord } from '../schema.js';

/**
 * A record as plain fields, for the readers that only aggregate: the byte-level parser fills one
 * object per thread for every line, and Rollup adds it. Absent numbers are NaN, not undefined,
 * so every number field stays an unboxed double: storing a number into a field that may also
 * hold undefined allocates a heap number per store, two or three per line, which the young
 * generation then had to collect every few milliseconds.
 */
export const KIND_STAGE = 0;
export const KIND_QUEUE = 1;
export const KIND_LLM = 2;

export class FlatRecord {
  kind = KIND_STAGE;
  ts = NaN;
  /** The stage of a stage record, the model of an llm record ('' for a queue sample). */
  name = '';
  /** A stage record's `model` (an llm record's is `name`). */
  model: string | undefined = undefined;
  durationMs = NaN;
  success = true;
  llmTokens = NaN;
  llmCost = NaN;
  /** -1 absent, 0 a miss, 1 a hit. */
  cacheHit = -1;
  depth = NaN;
}

/** `r` as a flat record, written into `out`. */
export function flatten(r: MetricRecord, out: FlatRecord): FlatRecord {
  out.ts = r.ts;
  if (r.type === 'queue') {
    out.kind = KIND_QUEUE;
    out.name = '';
    out.model = undefined;
    out.durationMs = NaN;
    out.success = true;
    out.llmTokens = NaN;
    out.llmCost = NaN;
    out.cacheHit = -1;
    out.depth = r.depth;
    return out;
  }
  out.kind = r.type === 'stage' ? KIND_STAGE : KIND_LLM;
  out.name = r.type === 'stage' ? r.stage : r.model;
  out.model = r.type === 'stage' ? r.model : undefined;
  out.durationMs = r.durationMs ?? NaN;
  out.success = r.success;
  out.llmTokens = r.llmTokens ?? NaN;
  out.llmCost = r.llmCost ?? NaN;
  out.cacheHit = r.cacheHit === undefined ? -1 : r.cacheHit ? 1 : 0;
  out.depth = NaN;
  return out;
}
