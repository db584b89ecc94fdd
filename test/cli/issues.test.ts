import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, removeTempDirs, ROOT, runPerfmon, tempDir, type Run } from '../helpers/cli.js';

// Spawns the real CLI (bin/perfmon.js → dist/) on fixtures/issues/ (see its README): until
// 2026-11-26T12:00:00Z, window 30 min, default thresholds and dailyTokenLimit. `npm test` builds
// first; so does beforeAll when dist is missing.
//
// Exit codes (DESIGN §4, monitoring-plugin convention): 0 none or info only, 1 warning,
// 2 critical, 3 could not evaluate.

const FIX = join(ROOT, 'fixtures', 'issues');
const UNTIL = '2026-11-26T12:00:00Z';

let cwd: string; // an empty directory: no perfmon.config.json is picked up by accident

beforeAll(() => {
  ensureBuilt();
  cwd = tempDir('perfmon-cli-issues-');
});

afterAll(removeTempDirs);

/** `perfmon ARGS` run in the empty directory. */
const perfmon = (args: string[]): Promise<Run> => runPerfmon(args, { cwd });

/** `perfmon issues` on a fixture with the fixed until and window. */
function issues(fixture: string, ...more: string[]): Promise<Run> {
  return perfmon(['issues', '--dir', join(FIX, fixture), '--until', UNTIL, '--window', '30', ...more]);
}

/** stderr is exactly one line, terminated by a newline. */
function oneLine(text: string): string {
  expect(text.endsWith('\n'), `not newline-terminated: ${JSON.stringify(text)}`).toBe(true);
  const lines = text.slice(0, -1).split('\n');
  expect(lines, `not one line: ${JSON.stringify(text)}`).toHaveLength(1);
  return lines[0]!;
}

const ISSUE_KEYS = ['category', 'currentValue', 'message', 'recommendation', 'severity', 'threshold'];

describe.concurrent('perfmon issues: exit codes', () => {
  it('0 on the healthy fixture; the table says "No issues" and lists the checked figures', async () => {
    const r = await issues('healthy');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/No issues/);
    expect(r.stdout).not.toMatch(/\x1b\[/); // not a terminal: no colour
    // Every rule's figure, with its value: 1650 ms, 0 %, 50 %, 1.6 %, depth 6, 110 records,
    // 0.67 /min, p95 1650 ms.
    for (const label of [
      /average total time: 1,?650(\.0)? ms/,
      /error rate: 0(\.0)? %/,
      /cache hit rate: 50(\.0)? %/,
      /daily token budget: 1\.6 %/,
      /queue depth: 6\b/,
      /records in window: 110\b/,
      /throughput vs previous window: 0\.67/,
      /p95 vs previous window: 1,?6\d\d/,
    ]) {
      expect(r.stdout).toMatch(label);
    }
  });

  it('0 on a fixture with only info issues (throughput)', async () => {
    const r = await issues('throughput');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/info/);
    expect(r.stdout).toMatch(/throughput/);
  });

  it('0 on the other info-only fixture (trend)', async () => {
    expect((await issues('trend')).status).toBe(0);
  });

  it('1 on a warning-only fixture (cache)', async () => {
    const r = await issues('cache');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/warning/);
    expect(r.stdout).not.toMatch(/No issues/);
  });

  it('1 on a warning-only fixture (queue)', async () => {
    expect((await issues('queue')).status).toBe(1);
  });

  it('1 on staleness and on the token warning', async () => {
    const [s, t] = await Promise.all([issues('staleness'), issues('tokens-warning')]);
    expect(s.status).toBe(1);
    expect(t.status).toBe(1);
  });

  it('2 on a critical fixture (latency)', async () => {
    const r = await issues('latency');
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/critical/);
  });

  it('2 on a critical fixture (errors) and on the token critical', async () => {
    const [e, t] = await Promise.all([issues('errors'), issues('tokens-critical')]);
    expect(e.status).toBe(2);
    expect(t.status).toBe(2);
  });

  it('--fail-on critical: the warning fixture exits 0, the critical one still 2', async () => {
    const [w, c] = await Promise.all([issues('cache', '--fail-on', 'critical'), issues('latency', '--fail-on', 'critical')]);
    expect(w.status).toBe(0);
    expect(w.stdout).toMatch(/warning/); // still reported
    expect(c.status).toBe(2);
  });

  it('3 for a missing directory; stderr is one line naming it', async () => {
    const missing = join(cwd, 'no-such-dir');
    const r = await perfmon(['issues', '--dir', missing, '--until', UNTIL, '--window', '30']);
    expect(r.status).toBe(3);
    expect(oneLine(r.stderr)).toContain(missing);
  });

  it('3 for a config file with an unknown key; stderr names the key and the file', async () => {
    const file = join(cwd, 'bad-config.json');
    writeFileSync(file, JSON.stringify({ alertThresholds: { maxErrorRate: 5 }, maxLatencyMs: 3000 }));
    const r = await issues('healthy', '--config', file);
    expect(r.status).toBe(3);
    const line = oneLine(r.stderr);
    expect(line).toContain('maxLatencyMs');
    expect(line).toContain(file);
    expect(r.stdout).toBe('');
  });

  it('3 for an unknown threshold key inside alertThresholds', async () => {
    const file = join(cwd, 'bad-threshold.json');
    writeFileSync(file, JSON.stringify({ alertThresholds: { maxQueue: 5 } }));
    const r = await issues('healthy', '--config', file);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('maxQueue');
    expect(r.stderr).toContain(file);
  });

  it('3 for --window abc', async () => {
    const r = await perfmon(['issues', '--dir', join(FIX, 'healthy'), '--until', UNTIL, '--window', 'abc']);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('abc');
  });

  it('3 for an unknown option', async () => {
    const r = await issues('healthy', '--no-such-option');
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('--no-such-option');
  });

  it('3 for an unknown --fail-on value', async () => {
    expect((await issues('healthy', '--fail-on', 'info')).status).toBe(3);
  });
});

describe.concurrent('perfmon issues --json', () => {
  it('prints a JSON array of the issues with their fields', async () => {
    const r = await issues('latency', '--json');
    expect(r.status).toBe(2);
    const arr = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(Array.isArray(arr)).toBe(true);
    expect(arr).toHaveLength(1);
    const i = arr[0]!;
    for (const k of ISSUE_KEYS) expect(i, `missing ${k}`).toHaveProperty(k);
    // Every signal 20 + 800 + 300 + 6000 + 30 = 7150 ms > 5000.
    expect(i).toMatchObject({ category: 'latency', severity: 'critical', currentValue: 7150, threshold: 5000, stage: 'extract' });
    expect(typeof i.message).toBe('string');
    expect(typeof i.recommendation).toBe('string');
    expect((i.recommendation as string).length).toBeGreaterThan(0);
  });

  it('[] on the healthy fixture (--format json is the same as --json)', async () => {
    const r = await issues('healthy', '--format', 'json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  it('sorts a critical before a warning although its rule runs later', async () => {
    // cache's logs plus tokens-critical's 944 000-token record at 08:15: cache 2 of 20 = 10 %
    // (warning) and 944 000 + 8 000 + 18 × 800 = 966 400 tokens = 96.64 % (critical). The cache
    // rule runs before the tokens rule; the array must still start with the critical.
    const dir = tempDir('perfmon-cli-issues-mix-');
    copyFileSync(join(FIX, 'cache', 'perfmon-20261126-11.ndjson'), join(dir, 'perfmon-20261126-11.ndjson'));
    copyFileSync(join(FIX, 'tokens-critical', 'perfmon-20261126-08.ndjson'), join(dir, 'perfmon-20261126-08.ndjson'));
    const r = await perfmon(['issues', '--dir', dir, '--until', UNTIL, '--window', '30', '--json']);
    expect(r.status).toBe(2);
    const arr = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(arr.map((i) => `${i.severity}:${i.category}`)).toEqual(['critical:tokens', 'warning:cache']);
    expect(arr[0]!.currentValue as number).toBeCloseTo(96.64, 9);
  });

  it('--json with a warning fixture: exit 1 and the cache issue (2 of 20 = 10 % < 30 %)', async () => {
    const r = await issues('cache', '--json');
    expect(r.status).toBe(1);
    const arr = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(arr.map((i) => [i.category, i.severity, i.currentValue, i.threshold])).toEqual([['cache', 'warning', 10, 30]]);
    expect(Object.keys(arr[0]!).sort()).toEqual(ISSUE_KEYS);
  });
});

describe.concurrent('perfmon issues --format nagios', () => {
  /** The one status line, split into text and perfdata. */
  function nagios(stdout: string): { text: string; perf: string } {
    const line = oneLine(stdout);
    const bar = line.indexOf('|');
    expect(bar).toBeGreaterThan(0);
    return { text: line.slice(0, bar), perf: line.slice(bar + 1) };
  }

  it('CRITICAL on latency, with perfdata, exit 2', async () => {
    const r = await issues('latency', '--format', 'nagios');
    expect(r.status).toBe(2);
    const { text, perf } = nagios(r.stdout);
    expect(text.startsWith('PERFMON CRITICAL - ')).toBe(true);
    expect(perf).toContain('latency_ms=7150');
  });

  it('WARNING on cache, exit 1', async () => {
    const r = await issues('cache', '--format', 'nagios');
    expect(r.status).toBe(1);
    const { text, perf } = nagios(r.stdout);
    expect(text.startsWith('PERFMON WARNING - ')).toBe(true);
    expect(perf).toContain('latency_ms=1650');
  });

  it('OK on healthy, exit 0', async () => {
    const r = await issues('healthy', '--format', 'nagios');
    expect(r.status).toBe(0);
    const { text, perf } = nagios(r.stdout);
    expect(text.startsWith('PERFMON OK - ')).toBe(true);
    expect(perf).toContain('latency_ms=');
  });

  it('UNKNOWN for a missing directory, exit 3', async () => {
    const missing = join(cwd, 'gone');
    const r = await perfmon(['issues', '--dir', missing, '--until', UNTIL, '--window', '30', '--format', 'nagios']);
    expect(r.status).toBe(3);
    const line = oneLine(r.stdout);
    expect(line.startsWith('PERFMON UNKNOWN - ')).toBe(true);
    expect(line).toContain(missing);
  });
});
