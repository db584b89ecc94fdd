/**
 * Record lines, schema v1 (DESIGN §1): the one contract between the writer, the reader and the
 * aggregation. `parseRecord` turns one line's text into a `MetricRecord` or a reason it is malformed.
 */

export type RecordType = 'stage' | 'queue' | 'llm';

/** A parsed line. `ts` is epoch milliseconds; optional fields are `undefined` when absent. */
export interface StageRecord {
  type: 'stage';
  ts: number;
  stage: string;
  durationMs: number;
  success: boolean;
  llmTokens: number | undefined;
  llmCost: number | undefined;
  cacheHit: boolean | undefined;
  model: string | undefined;
  error: string | undefined;
  signalId: string | undefined;
}

export interface QueueRecord {
  type: 'queue';
  ts: number;
  depth: number;
}

export interface LlmRecord {
  type: 'llm';
  ts: number;
  model: string;
  durationMs: number | undefined;
  success: boolean;
  llmTokens: number | undefined;
  llmCost: number | undefined;
  cacheHit: boolean | undefined;
}

export type MetricRecord = StageRecord | QueueRecord | LlmRecord;

export type ParseResult = { ok: true; record: MetricRecord } | { ok: false; reason: string };

const fail = (reason: string): ParseResult => ({ ok: false, reason });

/** Parses one line (without its newline). Never throws. */
export function parseRecord(line: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return fail(line.trim() === '' ? 'empty line' : 'not valid JSON');
  }
  return validateRecord(value);
}

/** Checks a decoded JSON value against schema v1. Unknown fields are ignored. */
export function validateRecord(value: unknown): ParseResult {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail('not a JSON object');
  }
  const o = value as Record<string, unknown>;
  const ts = parseTimestamp(o.ts);
  if (ts === undefined) {
    return fail(o.ts === undefined ? 'missing "ts"' : '"ts" is not an ISO-8601 UTC time or epoch milliseconds');
  }
  const type = o.type === undefined ? 'stage' : o.type;
  if (type === 'stage') return validateStage(o, ts);
  if (type === 'queue') {
    if (!isNonNegative(o.depth)) return fail(o.depth === undefined ? 'missing "depth"' : '"depth" must be a number >= 0');
    return { ok: true, record: { type: 'queue', ts, depth: o.depth } };
  }
  if (type === 'llm') return validateLlm(o, ts);
  return fail(typeof type === 'string' ? `unknown "type" ${JSON.stringify(type).slice(0, 40)}` : '"type" must be a string');
}

function validateStage(o: Record<string, unknown>, ts: number): ParseResult {
  if (typeof o.stage !== 'string' || o.stage === '') {
    return fail(o.stage === undefined ? 'missing "stage"' : '"stage" must be a non-empty string');
  }
  if (!isNonNegative(o.durationMs)) {
    return fail(o.durationMs === undefined ? 'missing "durationMs"' : '"durationMs" must be a number >= 0');
  }
  const common = validateCommon(o);
  if (typeof common === 'string') return fail(common);
  return {
    ok: true,
    record: {
      type: 'stage',
      ts,
      stage: o.stage,
      durationMs: o.durationMs,
      ...common,
      model: typeof o.model === 'string' ? o.model : undefined,
      error: typeof o.error === 'string' ? o.error : undefined,
      signalId: typeof o.signalId === 'string' ? o.signalId : undefined,
    },
  };
}

function validateLlm(o: Record<string, unknown>, ts: number): ParseResult {
  if (o.model !== undefined && typeof o.model !== 'string') return fail('"model" must be a string');
  if (o.durationMs !== undefined && !isNonNegative(o.durationMs)) return fail('"durationMs" must be a number >= 0');
  const common = validateCommon(o);
  if (typeof common === 'string') return fail(common);
  return {
    ok: true,
    record: {
      type: 'llm',
      ts,
      model: typeof o.model === 'string' && o.model !== '' ? o.model : 'unknown',
      durationMs: o.durationMs as number | undefined,
      ...common,
    },
  };
}

interface CommonFields {
  success: boolean;
  llmTokens: number | undefined;
  llmCost: number | undefined;
  cacheHit: boolean | undefined;
}

/** Fields shared by stage and llm records; returns the reason as a string when one is mistyped. */
function validateCommon(o: Record<string, unknown>): CommonFields | string {
  if (o.success !== undefined && typeof o.success !== 'boolean') return '"success" must be true or false';
  if (o.llmTokens !== undefined && !isNonNegative(o.llmTokens)) return '"llmTokens" must be a number >= 0';
  if (o.llmCost !== undefined && !isNonNegative(o.llmCost)) return '"llmCost" must be a number >= 0';
  if (o.cacheHit !== undefined && typeof o.cacheHit !== 'boolean') return '"cacheHit" must be true or false';
  return {
    success: o.success !== false,
    llmTokens: o.llmTokens as number | undefined,
    llmCost: o.llmCost as number | undefined,
    cacheHit: o.cacheHit as boolean | undefined,
  };
}

function isNonNegative(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

// ISO-8601 with a time zone designator. A time without a zone is ambiguous (local time?), so it
// is malformed rather than guessed.
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** `ts` as epoch milliseconds, or undefined when it is neither a zoned ISO-8601 time nor finite epoch ms. */
export function parseTimestamp(ts: unknown): number | undefined {
  if (typeof ts === 'number') return Number.isFinite(ts) ? ts : undefined;
  if (typeof ts !== 'string') return undefined;
  const fast = parseIsoUtcMillis(ts);
  if (fast !== undefined) return fast;
  const m = ISO_RE.exec(ts);
  if (!m) return undefined;
  // Date.parse rolls impossible dates over (2026-02-30 → 2026-03-02) and accepts 24:00: reject them.
  const y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 59) {
    return undefined;
  }
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? undefined : ms;
}

let cachedDayKey = '';
let cachedDayMs = 0;

/**
 * Fast path for the exact form the writer produces, `YYYY-MM-DDTHH:MM:SS.mmmZ`: the date part
 * repeats from line to line, so its epoch is cached and only the time of day is computed.
 */
export function parseIsoUtcMillis(s: string): number | undefined {
  if (s.length !== 24 || s.charCodeAt(10) !== 84 /* T */ || s.charCodeAt(23) !== 90 /* Z */) return undefined;
  const day = s.slice(0, 10);
  let dayMs: number;
  if (day === cachedDayKey) {
    dayMs = cachedDayMs;
  } else {
    const y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || s[4] !== '-' || s[7] !== '-') return undefined;
    dayMs = utcDay(y, mo - 1, d);
    cachedDayKey = day;
    cachedDayMs = dayMs;
  }
  const h = digits(s, 11, 2), mi = digits(s, 14, 2), sec = digits(s, 17, 2), ms = digits(s, 20, 3);
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 || ms < 0) return undefined;
  if (s[13] !== ':' || s[16] !== ':' || s[19] !== '.') return undefined;
  return dayMs + ((h * 60 + mi) * 60 + sec) * 1000 + ms;
}

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

function daysInMonth(y: number, m: number): number {
  return new Date(utcDay(y, m, 0)).getUTCDate();
}

/** Date.UTC, except that years 0–99 are not taken as 1900–1999. */
function utcDay(y: number, monthIndex: number, d: number): number {
  return new Date(0).setUTCFullYear(y, monthIndex, d);
}
