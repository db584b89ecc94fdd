/**
 * The recorder in-process (DESIGN §1, §2, §7), with an injected clock and a temporary directory:
 * line format, batching, rotation, retention, bad arguments and write failures.
 */
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// Every write() the recorder makes passes through this spy (to the real writeSync), so tests can
// check what a single write() held; one test makes it fail part-way.
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  return { ...actual, default: actual, writeSync: vi.fn(actual.writeSync) };
});

import * as fs from 'node:fs';
import { HOUR_MS, logFileName, perfmonFileHour } from '../../src/record/file-name.js';
import { createRecorder, type Recorder, type RecorderOptions } from '../../src/record/recorder.js';
import { pruneExpired } from '../../src/record/retention.js';
import { parseRecord, type LlmRecord, type MetricRecord, type QueueRecord, type StageRecord } from '../../src/schema.js';

const writeSpy = vi.mocked(fs.writeSync);
const realFs = await vi.importActual<typeof import('node:fs')>('node:fs');

/** 2026-11-27T09:15:00.123Z */
const T0 = Date.UTC(2026, 10, 27, 9, 15, 0, 123);

let dir: string;
let clock: number;
let warnings: string[];
const open: Recorder[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(join(tmpdir(), 'perfmon-rec-'));
  clock = T0;
  warnings = [];
  writeSpy.mockClear();
});

afterEach(async () => {
  vi.useRealTimers();
  // Closed recorders leave the process-wide exit hook, which would otherwise flush into a removed dir.
  for (const r of open.splice(0)) await r.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function recorder(o: Partial<RecorderOptions> = {}): Recorder {
  const r = createRecorder({ dir, now: () => clock, onWarning: (m) => warnings.push(m), ...o });
  open.push(r);
  return r;
}

/** The raw text of the file for the hour of `ms` ('' when it does not exist). */
function fileText(ms = clock, suffix = ''): string {
  const path = join(dir, logFileName(ms, suffix));
  return fs.existsSync(path) ? fs.readFileSync(path, 'utf8') : '';
}

/** The records of the file for the hour of `ms`; fails on any malformed or unterminated line. */
function records(ms = clock, suffix = ''): MetricRecord[] {
  const text = fileText(ms, suffix);
  if (text === '') return [];
  expect(text.endsWith('\n'), 'the file ends with a complete line').toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line, i) => {
      const parsed = parseRecord(line);
      if (!parsed.ok) expect.fail(`line ${i + 1} is malformed (${parsed.reason}): ${line}`);
      return parsed.record;
    });
}

function perfmonFiles(): string[] {
  return fs.readdirSync(dir).filter((n) => perfmonFileHour(n) !== undefined).sort();
}

/** The bytes of each write() call the recorder made, in order. */
function writes(): Buffer[] {
  return writeSpy.mock.calls.map((call) => {
    const [, buf, offset, length] = call as unknown as [number, Buffer, number, number];
    return buf.subarray(offset, offset + length);
  });
}

describe('line format', () => {
  it('writes stage records carrying every metadata field', () => {
    const r = recorder({ sync: true });
    r.recordMetric('classify', 850.4, {
      signalId: 'sig_123',
      llmTokens: 450,
      llmCost: 0.0023,
      cacheHit: false,
      model: 'gpt-4o-mini',
      success: true,
    });
    clock += 5;
    r.recordMetric('decide', 0);

    const [first, second] = records() as StageRecord[];
    expect(first).toEqual({
      type: 'stage',
      ts: T0,
      stage: 'classify',
      durationMs: 850.4,
      success: true,
      signalId: 'sig_123',
      llmTokens: 450,
      llmCost: 0.0023,
      cacheHit: false,
      model: 'gpt-4o-mini',
      error: undefined,
    });
    expect(second).toMatchObject({ type: 'stage', ts: T0 + 5, stage: 'decide', durationMs: 0, success: true });
    // ts is ISO-8601 UTC with milliseconds, in the file named for its UTC hour.
    expect(fileText()).toContain('"ts":"2026-11-27T09:15:00.123Z"');
    expect(perfmonFiles()).toEqual(['perfmon-20261127-09.ndjson']);
    expect(r.stats()).toEqual({ written: 2, dropped: 0, failed: 0, buffered: 0 });
  });

  it('writes cacheHit true, success false and error only when given', () => {
    const r = recorder({ sync: true });
    r.recordMetric('extract', 12, { cacheHit: true, success: false, error: 'bad json' });
    const [rec] = records() as StageRecord[];
    expect(rec).toMatchObject({ cacheHit: true, success: false, error: 'bad json', llmTokens: undefined, signalId: undefined });
    expect(fileText()).not.toContain('llmTokens');
  });

  it('recordError sets success false and the error text (string or Error)', () => {
    const r = recorder({ sync: true });
    r.recordError('total', 'timeout', 1200);
    r.recordError('classify', new Error('rate limited'), 30, { signalId: 'sig_9', llmTokens: 10 });
    r.recordError('decide', 'no duration');
    const recs = records() as StageRecord[];
    expect(recs.map((x) => [x.stage, x.durationMs, x.success, x.error])).toEqual([
      ['total', 1200, false, 'timeout'],
      ['classify', 30, false, 'rate limited'],
      ['decide', 0, false, 'no duration'],
    ]);
    expect(recs[1]).toMatchObject({ signalId: 'sig_9', llmTokens: 10 });
  });

  it('writes queue depth and LLM call records', () => {
    const r = recorder({ sync: true });
    r.recordQueueDepth(23);
    r.recordQueueDepth(0);
    r.recordLLMCall({ model: 'gpt-4o', durationMs: 1830, llmTokens: 900, llmCost: 0.009, cacheHit: false });
    r.recordLLMCall({ model: 'gpt-4o', success: false, cacheHit: true });
    const [q1, q2, l1, l2] = records() as [QueueRecord, QueueRecord, LlmRecord, LlmRecord];
    expect(q1).toEqual({ type: 'queue', ts: T0, depth: 23 });
    expect(q2).toEqual({ type: 'queue', ts: T0, depth: 0 });
    expect(l1).toEqual({ type: 'llm', ts: T0, model: 'gpt-4o', durationMs: 1830, llmTokens: 900, llmCost: 0.009, cacheHit: false, success: true });
    expect(l2).toMatchObject({ type: 'llm', model: 'gpt-4o', success: false, cacheHit: true, durationMs: undefined });
  });

  it('escapes quotes, backslashes, newlines, control characters and unicode in every string field', () => {
    const r = recorder({ sync: true });
    const nasty = [
      'say "hi"',
      'back\\slash',
      'two\nlines\r\n',
      'tab\tand\u0000nul\u001f',
      'ünïcødé 日本語 😀',
      'line\u2028sep\u2029',
      'lone \ud800 surrogate',
      '</script>{"ts":1}',
    ];
    for (const s of nasty) {
      r.recordMetric(s, 1, { signalId: s, model: s, error: s, success: false });
      r.recordError(s, new Error(s), 2);
      r.recordLLMCall({ model: s, durationMs: 3 });
    }
    const text = fileText();
    // One line per record: no raw newline inside a record.
    expect(text.split('\n')).toHaveLength(nasty.length * 3 + 1);
    const recs = records();
    expect(recs).toHaveLength(nasty.length * 3);
    nasty.forEach((s, i) => {
      const [stage, error, llm] = recs.slice(i * 3, i * 3 + 3) as [StageRecord, StageRecord, LlmRecord];
      expect(stage).toMatchObject({ stage: s, signalId: s, model: s, error: s, success: false });
      expect(error).toMatchObject({ stage: s, error: s, success: false, durationMs: 2 });
      expect(llm).toMatchObject({ type: 'llm', model: s, durationMs: 3 });
    });
  });

  it('treats null metadata like no metadata instead of throwing', () => {
    const r = recorder({ sync: true });
    expect(() => r.recordMetric('classify', 5, null as never)).not.toThrow();
    expect(records()).toMatchObject([{ stage: 'classify', durationMs: 5, success: true }]);
    expect(r.stats()).toMatchObject({ written: 1, dropped: 0 });
  });
});

describe('batching', () => {
  it('writes nothing before flush() unless the flush interval passes', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    const r = recorder({ flushIntervalMs: 100 });
    for (let i = 0; i < 10; i++) r.recordMetric('classify', i);
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(writeSpy).not.toHaveBeenCalled();
    expect(r.stats()).toEqual({ written: 0, dropped: 0, failed: 0, buffered: 10 });

    vi.advanceTimersByTime(99);
    expect(writeSpy).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    // One write() for the whole batch, once the interval has passed.
    expect(writeSpy).toHaveBeenCalledTimes(1);
    expect(records()).toHaveLength(10);
    expect(r.stats()).toMatchObject({ written: 10, buffered: 0 });

    r.recordQueueDepth(4);
    r.recordLLMCall({ model: 'm' });
    expect(records()).toHaveLength(10);
    r.flush();
    expect(records()).toHaveLength(12);
    expect(writeSpy).toHaveBeenCalledTimes(2);
  });

  it('flushes with real timers within the default interval', async () => {
    const r = recorder();
    r.recordMetric('classify', 1);
    expect(fileText()).toBe('');
    const deadline = Date.now() + 2_000;
    while (r.stats().written === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    expect(records()).toHaveLength(1);
  });

  it('sync: true writes each line immediately, one write() per line', () => {
    const r = recorder({ sync: true });
    r.recordMetric('a', 1);
    expect(records()).toHaveLength(1);
    r.recordQueueDepth(2);
    expect(records()).toHaveLength(2);
    r.recordLLMCall({ model: 'm', durationMs: 3 });
    expect(records()).toHaveLength(3);
    expect(writeSpy).toHaveBeenCalledTimes(3);
    expect(r.stats()).toMatchObject({ written: 3, buffered: 0 });
  });

  it('a full batch is written on the next turn of the event loop, before the interval', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    const r = recorder({ flushIntervalMs: 60_000, maxBatchBytes: 1_000 });
    for (let i = 0; i < 30; i++) r.recordMetric('classify', i, { signalId: `sig_${i}` });
    expect(writeSpy).not.toHaveBeenCalled();
    vi.advanceTimersByTime(0);
    expect(records()).toHaveLength(30);
  });

  it('with a small maxBatchBytes every write() holds whole lines, at most maxBatchBytes', () => {
    const maxBatchBytes = 300;
    const r = recorder({ maxBatchBytes });
    const n = 200;
    for (let i = 0; i < n; i++) {
      // Lines of varying length, some multi-byte, none longer than the batch.
      r.recordMetric('classify', i, { signalId: `sig_${i}_${'é'.repeat(i % 40)}`, llmTokens: i, cacheHit: i % 2 === 0 });
    }
    r.flush();
    const chunks = writes();
    expect(chunks.length).toBeGreaterThan(10);
    let total = 0;
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(maxBatchBytes);
      expect(chunk.at(-1)).toBe(0x0a); // ends at a line end …
      const lines = chunk.toString('utf8').slice(0, -1).split('\n');
      for (const line of lines) expect(parseRecord(line).ok, line).toBe(true); // … and starts at a line start
      total += lines.length;
    }
    expect(total).toBe(n);
    const recs = records() as StageRecord[];
    expect(recs.map((x) => x.durationMs)).toEqual([...Array(n).keys()]);
    expect(r.stats()).toMatchObject({ written: n, failed: 0, buffered: 0 });
  });

  it('a line longer than maxBatchBytes is written alone, whole', () => {
    const r = recorder({ maxBatchBytes: 100 });
    r.recordMetric('a', 1);
    r.recordMetric('b', 2, { error: 'x'.repeat(500) });
    r.recordMetric('c', 3);
    r.flush();
    const chunks = writes().map((b) => b.toString('utf8'));
    expect(chunks).toHaveLength(3);
    expect(chunks[1]).toMatch(/^\{.*"error":"x{500}"\}\n$/);
    expect(records().map((x) => (x as StageRecord).stage)).toEqual(['a', 'b', 'c']);
  });

  it('with the default limits no write() exceeds 64 KiB, even from a loop that never yields', () => {
    const r = recorder();
    const n = 20_000; // ≈ 2.5 MB of lines, recorded without giving the event loop a turn
    for (let i = 0; i < n; i++) {
      r.recordMetric('classify', i, { signalId: `sig_${i}`, llmTokens: 450, llmCost: 0.0023, cacheHit: true, model: 'gpt-4o-mini' });
    }
    // A loop that never yields must not grow the buffer without bound: some lines are already out.
    expect(r.stats().written).toBeGreaterThan(0);
    expect(r.stats().buffered).toBeLessThan(n);
    r.flush();
    for (const chunk of writes()) {
      expect(chunk.length).toBeLessThanOrEqual(64 * 1024);
      expect(chunk.at(-1)).toBe(0x0a);
    }
    expect(records()).toHaveLength(n);
  });
});

describe('rotation', () => {
  it('starts the next hour file when the clock crosses the hour; records land in their hour', () => {
    clock = Date.UTC(2026, 10, 27, 9, 59, 59, 900);
    const r = recorder({ retentionHours: 0 });
    r.recordMetric('before', 1);
    r.flush();
    clock = Date.UTC(2026, 10, 27, 10, 0, 0, 100);
    r.recordMetric('after', 2);
    r.flush();
    clock = Date.UTC(2026, 10, 27, 10, 30);
    r.recordMetric('later', 3);
    r.flush();
    clock = Date.UTC(2026, 10, 28, 0, 0, 0, 0); // day change too
    r.recordMetric('midnight', 4);
    r.flush();

    expect(perfmonFiles()).toEqual(['perfmon-20261127-09.ndjson', 'perfmon-20261127-10.ndjson', 'perfmon-20261128-00.ndjson']);
    const stages = (ms: number): string[] => records(ms).map((x) => (x as StageRecord).stage);
    expect(stages(Date.UTC(2026, 10, 27, 9))).toEqual(['before']);
    expect(stages(Date.UTC(2026, 10, 27, 10))).toEqual(['after', 'later']);
    expect(stages(Date.UTC(2026, 10, 28, 0))).toEqual(['midnight']);
    // Every record's ts lies in the hour its file is named for.
    for (const name of perfmonFiles()) {
      const hour = perfmonFileHour(name)!;
      for (const rec of records(hour)) expect(rec.ts >= hour && rec.ts < hour + HOUR_MS, name).toBe(true);
    }
  });

  it('sync: true rotates too, appending to an existing file of the hour without truncating it', () => {
    const existing = '{"ts":"2026-11-27T10:00:00.000Z","stage":"other-process","durationMs":1}\n';
    fs.writeFileSync(join(dir, 'perfmon-20261127-10.ndjson'), existing);
    clock = Date.UTC(2026, 10, 27, 9, 59, 59, 999);
    const r = recorder({ sync: true, retentionHours: 0 });
    r.recordMetric('a', 1);
    clock += 1;
    r.recordMetric('b', 2);
    expect(records(Date.UTC(2026, 10, 27, 9)).map((x) => (x as StageRecord).stage)).toEqual(['a']);
    expect(fileText(Date.UTC(2026, 10, 27, 10)).startsWith(existing)).toBe(true);
    expect(records(Date.UTC(2026, 10, 27, 10)).map((x) => (x as StageRecord).stage)).toEqual(['other-process', 'b']);
  });

  it('perProcessFiles adds -<host>-<pid> to the file name', () => {
    const r = recorder({ sync: true, perProcessFiles: true });
    r.recordMetric('classify', 1);
    const suffix = `-${hostname().replace(/[^A-Za-z0-9_.-]/g, '_') || 'host'}-${process.pid}`;
    expect(fs.readdirSync(dir)).toEqual([`perfmon-20261127-09${suffix}.ndjson`]);
    expect(records(clock, suffix)).toHaveLength(1);
    // Readers still recognise the hour of a per-process file.
    expect(perfmonFileHour(`perfmon-20261127-09${suffix}.ndjson`)).toBe(Date.UTC(2026, 10, 27, 9));
  });
});

describe('retention', () => {
  /** now = 2026-11-27T12:30Z; with 24 h retention the cutoff is 2026-11-26T12:30Z. */
  const NOW = Date.UTC(2026, 10, 27, 12, 30);
  const hourName = (hoursAgo: number, suffix = '', ext = 'ndjson'): string =>
    logFileName(NOW - hoursAgo * HOUR_MS, suffix).replace(/\.ndjson$/, `.${ext}`);

  // Expired: the hour ended at or before the cutoff.
  const expired = [
    hourName(25), // 2026-11-26 11:00–12:00
    hourName(26),
    hourName(48),
    hourName(24 * 30),
    hourName(25, '-host-123'),
    hourName(30, '', 'jsonl'),
    hourName(31, '', 'ndjson.gz'),
  ].sort();
  const kept = [
    hourName(24), // 2026-11-26 12:00–13:00 ends after the cutoff
    hourName(23),
    hourName(1),
    hourName(0),
    hourName(24, '-host-123'),
  ];
  const others = [
    'notes.ndjson',
    'perfmon-bad-name.txt',
    'perfmon-20200101-00.txt', // old hour, but not a log file name
    'perfmon-20200230-00.ndjson', // no such date
    'metrics.ndjson.1',
    'perfmon-20200101-00.ndjson.bak',
  ];

  function populate(): void {
    for (const name of [...expired, ...kept, ...others]) fs.writeFileSync(join(dir, name), '');
  }

  it('opening the first file deletes exactly the expired perfmon files, nothing else', () => {
    populate();
    clock = NOW;
    const r = recorder({ retentionHours: 24, sync: true });
    r.recordMetric('classify', 1);
    const left = fs.readdirSync(dir).sort();
    expect(left).toEqual([...kept, ...others].sort());
    for (const name of expired) expect(left).not.toContain(name);
    expect(records(NOW)).toHaveLength(1);
    expect(warnings).toEqual([]);
  });

  it('rotating to the next hour deletes the files that expired meanwhile', () => {
    populate();
    clock = NOW;
    const r = recorder({ retentionHours: 24 });
    r.recordMetric('classify', 1);
    r.flush();
    expect(fs.existsSync(join(dir, hourName(24)))).toBe(true);
    // Within the same hour nothing more is pruned, even when a file expires.
    clock = NOW + 29 * 60_000;
    fs.writeFileSync(join(dir, hourName(26)), '');
    r.recordMetric('classify', 2);
    r.flush();
    expect(fs.existsSync(join(dir, hourName(26)))).toBe(true);

    clock = NOW + HOUR_MS; // 13:30: the 11:00–12:00 file of yesterday ends 1.5 h before the cutoff,
    r.recordMetric('classify', 3); // and 12:00–13:00 of yesterday now ends 30 min before it
    r.flush();
    const left = fs.readdirSync(dir);
    expect(left).not.toContain(hourName(24));
    expect(left).not.toContain(hourName(24, '-host-123'));
    expect(left).not.toContain(hourName(26));
    expect(left).toContain(hourName(23));
    for (const name of others) expect(left).toContain(name);
    expect(left).toContain(logFileName(NOW + HOUR_MS));
  });

  it('retentionHours 0 keeps everything', () => {
    populate();
    clock = NOW;
    const r = recorder({ retentionHours: 0, sync: true });
    r.recordMetric('classify', 1);
    expect(kept).toContain(logFileName(NOW));
    expect(fs.readdirSync(dir).sort()).toEqual([...expired, ...kept, ...others].sort());
    expect(records(NOW)).toHaveLength(1);
  });

  it('pruneExpired lists the same files with dryRun, deleting nothing, then deletes them', () => {
    populate();
    const before = fs.readdirSync(dir).sort();
    const listed = pruneExpired(dir, { retentionHours: 24, now: NOW, dryRun: true });
    expect(listed).toEqual(expired.map((n) => join(dir, n)));
    expect(fs.readdirSync(dir).sort()).toEqual(before);

    const removed = pruneExpired(dir, { retentionHours: 24, now: NOW });
    expect(removed).toEqual(listed);
    expect(fs.readdirSync(dir).sort()).toEqual([...kept, ...others].sort());
    expect(pruneExpired(dir, { retentionHours: 24, now: NOW })).toEqual([]);
  });

  it('pruneExpired on a missing directory returns nothing', () => {
    expect(pruneExpired(join(dir, 'missing'), { retentionHours: 24, now: NOW })).toEqual([]);
  });
});

describe('bad arguments', () => {
  it('are dropped and counted without throwing, with exactly one warning', () => {
    const r = recorder({ sync: true });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const bad: Array<() => void> = [
      () => r.recordMetric('classify', -1),
      () => r.recordMetric('classify', NaN),
      () => r.recordMetric('classify', Infinity),
      () => r.recordMetric('classify', -Infinity),
      () => r.recordMetric('classify', '850' as never),
      () => r.recordMetric('', 1),
      () => r.recordMetric(42 as never, 1),
      () => r.recordMetric(undefined as never, 1),
      () => r.recordMetric(circular as never, 1),
      () => r.recordMetric(10n as never, 1),
      () => r.recordMetric('classify', 1, { llmTokens: -5 }),
      () => r.recordMetric('classify', 1, { llmTokens: NaN }),
      () => r.recordMetric('classify', 1, { llmCost: -0.01 }),
      () => r.recordMetric('classify', 1, { cacheHit: 'yes' as never }),
      () => r.recordMetric('classify', 1, { cacheHit: 1 as never }),
      () => r.recordMetric('classify', 1, { success: 'false' as never }),
      () => r.recordMetric('classify', 1, 'metadata' as never),
      () => r.recordError('', 'timeout', 5),
      () => r.recordError('total', 'timeout', -5),
      () => r.recordError('total', Object.create(null) as never, 5),
      () => r.recordQueueDepth(-1),
      () => r.recordQueueDepth(NaN),
      () => r.recordQueueDepth(Infinity),
      () => r.recordQueueDepth('3' as never),
      () => r.recordLLMCall(null as never),
      () => r.recordLLMCall({ model: 'm', durationMs: -3 }),
      () => r.recordLLMCall({ model: 'm', llmTokens: -1 }),
      () => r.recordLLMCall({ model: 'm', cacheHit: 'no' as never }),
    ];
    for (const call of bad) expect(call).not.toThrow();
    // Many more, as from a buggy loop: still one warning.
    for (let i = 0; i < 1000; i++) r.recordMetric('classify', -i - 1);

    expect(r.stats()).toEqual({ written: 0, dropped: bad.length + 1000, failed: 0, buffered: 0 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/dropped a record with bad arguments \(durationMs must be a finite number >= 0, got -1\)/);
    expect(fs.readdirSync(dir)).toEqual([]);

    // Good records after bad ones are written normally, and no further warning appears.
    r.recordMetric('classify', 1);
    r.recordQueueDepth(0);
    expect(records()).toHaveLength(2);
    expect(r.stats()).toMatchObject({ written: 2, dropped: bad.length + 1000 });
    expect(warnings).toHaveLength(1);
  });

  it('records after close() are dropped and counted, not written', async () => {
    const r = recorder({ sync: true });
    r.recordMetric('classify', 1);
    await r.close();
    expect(() => r.recordMetric('classify', 2)).not.toThrow();
    r.recordQueueDepth(3);
    r.recordLLMCall({ model: 'm' });
    expect(r.stats()).toMatchObject({ written: 1, dropped: 3 });
    expect(records()).toHaveLength(1);
    expect(warnings).toHaveLength(1);
  });

  it('close() writes buffered lines', async () => {
    const r = recorder({ flushIntervalMs: 60_000 });
    r.recordMetric('classify', 1);
    r.recordMetric('decide', 2);
    expect(fileText()).toBe('');
    await r.close();
    expect(records()).toHaveLength(2);
  });
});

describe('write failures', () => {
  it('a directory path that is a regular file never throws; lines are counted as failed, one warning', () => {
    const file = join(dir, 'not-a-dir');
    fs.writeFileSync(file, 'keep me');
    for (const target of [file, join(file, 'sub')]) {
      warnings = [];
      const r = recorder({ dir: target });
      for (let i = 0; i < 5; i++) r.recordMetric('classify', i);
      expect(() => r.flush()).not.toThrow();
      expect(r.stats()).toEqual({ written: 0, dropped: 0, failed: 5, buffered: 0 });
      for (let i = 0; i < 3; i++) r.recordMetric('classify', i);
      r.flush();
      expect(r.stats()).toMatchObject({ written: 0, failed: 8 });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`cannot write metrics to ${target}`);
    }
    expect(fs.readFileSync(file, 'utf8')).toBe('keep me');
  });

  it('with sync: true a failing write never throws either', () => {
    const file = join(dir, 'not-a-dir');
    fs.writeFileSync(file, '');
    const r = recorder({ dir: file, sync: true });
    expect(() => {
      r.recordMetric('classify', 1);
      r.recordError('total', 'timeout', 2);
      r.recordQueueDepth(1);
      r.recordLLMCall({ model: 'm' });
    }).not.toThrow();
    expect(r.stats()).toEqual({ written: 0, dropped: 0, failed: 4, buffered: 0 });
    expect(warnings).toHaveLength(1);
  });

  it('a write() failing part-way counts only the lines not written as failed', () => {
    const r = recorder({ maxBatchBytes: 200 });
    const n = 20;
    for (let i = 0; i < n; i++) r.recordMetric('classify', i, { signalId: `sig_${i}` });
    writeSpy.mockImplementationOnce(realFs.writeSync); // the first batch goes through …
    writeSpy.mockImplementationOnce(() => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }); // … the second fails
    expect(() => r.flush()).not.toThrow();
    const { written, failed } = r.stats();
    const onDisk = records().length;
    expect(written).toBeGreaterThan(0);
    expect(written).toBe(onDisk);
    expect(failed).toBe(n - onDisk);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('ENOSPC');

    // Writing works again afterwards.
    r.recordMetric('classify', 99);
    r.flush();
    expect(r.stats()).toMatchObject({ written: onDisk + 1, failed: n - onDisk });
  });
});
