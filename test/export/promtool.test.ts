import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The real CLI (bin/perfmon.js → dist/) piped into the real `promtool check metrics`, which must
// accept the output with no finding at all (DESIGN §5). `npm test` builds first; so does beforeAll
// when dist is missing. promtool is required: CI installs it, and a missing one fails loudly.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'perfmon.js');
const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

const temps: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'perfmon-promtool-'));
  temps.push(d);
  return d;
}
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

beforeAll(() => {
  const v = spawnSync(PROMTOOL, ['--version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) {
    throw new Error(
      `promtool is not installed or does not run (${v.error?.message ?? `exit ${v.status}`}): ` +
        `install Debian's prometheus package (apt-get install prometheus), which provides /usr/bin/promtool; CI installs it. ` +
        `These tests are not skipped without it.`,
    );
  }
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
    if (b.status !== 0) throw new Error(`npm run build failed:\n${b.stdout}\n${b.stderr}`);
  }
});

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('PERFMON_') || k === 'FORCE_COLOR' || k === 'NO_COLOR') delete env[k];
  return env;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'], timeout: 20_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.on('error', () => {}); // a child that exits early is reported through its status
    child.stdin.end(input ?? '');
  });
}

/** `perfmon prom ARGS | promtool check metrics`; returns perfmon's stdout after both checks. */
async function promChecked(args: string[]): Promise<string> {
  const p = await run(process.execPath, [BIN, 'prom', ...args]);
  expect(p.stderr, 'perfmon stderr').toBe('');
  expect(p.status, 'perfmon exit status').toBe(0);
  expect(p.stdout.length).toBeGreaterThan(0);
  const c = await run(PROMTOOL, ['check', 'metrics'], p.stdout);
  expect(c.stdout + c.stderr, `promtool findings for perfmon prom ${args.join(' ')}`).toBe('');
  expect(c.status, 'promtool exit status').toBe(0);
  return p.stdout;
}

describe.concurrent('perfmon prom | promtool check metrics', () => {
  it('promtool does report findings on bad input (the check below can fail)', async () => {
    const bad = '# HELP x_milliseconds Time.\n# TYPE x_milliseconds counter\nx_milliseconds 3\n';
    const c = await run(PROMTOOL, ['check', 'metrics'], bad);
    expect(c.status).not.toBe(0);
    expect(c.stdout + c.stderr).not.toBe('');
  });

  it('accepts the sample fixtures with no finding', async () => {
    const out = await promChecked(['--dir', 'fixtures/sample', '--until', 'latest', '--window', '30']);
    expect(out).toMatch(/^perfmon_window_stage_duration_seconds\{stage="total",quantile="0\.95"\} /m);
    expect(out).toMatch(/^perfmon_window_signals [1-9]/m);
  });

  it('accepts --namespace reasoning with no finding', async () => {
    const out = await promChecked(['--dir', 'fixtures/sample', '--until', 'latest', '--window', '30', '--namespace', 'reasoning']);
    expect(out).toMatch(/^reasoning_window_signals [1-9]/m);
    expect(out).not.toMatch(/perfmon_/);
  });

  it('accepts an empty window (no records) with no finding', async () => {
    const empty = tempDir();
    const out = await promChecked(['--dir', empty, '--until', 'latest', '--window', '30']);
    expect(out).toMatch(/^perfmon_window_records 0$/m);
    // And a window with files that has no record in it.
    const before = await promChecked(['--dir', 'fixtures/sample', '--until', '2026-11-25T00:00:00Z', '--window', '30']);
    expect(before).toMatch(/^perfmon_window_records 0$/m);
  });

  it('accepts a log with hostile stage names with no finding', async () => {
    const dir = tempDir();
    const stages = ['double"quote', 'back\\slash', 'new\nline', '}', '{', '=', ',', '"} 1\nfake_metric 2', 'ünïcödé', 'emoji 🚀', 'trailing\\', '\\n', 'tab\there', '__proto__', '#x'];
    const lines: string[] = [];
    let t = Date.UTC(2026, 0, 1, 10, 0, 0);
    for (const stage of stages) {
      for (let i = 0; i < 3; i++) {
        t += 1000;
        lines.push(JSON.stringify({ ts: new Date(t).toISOString(), stage, durationMs: 50 + i, success: i !== 2, cacheHit: i === 0, llmTokens: 7, llmCost: 0.001 }));
      }
    }
    // The busiest stage names the signal stage in a HELP text (no "total" stage here).
    for (let i = 0; i < 5; i++) {
      t += 1000;
      lines.push(JSON.stringify({ ts: new Date(t).toISOString(), stage: 'busy\\"\nfake_metric 1\\', durationMs: 20, success: true }));
    }
    lines.push(JSON.stringify({ ts: new Date(t).toISOString(), type: 'queue', depth: 2 }));
    writeFileSync(join(dir, 'perfmon-20260101-10.ndjson'), lines.join('\n') + '\n');
    const out = await promChecked(['--dir', dir, '--until', 'latest', '--window', '30']);
    expect(out.split('\n').filter((l) => l.startsWith('perfmon_window_stage_errors{'))).toHaveLength(stages.length + 1);
    expect(out.split('\n').some((l) => l.startsWith('fake_metric'))).toBe(false);
  });
});
