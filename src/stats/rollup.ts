import type { MetricRecord } from '../schema.js';
import type { ByteReader, ByteWriter } from './bytes.js';
import { DurationHistogram, type HistogramData } from './duration-histogram.js';
import { ExactSum } from './exact-sum.js';
import { FlatRecord, flatten, KIND_QUEUE, KIND_STAGE } from './flat-record.js';

/** Rollup.add's flat form of the record it is given (one per thread; used at once). */
const scratch = new FlatRecord();

/**
 * Everything a report needs from a set of records, in mergeable form: a rollup of a window, a
 * minute, a file or a worker's byte range. Two rollups merged give what one rollup fed both sets
 * of records gives, so every path (report, watch, serve, cache) prints the same numbers.
 */

export class StageStats {
  errors = 0;

  constructor(readonly durations = new DurationHistogram()) {}

  merge(other: StageStats): void {
    this.durations.merge(other.durations);
    this.errors += other.errors;
  }
}

export const MINUTE_MS = 60_000;

export interface RollupData {
  records: number;
  firstTs: number | null;
  lastTs: number | null;
  stages: Record<string, { durations: HistogramData; errors: number }>;
  models: Record<string, { durations: HistogramData; errors: number }>;
  cacheHits: number;
  cacheMisses: number;
  tokenRecords: number;
  /** Exact sums, as ExactSum partials. */
  tokens: number[];
  cost: number[];
  queueSamples: number;
  queueSum: number[];
  queueMax: number;
  lastQueueTs: number | null;
  lastQueueDepth: number;
  depthByMinute: Array<[number, number]>;
}

export class Rollup {
  records = 0;
  firstTs = Infinity;
  lastTs = -Infinity;
  /** Stage records by stage name. A Map: stage names are untrusted text (e.g. "__proto__"). */
  readonly stages = new Map<string, StageStats>();
  /** `llm` records by model. */
  readonly models = new Map<string, StageStats>();
  cacheHits = 0;
  cacheMisses = 0;
  /** Records that carry `llmTokens`. */
  tokenRecords = 0;
  // Sums are exact (order-independent), so every way of merging rollups prints the same digits.
  tokenSum = new ExactSum();
  costSum = new ExactSum();
  queueSamples = 0;
  queueTotal = new ExactSum();
  queueMax = 0;
  lastQueueTs = -Infinity;
  lastQueueDepth = 0;
  /** Start of minute (epoch ms) → the largest queue depth sampled in it. */
  readonly depthByMinute = new Map<number, number>();
  /**
   * While the indexing reader fills this rollup, the one of the minute before: a stage's
   * histogram, created here, starts with room for the buckets it needed there (neighbouring
   * minutes spread alike), instead of growing two or three times. Sizes only, not data.
   */
  sizeLike: Rollup | undefined = undefined;

  get tokens(): number {
    return this.tokenSum.value;
  }

  get cost(): number {
    return this.costSum.value;
  }

  get queueSum(): number {
    return this.queueTotal.value;
  }

  add(r: MetricRecord): void {
    this.addFlat(flatten(r, scratch));
  }

  /** Adds one record in its flat form (what the byte-level parser gives the indexing reader). */
  addFlat(r: FlatRecord): void {
    this.records++;
    if (r.ts < this.firstTs) this.firstTs = r.ts;
    if (r.ts > this.lastTs) this.lastTs = r.ts;
    if (r.kind === KIND_QUEUE) {
      this.addQueue(r.ts, r.depth);
      return;
    }
    const stage = r.kind === KIND_STAGE;
    const s = statsFor(stage ? this.stages : this.models, r.name, stage ? this.sizeLike?.stages : this.sizeLike?.models);
    // NaN (absent) fails every comparison: `d === d` is "present".
    const d = r.durationMs;
    if (d === d) s.durations.add(d);
    if (!r.success) s.errors++;
    if (r.cacheHit === 1) this.cacheHits++;
    else if (r.cacheHit === 0) this.cacheMisses++;
    const tokens = r.llmTokens;
    if (tokens === tokens) {
      this.tokenRecords++;
      this.tokenSum.add(tokens);
    }
    const cost = r.llmCost;
    if (cost === cost) this.costSum.add(cost);
  }

  private addQueue(ts: number, depth: number): void {
    this.queueSamples++;
    this.queueTotal.add(depth);
    if (depth > this.queueMax) this.queueMax = depth;
    // Ties on ts keep the deeper sample: an order-independent choice, like every merge here.
    if (ts > this.lastQueueTs || (ts === this.lastQueueTs && depth > this.lastQueueDepth)) {
      this.lastQueueTs = ts;
      this.lastQueueDepth = depth;
    }
    const minute = Math.floor(ts / MINUTE_MS) * MINUTE_MS;
    const prev = this.depthByMinute.get(minute);
    if (prev === undefined || depth > prev) this.depthByMinute.set(minute, depth);
  }

  merge(o: Rollup): this {
    this.records += o.records;
    if (o.firstTs < this.firstTs) this.firstTs = o.firstTs;
    if (o.lastTs > this.lastTs) this.lastTs = o.lastTs;
    for (const [name, s] of o.stages) statsFor(this.stages, name).merge(s);
    for (const [name, s] of o.models) statsFor(this.models, name).merge(s);
    this.cacheHits += o.cacheHits;
    this.cacheMisses += o.cacheMisses;
    this.tokenRecords += o.tokenRecords;
    this.tokenSum.merge(o.tokenSum);
    this.costSum.merge(o.costSum);
    this.queueSamples += o.queueSamples;
    this.queueTotal.merge(o.queueTotal);
    this.mergeQueueMaxima(o);
    return this;
  }

  /** The queue statistics that merge by taking the larger: deepest, latest, deepest per minute. */
  private mergeQueueMaxima(o: Rollup): void {
    if (o.queueMax > this.queueMax) this.queueMax = o.queueMax;
    if (o.queueSamples > 0 && (o.lastQueueTs > this.lastQueueTs || (o.lastQueueTs === this.lastQueueTs && o.lastQueueDepth > this.lastQueueDepth))) {
      this.lastQueueTs = o.lastQueueTs;
      this.lastQueueDepth = o.lastQueueDepth;
    }
    for (const [minute, depth] of o.depthByMinute) {
      const prev = this.depthByMinute.get(minute);
      if (prev === undefined || depth > prev) this.depthByMinute.set(minute, depth);
    }
  }

  /**
   * The records of `whole` (a minute's rollup) that are not in `part`, a subset of them, given the
   * first and last time of those records (which the two rollups cannot tell). Counts, histogram
   * buckets and exact sums subtract; a minimum, maximum or queue statistic is the whole's when the
   * part cannot hold it. Returns undefined whenever the rest cannot be told exactly this way — the
   * part holds a value equal to the whole's minimum or maximum (those stages or models are added
   * to `o.ties`, and their rest's extremes, found otherwise, may be given by `o.extremes`), both
   * hold queue samples, a model's remaining records would carry neither a duration nor a failure
   * (are there any?), a sum overflowed — and the caller reads the records instead.
   */
  static without(whole: Rollup, part: Rollup, o: WithoutOptions): Rollup | undefined {
    const r = new Rollup();
    r.records = whole.records - part.records;
    if (r.records <= 0) return r.records === 0 ? r : undefined;
    r.firstTs = o.first;
    r.lastTs = o.last;
    const stagesOk = statsWithout(r.stages, whole.stages, part.stages, { kind: 'stage', ...o });
    const modelsOk = statsWithout(r.models, whole.models, part.models, { kind: 'model', ...o });
    if (!stagesOk || !modelsOk) return undefined;
    if (!r.subtractCounts(whole, part)) return undefined;
    if (r.queueSamples === 0) return r.queueTotal.value === 0 ? r : undefined;
    if (part.queueSamples > 0) return o.partMinutes === undefined ? undefined : queueWithoutMinutes(r, whole, o.partMinutes);
    // Queue samples in the rest only: their deepest, latest and per-minute depths are the whole's.
    r.queueMax = whole.queueMax;
    r.lastQueueTs = whole.lastQueueTs;
    r.lastQueueDepth = whole.lastQueueDepth;
    for (const [minute, depth] of whole.depthByMinute) r.depthByMinute.set(minute, depth);
    return r;
  }

  /** Plain data; `typed` (true) for a worker's message: histogram counts stay Float64Arrays. */
  toJSON(typed?: unknown): RollupData {
    const statsData = (m: Map<string, StageStats>) => {
      const out: RollupData['stages'] = Object.create(null);
      for (const [name, s] of m) out[name] = { durations: s.durations.toJSON(typed === true), errors: s.errors };
      return out;
    };
    return {
      records: this.records,
      firstTs: this.records === 0 ? null : this.firstTs,
      lastTs: this.records === 0 ? null : this.lastTs,
      stages: statsData(this.stages),
      models: statsData(this.models),
      cacheHits: this.cacheHits,
      cacheMisses: this.cacheMisses,
      tokenRecords: this.tokenRecords,
      tokens: this.tokenSum.toJSON(),
      cost: this.costSum.toJSON(),
      queueSamples: this.queueSamples,
      queueSum: this.queueTotal.toJSON(),
      queueMax: this.queueMax,
      lastQueueTs: this.queueSamples === 0 ? null : this.lastQueueTs,
      lastQueueDepth: this.lastQueueDepth,
      depthByMinute: [...this.depthByMinute],
    };
  }

  /**
   * The records of `whole` that are not in `part`, where the rollups `rest` hold exactly those
   * (a file's summary, some of its minutes, and its other minutes): counts, histogram buckets and
   * exact sums subtract, while what cannot be subtracted — the first and last time, duration
   * extremes, the deepest and latest queue sample, depths by minute — is taken from `rest`'s own
   * values. So the rest costs a few reads per minute instead of a merge of each of its
   * histograms. Undefined when the three do not add up, or a sum overflowed: the caller merges.
   */
  static restOf(whole: Rollup, part: Rollup, rest: readonly Rollup[]): Rollup | undefined {
    const r = new Rollup();
    let records = 0;
    for (const x of rest) {
      records += x.records;
      if (x.firstTs < r.firstTs) r.firstTs = x.firstTs;
      if (x.lastTs > r.lastTs) r.lastTs = x.lastTs;
      r.mergeQueueMaxima(x);
    }
    r.records = whole.records - part.records;
    if (r.records !== records) return undefined;
    if (!statsRest(r.stages, whole.stages, part.stages, rest.map((x) => x.stages))) return undefined;
    if (!statsRest(r.models, whole.models, part.models, rest.map((x) => x.models))) return undefined;
    return r.subtractCounts(whole, part) ? r : undefined;
  }

  /** The counters and exact sums of `whole` less `part`, into this; false when they go below
   *  zero or a sum overflowed (it cannot be taken apart). */
  private subtractCounts(whole: Rollup, part: Rollup): boolean {
    this.cacheHits = whole.cacheHits - part.cacheHits;
    this.cacheMisses = whole.cacheMisses - part.cacheMisses;
    this.tokenRecords = whole.tokenRecords - part.tokenRecords;
    this.queueSamples = whole.queueSamples - part.queueSamples;
    if (this.cacheHits < 0 || this.cacheMisses < 0 || this.tokenRecords < 0 || this.queueSamples < 0) return false;
    const tokens = whole.tokenSum.minus(part.tokenSum);
    const cost = whole.costSum.minus(part.costSum);
    const queue = whole.queueTotal.minus(part.queueTotal);
    if (tokens === undefined || cost === undefined || queue === undefined) return false;
    this.tokenSum = tokens;
    this.costSum = cost;
    this.queueTotal = queue;
    return true;
  }

  /** The binary form (see bytes.ts): what toJSON holds, decoded without parsing text. */
  encode(w: ByteWriter): void {
    w.f64(this.records);
    w.f64(this.firstTs);
    w.f64(this.lastTs);
    encodeStats(w, this.stages);
    encodeStats(w, this.models);
    w.f64(this.cacheHits);
    w.f64(this.cacheMisses);
    w.f64(this.tokenRecords);
    this.tokenSum.encode(w);
    this.costSum.encode(w);
    w.f64(this.queueSamples);
    this.queueTotal.encode(w);
    w.f64(this.queueMax);
    w.f64(this.lastQueueTs);
    w.f64(this.lastQueueDepth);
    w.u32(this.depthByMinute.size);
    for (const [minute, depth] of this.depthByMinute) {
      w.f64(minute);
      w.f64(depth);
    }
  }

  static decode(d: ByteReader): Rollup {
    const r = new Rollup();
    r.records = d.f64();
    r.firstTs = d.f64();
    r.lastTs = d.f64();
    decodeStats(d, r.stages);
    decodeStats(d, r.models);
    r.cacheHits = d.f64();
    r.cacheMisses = d.f64();
    r.tokenRecords = d.f64();
    r.tokenSum = ExactSum.decode(d);
    r.costSum = ExactSum.decode(d);
    r.queueSamples = d.f64();
    r.queueTotal = ExactSum.decode(d);
    r.queueMax = d.f64();
    r.lastQueueTs = d.f64();
    r.lastQueueDepth = d.f64();
    for (let n = d.u32(); n > 0; n--) {
      const minute = d.f64();
      r.depthByMinute.set(minute, d.f64());
    }
    return r;
  }

  static fromJSON(d: RollupData): Rollup {
    const r = new Rollup();
    r.records = d.records;
    r.firstTs = d.firstTs ?? Infinity;
    r.lastTs = d.lastTs ?? -Infinity;
    const restore = (into: Map<string, StageStats>, from: RollupData['stages']) => {
      for (const name of Object.keys(from)) {
        // Restored as saved (not merged), so saving again gives the same text.
        const s = new StageStats(DurationHistogram.fromJSON(from[name]!.durations));
        s.errors = from[name]!.errors;
        into.set(name, s);
      }
    };
    restore(r.stages, d.stages);
    restore(r.models, d.models);
    r.cacheHits = d.cacheHits;
    r.cacheMisses = d.cacheMisses;
    r.tokenRecords = d.tokenRecords;
    r.tokenSum = ExactSum.fromJSON(d.tokens);
    r.costSum = ExactSum.fromJSON(d.cost);
    r.queueSamples = d.queueSamples;
    r.queueTotal = ExactSum.fromJSON(d.queueSum);
    r.queueMax = d.queueMax;
    r.lastQueueTs = d.lastQueueTs ?? -Infinity;
    r.lastQueueDepth = d.lastQueueDepth;
    for (const [minute, depth] of d.depthByMinute) r.depthByMinute.set(minute, depth);
    return r;
  }
}

/** The binary form of the stages (or models) of a rollup. */
function encodeStats(w: ByteWriter, m: Map<string, StageStats>): void {
  w.u32(m.size);
  for (const [name, s] of m) {
    w.str(name);
    w.f64(s.errors);
    s.durations.encode(w);
  }
}

function decodeStats(r: ByteReader, into: Map<string, StageStats>): void {
  for (let n = r.u32(); n > 0; n--) {
    const name = r.str();
    const errors = r.f64();
    const s = new StageStats(DurationHistogram.decode(r));
    s.errors = errors;
    into.set(name, s);
  }
}

/**
 * Per stage (or model) for Rollup.restOf: `whole` less `part` into `out`, for the names `rest`
 * holds (merging `rest` would give exactly those). A name the part does not hold is all in the
 * rest: shared with the whole, not copied (the result is read). False when it does not add up.
 */
function statsRest(out: Map<string, StageStats>, whole: ReadonlyMap<string, StageStats>, part: ReadonlyMap<string, StageStats>, rest: ReadonlyArray<ReadonlyMap<string, StageStats>>): boolean {
  for (const name of part.keys()) if (!whole.has(name)) return false;
  for (const [name, w] of whole) {
    const hs: DurationHistogram[] = [];
    for (const m of rest) {
      const s = m.get(name);
      if (s !== undefined) hs.push(s.durations);
    }
    const p = part.get(name);
    if (hs.length === 0) {
      if (p === undefined) return false; // in the whole, in neither part
      continue;
    }
    if (p === undefined) {
      out.set(name, w);
      continue;
    }
    const durations = w.durations.without(p.durations, hs);
    const errors = w.errors - p.errors;
    if (durations === undefined || errors < 0) return false;
    const s = new StageStats(durations);
    s.errors = errors;
    out.set(name, s);
  }
  return true;
}

/** What Rollup.without knows besides the two rollups. */
export interface WithoutOptions {
  /** The rest's first and last record time. */
  first: number;
  last: number;
  /** The rest's duration extremes of a stage or model, where found otherwise. */
  extremes?: (kind: 'stage' | 'model', name: string) => { min: number; max: number } | undefined;
  /** Filled with the stages and models whose extremes the part may share with the rest. */
  ties?: Array<{ kind: 'stage' | 'model'; name: string }>;
  /**
   * The part is the records of these whole minutes (start, epoch ms), the rest none of theirs:
   * then the rest's queue figures can be told even when both hold samples (its depths by minute
   * are the whole's other minutes', its deepest the largest of those).
   */
  partMinutes?: ReadonlySet<number>;
}

/**
 * The queue figures of `r`, the records of `whole` outside the minutes `partMinutes`, both holding
 * queue samples: the depths of the whole's other minutes, the deepest of them, and the whole's
 * latest sample unless it lies in the part. Undefined when that cannot be told.
 */
function queueWithoutMinutes(r: Rollup, whole: Rollup, partMinutes: ReadonlySet<number>): Rollup | undefined {
  if (partMinutes.has(Math.floor(whole.lastQueueTs / MINUTE_MS) * MINUTE_MS)) return undefined;
  let deepest = -Infinity;
  for (const [minute, depth] of whole.depthByMinute) {
    if (partMinutes.has(minute)) continue;
    r.depthByMinute.set(minute, depth);
    if (depth > deepest) deepest = depth;
  }
  if (deepest === -Infinity) return undefined;
  r.queueMax = deepest;
  r.lastQueueTs = whole.lastQueueTs;
  r.lastQueueDepth = whole.lastQueueDepth;
  return r;
}

/**
 * Per stage (or model): `whole` less `part`, into `out`; false when it cannot be told exactly.
 * Statistics the part has none of are shared with the whole, not copied (the result is read).
 */
function statsWithout(out: Map<string, StageStats>, whole: ReadonlyMap<string, StageStats>, part: ReadonlyMap<string, StageStats>, o: WithoutOptions & { kind: 'stage' | 'model' }): boolean {
  for (const name of part.keys()) if (!whole.has(name)) return false;
  let ok = true;
  for (const [name, w] of whole) {
    const p = part.get(name);
    if (p === undefined) {
      out.set(name, w);
      continue;
    }
    const durations = w.durations.minus(p.durations, o.extremes?.(o.kind, name));
    const errors = w.errors - p.errors;
    if (durations === undefined) {
      // Most often a shared extreme: note it, and go on so that every such name is noted.
      o.ties?.push({ kind: o.kind, name });
      ok = false;
      continue;
    }
    if (errors < 0) return false;
    if (durations.count === 0) {
      // A stage record always has a duration: none left is no record left. An llm record may
      // have neither a duration nor a failure, so whether one is left cannot be told.
      if (o.kind === 'stage') {
        if (errors === 0) continue;
        return false;
      }
      if (errors === 0) return false;
    }
    const s = new StageStats(durations);
    s.errors = errors;
    out.set(name, s);
  }
  return ok;
}

function statsFor(map: Map<string, StageStats>, name: string, like?: Map<string, StageStats>): StageStats {
  let s = map.get(name);
  if (s === undefined) {
    const l = like?.get(name);
    s = new StageStats(l === undefined ? new DurationHistogram() : DurationHistogram.withRoomOf(l.durations));
    map.set(name, s);
  }
  return s;
}
