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
 * Records come without `signalId` and `error`, as the aggregating readers' do (`ids: false`).
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
const TS = '\\{"ts":"(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z)",';
/** Where the key after `{"ts":"YYYY-MM-DDTHH:MM:SS.mmmZ",` starts. */
const AFTER_TS = 33;
const BOOL = '(true|false)';

const STAGE = new RegExp(
  `^${TS}"stage":"(${S}+)","durationMs":(${NUM})(?:,"success":${BOOL})?(?:,"error":"${S}*")?(?:,"signalId":"${S}*")?(?:,"llmTokens":(${NUM}))?(?:,"llmCost":(${NUM}))?(?:,"cacheHit":${BOOL})?(?:,"model":"(${S}*)")?\\}$`,
);
const QUEUE = new RegExp(`^${TS}"type":"queue","depth":(${NUM})\\}$`);
const LLM = new RegExp(
  `^${TS}"type":"llm","model":"(${S}*)"(?:,"durationMs":(${NUM}))?(?:,"llmTokens":(${NUM}))?(?:,"llmCost":(${NUM}))?(?:,"cacheHit":${BOOL})?(?:,"success":${BOOL})?(?:,"error":"${S}*")?\\}$`,
);

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
  const ts = parseTimestamp(m[1]);
  const durationMs = count(m[3]!);
  const llmTokens = optionalCount(m[5]);
  const llmCost = optionalCount(m[6]);
  if (ts === undefined || refused(durationMs, llmTokens, llmCost)) return undefined;
  return { type: 'stage', ts, stage: m[2]!, durationMs, success: m[4] !== 'false', llmTokens, llmCost, cacheHit: optionalBool(m[7]), model: m[8], error: undefined, signalId: undefined };
}

function queueRecord(m: RegExpExecArray | null): MetricRecord | undefined {
  if (m === null) return undefined;
  const ts = parseTimestamp(m[1]);
  const depth = count(m[2]!);
  return ts === undefined || Number.isNaN(depth) ? undefined : { type: 'queue', ts, depth };
}

function llmRecord(m: RegExpExecArray | null): MetricRecord | undefined {
  if (m === null) return undefined;
  const ts = parseTimestamp(m[1]);
  const durationMs = optionalCount(m[3]);
  const llmTokens = optionalCount(m[4]);
  const llmCost = optionalCount(m[5]);
  if (ts === undefined || refused(durationMs, llmTokens, llmCost)) return undefined;
  return { type: 'llm', ts, model: m[2] !== '' ? m[2]! : 'unknown', durationMs, success: m[7] !== 'false', llmTokens, llmCost, cacheHit: optionalBool(m[6]) };
}
