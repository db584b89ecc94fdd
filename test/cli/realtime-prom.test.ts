import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, removeTempDirs, ROOT, runPerfmon, tempDir, type Run } from '../helpers/cli.js';

// Spawns the real CLI (bin/perfmon.js → dist/). `npm test` builds first; so does beforeAll when dist is missing.

const SAMPLE = join(ROOT, 'fixtures', 'sample');

beforeAll(() => {
  ensureBuilt();
});

afterAll(removeTempDirs);

/** The fixture records, parsed here without perfmon's code: well-formed JSON objects with a valid ts. */
function readFixture(): Array<Record<string, unknown> & { ts: number }> {
  const out: Array<Record<string, unknown> & { ts: number }> = [];
  for (const f of readdirSync(SAMPLE).filter((n) => /\.ndjson$/.test(n))) {
    for (const line of readFileSync(join(SAMPLE, f), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      let o: unknown;
      try {
        o = JSON.parse(line);
      } catch {
        continue; // the fixture holds one truncated line on purpose
      }
      if (o === null || typeof o !== 'object' || Array.isArray(o)) continue;
      const rec = o as Record<string, unknown>;
      const ts = typeof rec.ts === 'number' ? rec.ts : typeof rec.ts === 'string' ? Date.parse(rec.ts) : NaN;
      if (!Number.isFinite(ts)) continue;
      out.push({ ...rec, ts });
    }
  }
  return out;
}

describe.concurrent('perfmon realtime --json', () => {
  it('prints exactly the real-time keys, numbers except the timestamp, with figures of the last 5 minutes', async () => {
    const r = await runPerfmon(['realtime', '--json', '--dir', 'fixtures/sample', '--until', 'latest']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const m = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(m).sort()).toEqual(
      ['timestamp', 'currentThroughput', 'averageLatency', 'errorRate', 'cacheHitRate', 'queueDepth', 'activeIssues', 'tokenUsagePercent'].sort(),
    );
    expect(typeof m.timestamp).toBe('string');
    for (const k of Object.keys(m).filter((k) => k !== 'timestamp')) {
      expect(typeof m[k], k).toBe('number');
      expect(Number.isFinite(m[k]), k).toBe(true);
    }

    // Independent figures: the window is (latest − 5 min, latest], latest = newest ts of any record.
    const recs = readFixture();
    const latest = Math.max(...recs.map((x) => x.ts));
    expect(m.timestamp).toBe(new Date(latest).toISOString());
    const signals = recs.filter(
      (x) => (x.type === undefined || x.type === 'stage') && x.stage === 'total' && typeof x.durationMs === 'number' && x.ts > latest - 5 * 60_000 && x.ts <= latest,
    );
    expect(signals.length).toBeGreaterThan(5);
    expect(m.currentThroughput).toBeCloseTo(signals.length / 5, 12);
    const mean = signals.reduce((a, x) => a + (x.durationMs as number), 0) / signals.length;
    expect(m.averageLatency).toBeCloseTo(mean, 9);
    const failed = signals.filter((x) => x.success === false).length;
    expect(m.errorRate).toBeCloseTo((failed / signals.length) * 100, 9);
    const queue = recs.filter((x) => x.type === 'queue' && x.ts <= latest).sort((a, b) => a.ts - b.ts);
    expect(m.queueDepth).toBe(queue[queue.length - 1]!.depth);
  });
});

describe.concurrent('perfmon prom --namespace', () => {
  function expectBadNamespace(r: Run): void {
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.endsWith('\n'), JSON.stringify(r.stderr)).toBe(true);
    const lines = r.stderr.slice(0, -1).split('\n');
    expect(lines, JSON.stringify(r.stderr)).toHaveLength(1);
    expect(lines[0]).toContain('bad-ns');
    expect(lines[0]).toMatch(/namespace/);
  }

  it("'bad-ns' exits 2 with one stderr line naming it", async () => {
    const cwd = tempDir('perfmon-cli-prom-');
    expectBadNamespace(await runPerfmon(['prom', '--namespace', 'bad-ns'], { cwd }));
  });

  it("'bad-ns' exits 2 with one stderr line naming it, also with a valid log directory", async () => {
    expectBadNamespace(await runPerfmon(['prom', '--namespace', 'bad-ns', '--dir', 'fixtures/sample', '--until', 'latest']));
  });

  it('a valid namespace exits 0 (the failures above are the namespace)', async () => {
    const r = await runPerfmon(['prom', '--namespace', 'good_ns', '--dir', 'fixtures/sample', '--until', 'latest']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^good_ns_window_records \d+$/m);
  });
});
