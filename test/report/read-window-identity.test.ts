import { appendFileSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { readWindow } from '../../src/report/read-window.js';
import { seen } from '../helpers/window-reference.js';

// src/report/read-window.ts: a cached file whose listing shows it unchanged is not opened.

// Every openSync of the sources goes through here, so the test sees which files a run opens.
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return { ...real, openSync: vi.fn(real.openSync) };
});

const temps: string[] = [];
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

const HOUR = Date.parse('2026-11-27T10:00:00.000Z');

function hourLines(hour: number, n: number, durationMs: number): string {
  let text = '';
  for (let i = 0; i < n; i++) text += JSON.stringify({ ts: new Date(hour + Math.floor((i / n) * 3_600_000)).toISOString(), stage: 'total', durationMs, success: true }) + '\n';
  return text;
}

/** The log files a run opened, by name. */
function opened(dir: string): string[] {
  const calls = (fs.openSync as unknown as { mock: { calls: unknown[][] } }).mock.calls;
  return [...new Set(calls.map((c) => String(c[0])).filter((p) => p.startsWith(dir + '/')).map((p) => p.slice(dir.length + 1)))].sort();
}

describe('readWindow with the cache: which log files a run opens', () => {
  it('opens none of the files its listing shows unchanged; a file written since (even to the same size, its time put back) is opened and read again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'perfmon-identity-'));
    const cacheDir = mkdtempSync(join(tmpdir(), 'perfmon-identity-cache-'));
    temps.push(dir, cacheDir);
    const names = [0, 1, 2].map((h) => `perfmon-20261127-1${h}.ndjson`);
    // Modification times of whole seconds, which utimes can set back exactly.
    const mtime = new Date('2026-11-27T13:00:00Z');
    names.forEach((name, h) => {
      writeFileSync(join(dir, name), hourLines(HOUR + h * 3_600_000, 120, 100));
      utimesSync(join(dir, name), mtime, mtime);
    });
    // A window no boundary of which cuts a minute of these files (a cut minute is re-read).
    const o = { dirs: [dir], windowMinutes: 240, until: HOUR + 3.5 * 3_600_000, cacheDir };
    const run = async () => {
      vi.mocked(fs.openSync).mockClear();
      const data = await readWindow(o);
      return { opened: opened(dir), answer: seen(data.acc) };
    };
    // The first run identifies and indexes every file; the next opens none.
    expect((await run()).opened).toEqual(names);
    const again = await run();
    expect(again.opened).toEqual([]);
    expect(again.answer.window?.records).toBe(360);

    // Appended to: opened (and only its new lines read).
    appendFileSync(join(dir, names[2]!), hourLines(HOUR + 2 * 3_600_000, 10, 100));
    const appended = await run();
    expect(appended.opened).toEqual([names[2]]);
    expect(appended.answer.window?.records).toBe(370);

    // Rewritten in place to the same size, its modification time put back: the status-change
    // time still tells, so it is opened, found different and indexed anew.
    const path = join(dir, names[1]!);
    const before = statSync(path);
    writeFileSync(path, hourLines(HOUR + 3_600_000, 120, 700));
    utimesSync(path, mtime, mtime);
    expect([statSync(path).size, statSync(path).mtimeMs]).toEqual([before.size, before.mtimeMs]);
    const rewritten = await run();
    expect(rewritten.opened).toContain(names[1]);
    const stages = rewritten.answer.window?.stages ?? [];
    expect(stages[0]?.max).toBe(700);
    expect((await run()).opened).toEqual([]);
  });
});
