import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, removeTempDirs, runPerfmon, runProcess, tempDir as makeTempDir } from '../helpers/cli.js';
import { PROMTOOL, requirePromtool } from '../helpers/promtool.js';

// The real CLI (bin/perfmon.js → dist/) piped into the real `promtool check metrics`, which must
// accept the output with no finding at all (DESIGN §5). `npm test` builds first; so does beforeAll
// when dist is missing. promtool is required: CI installs it, and a missing one fails loudly.


const tempDir = () => makeTempDir('perfmon-promtool-');
afterAll(removeTempDirs);

beforeAll(() => {
  requirePromtool();
  ensureBuilt();
});

/** `perfmon prom ARGS | promtool check metrics`; returns perfmon's stdout after both checks. */
async function promChecked(args: string[]): Promise<string> {
  const p = await runPerfmon(['prom', ...args]);
  expect(p.stderr, 'perfmon stderr').toBe('');
  expect(p.status, 'perfmon exit status').toBe(0);
  expect(p.stdout.length).toBeGreaterThan(0);
  const c = await runProcess(PROMTOOL, ['check', 'metrics'], { input: p.stdout });
  expect(c.stdout + c.stderr, `promtool findings for perfmon prom ${args.join(' ')}`).toBe('');
  expect(c.status, 'promtool exit status').toBe(0);
  return p.stdout;
}

describe.concurrent('perfmon prom | promtool check metrics', () => {
  it('promtool does report findings on bad input (the check below can fail)', async () => {
    const bad = '# HELP x_milliseconds Time.\n# TYPE x_milliseconds counter\nx_milliseconds 3\n';
    const c = await runProcess(PROMTOOL, ['check', 'metrics'], { input: bad });
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
