import type { MetricRecord } from '../schema.js';
import { FlatRecord, KIND_LLM, KIND_QUEUE, KIND_STAGE } from '../stats/flat-record.js';

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
 * false, for readers that only aggregate: then those two are left out (decoding a unique id per
 * line is a tenth of the cost) and the record returned is one reused object, valid until the
 * next call.
 */

// Field name codes, from the key's length and bytes.
const K_UNKNOWN = 0, K_TS = 1, K_TYPE = 2, K_STAGE = 3, K_DURATION = 4, K_SUCCESS = 5, K_TOKENS = 6, K_COST = 7, K_CACHE = 8, K_MODEL = 9, K_DEPTH = 10, K_ERROR = 11, K_SIGNAL = 12;

const QUOTE = 0x22, BACKSLASH = 0x5c, COMMA = 0x2c, COLON = 0x3a, LBRACE = 0x7b, RBRACE = 0x7d;

// Exact powers of ten: a mantissa below 2^53 divided by one of these is correctly rounded,
// which is what JSON.parse computes (Clinger's fast path).
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

// ---- Four bytes at a time ----
// A byte load costs about as much as a 32-bit load in V8 (≈ 1 ns each on a 2-core VM), so the
// common tokens (key names with their quote and colon, `true`, `false`, the timestamp's date
// and minute, plain string contents) are compared as unaligned 32-bit words through a DataView,
// which V8 compiles to one load. Every word test only ever says "the fast case holds";
// otherwise the byte-by-byte code decides.

const NO_VIEW = new DataView(new ArrayBuffer(0));
let view: DataView<ArrayBufferLike> = NO_VIEW;
let viewFor: Buffer | undefined;
/** Bytes in the current view: every word read checks it stays within them (a DataView throws). */
let viewBytes = 0;

/** Points the word reader at `buf` (a view is made once per buffer: lines share chunks). */
function useWords(buf: Buffer): DataView {
  if (buf !== viewFor) {
    viewFor = buf;
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    viewBytes = buf.byteLength;
  }
  return view;
}

/** The four bytes at p as a little-endian int32; the caller keeps p + 4 within the view. */
function rd(dv: DataView, p: number): number {
  return dv.getInt32(p, true);
}

/** A byte string as int32 words and masks (the last word may be partial). */
interface Pattern {
  length: number;
  words: Int32Array;
  masks: Int32Array;
}

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

function pattern(bytesOf: ArrayLike<number>): Pattern {
  const n = bytesOf.length;
  const count = (n + 3) >> 2;
  const w = new Int32Array(count);
  const m = new Int32Array(count);
  for (let i = 0; i < n; i++) {
    w[i >> 2]! |= bytesOf[i]! << ((i & 3) << 3);
    m[i >> 2]! |= 0xff << ((i & 3) << 3);
  }
  return { length: n, words: w, masks: m };
}

/** Whether buf[p, end) starts with the pattern's bytes. */
function matchAt(dv: DataView, p: number, end: number, pat: Pattern): boolean {
  const w = pat.words;
  if (p + pat.length > end || p + (w.length << 2) > viewBytes) return false;
  const m = pat.masks;
  for (let j = 0; j < w.length; j++) if ((rd(dv, p + (j << 2)) & m[j]!) !== w[j]) return false;
  return true;
}

/** The little-endian int32 of up to four ASCII characters (fewer: the rest of the word is 0). */
function w32(text: string): number {
  let x = 0;
  for (let i = 0; i < text.length; i++) x |= text.charCodeAt(i) << (i << 3);
  return x | 0;
}
const W_TRUE = w32('true'), W_FALS = w32('fals');

// Known keys as written without whitespace (`stage":`, from the byte after the opening quote),
// three masked int32 words each, in a table indexed by a hash of the first word. Each key's
// first four bytes are distinct, so one table probe and three masked compares decide: short and
// branch-free enough for V8 to inline into the parser (a switch over the first word was not).
const KEY_NAMES: Array<[string, number]> = [
  ['ts', K_TS], ['type', K_TYPE], ['stage', K_STAGE], ['durationMs', K_DURATION], ['success', K_SUCCESS], ['llmTokens', K_TOKENS],
  ['llmCost', K_COST], ['cacheHit', K_CACHE], ['model', K_MODEL], ['depth', K_DEPTH], ['error', K_ERROR], ['signalId', K_SIGNAL],
];
const KEY_SLOTS = 64;
const keyWords = new Int32Array(KEY_SLOTS * 3);
const keyMasks = new Int32Array(KEY_SLOTS * 3);
const keyCodes = new Int32Array(KEY_SLOTS).fill(-1);
const keyLengths = new Int32Array(KEY_SLOTS);
/** The shift that gives every key's first word its own slot (found once, below). */
let keyShift = 0;
const keySlot = (w: number): number => (w ^ (w >>> keyShift)) & (KEY_SLOTS - 1);
{
  const firsts = KEY_NAMES.map(([name]) => pattern(bytes(name + '":')));
  while (new Set(firsts.map((p) => keySlot(p.words[0]!))).size < firsts.length) keyShift++;
  KEY_NAMES.forEach(([name, code], k) => {
    const p = firsts[k]!;
    const slot = keySlot(p.words[0]!);
    for (let j = 0; j < p.words.length; j++) {
      keyWords[slot * 3 + j] = p.words[j]!;
      keyMasks[slot * 3 + j] = p.masks[j]!;
    }
    keyCodes[slot] = code;
    keyLengths[slot] = name.length;
  });
}

/**
 * The code of a known key written without whitespace (`"stage":`), its text starting at `ks`;
 * sets `keyEnd` to its closing quote. -1 when it is anything else: the byte path decides.
 */
function keyByWords(dv: DataView, ks: number): number {
  if (ks + 12 > viewBytes) return -1;
  const w = rd(dv, ks);
  const slot = keySlot(w);
  const t = slot * 3;
  if (w !== keyWords[t] || (rd(dv, ks + 4) & keyMasks[t + 1]!) !== keyWords[t + 1] || (rd(dv, ks + 8) & keyMasks[t + 2]!) !== keyWords[t + 2]) return -1;
  keyEnd = ks + keyLengths[slot]!;
  return keyCodes[slot]!;
}

/**
 * Skips whole words of plain string bytes (printable ASCII other than `"` and `\`) from `i`;
 * returns where the byte-by-byte scan should go on. A word with any other byte stops it.
 */
function skipPlainWords(dv: DataView, i: number, end: number): number {
  while (i + 4 <= end) {
    const x = rd(dv, i);
    const q = x ^ 0x22222222;
    const b = x ^ 0x5c5c5c5c;
    // High bit of a byte: set for bytes >= 0x80, below 0x20, equal to `"` or `\` (a borrow from
    // such a byte may flag its neighbours too: a false alarm only sends them to the byte scan).
    if ((x | (x - 0x20202020) | (q - 0x01010101) | (b - 0x01010101)) & 0x80808080) break;
    i += 4;
  }
  return i;
}

/** Interned stage/model names: lines repeat a handful of them, so decode each once. */
const internKeys: Uint8Array[] = [];
const internValues: string[] = [];
const internPatterns: Pattern[] = [];
// Names of up to 15 bytes, with their closing quote, as four masked words in a two-way table
// indexed by a hash of the first word: a probe of at most two entries finds a known name. Two
// ways, because names often share their first four bytes (`gpt-4o`, `gpt-4o-mini`); when three
// names would share a slot the table is rebuilt with another multiplier. A name the table does
// not hold costs several times more on each of its lines (the loop over every name).
const NAME_BITS = 10;
const NAME_SLOTS = 1 << NAME_BITS;
const nameWords = new Int32Array(NAME_SLOTS * 2 * 4);
const nameMasks = new Int32Array(NAME_SLOTS * 2 * 4);
/** Entry (slot × 2 + way) → the name's index + 1; 0 for none. */
const nameIndex = new Int32Array(NAME_SLOTS * 2);
const FIRST_NAME_MUL = 0x9e3779b1 | 0;
let nameMul = FIRST_NAME_MUL;
/** The first of the two entries for a name whose first word is `w`. */
const nameEntry = (w: number): number => (Math.imul(w, nameMul) >>> (32 - NAME_BITS)) << 1;

/** Puts every interned name that fits into the table; false when a slot overflows. */
function tableNames(): boolean {
  nameIndex.fill(0);
  let fits = true;
  for (let k = 0; k < internPatterns.length; k++) {
    const pat = internPatterns[k]!;
    if (pat.length < 4 || pat.length > 16) continue;
    let e = nameEntry(pat.words[0]!);
    if (nameIndex[e] !== 0) e++;
    if (nameIndex[e] !== 0) {
      fits = false;
      continue;
    }
    for (let j = 0; j < 4; j++) {
      nameWords[e * 4 + j] = pat.words[j] ?? 0;
      nameMasks[e * 4 + j] = pat.masks[j] ?? 0;
    }
    nameIndex[e] = k + 1;
  }
  return fits;
}

function intern(buf: Buffer, s: number, e: number): string {
  for (let i = 0; i < internKeys.length; i++) {
    if (is(buf, s, e, internKeys[i]!)) return internValues[i]!;
  }
  const value = latin1(buf, s, e); // ASCII only (checked by the caller), so latin1 = UTF-8
  if (internKeys.length < 64) {
    const b = Uint8Array.from(buf.subarray(s, e));
    internKeys.push(b);
    internValues.push(value);
    internPatterns.push(pattern([...b, QUOTE]));
    // A collision: other multipliers (odd, from a fixed sequence); the last try stays if none fits.
    for (let tries = 0; !tableNames() && tries < 8; tries++) nameMul = (Math.imul(nameMul, 0x2c1b3c6d) + 0x297a2d39) | 1;
  }
  return value;
}

/**
 * Forgets every name, timestamp and day the parser keeps between lines, as at start (see
 * warmUpIndexing: its made-up lines leave nothing behind). What the parser keeps is only ever a
 * shortcut to what it would compute from the bytes again, so this changes no result.
 */
export function resetParserState(): void {
  internKeys.length = 0;
  internValues.length = 0;
  internPatterns.length = 0;
  nameIndex.fill(0);
  nameMul = FIRST_NAME_MUL;
  tsWords.fill(-1);
  tsMinutes.fill(NaN);
  dayKey0 = dayKey1 = -1;
  dayMs = 0;
  viewFor = undefined;
  view = NO_VIEW;
  viewBytes = 0;
}

/** Where the name the parser matched ends (its closing quote). */
let valueEnd = -1;

/**
 * The index of the interned name that starts at `s` and ends at a quote, without scanning for
 * the quote first: a known name's bytes followed by `"` can only be that name (names hold plain
 * bytes). Sets `valueEnd` to the quote; -1 when no known name matches. The parser first probes
 * the name table itself (inline: as a call V8 did not always inline it, it cost 8 % of a run);
 * this is the way for names the table does not hold.
 */
function internedByLoop(dv: DataView, s: number, end: number): number {
  for (let k = 0; k < internPatterns.length; k++) {
    const pat = internPatterns[k]!;
    if (matchAt(dv, s, end, pat)) {
      valueEnd = s + pat.length - 1;
      return k;
    }
  }
  return -1;
}

/** Buffer#latin1Slice: the decoder behind toString('latin1') without its argument checks. */
const latin1 = (buf: Buffer, s: number, e: number): string => (buf as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(s, e);

// JSON's whitespace but `\n`: a line holds none (it ends there), and a parse of a line whose end
// is not yet known (see `open` below) must stop at it, never read on into the next line.
function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d;
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

/** Whether buf[s, end) starts with `lit` followed by a closing quote. */
function litQ(buf: Buffer, s: number, end: number, lit: Uint8Array): boolean {
  const n = lit.length;
  if (s + n >= end || buf[s + n] !== QUOTE) return false;
  for (let j = 0; j < n; j++) if (buf[s + j] !== lit[j]) return false;
  return true;
}

/**
 * The code of the key whose text starts at `ks`; sets `keyEnd` to its closing quote (-1 when
 * the key needs the slow path). Known keys are matched by their bytes and closing quote,
 * without scanning for the quote first: that scan and a length switch were a fifth of the time.
 */
function keyAt(buf: Buffer, ks: number, end: number): number {
  let code = K_UNKNOWN;
  let lit: Uint8Array | undefined;
  switch (buf[ks]) {
    case 0x74: // t
      if (litQ(buf, ks, end, (lit = B_TS))) code = K_TS;
      else if (litQ(buf, ks, end, (lit = B_TYPE))) code = K_TYPE;
      break;
    case 0x73: // s
      if (litQ(buf, ks, end, (lit = B_STAGE))) code = K_STAGE;
      else if (litQ(buf, ks, end, (lit = B_SUCCESS))) code = K_SUCCESS;
      else if (litQ(buf, ks, end, (lit = B_SIGNAL))) code = K_SIGNAL;
      break;
    case 0x64: // d
      if (litQ(buf, ks, end, (lit = B_DURATION))) code = K_DURATION;
      else if (litQ(buf, ks, end, (lit = B_DEPTH))) code = K_DEPTH;
      break;
    case 0x6c: // l
      if (litQ(buf, ks, end, (lit = B_TOKENS))) code = K_TOKENS;
      else if (litQ(buf, ks, end, (lit = B_COST))) code = K_COST;
      break;
    case 0x63: // c
      if (litQ(buf, ks, end, (lit = B_CACHE))) code = K_CACHE;
      break;
    case 0x6d: // m
      if (litQ(buf, ks, end, (lit = B_MODEL))) code = K_MODEL;
      break;
    case 0x65: // e
      if (litQ(buf, ks, end, (lit = B_ERROR))) code = K_ERROR;
      break;
  }
  keyEnd = code === K_UNKNOWN ? closingQuote(buf, ks, end) : ks + lit!.length;
  return code;
}
let keyEnd = -1;

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
  scannedMinute = dayMs + (h * 60 + mi) * 60_000;
  return scannedMinute + sec * 1000 + m1 * 100 + m2 * 10 + m3;
}
/** The minute (epoch ms) of the last timestamp scanTs accepted. */
let scannedMinute = NaN;

// The first 16 bytes (`YYYY-MM-DDTHH:MM`) of the last two timestamps scanTs accepted in different
// minutes, as words, and their minutes: lines of those minutes then only read `:SS.mmmZ`. Two,
// as writers' late lines alternate with the new minute's for seconds after each minute starts
// (see indexingSink): with one kept, each turn re-read the whole timestamp. In typed arrays: a
// minute kept in a variable is a heap number allocated at every change.
const tsWords = new Int32Array(8).fill(-1);
const tsMinutes = new Float64Array([NaN, NaN]);

const T_STAGE = 0, T_QUEUE = 1, T_LLM = 2;

/** Where the line last parsed with `open` ends: the index of its newline. */
export let parsedLineEnd = -1;

/**
 * The record in buf[start, end), or undefined to fall back to JSON.parse.
 *
 * `open`: the line starts at `start` and ends at the first newline before `end`, not yet found.
 * The record must then be followed by that newline (after optional spaces, tabs or `\r`), whose
 * index is left in `parsedLineEnd`: the splitter need not search for it first. Every scan stops
 * at a newline (no token or whitespace here includes one), so the answer is the same as for the
 * line's own bounds.
 */
export function fastParseRecord(buf: Buffer, start: number, end: number, ids = true, open = false): MetricRecord | undefined {
  if (!parseLine(buf, start, end, ids, open, line)) return undefined;
  return ids ? recordOf(line, lineError, lineSignalId) : reuse(line);
}

/**
 * For the indexing reader: the line that starts at `start` and ends at the first newline before
 * `limit` (as `open` above), read into `out`; false to fall back to JSON.parse.
 */
export function fastParseFlat(buf: Buffer, start: number, limit: number, out: FlatRecord): boolean {
  return parseLine(buf, start, limit, false, true, out);
}

/** The last line's fields (fastParseRecord), and its error and signalId when `ids`. */
const line = new FlatRecord();
let lineError: string | undefined;
let lineSignalId: string | undefined;

function parseLine(buf: Buffer, start: number, end: number, ids: boolean, open: boolean, out: FlatRecord): boolean {
  const dv = useWords(buf);
  let i = start;
  while (i < end && isWs(buf[i]!)) i++;
  if (buf[i] !== LBRACE) return false;
  i++;
  let ts = NaN;
  let type = T_STAGE;
  let stage: string | undefined;
  // Absent numbers are NaN (see FlatRecord); cacheHit -1 absent, 0 false, 1 true.
  let durationMs = NaN;
  let success = true;
  let llmTokens = NaN;
  let llmCost = NaN;
  let cacheHit = -1;
  let model: string | undefined;
  let depth = NaN;
  let error: string | undefined;
  let signalId: string | undefined;
  for (;;) {
    if (buf[i] !== QUOTE) {
      while (i < end && isWs(buf[i]!)) i++;
      if (buf[i] !== QUOTE) return false;
    }
    let key = keyByWords(dv, i + 1);
    if (key >= 0) {
      i = keyEnd + 2; // past `":`
    } else {
      key = keyAt(buf, i + 1, end);
      if (keyEnd < 0) return false;
      i = keyEnd + 1;
      if (buf[i] !== COLON) {
        while (i < end && isWs(buf[i]!)) i++;
        if (buf[i] !== COLON) return false;
      }
      i++;
    }
    let c = buf[i];
    if (c !== undefined && isWs(c)) {
      while (i < end && isWs(buf[i]!)) i++;
      c = buf[i];
    }
    if (c === QUOTE) {
      const vs = i + 1;
      let ve: number;
      switch (key) {
        case K_TS:
          // scanTs checks every one of the 24 bytes, so a quote at +24 closes this string.
          ve = vs + 24;
          if (ve >= end || buf[ve] !== QUOTE) return false;
          const w0 = rd(dv, vs), w1 = rd(dv, vs + 4), w2 = rd(dv, vs + 8), w3 = rd(dv, vs + 12);
          let minute = NaN;
          if (w0 === tsWords[0] && w1 === tsWords[1] && w2 === tsWords[2] && w3 === tsWords[3]) minute = tsMinutes[0]!;
          else if (w0 === tsWords[4] && w1 === tsWords[5] && w2 === tsWords[6] && w3 === tsWords[7]) minute = tsMinutes[1]!;
          if (minute === minute) {
            // The same minute as an earlier line: only `:SS.mmmZ` is read, as two words (written out
            // here: V8 did not inline it as a function). A byte b is a digit when its high nibble is
            // 3 both as is and plus 6 (0x3a–0x3f carry into 0x4_), tested for a word's digits at once.
            const a = rd(dv, vs + 16);
            const b = rd(dv, vs + 20);
            const sd = (a >>> 8) & 0xffff;
            const md = b & 0xffffff;
            const sec = (sd & 0xf) * 10 + ((sd >>> 8) & 0xf);
            if ((a & 0xff) !== COLON || a >>> 24 !== 0x2e || b >>> 24 !== 0x5a || sec > 59) return false;
            if ((sd & 0xf0f0) !== 0x3030 || ((sd + 0x0606) & 0xf0f0) !== 0x3030) return false;
            if ((md & 0xf0f0f0) !== 0x303030 || ((md + 0x060606) & 0xf0f0f0) !== 0x303030) return false;
            ts = minute + sec * 1000 + (md & 0xf) * 100 + ((md >>> 8) & 0xf) * 10 + ((md >>> 16) & 0xf);
          } else {
            // `+`: a call's result is of unknown type to V8, which then kept `ts` boxed for the
            // whole loop, a heap number allocated for every line; converted here, it stays a double.
            ts = +scanTs(buf, vs, ve);
            if (ts === ts) {
              tsWords.copyWithin(4, 0, 4);
              tsWords[0] = w0;
              tsWords[1] = w1;
              tsWords[2] = w2;
              tsWords[3] = w3;
              tsMinutes[1] = tsMinutes[0]!;
              tsMinutes[0] = scannedMinute;
            }
          }
          if (ts !== ts) return false; // NaN
          break;
        case K_TYPE:
          if (litQ(buf, vs, end, B_STAGE_T)) type = T_STAGE;
          else if (litQ(buf, vs, end, B_QUEUE_T)) type = T_QUEUE;
          else if (litQ(buf, vs, end, B_LLM_T)) type = T_LLM;
          else return false;
          ve = vs + (type === T_STAGE ? 5 : type === T_QUEUE ? 5 : 3);
          break;
        case K_STAGE:
        case K_MODEL: {
          // A name seen before, by a probe of the name table (see tableNames).
          let k = -1;
          if (vs + 16 <= viewBytes) {
            const w0 = rd(dv, vs), w1 = rd(dv, vs + 4), w2 = rd(dv, vs + 8), w3 = rd(dv, vs + 12);
            const first = nameEntry(w0);
            for (let e = first; e < first + 2; e++) {
              const c = nameIndex[e]! - 1;
              if (c < 0) break;
              const t = e << 2;
              if (w0 === nameWords[t] && (w1 & nameMasks[t + 1]!) === nameWords[t + 1] && (w2 & nameMasks[t + 2]!) === nameWords[t + 2] && (w3 & nameMasks[t + 3]!) === nameWords[t + 3]) {
                valueEnd = vs + internKeys[c]!.length;
                if (valueEnd < end) k = c;
                break;
              }
            }
          }
          if (k < 0) k = internedByLoop(dv, vs, end);
          let name: string;
          if (k >= 0) {
            ve = valueEnd;
            name = internValues[k]!;
          } else {
            ve = closingQuote(buf, vs, end);
            if (ve < 0) return false;
            name = intern(buf, vs, ve);
          }
          if (key === K_STAGE) stage = name;
          else model = name;
          break;
        }
        default:
          ve = closingQuote(buf, skipPlainWords(dv, vs, end), end);
          if (ve < 0) return false;
          if (key === K_ERROR) {
            if (ids) error = latin1(buf, vs, ve);
          } else if (key === K_SIGNAL) {
            if (ids) signalId = latin1(buf, vs, ve);
          } else if (key !== K_UNKNOWN) {
            return false; // a string where the schema wants a number or boolean
          }
      }
      i = ve + 1;
    } else if (c === 0x74) {
      if (i + 4 > viewBytes || rd(dv, i) !== W_TRUE) return false;
      i += 4;
      if (key === K_SUCCESS) success = true;
      else if (key === K_CACHE) cacheHit = 1;
      else if (key === K_ERROR) error = undefined; // not a string: ignored, and the last value wins
      else if (key === K_SIGNAL) signalId = undefined;
      else if (key !== K_UNKNOWN) return false;
    } else if (c === 0x66) {
      if (i + 4 > viewBytes || rd(dv, i) !== W_FALS || buf[i + 4] !== 0x65) return false;
      i += 5;
      if (key === K_SUCCESS) success = false;
      else if (key === K_CACHE) cacheHit = 0;
      else if (key === K_ERROR) error = undefined;
      else if (key === K_SIGNAL) signalId = undefined;
      else if (key !== K_UNKNOWN) return false;
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
        if (d >= 0 && d <= 9) return false; // leading zero
      } else {
        while (d >= 0 && d <= 9) {
          mant = mant * 10 + d;
          digits++;
          d = buf[++i]! - 0x30;
        }
      }
      if (i === intStart) return false;
      if (buf[i] === 0x2e) {
        const fracStart = ++i;
        d = buf[i]! - 0x30;
        while (d >= 0 && d <= 9) {
          mant = mant * 10 + d;
          digits++;
          d = buf[++i]! - 0x30;
        }
        scale = i - fracStart;
        if (scale === 0) return false;
      }
      const e = buf[i];
      if (e === 0x65 || e === 0x45 || digits > 15 || scale > 22) return false;
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
          return false; // e.g. a numeric ts (epoch ms): the slow path reads it
      }
    } else {
      return false; // null, nested objects and arrays: the slow path decides
    }
    let sep = buf[i];
    if (sep !== COMMA && sep !== RBRACE) {
      while (i < end && isWs(buf[i]!)) i++;
      sep = buf[i];
    }
    if (sep === COMMA) {
      i++;
      continue;
    }
    if (sep === RBRACE) {
      i++;
      break;
    }
    return false;
  }
  while (i < end && isWs(buf[i]!)) i++;
  if (open) {
    if (i >= end || buf[i] !== 0x0a || ts !== ts) return false;
    parsedLineEnd = i;
  } else if (i !== end || ts !== ts) return false;
  // The schema's checks, for the values this path accepted; anything failing goes the slow way
  // so that the reason given for a malformed line is the slow path's own. (NaN, absent, passes
  // `< 0` and fails `>= 0`.)
  if (llmTokens < 0 || llmCost < 0) return false;
  if (type === T_STAGE) {
    if (stage === undefined || stage === '' || !(durationMs >= 0)) return false;
    out.kind = KIND_STAGE;
    out.name = stage;
    out.model = model;
  } else if (type === T_QUEUE) {
    if (!(depth >= 0)) return false;
    out.kind = KIND_QUEUE;
    out.name = '';
    out.model = undefined;
    durationMs = llmTokens = llmCost = NaN;
    success = true;
    cacheHit = -1;
  } else {
    if (durationMs < 0) return false;
    out.kind = KIND_LLM;
    out.name = model !== undefined && model !== '' ? model : 'unknown';
    out.model = undefined;
  }
  out.ts = ts;
  out.durationMs = durationMs;
  out.success = success;
  out.llmTokens = llmTokens;
  out.llmCost = llmCost;
  out.cacheHit = cacheHit;
  out.depth = type === T_QUEUE ? depth : NaN;
  if (ids) {
    lineError = error;
    lineSignalId = signalId;
  }
  return true;
}

/** A new record of the line's fields (`ids`: its error and signalId too). */
function recordOf(f: FlatRecord, error: string | undefined, signalId: string | undefined): MetricRecord {
  const llmTokens = orUndefined(f.llmTokens);
  const llmCost = orUndefined(f.llmCost);
  const cacheHit = f.cacheHit < 0 ? undefined : f.cacheHit === 1;
  if (f.kind === KIND_STAGE) {
    return { type: 'stage', ts: f.ts, stage: f.name, durationMs: f.durationMs, success: f.success, llmTokens, llmCost, cacheHit, model: f.model, error, signalId };
  }
  if (f.kind === KIND_QUEUE) return { type: 'queue', ts: f.ts, depth: f.depth };
  return { type: 'llm', ts: f.ts, model: f.name, durationMs: orUndefined(f.durationMs), success: f.success, llmTokens, llmCost, cacheHit };
}

const orUndefined = (x: number): number | undefined => (x === x ? x : undefined);

/**
 * For readers that only aggregate (`ids` false), one record object serves every line: no
 * allocation per line, and one object shape for the code that reads it. It holds the fields of
 * all three record types; the ones its `type` does not have are undefined. Valid until the next
 * call.
 */
const scratch = {
  type: 'stage' as MetricRecord['type'],
  ts: 0,
  stage: undefined as string | undefined,
  durationMs: undefined as number | undefined,
  success: true,
  llmTokens: undefined as number | undefined,
  llmCost: undefined as number | undefined,
  cacheHit: undefined as boolean | undefined,
  model: undefined as string | undefined,
  error: undefined,
  signalId: undefined,
  depth: 0,
};

function reuse(f: FlatRecord): MetricRecord {
  const r = scratch;
  const queue = f.kind === KIND_QUEUE;
  r.type = f.kind === KIND_STAGE ? 'stage' : queue ? 'queue' : 'llm';
  r.ts = f.ts;
  r.stage = f.kind === KIND_STAGE ? f.name : undefined;
  r.durationMs = orUndefined(f.durationMs);
  r.success = f.success;
  r.llmTokens = orUndefined(f.llmTokens);
  r.llmCost = orUndefined(f.llmCost);
  r.cacheHit = f.cacheHit < 0 ? undefined : f.cacheHit === 1;
  r.model = f.kind === KIND_LLM ? f.name : f.model;
  r.depth = queue ? f.depth : 0;
  return r as unknown as MetricRecord;
}
