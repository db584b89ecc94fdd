import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { latestTimestamp, readWindow } from '../../src/report/read-window.js';
import { buildReport } from '../../src/report/build-report.js';

// `--until latest` without the cache: the files the window ending at the newest record needs,
// found from the ends of the newest files instead of by reading every file first.

const at = (iso: string): number => Date.parse(iso);
const NOW = at('2026-11-28T12:00:00.000Z');
const temps: string[] = [];
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

/** A directory of perfmon hour files, each given as its records' times (one `total` line each). */
function logDir(files: Record<string, string[]>): string {
  const dir = mkdtempSync(join(tmpdir(), 'perfmon-latest-'));
  temps.push(dir);
  for (const [name, times] of Object.entries(files)) {
    writeFileSync(join(dir, name), times.map((t, i) => JSON.stringify({ ts: t, stage: 'total', durationMs: 100 + i, success: true, llmTokens: 10 }) + '\n').join(''));
  }
  return dir;
}

/** Times from `from` every `stepMs` up to (not including) `to`. */
function times(from: string, to: string, stepMs: number): string[] {
  const out: string[] = [];
  for (let t = at(from); t < at(to); t += stepMs) out.push(new Date(t).toISOString());
  return out;
}

const size = (dir: string, name: string) => statSync(join(dir, name)).size;

async function read(dir: string, until: 'latest' | number, windowMinutes = 30) {
  return readWindow({ dirs: [dir], windowMinutes, until, now: () => NOW });
}
const report = (d: Awaited<ReturnType<typeof read>>) => {
  const r = buildReport(d.acc, { windowMinutes: 30, dailyTokenLimit: 1_000_000, generatedAt: d.generatedAt, malformed: d.malformed.toJSON(), files: d.files.length });
  return JSON.stringify(r);
};

describe('readWindow until latest, without the cache', () => {
  it('reads only the files the window ending at the newest record needs, and answers as that fixed end does', async () => {
    const dir = logDir({
      'perfmon-20261126-21.ndjson': times('2026-11-26T21:00:00.000Z', '2026-11-26T22:00:00.000Z', 5000),
      'perfmon-20261126-22.ndjson': times('2026-11-26T22:00:00.000Z', '2026-11-26T23:00:00.000Z', 5000),
      'perfmon-20261126-23.ndjson': times('2026-11-26T23:00:00.000Z', '2026-11-27T00:00:00.000Z', 5000),
      'perfmon-20261127-00.ndjson': times('2026-11-27T00:00:00.000Z', '2026-11-27T00:20:00.000Z', 5000),
    });
    const latest = await read(dir, 'latest');
    const newest = at('2026-11-27T00:19:55.000Z');
    expect(latest.acc.bounds.until).toBe(newest);
    // The window (23:49:55, 00:19:55] and the day from 00:00: the 23 and 00 files only.
    expect(latest.bytesRead).toBe(size(dir, 'perfmon-20261126-23.ndjson') + size(dir, 'perfmon-20261127-00.ndjson'));
    const fixed = await read(dir, newest);
    expect(report(latest)).toBe(report(fixed));
    expect(await latestTimestamp([dir], 0)).toBe(newest);
  });

  it('finds a newer record in an earlier hour file, within the slack past its hour', async () => {
    // The 00 file's end says 00:03; the 23 file was still written (a stalled writer) up to 00:06.
    const dir = logDir({
      'perfmon-20261126-22.ndjson': times('2026-11-26T22:00:00.000Z', '2026-11-26T23:00:00.000Z', 60_000),
      'perfmon-20261126-23.ndjson': [...times('2026-11-26T23:00:00.000Z', '2026-11-27T00:00:00.000Z', 60_000), '2026-11-27T00:06:00.000Z'],
      'perfmon-20261127-00.ndjson': times('2026-11-27T00:00:00.000Z', '2026-11-27T00:04:00.000Z', 60_000),
    });
    const latest = await read(dir, 'latest');
    expect(latest.acc.bounds.until).toBe(at('2026-11-27T00:06:00.000Z'));
    expect(await latestTimestamp([dir], 0)).toBe(at('2026-11-27T00:06:00.000Z'));
  });

  it('looks at the hour before when the newest file ends in no record', async () => {
    const dir = logDir({
      'perfmon-20261126-22.ndjson': times('2026-11-26T22:00:00.000Z', '2026-11-26T23:00:00.000Z', 60_000),
      'perfmon-20261126-23.ndjson': times('2026-11-26T23:00:00.000Z', '2026-11-27T00:00:00.000Z', 60_000),
    });
    writeFileSync(join(dir, 'perfmon-20261127-00.ndjson'), ''); // just rotated
    const latest = await read(dir, 'latest');
    expect(latest.acc.bounds.until).toBe(at('2026-11-26T23:59:00.000Z'));
    // The window (23:29, 23:59] and the day of 11-26: both files of that day, and the empty one.
    expect(latest.bytesRead).toBe(size(dir, 'perfmon-20261126-22.ndjson') + size(dir, 'perfmon-20261126-23.ndjson'));

    // A newest file of malformed lines only: the hour before gives the end, and the file's lines
    // count as malformed (its hour may hold records of the window, FILE_HOUR_SLACK_MS before it),
    // as a run with the cache, which reads every file, counts them.
    writeFileSync(join(dir, 'perfmon-20261127-00.ndjson'), 'not json\n'.repeat(100));
    const junk = await read(dir, 'latest');
    expect(junk.acc.bounds.until).toBe(at('2026-11-26T23:59:00.000Z'));
    expect(junk.malformed.count).toBe(100);
    const cacheDir = mkdtempSync(join(tmpdir(), 'perfmon-latest-cache-'));
    temps.push(cacheDir);
    const cached = await readWindow({ dirs: [dir], windowMinutes: 30, until: 'latest', now: () => NOW, cacheDir });
    expect(report(junk)).toBe(report(cached));
  });

  it('reads every file when no file end holds a record', async () => {
    // Records, then more than the peek of malformed lines: the newest record is 64 KiB from the end.
    const dir = logDir({ 'perfmon-20261126-22.ndjson': times('2026-11-26T22:00:00.000Z', '2026-11-26T22:10:00.000Z', 60_000) });
    writeFileSync(join(dir, 'perfmon-20261126-22.ndjson'), 'not json\n'.repeat(10_000), { flag: 'a' });
    writeFileSync(join(dir, 'perfmon-20261126-21.ndjson'), JSON.stringify({ ts: '2026-11-26T21:30:00.000Z', stage: 'total', durationMs: 5, success: true }) + '\n');
    const latest = await read(dir, 'latest');
    expect(latest.acc.bounds.until).toBe(at('2026-11-26T22:09:00.000Z'));
    expect(latest.malformed.count).toBe(10_000);
    expect(latest.bytesRead).toBe(size(dir, 'perfmon-20261126-22.ndjson') + size(dir, 'perfmon-20261126-21.ndjson'));
  });
});
