import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt, removeTempDirs, ROOT, runPerfmon, runProcess, tempDir as makeTempDir, type Run } from '../helpers/cli.js';

// Spawns the real CLI (bin/perfmon.js → dist/). `npm test` builds first; so does beforeAll when dist is missing.

const BASIC = 'fixtures/report/basic';
const UNTIL = '2026-11-27T10:30:00.000Z';
const ANSI = /\x1b\[/;

beforeAll(() => {
  ensureBuilt();
});

const tempDir = () => makeTempDir('perfmon-cli-report-');
afterAll(removeTempDirs);

/** stderr is exactly one line, terminated by a newline. */
function oneLine(stderr: string): string {
  expect(stderr.endsWith('\n'), `stderr does not end with a newline: ${JSON.stringify(stderr)}`).toBe(true);
  const lines = stderr.slice(0, -1).split('\n');
  expect(lines, `stderr is not one line: ${JSON.stringify(stderr)}`).toHaveLength(1);
  return lines[0]!;
}

describe.concurrent('perfmon report --json', () => {
  it('prints a PerformanceReport with the hand-computed figures of the basic fixture', async () => {
    const r = await runPerfmon(['report', '--json', '--until', UNTIL, '--window', '30', '--dir', BASIC]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rep = JSON.parse(r.stdout);
    for (const k of ['generatedAt', 'timeWindowMinutes', 'stageBreakdown', 'throughput', 'cacheEfficiency', 'tokenUsage', 'queueMetrics', 'malformed']) {
      expect(rep, `missing key ${k}`).toHaveProperty(k);
    }
    expect(Number.isNaN(Date.parse(rep.generatedAt))).toBe(false);
    expect(rep.timeWindowMinutes).toBe(30);
    expect(rep.window).toEqual({ from: '2026-11-27T10:00:00.000Z', until: UNTIL });
    // See fixtures/report/README.md: preprocess 10, classify 7, total 20 in (10:00, 10:30].
    expect(Object.keys(rep.stageBreakdown).sort()).toEqual(['classify', 'preprocess', 'total']);
    expect(rep.stageBreakdown.preprocess.count).toBe(10);
    expect(rep.stageBreakdown.classify.count).toBe(7);
    expect(rep.stageBreakdown.total.count).toBe(20);
    expect(rep.stageBreakdown.total.maxDuration).toBe(2000);
    expect(rep.throughput.totalSignalsProcessed).toBe(20);
    expect(rep.throughput.signalsPerHour).toBeCloseTo(40, 9);
    expect(rep.cacheEfficiency).toEqual({ totalRequests: 8, cacheHits: 3, cacheMisses: 5, hitRate: 37.5 });
    // Default daily limit 1,000,000: 11,000 tokens today → 1.1 %.
    expect(rep.tokenUsage.dailyTokens).toBe(11_000);
    expect(rep.tokenUsage.dailyLimit).toBe(1_000_000);
    expect(rep.tokenUsage.percentOfLimit).toBeCloseTo(1.1, 9);
    expect(rep.queueMetrics.currentDepth).toBe(3);
    expect(rep.queueMetrics.maxDepth).toBe(12);
    expect(rep.malformed.count).toBe(1);
    expect(rep.malformed.first[0]).toMatchObject({ file: `${BASIC}/perfmon-20261127-09.ndjson`, line: 3 });
  });

  it('the installed command reads with worker threads: --threads 2 prints what one thread prints', async () => {
    const args = ['report', '--json', '--until', 'latest', '--window', '1d', '--dir', 'fixtures/sample', '--no-cache'];
    const [one, two] = await Promise.all([runPerfmon([...args, '--threads', '1']), runPerfmon([...args, '--threads', '2'])]);
    expect(two.stderr).toBe('');
    expect(two.status).toBe(0);
    const strip = (out: string) => ({ ...JSON.parse(out), generatedAt: undefined });
    expect(strip(two.stdout)).toEqual(strip(one.stdout));
    expect(strip(two.stdout).throughput.totalSignalsProcessed).toBeGreaterThan(0);
  });

  it('--window takes a bare number of minutes or a duration: 30 = 30m = 0.5h', async () => {
    const norm = (out: string) => ({ ...JSON.parse(out), generatedAt: '' });
    const win = (w: string) => runPerfmon(['report', '--json', '--until', UNTIL, '--window', w, '--dir', BASIC]);
    const [a, b, c] = await Promise.all([win('30'), win('30m'), win('0.5h')]);
    expect([a.status, b.status, c.status]).toEqual([0, 0, 0]);
    expect(norm(b.stdout)).toEqual(norm(a.stdout));
    expect(norm(c.stdout)).toEqual(norm(a.stdout));
  });

  it('--stage limits the breakdown only', async () => {
    const r = await runPerfmon(['report', '--json', '--until', UNTIL, '--window', '30', '--dir', BASIC, '--stage', 'classify']);
    expect(r.status).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(Object.keys(rep.stageBreakdown)).toEqual(['classify']);
    expect(rep.throughput.totalSignalsProcessed).toBe(20);
  });

  it('--dir repeats to merge directories', async () => {
    const r = await runPerfmon(['report', '--json', '--until', UNTIL, '--window', '30', '--dir', 'fixtures/report/two-dirs/a', '--dir', 'fixtures/report/two-dirs/b']);
    expect(r.status).toBe(0);
    const rep = JSON.parse(r.stdout);
    // a: totals 100, 300; b: totals 200, 400 (README).
    expect(rep.throughput.totalSignalsProcessed).toBe(4);
    expect(rep.stageBreakdown.total.totalDuration).toBe(1000);
    expect(rep.files).toBe(2);
  });
});

describe.concurrent('perfmon report (table view)', () => {
  const args = ['report', '--until', UNTIL, '--window', '30', '--dir', BASIC];

  it('on a pipe: no ANSI codes, every stage row and the headline labels', async () => {
    const r = await runPerfmon(args);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(ANSI);
    // Stage rows with their counts (10 preprocess, 7 classify, 20 total).
    expect(r.stdout).toMatch(/^│ preprocess +│ +10 │/m);
    expect(r.stdout).toMatch(/^│ classify +│ +7 │/m);
    expect(r.stdout).toMatch(/^│ total +│ +20 │/m);
    for (const label of ['Signals', 'Throughput', 'Avg total time', 'Error rate', 'Cache hit rate', 'Tokens (window)', 'Tokens (today)', 'Queue depth']) {
      expect(r.stdout, `headline "${label}"`).toMatch(new RegExp(`^${label.replace(/[()]/g, '\\$&')} `, 'm'));
    }
    expect(r.stdout).toMatch(/^Signals +20$/m);
    expect(r.stdout).toMatch(/^Error rate +15\.0 % \(3 failed\)$/m);
    expect(r.stdout).toMatch(/^Cache hit rate +37\.5 % \(3 hits \/ 8 requests\)$/m);
    expect(r.stdout).toContain('1 malformed line');
    expect(r.stdout).toContain(`${BASIC}/perfmon-20261127-09.ndjson:3`);
  });

  it('FORCE_COLOR=1 colours a pipe; NO_COLOR=1 alone does not', async () => {
    const [forced, noColor] = await Promise.all([runPerfmon(args, { env: { FORCE_COLOR: '1' } }), runPerfmon(args, { env: { NO_COLOR: '1' } })]);
    expect(forced.status).toBe(0);
    expect(forced.stdout).toMatch(ANSI);
    expect(noColor.status).toBe(0);
    expect(noColor.stdout).not.toMatch(ANSI);
    expect(noColor.stdout).toMatch(/^│ total +│ +20 │/m);
  });

  const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!hasScript)('on a terminal: colour by default, none with NO_COLOR=1 (via util-linux script for a pty)', async () => {
    const cmd = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
    const onTty = (env: Record<string, string>) => runProcess('script', ['-qec', cmd, '/dev/null'], { env: { TERM: 'xterm', ...env } });
    const [tty, noColor] = await Promise.all([onTty({}), onTty({ NO_COLOR: '1' })]);
    expect(tty.status).toBe(0);
    expect(tty.stdout).toContain('Signals');
    expect(tty.stdout).toMatch(ANSI);
    expect(noColor.status).toBe(0);
    expect(noColor.stdout).toContain('Signals');
    expect(noColor.stdout).not.toMatch(ANSI);
  });

  it('a pipeline without "total" says which stage stands in', async () => {
    const r = await runPerfmon(['report', '--until', '2026-11-27T12:00:00Z', '--window', '60', '--dir', 'fixtures/report/no-total']);
    expect(r.status).toBe(0);
    const signals = r.stdout.split('\n').find((l) => l.startsWith('Signals'));
    expect(signals).toBeDefined();
    // 5 classify records stand in for the missing total stage.
    expect(signals).toMatch(/\b5\b/);
    expect(signals).toContain('"total"');
    expect(signals).toContain('"classify"');
  });

  it('an empty window says so instead of printing NaN', async () => {
    const r = await runPerfmon(['report', '--until', '2026-11-20T00:00:00Z', '--window', '30', '--dir', BASIC]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Signals +0/m);
    expect(r.stdout).not.toMatch(/NaN|undefined|Infinity/);
  });
});

describe.concurrent('perfmon report errors', () => {
  it('a missing directory: non-zero exit, one line on stderr naming it', async () => {
    const missing = join(tempDir(), 'no-such-dir');
    const r = await runPerfmon(['report', '--dir', missing]);
    expect(r.status).not.toBe(0);
    expect(r.status).not.toBeNull();
    expect(oneLine(r.stderr)).toContain(missing);
    expect(r.stdout).toBe('');
  });

  it('an unreadable log file: exit 1, one line on stderr naming it (never skipped silently)', async (ctx) => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const file = join(dir, 'perfmon-20261127-10.ndjson');
    writeFileSync(file, '{"ts":"2026-11-27T10:00:00.000Z","stage":"total","durationMs":1}\n', { mode: 0o600 });
    writeFileSync(join(dir, 'perfmon-20261127-11.ndjson'), '{"ts":"2026-11-27T11:00:00.000Z","stage":"total","durationMs":1}\n', { mode: 0o644 });
    // A fixed end: with the default (now) the day's window has moved past these files since.
    const UNTIL = '2026-11-27T12:00:00Z';
    let r: Run;
    if (process.getuid?.() === 0) {
      // root reads through any mode: run as nobody (65534), for whom a root-owned 0600 file is closed.
      if (spawnSync('setpriv', ['--version'], { encoding: 'utf8' }).status !== 0) {
        ctx.skip('running as root and setpriv (util-linux) is missing: cannot make a file unreadable');
        return;
      }
      r = await runProcess('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, 'report', '--dir', dir, '--until', UNTIL, '--no-cache'], { cwd: dir });
    } else {
      chmodSync(file, 0o000);
      try {
        r = await runPerfmon(['report', '--dir', dir, '--until', UNTIL, '--no-cache'], { cwd: dir });
      } finally {
        chmodSync(file, 0o600);
      }
    }
    expect(r.status).toBe(1);
    expect(oneLine(r.stderr)).toBe(`perfmon: log file not readable: ${file} (check its permissions)`);
    expect(r.stdout).toBe('');
  });

  it('an unreadable directory: non-zero exit, one line on stderr naming it', async (ctx) => {
    const parent = tempDir();
    chmodSync(parent, 0o755);
    const locked = join(parent, 'locked');
    mkdirSync(locked, { mode: 0o700 });
    writeFileSync(join(locked, 'perfmon-20261127-10.ndjson'), '{"ts":"2026-11-27T10:00:00.000Z","stage":"total","durationMs":1}\n');
    let r: Run;
    if (process.getuid?.() === 0) {
      // root reads through mode 000: drop to nobody (65534), for whom a root-owned 0700 directory is closed.
      if (spawnSync('setpriv', ['--version'], { encoding: 'utf8' }).status !== 0) {
        ctx.skip('running as root and setpriv (util-linux) is missing: cannot make a directory unreadable');
        return;
      }
      const asNobody = (args: string[]) =>
        runProcess('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, ...args], { cwd: parent });
      // uid 65534 must be able to run the CLI at all (bin/, dist/, node_modules readable), or this proves nothing.
      const version = await asNobody(['--version']);
      expect(version.status, `uid 65534 cannot run ${BIN}: ${version.stderr}`).toBe(0);
      r = await asNobody(['report', '--dir', locked]);
    } else {
      chmodSync(locked, 0o000);
      try {
        r = await runPerfmon(['report', '--dir', locked], { cwd: parent });
      } finally {
        chmodSync(locked, 0o700); // or the temp directory cannot be removed afterwards
      }
    }
    expect(r.status).not.toBe(0);
    expect(r.status).not.toBeNull();
    const line = oneLine(r.stderr);
    expect(line).toContain(locked);
    expect(line).toMatch(/not readable|permission/i);
    expect(r.stdout).toBe('');
  });

  it('--window abc: exit 2, one line naming "abc"', async () => {
    const r = await runPerfmon(['report', '--window', 'abc', '--dir', BASIC]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toContain('abc');
    expect(r.stdout).toBe('');
  });

  it('--strict on a log with a malformed line: exit 1 naming file:line', async () => {
    const r = await runPerfmon(['report', '--strict', '--until', UNTIL, '--window', '30', '--dir', BASIC]);
    expect(r.status).toBe(1);
    expect(oneLine(r.stderr)).toContain(`${BASIC}/perfmon-20261127-09.ndjson:3`);
    expect(r.stdout).toBe('');
    // Without --strict the same log reports fine.
    expect((await runPerfmon(['report', '--until', UNTIL, '--window', '30', '--dir', BASIC])).status).toBe(0);
  });

  it('--strict on a clean log succeeds', async () => {
    const r = await runPerfmon(['report', '--strict', '--json', '--until', '2026-11-27T11:00:00Z', '--window', '30', '--dir', 'fixtures/report/split']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).malformed.count).toBe(0);
  });
});

describe.concurrent('perfmon report on the shipped sample', () => {
  /** Independent scan of fixtures/sample: newest ts and the lines that are not JSON. */
  function scanSample() {
    const dir = join(ROOT, 'fixtures', 'sample');
    let newest = -Infinity;
    const broken: string[] = [];
    for (const name of readdirSync(dir).sort()) {
      const lines = readFileSync(join(dir, name), 'utf8').split('\n');
      lines.pop(); // '' after the final newline, or an unterminated line: not a record either way
      lines.forEach((line, i) => {
        let o: { ts?: unknown };
        try {
          o = JSON.parse(line);
        } catch {
          broken.push(`fixtures/sample/${name}:${i + 1}`);
          return;
        }
        const ts = typeof o.ts === 'number' ? o.ts : Date.parse(String(o.ts));
        if (ts > newest) newest = ts;
      });
    }
    return { newest, broken };
  }

  it('--until latest ends the window at the newest record', async () => {
    const { newest } = scanSample();
    const r = await runPerfmon(['report', '--json', '--dir', 'fixtures/sample', '--until', 'latest', '--window', '60']);
    expect(r.status).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.window.until).toBe(new Date(newest).toISOString());
    expect(rep.window.from).toBe(new Date(newest - 3_600_000).toISOString());
    expect(rep.records).toBeGreaterThan(0);
    expect(rep.throughput.totalSignalsProcessed).toBeGreaterThan(0);
  });

  it('`npm start` prints the sample report, including its 1 malformed line', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const start = pkg.scripts.start ?? '';
    expect(start).toBe('node bin/perfmon.js report --dir fixtures/sample --until latest');
    const args = start.split(' ').slice(2); // after "node bin/perfmon.js"
    const r = await runPerfmon(args);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const { broken } = scanSample();
    expect(broken).toHaveLength(1);
    expect(r.stdout).toContain('1 malformed line');
    expect(r.stdout).toContain(broken[0]!);
    for (const stage of ['preprocess', 'classify', 'decide', 'extract', 'total']) expect(r.stdout).toMatch(new RegExp(`^│ ${stage} +│`, 'm'));
    expect(r.stdout).not.toMatch(ANSI);
    expect(r.stdout).not.toMatch(/NaN|undefined/);
  });
});
