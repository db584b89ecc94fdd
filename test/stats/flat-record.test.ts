import { describe, expect, it } from 'vitest';
import { FlatRecord, flatten, KIND_LLM, KIND_QUEUE, KIND_STAGE } from '../../src/stats/flat-record.js';
import { Rollup } from '../../src/stats/rollup.js';
import type { MetricRecord } from '../../src/schema.js';

const stage: MetricRecord = { type: 'stage', ts: 1000, stage: 'classify', durationMs: 850.4, success: false, llmTokens: 450, llmCost: 0.0023, cacheHit: true, model: 'gpt-4o', error: 'timeout', signalId: 's1' };
const bare: MetricRecord = { type: 'stage', ts: 1001, stage: 'decide', durationMs: 0, success: true, llmTokens: undefined, llmCost: undefined, cacheHit: undefined, model: undefined, error: undefined, signalId: undefined };
const queue: MetricRecord = { type: 'queue', ts: 1002, depth: 7.5 };
const llm: MetricRecord = { type: 'llm', ts: 1003, model: 'gpt-4o-mini', durationMs: undefined, success: true, llmTokens: 12, llmCost: undefined, cacheHit: false };

describe('flatten', () => {
  it('gives each kind its fields, absent numbers as NaN and cacheHit as -1 / 0 / 1', () => {
    const out = new FlatRecord();
    expect({ ...flatten(stage, out) }).toEqual({ kind: KIND_STAGE, ts: 1000, name: 'classify', model: 'gpt-4o', durationMs: 850.4, success: false, llmTokens: 450, llmCost: 0.0023, cacheHit: 1, depth: NaN });
    expect({ ...flatten(bare, out) }).toEqual({ kind: KIND_STAGE, ts: 1001, name: 'decide', model: undefined, durationMs: 0, success: true, llmTokens: NaN, llmCost: NaN, cacheHit: -1, depth: NaN });
    expect({ ...flatten(queue, out) }).toEqual({ kind: KIND_QUEUE, ts: 1002, name: '', model: undefined, durationMs: NaN, success: true, llmTokens: NaN, llmCost: NaN, cacheHit: -1, depth: 7.5 });
    expect({ ...flatten(llm, out) }).toEqual({ kind: KIND_LLM, ts: 1003, name: 'gpt-4o-mini', model: undefined, durationMs: NaN, success: true, llmTokens: 12, llmCost: NaN, cacheHit: 0, depth: NaN });
  });

  it('leaves nothing of the record before in the object it reuses', () => {
    const out = new FlatRecord();
    flatten(stage, out);
    expect({ ...flatten(queue, out) }).toEqual({ ...flatten(queue, new FlatRecord()) });
    flatten(queue, out);
    expect({ ...flatten(bare, out) }).toEqual({ ...flatten(bare, new FlatRecord()) });
  });
});

describe('Rollup.addFlat', () => {
  it('counts what the record holds and nothing it lacks', () => {
    const r = new Rollup();
    for (const rec of [stage, bare, queue, llm]) r.add(rec);
    expect(r.records).toBe(4);
    expect(r.stages.get('classify')!.errors).toBe(1);
    expect(r.stages.get('decide')!.durations.count).toBe(1);
    // The llm record had no duration: its model is counted, its histogram stays empty.
    expect(r.models.get('gpt-4o-mini')!.durations.count).toBe(0);
    expect([r.cacheHits, r.cacheMisses, r.tokenRecords, r.tokens, r.cost]).toEqual([1, 1, 2, 462, 0.0023]);
    expect([r.queueSamples, r.queueMax, r.queueSum]).toEqual([1, 7.5, 7.5]);
    expect([r.firstTs, r.lastTs]).toEqual([1000, 1003]);
  });
});
