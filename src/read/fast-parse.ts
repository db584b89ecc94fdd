import type { MetricRecord } from '../schema.js';

/**
 * The byte-level fast path: reads a record line straight from its bytes, without decoding the
 * line to a string or calling JSON.parse. It handles the lines perfmon's writer (and most others)
 * produce — one flat JSON object of ASCII strings, numbers and booleans — and gives up on anything
 * else by returning `undefined`, so the caller falls back to JSON.parse and the schema check.
 *
 * Correctness rests on one rule: it returns a record only when JSON.parse + validateRecord would
 * return the same record. Whenever in doubt (escapes, non-ASCII bytes, nesting, exponents, long
 * mantissas, duplicate-looking oddities, any schema error) it returns `undefined`; it never
 * decides a line is malformed. A differential test holds it to that.
 *
 * It yields the same record as the slow path, `error` and `signalId` included — unless `ids` is
 * false, for readers that only aggregate (decoding a unique id per line is a tenth of the cost).
 */

// Field name codes, from the key's length and bytes.
const K_UNKNOWN = 0, K_TS = 1, K_TYPE = 2, K_STAGE = 3, K_DURATION = 4, K_SUCCESS = 5, K_TOKENS = 6, K_COST = 7, K_CACHE = 8, K_MODEL = 9, K_DEPTH = 10, K_ERROR = 11, K_SIGNAL = 12;

const QUOTE = 0x22, BACKSLASH = 0x5c, COMMA = 0x2c, COLON = 0x3a, LBRACE = 0x7b, RBRACE = 0x7d;

// Exact powers of ten: a mantissa below 2^53 divided by one of these is correctly rounded,
// which is what JSON.parse computes (Clinger's fast path).
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];


/** Interned stage/model names: lines repeat a handful of them, so decode each once. */
const internKeys: Uint8Array[] = [];
const internValues: string[] = [];

function intern(buf: Buffer, s: number, e: number): string {
  for (let i = 0; i < internKeys.length; i++) {
    if (is(buf, s, e, internKeys[i]!)) return internValues[i]!;
  }
  const value = latin1(buf, s, e); // ASCII only (checked by the caller), so latin1 = UTF-8
  if (internKeys.length < 64) {
    internKeys.push(Uint8Array.from(buf.subarray(s, e)));
    internValues.push(value);
  }
  return value;
}

/** Buffer#latin1Slice: the decoder behind toString('latin1') without its argument checks. */
const latin1 = (buf: Buffer, s: number, e: number): string => (buf as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(s, e);

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

// Byte classes inside a string: 0 plain, 1 the closing quote, 2 anything the slow path must judge
// (control bytes are invalid JSON; escapes and non-ASCII bytes need decoding).
const IN_STRING = new Uint8Array(256);
for (let c = 0; c < 256; c++) IN_STRING[c] = c === QUOTE ? 1 : c < 0x20 || c === BACKSLASH || c >= 0x80 ? 2 : 0;

/** Index of the quote closing a string that starts at `i`, or -1 for anything unusual. */
function closingQuote(buf: Buffer, i: number, end: number): number {
  let cls = 0;
  while (i < end && (cls = IN_STRING[buf[i]!]!) === 0) i++;
  return cls === 1 && i < end ? i : -1;
}

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const B_TS = bytes('ts'), B_TYPE = bytes('type'), B_STAGE = bytes('stage'), B_MODEL = bytes('model'), B_DEPTH = bytes('depth');
const B_ERROR = bytes('error'), B_SIGNAL = bytes('signalId');
const B_SUCCESS = bytes('success'), B_COST = bytes('llmCost'), B_CACHE = bytes('cacheHit'), B_TOKENS = bytes('llmTokens'), B_DURATION = bytes('durationMs');
const B_STAGE_T = B_STAGE, B_QUEUE_T = bytes('queue'), B_LLM_T = bytes('llm');

/** Whether buf[s, e) holds exactly `lit`. */
function is(buf: Buffer, s: number, e: number, lit: Uint8Array): boolean {
  if (e - s !== lit.length) return false;
  for (let i = 0; i < lit.length; i++) if (buf[s + i] !== lit[i]) return false;
  return true;
}

function keyCode(buf: Buffer, s: number, e: number): number {
  switch (e - s) {
    case 2:
      return is(buf, s, e, B_TS) ? K_TS : K_UNKNOWN;
    case 4:
      return is(buf, s, e, B_TYPE) ? K_TYPE : K_UNKNOWN;
    case 5:
      return is(buf, s, e, B_STAGE) ? K_STAGE : is(buf, s, e, B_MODEL) ? K_MODEL : is(buf, s, e, B_DEPTH) ? K_DEPTH : is(buf, s, e, B_ERROR) ? K_ERROR : K_UNKNOWN;
    case 7:
      return is(buf, s, e, B_SUCCESS) ? K_SUCCESS : is(buf, s, e, B_COST) ? K_COST : K_UNKNOWN;
    case 8:
      return is(buf, s, e, B_CACHE) ? K_CACHE : is(buf, s, e, B_SIGNAL) ? K_SIGNAL : K_UNKNOWN;
    case 9:
      return is(buf, s, e, B_TOKENS) ? K_TOKENS : K_UNKNOWN;
    case 10:
      return is(buf, s, e, B_DURATION) ? K_DURATION : K_UNKNOWN;
    default:
      return K_UNKNOWN;
  }
}

// Day cache for the timestamp: lines of one file share their date.
let dayKey0 = -1;
let dayKey1 = -1;
let dayMs = 0;

function d2(buf: Buffer, i: number): number {
  const a = buf[i]! - 0x30;
  const b = buf[i + 1]! - 0x30;
  return a < 0 || a > 9 || b < 0 || b > 9 ? -1 : a * 10 + b;
}

/** `YYYY-MM-DDTHH:MM:SS.mmmZ` in buf[s, e), or NaN. */
function scanTs(buf: Buffer, s: number, e: number): number {
  if (e - s !== 24 || buf[s + 10] !== 0x54 || buf[s + 23] !== 0x5a || buf[s + 4] !== 0x2d || buf[s + 7] !== 0x2d) return NaN;
  if (buf[s + 13] !== COLON || buf[s + 16] !== COLON || buf[s + 19] !== 0x2e) return NaN;
  // The date as two integers (YYYYMM, DD) to compare with the cached day.
  const y1 = d2(buf, s), y2 = d2(buf, s + 2), mo = d2(buf, s + 5), d = d2(buf, s + 8);
  if (y1 < 0 || y2 < 0 || mo < 0 || d < 0) return NaN;
  const k0 = (y1 * 100 + y2) * 100 + mo;
  if (k0 !== dayKey0 || d !== dayKey1) {
    const y = y1 * 100 + y2;
    if (mo < 1 || mo > 12 || d < 1) return NaN;
    const ms = new Date(0).setUTCFullYear(y, mo - 1, d);
    if (new Date(ms).getUTCDate() !== d) return NaN; // Feb 30 and the like
    dayKey0 = k0;
    dayKey1 = d;
    dayMs = ms;
  }
  const h = d2(buf, s + 11), mi = d2(buf, s + 14), sec = d2(buf, s + 17);
  const m1 = buf[s + 20]! - 0x30, m2 = buf[s + 21]! - 0x30, m3 = buf[s + 22]! - 0x30;
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return NaN;
  if (m1 < 0 || m1 > 9 || m2 < 0 || m2 > 9 || m3 < 0 || m3 > 9) return NaN;
  return dayMs + ((h * 60 + mi) * 60 + sec) * 1000 + m1 * 100 + m2 * 10 + m3;
}

const T_STAGE = 0, T_QUEUE = 1, T_LLM = 2;

/** The record in buf[start, end), or undefined to fall back to JSON.parse. */
export function fastParseRecord(buf: Buffer, start: number, end: number, ids = true): MetricRecord | undefined {
  let i = start;
  while (i < end && isWs(buf[i]!)) i++;
  if (buf[i] !== LBRACE) return undefined;
  i++;
  let ts = NaN;
  let type = T_STAGE;
  let stage: string | undefined;
  let durationMs: number | undefined;
  let success = true;
  let llmTokens: number | undefined;
  let llmCost: number | undefined;
  let cacheHit: boolean | undefined;
  let model: string | undefined;
  let depth: number | undefined;
  let error: string | undefined;
  let signalId: string | undefined;
  for (;;) {
    while (i < end && isWs(buf[i]!)) i++;
    if (buf[i] !== QUOTE) return undefined;
    const ks = i + 1;
    const ke = closingQuote(buf, ks, end);
    if (ke < 0) return undefined;
    const key = keyCode(buf, ks, ke);
    i = ke + 1;
    while (i < end && isWs(buf[i]!)) i++;
    if (buf[i] !== COLON) return undefined;
    i++;
    while (i < end && isWs(buf[i]!)) i++;
    const c = buf[i];
    if (c === QUOTE) {
      const vs = i + 1;
      const ve = closingQuote(buf, vs, end);
      if (ve < 0) return undefined;
      i = ve + 1;
      switch (key) {
        case K_TS:
          ts = scanTs(buf, vs, ve);
          if (ts !== ts) return undefined; // NaN
          break;
        case K_TYPE:
          if (is(buf, vs, ve, B_STAGE_T)) type = T_STAGE;
          else if (is(buf, vs, ve, B_QUEUE_T)) type = T_QUEUE;
          else if (is(buf, vs, ve, B_LLM_T)) type = T_LLM;
          else return undefined;
          break;
        case K_STAGE:
          stage = intern(buf, vs, ve);
          break;
        case K_MODEL:
          model = intern(buf, vs, ve);
          break;
        case K_ERROR:
          if (ids) error = latin1(buf, vs, ve);
          break;
        case K_SIGNAL:
          if (ids) signalId = latin1(buf, vs, ve);
          break;
        case K_UNKNOWN:
          break;
        default:
          return undefined; // a string where the schema wants a number or boolean
      }
    } else if (c === 0x74) {
      if (buf[i + 1] !== 0x72 || buf[i + 2] !== 0x75 || buf[i + 3] !== 0x65) return undefined;
      i += 4;
      if (key === K_SUCCESS) success = true;
      else if (key === K_CACHE) cacheHit = true;
      else if (key === K_ERROR) error = undefined; // not a string: ignored, and the last value wins
      else if (key === K_SIGNAL) signalId = undefined;
      else if (key !== K_UNKNOWN) return undefined;
    } else if (c === 0x66) {
      if (buf[i + 1] !== 0x61 || buf[i + 2] !== 0x6c || buf[i + 3] !== 0x73 || buf[i + 4] !== 0x65) return undefined;
      i += 5;
      if (key === K_SUCCESS) success = false;
      else if (key === K_CACHE) cacheHit = false;
      else if (key === K_ERROR) error = undefined;
      else if (key === K_SIGNAL) signalId = undefined;
      else if (key !== K_UNKNOWN) return undefined;
    } else if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) {
      // A JSON number: -?(0|[1-9]d*)(.d+)?; exponents and long mantissas go the slow way.
      let neg = false;
      if (c === 0x2d) {
        neg = true;
        i++;
      }
      const intStart = i;
      let mant = 0;
      let digits = 0;
      let scale = 0;
      let d = buf[i]! - 0x30;
      if (d === 0) {
        i++;
        d = buf[i]! - 0x30;
        if (d >= 0 && d <= 9) return undefined; // leading zero
      } else {
        while (d >= 0 && d <= 9) {
          mant = mant * 10 + d;
          digits++;
          d = buf[++i]! - 0x30;
        }
      }
      if (i === intStart) return undefined;
      if (buf[i] === 0x2e) {
        const fracStart = ++i;
        d = buf[i]! - 0x30;
        while (d >= 0 && d <= 9) {
          mant = mant * 10 + d;
          digits++;
          d = buf[++i]! - 0x30;
        }
        scale = i - fracStart;
        if (scale === 0) return undefined;
      }
      const e = buf[i];
      if (e === 0x65 || e === 0x45 || digits > 15 || scale > 22) return undefined;
      // Exact mantissa ÷ exact power of ten is correctly rounded: what JSON.parse computes.
      let v = scale === 0 ? mant : mant / POW10[scale]!;
      if (neg) v = -v;
      switch (key) {
        case K_DURATION:
          durationMs = v;
          break;
        case K_TOKENS:
          llmTokens = v;
          break;
        case K_COST:
          llmCost = v;
          break;
        case K_DEPTH:
          depth = v;
          break;
        case K_ERROR:
          error = undefined;
          break;
        case K_SIGNAL:
          signalId = undefined;
          break;
        case K_UNKNOWN:
          break;
        default:
          return undefined; // e.g. a numeric ts (epoch ms): the slow path reads it
      }
    } else {
      return undefined; // null, nested objects and arrays: the slow path decides
    }
    while (i < end && isWs(buf[i]!)) i++;
    const sep = buf[i];
    if (sep === COMMA) {
      i++;
      continue;
    }
    if (sep === RBRACE) {
      i++;
      break;
    }
    return undefined;
  }
  while (i < end && isWs(buf[i]!)) i++;
  if (i !== end || ts !== ts) return undefined;
  // The schema's checks, for the values this path accepted; anything failing goes the slow way
  // so that the reason given for a malformed line is the slow path's own.
  if ((llmTokens !== undefined && llmTokens < 0) || (llmCost !== undefined && llmCost < 0)) return undefined;
  if (type === T_STAGE) {
    if (stage === undefined || stage === '' || durationMs === undefined || durationMs < 0) return undefined;
    return { type: 'stage', ts, stage, durationMs, success, llmTokens, llmCost, cacheHit, model, error, signalId };
  }
  if (type === T_QUEUE) {
    if (depth === undefined || depth < 0) return undefined;
    return { type: 'queue', ts, depth };
  }
  if (durationMs !== undefined && durationMs < 0) return undefined;
  return { type: 'llm', ts, model: model !== undefined && model !== '' ? model : 'unknown', durationMs, success, llmTokens, llmCost, cacheHit };
}
