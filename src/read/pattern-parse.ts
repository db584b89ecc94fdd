import { parseTimestamp, type MetricRecord } from '../schema.js';

/**
 * The recorder's own lines (src/record/line-format.ts: its keys in its order, no spaces, strings
 * without escapes) read with a regular expression, for the short re-reads of a cached run: the
 * near side of a cut minute, the counting side, a minute re-read whole. Those run once, on a few
 * hundred lines, in a process that lives 0.1 s, where V8 interprets the byte-level reader
 * (fast-parse.ts) byte by byte — ≈ 10–20 µs a line — while a regular expression runs as machine
 * code from its second use: ≈ 2–5 µs a line, the record built included. Any other line (another
 * writer's key order, an escape, a space, a non-ASCII byte, a value the schema refuses) is left
 * to the usual readers (undefined), so what is accepted here is exactly what JSON.parse and the
 * schema give for it (the differential tests of fast-parse hold this path to the reference too).
 * Records come without `signalId` and `error`, as the aggregating readers' do (`ids: false`); the
 * two may come in either order.
 */
export function patternParseRecord(buf: Buffer, start: number, end: number): MetricRecord | undefined {
  // Bytes as latin1 chars: a byte of a multi-byte UTF-8 character is ≥ 0x80, which no pattern takes.
  const text = (buf as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(start, end);
  // The key after the time tells which of the three shapes the recorder wrote.
  if (text.startsWith('"stage":', AFTER_TS)) return stageRecord(STAGE.exec(text));
  if (text.startsWith('"type":"queue"', AFTER_TS)) return queueRecord(QUEUE.exec(text));
  if (text.startsWith('"type":"llm"', AFTER_TS)) return llmRecord(LLM.exec(text));
  return undefined;
}

/** A string without escapes: printable ASCII but `"` and `\`. */
const S = '[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]';
/** A JSON number (JSON.parse and Number() read it alike: the nearest double). */
const NUM = '-?(?:0|[1-9]\\d*)(?:\\.\\d+)?(?:[eE][+-]?\\d+)?';
/** `{"ts":"YYYY-MM-DDTHH:MM:SS.mmmZ",`, the day captured (see timeOf). */
const TS = '\\{"ts":"(\\d{4}-\\d\\d-\\d\\d)T(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d\\.\\d{3}Z",';
/** Where the key after `{"ts":"YYYY-MM-DDTHH:MM:SS.mmmZ",` starts. */
const AFTER_TS = 33;
const BOOL = '(true|false)';

// `error` and `signalId`, strings a record read here does not keep, in either order: the recorder
// writes the error first, writers that put the id with the time before the outcome, the id
// first. (Either key twice is JSON.parse's last of two strings: the same record.)
const STAGE = new RegExp(
  `^${TS}"stage":"(${S}+)","durationMs":(${NUM})(?:,"success":${BOOL})?(?:,"(?:error|signalId)":"${S}*"){0,2}(?:,"llmTokens":(${NUM}))?(?:,"llmCost":(${NUM}))?(?:,"cacheHit":${BOOL})?(?:,"model":"(${S}*)")?\\}$`,
);
const QUEUE = new RegExp(`^${TS}"type":"queue","depth":(${NUM})\\}$`);
const LLM = new RegExp(
  `^${TS}"type":"llm","model":"(${S}*)"(?:,"durationMs":(${NUM}))?(?:,"llmTokens":(${NUM}))?(?:,"llmCost":(${NUM}))?(?:,"cacheHit":${BOOL})?(?:,"success":${BOOL})?(?:,"error":"${S}*")?\\}$`,
);

/** The last day seen (`YYYY-MM-DD`) and its start, as parseTimestamp reads it. */
let lastDay = '';
let lastDayMs = NaN;

/**
 * The time of a matched line, as parseTimestamp gives it: the day through parseTimestamp once per
 * day (undefined for a day it refuses), the time of day from its digits, in ranges the pattern
 * has checked (hours ≤ 23, minutes and seconds ≤ 59). parseTimestamp per line was a fifth of
 * the re-read's time in a cached run, as unoptimised code.
 */
function timeOf(m: RegExpExecArray): number | undefined {
  const day = m[1]!;
  if (day !== lastDay) {
    const start = parseTimestamp(`${day}T00:00:00.000Z`);
    if (start === undefined) return undefined;
    lastDay = day;
    lastDayMs = start;
  }
  // `{"ts":"YYYY-MM-DDTHH:MM:SS.mmmZ"`: the hour's digits at 18 and 19, and so on.
  const t = m.input;
  return lastDayMs + ((digitsAt(t, 18, 2) * 60 + digitsAt(t, 21, 2)) * 60 + digitsAt(t, 24, 2)) * 1000 + digitsAt(t, 27, 3);
}

/** The number the `count` decimal digits of `t` at `at` spell. */
function digitsAt(t: string, at: number, count: number): number {
  let v = 0;
  for (let i = at; i < at + count; i++) v = v * 10 + t.charCodeAt(i) - 48;
  return v;
}

/** A number the schema takes (finite, ≥ 0) from its text; NaN for one it refuses. */
function count(text: string): number {
  const x = Number(text);
  return Number.isFinite(x) && x >= 0 ? x : NaN;
}

/** An optional count: undefined when absent; NaN when the schema refuses it. */
function optionalCount(text: string | undefined): number | undefined {
  return text === undefined ? undefined : count(text);
}

const optionalBool = (text: string | undefined): boolean | undefined => (text === undefined ? undefined : text === 'true');

/** NaN (refused) anywhere among the numbers: the line goes to the usual readers. */
const refused = (...xs: Array<number | undefined>): boolean => xs.some((x) => x !== undefined && Number.isNaN(x));

function stageRecord(m: RegExpExecArray | null): MetricRecord | undefined {
  if (m === null) return undefined;
  const ts = timeOf(m);
  const durationMs = count(m[3]!);
  const llmTokens = optionalCount(m[5]);
  const llmCost = optionalCount(m[6]);
  if (ts === undefined || refused(durationMs, llmTokens, llmCost)) return undefined;
  return { type: 'stage', ts, stage: m[2]!, durationMs, success: m[4] !== 'false', llmTokens, llmCost, cacheHit: optionalBool(m[7]), model: m[8], error: undefined, signalId: undefined };
}

function queueRecord(m: RegExpExecArray | null): MetricRecord | undefined {
  if (m === null) return undefined;
  const ts = timeOf(m);
  const depth = count(m[2]!);
  return ts === undefined || Number.isNaN(depth) ? undefined : { type: 'queue', ts, depth };
}

function llmRecord(m: RegExpExecArray | null): MetricRecord | undefined {
  if (m === null) return undefined;
  const ts = timeOf(m);
  const durationMs = optionalCount(m[3]);
  const llmTokens = optionalCount(m[4]);
  const llmCost = optionalCount(m[5]);
  if (ts === undefined || refused(durationMs, llmTokens, llmCost)) return undefined;
  return { type: 'llm', ts, model: m[2] !== '' ? m[2]! : 'unknown', durationMs, success: m[7] !== 'false', llmTokens, llmCost, cacheHit: optionalBool(m[6]) };
}
