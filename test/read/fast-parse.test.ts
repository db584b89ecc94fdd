import { isUtf8 } from 'node:buffer';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Session } from 'node:inspector';
import { fastParseFlat, fastParseRecord, parsedLineEnd } from '../../src/read/fast-parse.js';
import { patternParseRecord } from '../../src/read/pattern-parse.js';
import { FlatRecord, flatten } from '../../src/stats/flat-record.js';
import { readWindow } from '../../src/report/read-window.js';
import { buildReport } from '../../src/report/build-report.js';
import { parseRecord, type MetricRecord } from '../../src/schema.js';
import { rng } from '../helpers/rng.js';
import { llmLine, queueLine, stageLine } from '../../src/record/line-format.js';

/**
 * Differential tests: the byte-level fast path must agree with the reference path (UTF-8 check,
 * JSON.parse, schema validation) on every line — same record when it answers, and it may only
 * decline (undefined), never accept a line the reference rejects.
 */

const root = new URL('../../', import.meta.url).pathname;

/** The reference: what the reading path does for a line without the fast path. */
function reference(buf: Buffer): MetricRecord | string {
  if (buf.length === 0) return 'empty line';
  const text = buf.toString('utf8');
  if (text.includes('\uFFFD') && !isUtf8(buf)) return 'not valid UTF-8';
  const r = parseRecord(text);
  return r.ok ? r.record : r.reason;
}

function agree(line: Buffer | string): void {
  const buf = typeof line === 'string' ? Buffer.from(line) : line;
  // Parse from inside a larger buffer, as the splitter hands lines over.
  const padded = Buffer.concat([Buffer.from('xx\n'), buf, Buffer.from('\nyy')]);
  const fast = fastParseRecord(padded, 3, 3 + buf.length);
  const ref = reference(buf);
  // Read without knowing where the line ends (the splitter's fast path): the same answer, and
  // the newline found is the line's own.
  const open = fastParseRecord(padded, 3, padded.length, true, true);
  expect(open, `open read of ${JSON.stringify(buf.toString('latin1'))}`).toEqual(fast);
  if (open !== undefined) expect(parsedLineEnd).toBe(3 + buf.length);
  // The indexing reader's form: the same line taken, the same fields (absent numbers NaN), the
  // same newline found; and the aggregating readers' reused record, without error and signalId.
  const flat = new FlatRecord();
  const took = fastParseFlat(padded, 3, padded.length, flat);
  expect(took, `flat read of ${JSON.stringify(buf.toString('latin1'))}`).toBe(open !== undefined);
  if (took) {
    expect(parsedLineEnd).toBe(3 + buf.length);
    expect({ ...flat }).toEqual({ ...flatten(open!, new FlatRecord()) });
    expect(Object.is(flat.durationMs, flatten(open!, new FlatRecord()).durationMs)).toBe(true);
  }
  const reused = fastParseRecord(padded, 3, padded.length, false, true);
  if (open === undefined) expect(reused).toBeUndefined();
  else {
    const { error: _e, signalId: _s, ...rest } = open as MetricRecord & { error?: string; signalId?: string };
    expect(reused).toMatchObject(rest);
    expect(reused).toMatchObject({ error: undefined, signalId: undefined });
  }
  // The short re-reads' pattern (pattern-parse.ts): it may decline any line, and a line it takes
  // gives the reference's record, as the aggregating readers see it (no error, no signalId).
  const pat = patternParseRecord(padded, 3, 3 + buf.length);
  if (pat !== undefined) {
    expect(typeof ref, `pattern accepted a line the reference rejects: ${JSON.stringify(buf.toString('latin1'))}`).toBe('object');
    const { error: _pe, signalId: _ps, ...took } = pat as MetricRecord & { error?: string; signalId?: string };
    const { error: _re, signalId: _rs, ...want } = ref as MetricRecord & { error?: string; signalId?: string };
    expect(took, `pattern read of ${JSON.stringify(buf.toString('latin1'))}`).toEqual(want);
    expect(Object.is((pat as { durationMs?: number }).durationMs, (ref as { durationMs?: number }).durationMs)).toBe(true);
  }
  if (fast !== undefined) {
    expect(typeof ref, `fast path accepted a line the reference rejects: ${JSON.stringify(buf.toString('latin1'))}`).toBe('object');
    expect(fast).toEqual(ref);
    // Object.is distinguishes -0 and 0, which toEqual does not.
    if (fast.type !== 'queue' && ref !== null && typeof ref === 'object' && ref.type !== 'queue') expect(Object.is(fast.durationMs, ref.durationMs)).toBe(true);
  }
}

function fixtureLines(): Buffer[] {
  const out: Buffer[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ndjson|jsonl)$/.test(name)) {
        const buf = readFileSync(p);
        let s = 0;
        for (let nl = buf.indexOf(10, s); nl !== -1; nl = buf.indexOf(10, s)) {
          out.push(buf.subarray(s, nl));
          s = nl + 1;
        }
      }
    }
  };
  walk(join(root, 'fixtures'));
  return out;
}

const ODD_BUT_VALID = [
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"classify","durationMs":850.4}',
  '  {"ts":"2026-11-27T09:00:00.123Z","stage":"classify","durationMs":850.4}  ',
  '{ "ts" : "2026-11-27T09:00:00.123Z" , "stage" : "classify" , "durationMs" : 850.4 }',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"classify","durationMs":850.4}\r',
  '{"durationMs":1,"stage":"x","ts":"2026-11-27T09:00:00.123Z"}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"a\\"b","durationMs":1}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"\\u00e9t\\u00e9","durationMs":1}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"été 😀","durationMs":1}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":1e3}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":1.5E-2}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":0.1}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":-0}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":0}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":123456789012345678901234}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":9007199254740993}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":0.30000000000000004}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":1.7976931348623157}',
  '{"ts":1764234000123,"stage":"x","durationMs":5}',
  '{"ts":"2026-11-27T10:00:00.123+01:00","stage":"x","durationMs":5}',
  '{"ts":"2026-11-27T09:00:00Z","stage":"x","durationMs":5}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":5,"extra":{"nested":[1,2,{"a":null}]}}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":5,"extra":null,"more":[],"n":-1.5}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":5,"stage":"y"}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":5,"error":"boom","error":7}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":5,"signalId":"s","signalId":true}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":5,"success":false,"error":"timeout"}',
  '{"ts":"2026-11-27T09:00:00.123Z","type":"stage","stage":"x","durationMs":5}',
  '{"ts":"2026-11-27T09:00:00.123Z","type":"queue","depth":23}',
  '{"ts":"2026-11-27T09:00:00.123Z","type":"queue","depth":23,"llmTokens":-1}',
  '{"ts":"2026-11-27T09:00:00.123Z","type":"llm","model":"gpt-4o","durationMs":1830,"llmTokens":900,"llmCost":0.009,"cacheHit":false,"success":true}',
  '{"ts":"2026-11-27T09:00:00.123Z","type":"llm","model":""}',
  '{"ts":"2026-11-27T09:00:00.123Z","type":"llm"}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":5,"model":7}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":5,"cacheHit":true,"llmTokens":0,"llmCost":0}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x\\u0000y","durationMs":5}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"del\x7fchar","durationMs":5}',
];

const INVALID = [
  '',
  ' ',
  '{}',
  '[]',
  'null',
  '42',
  '"str"',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":5',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":5}}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":5} x',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":5,}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":05}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":5.}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":.5}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":+5}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":-5}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":"5"}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"","durationMs":5}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":5,"durationMs":5}',
  '{"ts":"2026-11-27T09:00:00.123Z","durationMs":5}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x"}',
  '{"stage":"x","durationMs":5}',
  '{"ts":"2026-11-27T09:00:00.123","stage":"x","durationMs":5}',
  '{"ts":"2026-02-30T09:00:00.123Z","stage":"x","durationMs":5}',
  '{"ts":"2026-11-27T24:00:00.000Z","stage":"x","durationMs":5}',
  '{"ts":"2026-11-27T09:60:00.000Z","stage":"x","durationMs":5}',
  '{"ts":"yesterday","stage":"x","durationMs":5}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":5,"success":"yes"}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":5,"success":null}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":5,"cacheHit":1}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":5,"llmTokens":-1}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":5,"llmCost":"0.1"}',
  '{"ts":"2026-11-27T09:00:00.123Z","type":"queue"}',
  '{"ts":"2026-11-27T09:00:00.123Z","type":"queue","depth":-1}',
  '{"ts":"2026-11-27T09:00:00.123Z","type":"bogus","stage":"x","durationMs":5}',
  '{"ts":"2026-11-27T09:00:00.123Z","type":1,"stage":"x","durationMs":5}',
  '{"ts":"2026-11-27T09:00:00.123Z","type":"llm","model":5}',
  '{"ts":"2026-11-27T09:00:00.123Z","type":"llm","durationMs":-1}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"tab\there","durationMs":5}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":5,"success":tru}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":5,"success":falsey}',
  "{'ts':'2026-11-27T09:00:00.123Z'}",
  '{"ts":"2026-11-27T09:00:00.123Z" "stage":"x","durationMs":5}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":NaN}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":Infinity}',
  '{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":1e999}',
];

describe('fastParseRecord agrees with JSON.parse + schema', () => {
  it('on every line of the shipped fixtures', () => {
    const lines = fixtureLines();
    expect(lines.length).toBeGreaterThan(5000);
    let answered = 0;
    for (const line of lines) {
      agree(line);
      const padded = Buffer.concat([line]);
      if (fastParseRecord(padded, 0, padded.length) !== undefined) answered++;
    }
    // The writer's own lines must take the fast path, or it is not a fast path.
    expect(answered / lines.length).toBeGreaterThan(0.95);
  });

  it('the recorder\'s own lines, of each kind, take the short re-reads\' pattern', () => {
    const lines = fixtureLines();
    const taken = lines.filter((l) => patternParseRecord(l, 0, l.length) !== undefined).length;
    expect(taken / lines.length).toBeGreaterThan(0.95);
    const t = Date.parse('2026-11-27T09:00:00.123Z');
    const own = [
      stageLine(t, 'classify', 850.4, { success: false, error: 'rate limited', signalId: 'sig_1', llmTokens: 450, llmCost: 0.0023, cacheHit: false, model: 'gpt-4o-mini' }),
      stageLine(t, 'total', 0, undefined),
      queueLine(t, 12),
      llmLine(t, { model: 'gpt-4o', durationMs: 1e-7, llmTokens: 3, llmCost: 1.5e21, cacheHit: true, success: true }),
      llmLine(t, { model: '' }),
    ];
    for (const line of own) {
      const buf = Buffer.from(line.trimEnd());
      agree(buf);
      expect(patternParseRecord(buf, 0, buf.length), line).toBeDefined();
    }
  });

  it('stage lines with the signal id before the error take the pattern too, and read as the reference does', () => {
    const t = '2026-11-27T09:00:00.123Z';
    const lines = [
      `{"ts":"${t}","stage":"extract","durationMs":2334.5,"success":false,"signalId":"sig_11","error":"upstream 503","llmTokens":698,"llmCost":0.00698,"cacheHit":false,"model":"gpt-4o"}`,
      `{"ts":"${t}","stage":"total","durationMs":3236.8,"success":false,"signalId":"sig_11","error":"stage failed"}`,
      `{"ts":"${t}","stage":"total","durationMs":3,"success":true,"signalId":"sig_11"}`,
      // A key twice: JSON.parse keeps the last, and the record keeps neither.
      `{"ts":"${t}","stage":"total","durationMs":3,"success":false,"error":"a","error":"b"}`,
    ];
    for (const line of lines) {
      const buf = Buffer.from(line);
      agree(buf);
      expect(patternParseRecord(buf, 0, buf.length), line).toMatchObject({ type: 'stage', durationMs: JSON.parse(line).durationMs });
    }
    // Not three of them, nor a value other than a string.
    for (const line of [
      `{"ts":"${t}","stage":"total","durationMs":3,"error":"a","signalId":"s","error":"b"}`,
      `{"ts":"${t}","stage":"total","durationMs":3,"signalId":7,"error":"b"}`,
    ]) {
      agree(Buffer.from(line));
      expect(patternParseRecord(Buffer.from(line), 0, line.length), line).toBeUndefined();
    }
  });

  it.each(ODD_BUT_VALID)('odd but valid: %s', (line) => {
    agree(line);
    expect(typeof reference(Buffer.from(line))).toBe('object');
  });

  it.each(INVALID)('invalid: %s', (line) => {
    agree(line);
    expect(typeof reference(Buffer.from(line))).toBe('string');
    expect(fastParseRecord(Buffer.from(line), 0, Buffer.byteLength(line))).toBeUndefined();
  });

  it('non-UTF-8 bytes inside a string are left to the reference', () => {
    const line = Buffer.concat([Buffer.from('{"ts":"2026-11-27T09:00:00.123Z","stage":"'), Buffer.from([0xff, 0xfe]), Buffer.from('","durationMs":5}')]);
    agree(line);
    expect(fastParseRecord(line, 0, line.length)).toBeUndefined();
  });

  it('on generated numbers: every accepted value is bit-identical to JSON.parse', () => {
    const rand = rng(42);
    for (let i = 0; i < 20_000; i++) {
      const intDigits = 1 + Math.floor(rand() * 12);
      const fracDigits = Math.floor(rand() * 8);
      let n = String(1 + Math.floor(rand() * 9));
      for (let d = 1; d < intDigits; d++) n += String(Math.floor(rand() * 10));
      if (fracDigits > 0) {
        n += '.';
        for (let d = 0; d < fracDigits; d++) n += String(Math.floor(rand() * 10));
      }
      if (rand() < 0.1) n = '0.' + n.replace('.', '');
      agree(`{"ts":"2026-11-27T09:00:00.123Z","stage":"x","durationMs":${n},"llmCost":${n}}`);
    }
  });

  it('with many stage and model names (the name table rebuilt as names arrive)', () => {
    const names = Array.from({ length: 80 }, (_, i) => ['stage', 'extract-v', 'gpt-4o-mini-', 'x', 'a-much-longer-stage-name-'][i % 5]! + i);
    for (let round = 0; round < 3; round++) {
      for (const name of names) {
        agree(`{"ts":"2026-11-27T09:00:00.123Z","stage":"${name}","durationMs":5}`);
        agree(`{"ts":"2026-11-27T09:00:00.123Z","type":"llm","model":"${name}","durationMs":5}`);
        const line = Buffer.from(`{"ts":"2026-11-27T09:00:00.123Z","stage":"${name}","durationMs":5}`);
        expect(fastParseRecord(line, 0, line.length)).toMatchObject({ stage: name });
      }
    }
  });

  it('on generated timestamps across days, months and leap years', () => {
    const rand = rng(7);
    for (let i = 0; i < 5_000; i++) {
      const ms = Date.UTC(1999, 0, 1) + Math.floor(rand() * 40 * 365.25 * 86_400_000);
      agree(`{"ts":"${new Date(ms).toISOString()}","stage":"x","durationMs":1}`);
    }
  });

  it('on random garbage and random mutations of valid lines', () => {
    const rand = rng(1234);
    const base = Buffer.from('{"ts":"2026-11-27T09:00:00.123Z","stage":"classify","durationMs":850.4,"success":true,"signalId":"sig_1","llmTokens":450,"llmCost":0.0023,"cacheHit":false,"model":"gpt-4o-mini"}');
    const alphabet = Buffer.from('{}[]":,.-+eE0123456789 tfnrulsa\\\t\x00\xff');
    for (let i = 0; i < 20_000; i++) {
      const line = Buffer.from(base);
      const edits = 1 + Math.floor(rand() * 3);
      for (let e = 0; e < edits; e++) line[Math.floor(rand() * line.length)] = alphabet[Math.floor(rand() * alphabet.length)]!;
      agree(line);
    }
    for (let i = 0; i < 5_000; i++) {
      const len = Math.floor(rand() * 60);
      const line = Buffer.alloc(len);
      for (let j = 0; j < len; j++) line[j] = alphabet[Math.floor(rand() * alphabet.length)]!;
      agree(line);
    }
  });
});

describe('timestamps of minutes that alternate (writers\' late lines)', () => {
  it('reads every time right whichever of the last minutes a line falls in, across days too', () => {
    const rand = rng(77);
    const minutes = ['2026-11-27T09:59', '2026-11-27T10:00', '2026-11-27T10:01', '2026-11-28T10:00', '2025-11-27T10:00'];
    const out = new FlatRecord();
    for (let i = 0; i < 5_000; i++) {
      // Mostly two minutes turn about; now and then a third, or another day at the same clock time.
      const k = rand() < 0.9 ? Math.floor(rand() * 2) + (i > 2_500 ? 1 : 0) : Math.floor(rand() * minutes.length);
      const ts = `${minutes[k]}:${String(Math.floor(rand() * 60)).padStart(2, '0')}.${String(Math.floor(rand() * 1000)).padStart(3, '0')}Z`;
      const line = Buffer.from(`{"ts":"${ts}","stage":"s","durationMs":1,"success":true}\n`); // read up to its newline
      expect(fastParseFlat(line, 0, line.length, out), ts).toBe(true);
      expect(out.ts, ts).toBe(Date.parse(ts));
    }
  });
});

describe('the word-at-a-time matching agrees with the reference', () => {
  const lines = [
    '{"ts":"2026-11-27T09:00:00.123Z","stage":"classify","durationMs":850.4,"success":true,"signalId":"sig_1","llmTokens":450,"llmCost":0.0023,"cacheHit":false,"model":"gpt-4o-mini","error":"timeout"}',
    '{"ts":"2026-11-27T09:00:01.500Z","type":"queue","depth":12}',
    '{"ts":"2026-11-27T09:00:02.000Z","type":"llm","model":"gpt-4o","durationMs":3,"success":false,"cacheHit":true}',
  ];
  const bytesToTry = Buffer.from('az AZ09"\\:,{}.\x00\x7f\xff\t');

  /** The reference for the first `k` bytes, parsed where the rest of the line still follows. */
  function agreeCut(full: Buffer, k: number): void {
    const fast = fastParseRecord(full, 0, k);
    const ref = reference(full.subarray(0, k));
    if (fast !== undefined) {
      expect(typeof ref, `accepted ${JSON.stringify(full.subarray(0, k).toString('latin1'))}`).toBe('object');
      expect(fast).toEqual(ref);
    }
  }

  it('on every one-byte change of lines holding every known key, the timestamp minute cached', () => {
    for (const text of lines) {
      const valid = Buffer.from(text);
      for (let pos = 0; pos < valid.length; pos++) {
        for (const b of bytesToTry) {
          if (b === valid[pos]) continue;
          // A valid line first, so the timestamp's date and minute are the cached ones.
          expect(fastParseRecord(valid, 0, valid.length)).toEqual(reference(valid));
          const line = Buffer.from(valid);
          line[pos] = b;
          agree(line);
        }
      }
    }
  });

  it('on every prefix of a line, read where the rest of the line still follows (the carry buffer)', () => {
    for (const text of lines) {
      const full = Buffer.from(text + '\n' + text);
      for (let k = 0; k <= full.length; k++) agreeCut(full, k);
    }
  });

  it('read open (its end not known), it takes a line only when its newline is within the limit', () => {
    for (const text of lines) {
      for (const sep of ['\n', ' \r\n', '\t\n', ' x\n', '\r']) {
        const full = Buffer.from(text + sep + text + '\n');
        const nl = full.indexOf(10);
        const lineOk = sep.trim() === '' || sep === ' \r\n';
        for (let limit = 0; limit <= full.length; limit++) {
          const r = fastParseRecord(full, 0, limit, true, true);
          if (limit > nl && lineOk && sep !== '\r') {
            expect(r, `${JSON.stringify(sep)} limit ${limit}`).toEqual(reference(full.subarray(0, nl)));
            expect(parsedLineEnd).toBe(nl);
          } else {
            expect(r, `${JSON.stringify(sep)} limit ${limit}`).toBeUndefined();
          }
        }
      }
    }
  });

  it('on lines that end where their memory ends, at every alignment', () => {
    for (const text of lines) {
      for (let shift = 0; shift < 8; shift++) {
        for (const cut of [text.length, text.length - 1, text.length - 5]) {
          const ab = new ArrayBuffer(shift + cut);
          const buf = Buffer.from(ab, shift, cut);
          Buffer.from(text).copy(buf, 0, 0, cut);
          expect(fastParseRecord(buf, 0, cut)).toEqual(cut === text.length ? reference(buf) : undefined);
          expect(typeof reference(buf)).toBe(cut === text.length ? 'object' : 'string');
        }
      }
    }
  });
});

describe('the indexing form allocates nothing per line', () => {
  // V8 keeps a number in a variable unboxed only while it knows its type: a timestamp once taken
  // from a call's result left every line's `ts` boxed, a heap number per line (16 bytes), and
  // absent fields stored as undefined beside numbers boxed two more. Measured by V8's sampling
  // heap profiler over 60,000 lines read three times (the first read lets V8 optimise).
  it('fewer than 2 bytes per line allocated by fastParseFlat over typical lines', async () => {
    const kinds = [
      (t: string, i: number) => `{"ts":"${t}","stage":"preprocess","durationMs":${(i % 500) / 10 + 1},"success":true,"signalId":"sig_${i}"}`,
      (t: string, i: number) => `{"ts":"${t}","stage":"classify","durationMs":${600 + (i % 3000) / 10},"success":${i % 9 !== 0},"signalId":"sig_${i}","llmTokens":${300 + (i % 200)},"llmCost":0.00${1000 + (i % 9000)},"cacheHit":${i % 3 === 0},"model":"gpt-4o-mini"}`,
      (t: string, i: number) => `{"ts":"${t}","type":"queue","depth":${i % 40}}`,
    ];
    const t0 = Date.parse('2026-11-27T09:00:00Z');
    const text = Array.from({ length: 60_000 }, (_, i) => kinds[i % 3]!(new Date(t0 + i * 37).toISOString(), i)).join('\n') + '\n';
    const buf = Buffer.from(text);
    const out = new FlatRecord();
    /** Lines read, up to the first the fast path declines (none should be). */
    const read = () => {
      let n = 0;
      for (let s = 0; s < buf.length && fastParseFlat(buf, s, buf.length, out); n++) s = parsedLineEnd + 1;
      return n;
    };
    read();
    read();
    const session = new Session();
    session.connect();
    const post = (method: string, params?: object) => new Promise<any>((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
    await post('HeapProfiler.enable');
    await post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
    const lines = read();
    const { profile } = await post('HeapProfiler.stopSampling');
    session.disconnect();
    let bytes = 0;
    const walk = (node: { selfSize: number; children: unknown[] }) => {
      bytes += node.selfSize;
      for (const c of node.children) walk(c as typeof node);
    };
    walk(profile.head);
    expect(lines).toBe(60_000);
    expect(bytes / lines).toBeLessThan(2);
  });
});

describe('reports are identical with and without the fast path', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function both(dir: string, until: number, windowMinutes: number) {
    const run = async (fastPath: boolean) => {
      const data = await readWindow({ dirs: [dir], windowMinutes, until, now: () => until, fastPath, withPrevious: true });
      const report = buildReport(data.acc, { windowMinutes, dailyTokenLimit: 1_000_000, generatedAt: until, malformed: data.malformed.toJSON(), files: data.files.length });
      return { report, previous: data.acc.previous!.toJSON() };
    };
    return [await run(true), await run(false)] as const;
  }

  it('on the sample logs', async () => {
    const until = Date.parse('2026-11-26T12:00:00Z');
    const [fast, slow] = await both(join(root, 'fixtures/sample'), until, 90);
    expect(fast.report.records).toBeGreaterThan(1000);
    expect(fast).toEqual(slow);
  });

  it('on a generated log of odd valid lines, invalid lines and garbage', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'perfmon-fast-'));
    dirs.push(dir);
    const rand = rng(99);
    const lines: string[] = [];
    const t0 = Date.parse('2026-11-27T09:00:00Z');
    for (let i = 0; i < 3000; i++) {
      const ts = new Date(t0 + i * 1000).toISOString();
      const pick = rand();
      if (pick < 0.5) lines.push(`{"ts":"${ts}","stage":"s${i % 4}","durationMs":${(rand() * 1000).toFixed(2)},"success":${rand() > 0.1},"llmTokens":${i % 50},"llmCost":${(rand() / 100).toFixed(5)},"cacheHit":${rand() > 0.5}}`);
      else if (pick < 0.6) lines.push(JSON.stringify({ extra: [1, { a: 'é' }], durationMs: rand() * 10, ts, stage: `é${i % 3}` }));
      else if (pick < 0.7) lines.push(`  { "ts" : "${ts}" , "stage":"s1", "durationMs" : ${Math.floor(rand() * 1e4)}e-2 }`);
      else if (pick < 0.75) lines.push(`{"ts":"${ts}","type":"queue","depth":${Math.floor(rand() * 50)}}`);
      else if (pick < 0.8) lines.push(`{"ts":"${ts}","type":"llm","model":"m${i % 2}","durationMs":${(rand() * 2000).toFixed(1)},"llmTokens":${i % 900}}`);
      else if (pick < 0.85) lines.push(`{"ts":${t0 + i * 1000},"stage":"s2","durationMs":${i % 700}}`);
      else if (pick < 0.9) lines.push(ODD_BUT_VALID[i % ODD_BUT_VALID.length]!.replace('2026-11-27T09:00:00.123Z', ts));
      else if (pick < 0.95) lines.push(INVALID[i % INVALID.length]!.replace('2026-11-27T09:00:00.123Z', ts));
      else lines.push(Array.from({ length: Math.floor(rand() * 40) }, () => String.fromCharCode(32 + Math.floor(rand() * 90))).join(''));
    }
    writeFileSync(join(dir, 'mixed.ndjson'), lines.join('\n') + '\n');
    const until = t0 + 3000 * 1000;
    const [fast, slow] = await both(dir, until, 30);
    expect(fast.report.malformed.count).toBeGreaterThan(100);
    expect(fast.report.records).toBeGreaterThan(1000);
    expect(fast).toEqual(slow);
  });
});
