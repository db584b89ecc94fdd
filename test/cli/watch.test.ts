import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRecorder } from '../../src/record/recorder.js';
import { BIN, cleanEnv, ensureBuilt, removeTempDirs, tempDir as makeTempDir } from '../helpers/cli.js';

// `perfmon watch` as a user runs it: the real CLI (bin/perfmon.js → dist/) spawned on a fresh
// temporary directory holding records with current timestamps. Every wait polls the child's
// output with a deadline; every child is killed in afterEach. `npm test` builds first; so does
// beforeAll when dist is missing.

const TEST_MS = 10_000;

const tempDir = () => makeTempDir('perfmon-watch-');
let cwd: string; // an empty directory: no perfmon.config.json is picked up by accident

beforeAll(() => {
  ensureBuilt();
  cwd = tempDir();
});

afterAll(removeTempDirs);

interface Running {
  proc: ChildProcess;
  stdout: string;
  stderr: string;
  /** When each summary heading was first seen (Date.now()). */
  summaryTimes: number[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: boolean;
}

const children: Running[] = [];
const extraPids: number[] = []; // processes started under `script`

afterEach(async () => {
  for (const pid of extraPids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (const c of children.splice(0)) {
    if (!c.exited) c.proc.kill('SIGKILL');
    await c.exit;
  }
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

const SUMMARY = /^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ)\] perfmon — last 5 min \(([\d,]+) records\)$/gm;

function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv = cleanEnv()): Running {
  const proc = spawn(command, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const r: Running = { proc, stdout: '', stderr: '', summaryTimes: [], exited: false, exit: undefined! };
  r.exit = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      r.exited = true;
      resolve({ code, signal });
    });
  });
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    r.stdout += d;
    const n = summaries(r.stdout).length;
    while (r.summaryTimes.length < n) r.summaryTimes.push(Date.now());
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (r.stderr += d));
  children.push(r);
  return r;
}

function watch(...args: string[]): Running {
  return startProcess(process.execPath, [BIN, 'watch', ...args]);
}

/** The record counts of the summary headings, in order. */
function summaries(out: string): number[] {
  return [...out.matchAll(SUMMARY)].map((m) => Number(m[2]!.replace(/,/g, '')));
}

/** Polls `check` until it returns something truthy, or fails after `ms` with what the child printed. */
async function until<T>(what: string, check: () => T | undefined | null | false, r?: Running, ms = 6000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end || r?.exited) {
      throw new Error(`timed out waiting for ${what}${r ? `\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}` : ''}`);
    }
    await new Promise((res) => setTimeout(res, 20));
  }
}

async function exitOf(r: Running, ms = 6000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no exit within ${ms} ms\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`)), ms);
  });
  try {
    return await Promise.race([r.exit, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Appends `total` records with the current time through the library (synchronous writes). */
async function seed(dir: string, durations: number[], meta: { llmTokens?: number } = {}): Promise<void> {
  const rec = createRecorder({ dir, sync: true, retentionHours: 0 });
  for (const d of durations) rec.recordMetric('total', d, meta);
  await rec.close();
  expect(rec.stats().written).toBe(durations.length);
}

/** `perfmon record <stage> <ms> --dir D`: the shell recorder appends one line. */
async function recordCli(dir: string, stage: string, ms: number): Promise<void> {
  const r = startProcess(process.execPath, [BIN, 'record', stage, String(ms), '--dir', dir]);
  const { code } = await exitOf(r);
  expect(code, r.stderr).toBe(0);
}

const servers: Server[] = [];

describe('perfmon watch, piped (non-TTY)', () => {
  it(
    'prints a summary block per interval that counts records appended meanwhile, without ANSI escapes',
    async () => {
      const dir = tempDir();
      await seed(dir, [100, 200, 300]);
      const w = watch('--dir', dir, '--interval', '1s', '--window', '5m');

      await until('two summaries', () => summaries(w.stdout).length >= 2, w);
      expect(summaries(w.stdout).slice(0, 2)).toEqual([3, 3]);

      await recordCli(dir, 'total', 250);
      await recordCli(dir, 'total', 250);
      await until('a summary counting the 2 new records', () => summaries(w.stdout).includes(5), w);

      const counts = summaries(w.stdout);
      expect(counts.every((n) => n === 3 || n === 4 || n === 5)).toBe(true);
      expect(counts).toEqual([...counts].sort((a, b) => a - b)); // never goes back
      const last = w.stdout.slice(w.stdout.lastIndexOf('] perfmon — last 5 min (5 records)'));
      expect(last).toMatch(/throughput [\d.]+\/min \(5 signals\)/);
      expect(last).toContain('stages: total ');

      // Every block starts with its "[time] perfmon — last 5 min" heading; the rest is indented.
      for (const block of w.stdout.split('\n\n').filter((b) => b.trim() !== '')) {
        expect(block).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\] perfmon — last 5 min \(\d+ records\)\n(  .*\n?)+$/);
      }
      expect(w.stdout).not.toContain('\x1b');
      expect(w.stdout).not.toMatch(/^[▲▼◆]/m); // a healthy directory: no transitions
      expect(w.stderr).toBe('');

      w.proc.kill('SIGTERM');
      expect(await exitOf(w)).toEqual({ code: 0, signal: null });
    },
    TEST_MS,
  );

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'on %s: polls once more, prints a final summary and exits 0',
    async (signal) => {
      const dir = tempDir();
      await seed(dir, [100, 200]);
      // A 10-minute interval: the only summaries are the first one and the final one.
      const w = watch('--dir', dir, '--interval', '10m', '--window', '5m');
      await until('the first summary', () => summaries(w.stdout).length >= 1, w);
      expect(summaries(w.stdout)).toEqual([2]);

      await seed(dir, [300]); // appended just before the signal: the final poll reads it
      w.proc.kill(signal);
      expect(await exitOf(w)).toEqual({ code: 0, signal: null });
      expect(summaries(w.stdout)).toEqual([2, 3]);
      expect(w.stdout.endsWith('  issues: none\n')).toBe(true);
      expect(w.stderr).toBe('');
    },
    TEST_MS,
  );
});

describe('perfmon watch --json', () => {
  it(
    'prints one PerformanceReport with its issues per interval, one JSON object per line',
    async () => {
      const dir = tempDir();
      await seed(dir, [100, 200, 300], { llmTokens: 10 });
      const w = watch('--dir', dir, '--json', '--interval', '1s', '--window', '5m');
      await until('three lines', () => w.stdout.split('\n').length > 3, w);
      w.proc.kill('SIGINT');
      expect(await exitOf(w)).toEqual({ code: 0, signal: null });
      expect(w.stderr).toBe('');

      expect(w.stdout.endsWith('\n')).toBe(true);
      const lines = w.stdout.slice(0, -1).split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(4); // three intervals and the final report
      const objects = lines.map((l) => JSON.parse(l) as Record<string, unknown>);

      // The keys of `perfmon report --json`, plus issues.
      const report = startProcess(process.execPath, [BIN, 'report', '--json', '--dir', dir, '--window', '5m']);
      expect((await exitOf(report)).code).toBe(0);
      const reportKeys = Object.keys(JSON.parse(report.stdout) as object);
      expect(reportKeys).toEqual(
        expect.arrayContaining(['generatedAt', 'timeWindowMinutes', 'averageTotalTime', 'errorRate', 'throughput', 'stageBreakdown', 'cacheEfficiency', 'tokenUsage', 'queueMetrics', 'malformed']),
      );
      for (const o of objects) {
        expect(typeof o).toBe('object');
        expect(Object.keys(o).sort()).toEqual([...reportKeys, 'issues'].sort());
        expect(Array.isArray(o.issues)).toBe(true);
        expect(o.issues).toEqual([]);
        expect(o.timeWindowMinutes).toBe(5);
        expect(o.records).toBe(3);
        expect((o.throughput as { totalSignalsProcessed: number }).totalSignalsProcessed).toBe(3);
        expect((o.tokenUsage as { totalTokens: number }).totalTokens).toBe(30);
      }
      // One per interval: a second apart (the last is the final report, at the signal).
      const times = objects.map((o) => Date.parse(o.generatedAt as string));
      for (let i = 1; i < times.length - 1; i++) {
        expect(times[i]! - times[i - 1]!, `gap ${i}`).toBeGreaterThanOrEqual(900);
        expect(times[i]! - times[i - 1]!, `gap ${i}`).toBeLessThan(3000);
      }
    },
    TEST_MS,
  );

  it(
    'keeps stdout pure NDJSON when issues are raised (transitions go to the issues field, not stdout lines)',
    async () => {
      const dir = tempDir(); // empty: staleness
      const w = watch('--dir', dir, '--json', '--interval', '1s', '--window', '5m');
      await until('two lines', () => w.stdout.split('\n').length > 2, w);
      w.proc.kill('SIGTERM');
      expect(await exitOf(w)).toEqual({ code: 0, signal: null });
      const lines = w.stdout.trimEnd().split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(3);
      for (const l of lines) {
        const o = JSON.parse(l) as { records: number; issues: Array<{ category: string; severity: string }> };
        expect(o.records).toBe(0);
        expect(o.issues.map((i) => `${i.severity} ${i.category}`)).toEqual(['warning staleness']);
      }
    },
    TEST_MS,
  );
});

describe('perfmon watch: issue transitions', () => {
  it(
    'announces staleness once when raised (not every tick) and once when cleared by a new record',
    async () => {
      const dir = tempDir();
      const w = watch('--dir', dir, '--interval', '1s', '--window', '5m');
      const raised = () => w.stdout.match(/^▲ raised \[[^\]]+\] WARNING staleness: No records in the last 5 min .*$/gm) ?? [];
      const cleared = () => w.stdout.match(/^▼ cleared \[[^\]]+\] staleness: .*$/gm) ?? [];

      await until('three summaries', () => summaries(w.stdout).length >= 3, w);
      expect(raised()).toHaveLength(1);
      expect(w.stdout.startsWith('▲ raised')).toBe(true); // raised at start, before the first summary
      expect(w.stdout).toMatch(/^ {2}WARNING staleness: No records/m);

      await recordCli(dir, 'total', 250);
      await until('the cleared line', () => cleared().length > 0, w, 5000);
      const seen = summaries(w.stdout).length;
      await until('two more summaries', () => summaries(w.stdout).length >= seen + 2, w);
      expect(raised()).toHaveLength(1);
      expect(cleared()).toHaveLength(1);
      expect(w.stdout.indexOf('▼ cleared')).toBeGreaterThan(w.stdout.indexOf('▲ raised'));
      expect(w.stdout.slice(w.stdout.indexOf('▼ cleared'))).toContain('  issues: none');
      expect(w.stdout).not.toContain('\x1b');

      w.proc.kill('SIGTERM');
      expect(await exitOf(w)).toEqual({ code: 0, signal: null });
    },
    TEST_MS,
  );
});

describe('perfmon watch --webhook', () => {
  it(
    'a failing endpoint (always 500) is retried while the summaries keep their schedule; exit stays clean',
    async () => {
      const hits: Array<{ at: number; contentType: string | undefined; body: string }> = [];
      const server = createServer((req, res) => {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (d: string) => (body += d));
        req.on('end', () => {
          hits.push({ at: Date.now(), contentType: req.headers['content-type'], body });
          res.writeHead(500).end('down');
        });
      });
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

      const dir = tempDir(); // empty: staleness is raised at start and posted
      const w = watch('--dir', dir, '--interval', '1s', '--window', '5m', '--webhook', url);
      await until('a post and its first retry', () => hits.length >= 2, w);
      await until('three summaries', () => w.summaryTimes.length >= 3, w);

      // The retries are the same post.
      expect(hits[0]!.contentType).toBe('application/json');
      const body = JSON.parse(hits[0]!.body) as { text: string; event: string; issue: { category: string } };
      expect(body.event).toBe('raised');
      expect(body.issue.category).toBe('staleness');
      expect(body.text).toContain('staleness');
      expect(hits.every((h) => h.body === hits[0]!.body)).toBe(true);
      // Backoff (1 s base), not a tight loop.
      expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(900);

      // The summaries kept coming on schedule (about a second apart) while the posts failed.
      const t = w.summaryTimes;
      for (let i = 1; i < t.length; i++) expect(t[i]! - t[i - 1]!, `gap ${i}`).toBeLessThan(2500);
      expect(w.stdout).toMatch(/^▲ raised .* staleness/m);

      const before = summaries(w.stdout).length;
      w.proc.kill('SIGTERM');
      // The final summary comes at once; the exit waits (boundedly) for the post under way.
      await until('the final summary', () => summaries(w.stdout).length > before, w, 1500);
      expect(await exitOf(w, 6000)).toEqual({ code: 0, signal: null });
    },
    TEST_MS,
  );
});

describe('perfmon watch: bad arguments', () => {
  it('a missing directory: non-zero exit and one stderr line naming it', async () => {
    const missing = join(tempDir(), 'nonexistent');
    const r = startProcess(process.execPath, [BIN, 'watch', '--dir', missing]);
    const { code } = await exitOf(r);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(r.stdout).toBe('');
    expect(r.stderr.endsWith('\n')).toBe(true);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(missing);
  });

  it('--dir /nonexistent is named too', async () => {
    const r = startProcess(process.execPath, [BIN, 'watch', '--dir', '/nonexistent']);
    expect((await exitOf(r)).code).not.toBe(0);
    expect(r.stderr).toMatch(/^perfmon: .*\/nonexistent.*\n$/);
  });

  it.each([
    [['--interval', 'abc'], /--interval "abc"/],
    [['--window', '0'], /--window "0"/],
    [['--alert-cooldown', 'soon'], /--alert-cooldown "soon"/],
    [['--webhook', 'ftp://example.com/x'], /--webhook "ftp:\/\/example.com\/x"/],
  ])('%j exits 2 with one line naming the flag', async (args, message) => {
    const dir = tempDir();
    const r = startProcess(process.execPath, [BIN, 'watch', '--dir', dir, ...args]);
    expect((await exitOf(r)).code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0 && process.platform === 'linux';

describe.skipIf(!hasScript)('perfmon watch on a terminal (under script(1))', () => {
  /** Runs watch on a pseudo-terminal of 30 rows × 100 columns; returns the script process. */
  function onTerminal(dir: string): Running {
    const cmd = `stty rows 30 cols 100; exec '${process.execPath}' '${BIN}' watch --dir '${dir}' --interval 1s --window 5m`;
    return startProcess('script', ['-qec', cmd, '/dev/null'], { ...cleanEnv(), TERM: 'xterm-256color' });
  }

  /** The perfmon process under `script` (the shell execs it). */
  function perfmonPid(script: Running): number | undefined {
    const pid = script.proc.pid!;
    let kids: string[];
    try {
      kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch {
      return undefined;
    }
    for (const k of kids) {
      const cmdline = (() => {
        try {
          return readFileSync(`/proc/${k}/cmdline`, 'utf8');
        } catch {
          return '';
        }
      })();
      if (cmdline.includes('perfmon.js')) return Number(k);
    }
    return undefined;
  }

  async function drawn(dir: string): Promise<Running> {
    await seed(dir, [100, 200]);
    const s = onTerminal(dir);
    await until('the live screen', () => s.stdout.includes('\x1b[?1049h') && /total\s+2\s+/.test(s.stdout), s);
    return s;
  }

  function checkRestored(s: Running): void {
    const out = s.stdout;
    expect(out).toContain('\x1b[?1049h\x1b[?25l'); // alternate screen, hidden cursor
    expect(out).toContain('\x1b[H\x1b[2J'); // each frame from the top
    expect(out).toContain('\x1b[1m'); // colour on a terminal
    const restore = out.lastIndexOf('\x1b[?1049l');
    expect(restore).toBeGreaterThan(out.lastIndexOf('\x1b[?1049h'));
    expect(out.lastIndexOf('\x1b[?25h')).toBeGreaterThan(out.lastIndexOf('\x1b[?25l'));
    // The final summary is printed on the normal screen, after the restore.
    expect(out.slice(restore)).toMatch(/perfmon — last 5 min.*\(2 records\)/);
    // No summary blocks on the live screen itself.
    expect(out.slice(0, restore)).not.toContain('perfmon — last 5 min');
  }

  it(
    'draws the live screen on the alternate screen and restores the terminal on SIGINT',
    async () => {
      const s = await drawn(tempDir());
      const pid = await until('the perfmon process', () => perfmonPid(s), s, 3000);
      extraPids.push(pid);
      const frame = s.stdout.slice(s.stdout.lastIndexOf('\x1b[H\x1b[2J'));
      expect(frame).toContain(' perfmon watch ');
      expect(frame).toMatch(/[▁▂▃▄▅▆▇█]{5}/);
      process.kill(pid, 'SIGINT');
      expect(await exitOf(s)).toEqual({ code: 0, signal: null });
      checkRestored(s);
    },
    TEST_MS,
  );

  it(
    'quits on "q" the same way',
    async () => {
      const s = await drawn(tempDir());
      const pid = perfmonPid(s);
      if (pid) extraPids.push(pid);
      s.proc.stdin!.write('q');
      expect(await exitOf(s)).toEqual({ code: 0, signal: null });
      checkRestored(s);
    },
    TEST_MS,
  );
});
