/**
 * `perfmon record` and `perfmon prune` through the real CLI (bin/perfmon.js → dist/), as a shell
 * script or cron job runs them. `npm test` builds first; so does beforeAll when dist is missing.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HOUR_MS, logFileName, perfmonFileHour } from '../../src/record/file-name.js';
import { parseRecord, type StageRecord } from '../../src/schema.js';
import { BIN, ensureBuilt } from '../helpers/cli.js';

let root: string;
let dir: string;

beforeAll(() => {
  ensureBuilt();
});

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'perfmon-cli-'));
  dir = join(root, 'logs');
  mkdirSync(dir);
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in an empty working directory (no perfmon.config.json) without PERFMON_* variables. */
function perfmon(...args: string[]): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { NO_COLOR: '1' };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PERFMON_')) env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`perfmon ${args.join(' ')} did not finish within 10 s; stderr: ${stderr}`));
    }, 10_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** All lines of all files in `d`, each checked to be well-formed. */
function readLines(d = dir): { name: string; line: string; record: StageRecord }[] {
  const out: { name: string; line: string; record: StageRecord }[] = [];
  for (const name of readdirSync(d).sort()) {
    const text = readFileSync(join(d, name), 'utf8');
    expect(text.endsWith('\n'), `${name} ends with a complete line`).toBe(true);
    for (const line of text.slice(0, -1).split('\n')) {
      const parsed = parseRecord(line);
      if (!parsed.ok || parsed.record.type !== 'stage') expect.fail(`not a well-formed stage line in ${name}: ${line}`);
      out.push({ name, line, record: parsed.record });
    }
  }
  return out;
}

describe('perfmon record', () => {
  it('appends one well-formed line with the given fields to the current hour file', async () => {
    const before = Date.now();
    const r = await perfmon('record', 'classify', '850', '--tokens', '450', '--cost', '0.0023', '--cache-hit', '--dir', dir);
    const after = Date.now();
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: '', stderr: '' });

    const lines = readLines();
    expect(lines).toHaveLength(1);
    const { name, line, record } = lines[0]!;
    // Named by the UTC hour of the write (either side of an hour boundary crossed while it ran).
    expect([logFileName(before), logFileName(after)]).toContain(name);
    expect(record).toMatchObject({
      type: 'stage',
      stage: 'classify',
      durationMs: 850,
      success: true,
      llmTokens: 450,
      llmCost: 0.0023,
      cacheHit: true,
      error: undefined,
    });
    expect(record.ts).toBeGreaterThanOrEqual(before);
    expect(record.ts).toBeLessThanOrEqual(after);
    expect(line).toMatch(/^\{"ts":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",/);

    // A second run appends to the same file.
    const r2 = await perfmon('record', 'decide', '12.5', '--cache-miss', '--signal-id', 'sig_1', '--model', 'gpt-4o-mini', '--dir', dir);
    expect(r2.code, r2.stderr).toBe(0);
    const all = readLines();
    expect(all.map((l) => l.record.stage)).toEqual(['classify', 'decide']);
    expect(all[1]!.record).toMatchObject({ durationMs: 12.5, cacheHit: false, signalId: 'sig_1', model: 'gpt-4o-mini', success: true });
  });

  it('--error records a failure', async () => {
    const r = await perfmon('record', 'total', '1200', '--error', 'timeout', '--dir', dir);
    expect(r.code, r.stderr).toBe(0);
    const lines = readLines();
    expect(lines).toHaveLength(1);
    expect(lines[0]!.record).toMatchObject({ stage: 'total', durationMs: 1200, success: false, error: 'timeout' });
  });

  it('takes the directory from $PERFMON_DIR when --dir is absent', async () => {
    const env = { ...process.env, PERFMON_DIR: dir };
    const r = await new Promise<number | null>((resolve) =>
      spawn(process.execPath, [BIN, 'record', 'classify', '1'], { cwd: root, env, stdio: 'ignore' }).once('close', resolve),
    );
    expect(r).toBe(0);
    expect(readLines()).toHaveLength(1);
  });

  for (const bad of ['abc', '-1', '', 'Infinity', 'NaN']) {
    it(`rejects the duration ${JSON.stringify(bad)} with exit 2, one stderr line naming it, and writes nothing`, async () => {
      const missing = join(root, 'not-created');
      const r = await perfmon('record', 'classify', bad, '--dir', missing);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toContain(`"${bad}"`);
      expect(existsSync(missing)).toBe(false);
    });
  }

  for (const [flag, value] of [['--tokens', '-5'], ['--tokens', 'many'], ['--cost', 'abc']] as const) {
    it(`rejects ${flag} ${value} with exit 2 and writes nothing`, async () => {
      const r = await perfmon('record', 'classify', '5', flag, value, '--dir', dir);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(flag);
      expect(r.stderr).toContain(value);
      expect(readdirSync(dir)).toEqual([]);
    });
  }

  it('rejects --cache-hit together with --cache-miss and writes nothing', async () => {
    const r = await perfmon('record', 'classify', '5', '--cache-hit', '--cache-miss', '--dir', dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--cache-hit/);
    expect(r.stderr).toMatch(/--cache-miss/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a directory that cannot be created fails with a message, not a stack trace', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    const r = await perfmon('record', 'classify', '5', '--dir', file);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(file);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(readFileSync(file, 'utf8')).toBe('x');
  });
});

describe('perfmon prune', () => {
  /**
   * Files relative to the real clock. With 24 h retention, the hour 25 h ago ended more than 24 h
   * ago whatever the minute; the hour 23 h ago ends after the cutoff for an hour to come, so the
   * second or two between naming the files and the CLI reading the clock cannot change the answer.
   */
  function populate(): { expired: string[]; kept: string[] } {
    const now = Date.now();
    const name = (hoursAgo: number, suffix = '', ext = 'ndjson'): string =>
      logFileName(now - hoursAgo * HOUR_MS, suffix).replace(/\.ndjson$/, `.${ext}`);
    const expired = [name(25), name(26), name(48), name(24 * 10), name(30, '-build-host-4242'), name(27, '', 'ndjson.gz')];
    const kept = [
      name(0),
      name(1),
      name(23),
      name(0, '-build-host-4242'),
      'notes.ndjson',
      'perfmon-bad-name.txt',
      'perfmon-20000101-00.txt',
      'metrics.ndjson.1',
    ];
    for (const n of [...expired, ...kept]) writeFileSync(join(dir, n), '{"ts":0,"stage":"x","durationMs":1}\n');
    // Sanity of the fixture itself: the expired names are perfmon hours ended over 24 h ago.
    for (const n of expired) expect(perfmonFileHour(n)! + HOUR_MS).toBeLessThanOrEqual(now - 24 * HOUR_MS);
    return { expired: expired.sort(), kept: kept.sort() };
  }

  it('deletes only the expired perfmon files and prints each one', async () => {
    const { expired, kept } = populate();
    const r = await perfmon('prune', '--dir', dir, '--retention-hours', '24');
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(kept);
    const printed = r.stdout.split('\n').filter((l) => l !== '').sort();
    expect(printed).toEqual(expired.map((n) => `deleted ${join(dir, n)}`).sort());

    // Nothing left to prune: says so, deletes nothing.
    const again = await perfmon('prune', '--dir', dir, '--retention-hours', '24');
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain('nothing older than 24 h');
    expect(readdirSync(dir).sort()).toEqual(kept);
  });

  it('--dry-run lists the same files and deletes nothing', async () => {
    const { expired } = populate();
    const before = readdirSync(dir).sort();
    const r = await perfmon('prune', '--dir', dir, '--retention-hours', '24', '--dry-run');
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(before);
    const printed = r.stdout.split('\n').filter((l) => l !== '').sort();
    expect(printed).toEqual(expired.map((n) => `would delete ${join(dir, n)}`).sort());
  });

  it('a longer retention keeps more', async () => {
    const { expired } = populate();
    const r = await perfmon('prune', '--dir', dir, '--retention-hours', '47');
    expect(r.code, r.stderr).toBe(0);
    const left = readdirSync(dir);
    // 48 h and 10 days ago are gone; 25–30 h ago stay.
    expect(expired.filter((n) => !left.includes(n))).toHaveLength(2);
    const cutoff = Date.now() - 47 * HOUR_MS;
    for (const n of expired) expect(left.includes(n), n).toBe(perfmonFileHour(n)! + HOUR_MS > cutoff);
  });

  it('rejects a bad --retention-hours with exit 2 and deletes nothing', async () => {
    populate();
    const before = readdirSync(dir).sort();
    for (const bad of ['-1', 'abc']) {
      const r = await perfmon('prune', '--dir', dir, '--retention-hours', bad);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(bad);
    }
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('a missing directory is an error naming it', async () => {
    const missing = join(root, 'nope');
    const r = await perfmon('prune', '--dir', missing);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(missing);
  });
});
