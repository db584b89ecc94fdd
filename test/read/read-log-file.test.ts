import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readLogFile, recordLineSink } from '../../src/read/read-log-file.js';
import { MalformedLog } from '../../src/read/malformed.js';
import { listLogFiles } from '../../src/read/list-files.js';
import { PerfmonError } from '../../src/errors.js';
import type { MetricRecord } from '../../src/schema.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'perfmon-read-test-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const TS = '2026-11-27T09:00:00.123Z';
const TS_MS = Date.UTC(2026, 10, 27, 9, 0, 0, 123);
const FIVE_MIB = 5 * 1024 * 1024;

/**
 * A log mixing good and bad lines. Returns the bytes, the good records expected (by line number),
 * and the malformed line numbers with a pattern their reason must match.
 */
function mixedLog() {
  const parts: Buffer[] = [];
  const good: Array<{ line: number; check: Partial<MetricRecord> }> = [];
  const bad: Array<{ line: number; reason: RegExp }> = [];
  let n = 0;
  const add = (bytes: Buffer | string) => {
    parts.push(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'utf8'), Buffer.from('\n'));
    return ++n;
  };

  good.push({ line: add(`{"ts":"${TS}","stage":"classify","durationMs":850.4,"success":true,"llmTokens":450}`), check: { type: 'stage', durationMs: 850.4 } });
  bad.push({ line: add('{"ts": oops, "stage": "x"}'), reason: /JSON/ });
  good.push({ line: add(`{"ts":"${TS}","type":"queue","depth":23}`), check: { type: 'queue', depth: 23 } });
  bad.push({ line: add(`{"ts":"${TS}","stage":"classify","durationMs":8`), reason: /JSON/ }); // truncated
  bad.push({
    line: add(Buffer.concat([Buffer.from(`{"ts":"${TS}","stage":"cl`), Buffer.from([0xff, 0xfe]), Buffer.from('ss","durationMs":5}')])),
    reason: /UTF-8/,
  });
  bad.push({ line: add(''), reason: /empty/ });
  good.push({ line: add(`{"ts":${TS_MS},"type":"llm","model":"gpt-4o","durationMs":1830,"llmTokens":900}`), check: { type: 'llm', model: 'gpt-4o' } });
  bad.push({ line: add(`{"ts":"${TS}","stage":"x","durationMs":1,"pad":"${'a'.repeat(FIVE_MIB)}"}`), reason: /long/ });
  bad.push({ line: add(`{"ts":"${TS}","durationMs":1}`), reason: /"stage"/ }); // valid JSON, schema-bad
  good.push({ line: add(`{"ts":"${TS}","stage":"ünïcode ✓","durationMs":0,"success":false}\r`), check: { type: 'stage', stage: 'ünïcode ✓' } });
  // unterminated last line: a writer is mid-write
  parts.push(Buffer.from(`{"ts":"${TS}","stage":"total","durationMs":99}`));

  return { bytes: Buffer.concat(parts), good, bad, completeLines: n };
}

async function readAll(path: string, gzip: boolean) {
  const records: MetricRecord[] = [];
  const malformed = new MalformedLog();
  const lines = await readLogFile(path, recordLineSink(path, (r) => records.push(r), malformed), { gzip, malformed });
  return { records, malformed, lines };
}

function checkMixed(result: Awaited<ReturnType<typeof readAll>>, path: string, log: ReturnType<typeof mixedLog>) {
  const { records, malformed, lines } = result;
  expect(lines).toBe(log.completeLines);
  expect(records).toHaveLength(log.good.length);
  log.good.forEach((g, i) => expect(records[i]).toMatchObject(g.check));
  expect(records.every((r) => r.ts === TS_MS)).toBe(true);
  // the unterminated last line (stage "total") is not delivered
  expect(records.some((r) => r.type === 'stage' && r.stage === 'total')).toBe(false);
  // each bad line counted once, with file and line number; the unterminated line is not counted
  expect(malformed.count).toBe(log.bad.length);
  expect(malformed.first.map((m) => m.line)).toEqual(log.bad.map((b) => b.line));
  for (const [i, b] of log.bad.entries()) {
    expect(malformed.first[i]!.file).toBe(path);
    expect(malformed.first[i]!.reason, `line ${b.line}`).toMatch(b.reason);
  }
  // the 5 MiB line reports its size
  const tooLong = malformed.first.find((m) => /long/.test(m.reason))!;
  expect(tooLong.reason).toContain(String(FIVE_MIB + `{"ts":"${TS}","stage":"x","durationMs":1,"pad":""}`.length));
}

describe('readLogFile', () => {
  it('plain file: delivers good lines, counts each bad one, holds the unterminated last line', async () => {
    const log = mixedLog();
    const path = join(dir, 'perfmon-20261127-09.ndjson');
    writeFileSync(path, log.bytes);
    checkMixed(await readAll(path, false), path, log);
  });

  it('the same content gzipped gives the same result', async () => {
    const log = mixedLog();
    const path = join(dir, 'perfmon-20261127-09.ndjson.gz');
    writeFileSync(path, gzipSync(log.bytes));
    checkMixed(await readAll(path, true), path, log);
  });

  it('a file that is only good lines reports nothing malformed', async () => {
    const path = join(dir, 'ok.ndjson');
    const lines = Array.from({ length: 1000 }, (_, i) => `{"ts":${TS_MS + i},"type":"queue","depth":${i}}`);
    writeFileSync(path, lines.join('\n') + '\n');
    const { records, malformed, lines: n } = await readAll(path, false);
    expect(n).toBe(1000);
    expect(malformed.count).toBe(0);
    expect(records.map((r) => (r.type === 'queue' ? r.depth : -1))).toEqual(lines.map((_, i) => i));
  });

  it('a truncated .gz delivers what it can and reports one "gzip:" entry instead of throwing', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `{"ts":${TS_MS + i},"stage":"s${i % 7}","durationMs":${(i * 37) % 1000}}`);
    const full = gzipSync(Buffer.from(lines.join('\n') + '\n'));
    const path = join(dir, 'perfmon-20261127-09.ndjson.gz');
    writeFileSync(path, full.subarray(0, Math.floor(full.length / 2)));
    const { records, malformed, lines: n } = await readAll(path, true);
    expect(records.length).toBeGreaterThan(0);
    expect(records.length).toBeLessThan(lines.length);
    // what was delivered is exactly a prefix of the original lines, in order
    records.forEach((r, i) => expect(r.ts).toBe(TS_MS + i));
    expect(n).toBe(records.length);
    expect(malformed.count).toBe(1);
    expect(malformed.first[0]!.reason).toMatch(/^gzip:/);
    expect(malformed.first[0]!.file).toBe(path);
    expect(malformed.first[0]!.line).toBe(n + 1);
  });

  it('a .gz file that is not gzip at all reports a "gzip:" entry', async () => {
    const path = join(dir, 'x.ndjson.gz');
    writeFileSync(path, `{"ts":${TS_MS},"type":"queue","depth":1}\n`);
    const { records, malformed } = await readAll(path, true);
    expect(records).toEqual([]);
    expect(malformed.count).toBe(1);
    expect(malformed.first[0]!.reason).toMatch(/^gzip:/);
  });

  it('a missing file yields 0 lines, plain or gzip', async () => {
    for (const gzip of [false, true]) {
      const { records, malformed, lines } = await readAll(join(dir, gzip ? 'gone.ndjson.gz' : 'gone.ndjson'), gzip);
      expect(lines).toBe(0);
      expect(records).toEqual([]);
      expect(malformed.count).toBe(0);
    }
  });

  it('an empty file yields 0 lines', async () => {
    const path = join(dir, 'empty.ndjson');
    writeFileSync(path, '');
    expect((await readAll(path, false)).lines).toBe(0);
  });
});

describe('listLogFiles', () => {
  const H = (h: number) => Date.UTC(2026, 10, 27, h);

  function populate() {
    const names = [
      'perfmon-20261127-05.ndjson', // too old for the range
      'perfmon-20261127-08.ndjson',
      'perfmon-20261127-09.ndjson',
      'perfmon-20261127-09-host-123.jsonl',
      'perfmon-20261127-10.ndjson.gz', // next hour: only within the slack after until
      'perfmon-20261127-13.ndjson', // too new
      'metrics.ndjson.1',
      'x.jsonl.gz',
      'README.md',
      'notes.txt',
      '.hidden.ndjson',
      '.perfmon-20261127-09.ndjson',
    ];
    for (const name of names) writeFileSync(join(dir, name), `{"ts":${H(9)},"type":"queue","depth":1}\n`);
    mkdirSync(join(dir, 'subdir.ndjson')); // a directory with a log-like name is not a file
  }

  it('without a range lists every log file, ignoring README, other names and hidden files', async () => {
    populate();
    const files = await listLogFiles([dir]);
    expect(files.map((f) => f.name).sort()).toEqual(
      [
        'metrics.ndjson.1',
        'perfmon-20261127-05.ndjson',
        'perfmon-20261127-08.ndjson',
        'perfmon-20261127-09-host-123.jsonl',
        'perfmon-20261127-09.ndjson',
        'perfmon-20261127-10.ndjson.gz',
        'perfmon-20261127-13.ndjson',
        'x.jsonl.gz',
      ].sort(),
    );
    const byName = new Map(files.map((f) => [f.name, f]));
    expect(byName.get('x.jsonl.gz')!.gzip).toBe(true);
    expect(byName.get('perfmon-20261127-10.ndjson.gz')!.gzip).toBe(true);
    expect(byName.get('metrics.ndjson.1')!.gzip).toBe(false);
    expect(byName.get('metrics.ndjson.1')!.hourStart).toBeUndefined();
    expect(byName.get('perfmon-20261127-09-host-123.jsonl')!.hourStart).toBe(H(9));
    expect(byName.get('perfmon-20261127-09.ndjson')!.path).toBe(join(dir, 'perfmon-20261127-09.ndjson'));
    expect(byName.get('perfmon-20261127-09.ndjson')!.dir).toBe(dir);
    expect(byName.get('perfmon-20261127-09.ndjson')!.size).toBe(`{"ts":${H(9)},"type":"queue","depth":1}\n`.length);
  });

  it('skips perfmon-named files whose hour cannot hold the range, keeps other names', async () => {
    populate();
    // range (08:30, 09:30]
    const files = await listLogFiles([dir], { from: H(8) + 30 * 60_000, until: H(9) + 30 * 60_000 });
    expect(files.map((f) => f.name)).toEqual([
      // names without an hour first (they may hold anything), then by hour and path
      'metrics.ndjson.1',
      'x.jsonl.gz',
      'perfmon-20261127-08.ndjson',
      'perfmon-20261127-09-host-123.jsonl',
      'perfmon-20261127-09.ndjson',
    ]);
  });

  it('the range bounds are (from, until]: an hour ending exactly at from is skipped', async () => {
    populate();
    const files = await listLogFiles([dir], { from: H(9), until: H(9) + 1 });
    const names = files.map((f) => f.name);
    expect(names).not.toContain('perfmon-20261127-08.ndjson'); // ended at 09:00 = from
    expect(names).toContain('perfmon-20261127-09.ndjson');
    expect(names).not.toContain('perfmon-20261127-10.ndjson.gz');
  });

  it("keeps the next hour's file when until is within minutes of it (records written late)", async () => {
    populate();
    const files = await listLogFiles([dir], { from: H(9), until: H(9) + 55 * 60_000 });
    expect(files.map((f) => f.name)).toContain('perfmon-20261127-10.ndjson.gz');
  });

  it('merges several directories', async () => {
    populate();
    const other = mkdtempSync(join(tmpdir(), 'perfmon-read-test-b-'));
    try {
      writeFileSync(join(other, 'perfmon-20261127-09.ndjson'), '');
      const files = await listLogFiles([dir, other], { from: H(9), until: H(9) + 60_000 });
      const nine = files.filter((f) => f.name === 'perfmon-20261127-09.ndjson').map((f) => f.dir).sort();
      expect(nine).toEqual([dir, other].sort());
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('an empty directory lists nothing', async () => {
    expect(await listLogFiles([dir])).toEqual([]);
  });

  it('a missing directory is a PerfmonError DIR_NOT_FOUND naming the directory', async () => {
    const missing = join(dir, 'does-not-exist');
    const err = await listLogFiles([missing]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PerfmonError);
    expect((err as PerfmonError).code).toBe('DIR_NOT_FOUND');
    expect((err as PerfmonError).message).toContain(missing);
  });

  it('a file given as the directory is a PerfmonError DIR_NOT_DIR naming it', async () => {
    const file = join(dir, 'perfmon-20261127-09.ndjson');
    writeFileSync(file, '');
    const err = await listLogFiles([file]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PerfmonError);
    expect((err as PerfmonError).code).toBe('DIR_NOT_DIR');
    expect((err as PerfmonError).message).toContain(file);
  });
});
