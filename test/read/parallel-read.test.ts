import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMinutes, encodeMinutes, SavedMinute, type FileIndex } from '../../src/cache/file-index.js';
import { indexJobs, planRanges } from '../../src/read/parallel-read.js';
import { readRange } from '../../src/read/read-range.js';
import { generateReport } from '../../src/report/generate-report.js';
import type { PerformanceReport } from '../../src/report/types.js';

// Worker threads load the build (dist/): `npm test` builds before vitest runs.
const root = new URL('../../', import.meta.url).pathname;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'perfmon-parallel-'));
  const t0 = Date.parse('2026-11-27T09:00:00Z');
  const lines: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    const ts = new Date(t0 + i * 150).toISOString();
    if (i % 997 === 0) lines.push(`{"ts":"${ts}","stage":"broken",`); // malformed, at known lines
    else if (i % 50 === 0) lines.push(`{"ts":"${ts}","type":"queue","depth":${i % 77}}`);
    else lines.push(`{"ts":"${ts}","stage":"s${i % 5}","durationMs":${(i % 1000) + 0.5},"success":${i % 31 !== 0},"llmTokens":${i % 400},"cacheHit":${i % 3 === 0}}`);
  }
  writeFileSync(join(dir, 'perfmon-20261127-09.ndjson'), lines.join('\n') + '\n{"ts":"2026-11-27T09:59:59.000Z","stage":"half');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every figure identical to the last bit: sums are exact, so the merge order cannot show. */
function expectSameReport(a: PerformanceReport, b: PerformanceReport): void {
  expect(JSON.stringify(a)).toBe(JSON.stringify(b));
}

describe('parallel reading', () => {
  it('readRange covers every line exactly once, whatever the split points', async () => {
    const path = join(dir, 'perfmon-20261127-09.ndjson');
    const whole: number[] = [];
    await readRange(path, 0, Infinity, { line: (_b, _s, _e, n) => whole.push(n), tooLong: () => {} });
    expect(whole.length).toBe(20_000); // the unterminated last line is not read
    for (const cuts of [[1], [100, 101, 102], [5000, 5001, 300_000, 1_200_000], [2_000_000]]) {
      let total = 0;
      const points = [0, ...cuts, Infinity];
      for (let i = 0; i + 1 < points.length; i++) {
        await readRange(path, points[i]!, points[i + 1]!, { line: () => total++, tooLong: () => {} });
      }
      expect(total, `cuts ${cuts.join(',')}`).toBe(20_000);
    }
  });

  it('readRange started while another is reading (from its sink) reads into a buffer of its own', async () => {
    // The outer read starts an inner read of the whole file at its lines 0, 8,000 and 16,000;
    // its own lines, read on into the buffer after each, must still be the file's.
    const path = join(dir, 'perfmon-20261127-09.ndjson');
    const text = readFileSync(path, 'latin1').split('\n').slice(0, 20_000);
    const seen: string[] = [];
    let inner = 0;
    await readRange(path, 0, Infinity, {
      line: (b, s, e) => {
        if (seen.length % 8_000 === 0) void readRange(path, 0, Infinity, { line: () => inner++, tooLong: () => {} });
        seen.push(b.toString('latin1', s, e));
      },
      tooLong: () => {},
    });
    expect(inner).toBe(3 * 20_000);
    expect(seen).toEqual(text);
  });

  it('planRanges splits large files and keeps gzip files whole', () => {
    const jobs = [
      { path: 'a', from: 0, bytes: 100 << 20, gzip: false },
      { path: 'b.gz', from: 0, bytes: 10 << 20, gzip: true },
      { path: 'c', from: 5000, bytes: 3 << 20, gzip: false }, // a cached index ends at 5000
    ];
    const plan = planRanges(jobs, 2);
    const a = plan.filter((p) => p.path === 'a');
    expect(a.length).toBeGreaterThan(4);
    expect(a[0]!.start).toBe(0);
    expect(a.at(-1)!.end).toBe(Infinity);
    for (let i = 1; i < a.length; i++) expect(a[i]!.start).toBe(a[i - 1]!.end);
    expect(plan.filter((p) => p.path === 'b.gz')).toEqual([{ path: 'b.gz', start: 0, end: Infinity, gzip: true }]);
    const c = plan.filter((p) => p.path === 'c');
    expect(c[0]!.start).toBe(5000);
    expect(c.at(-1)!.end).toBe(Infinity);
  });

  it('planRanges hands out large ranges first and small ones last, covering every byte once', () => {
    const jobs = Array.from({ length: 10 }, (_, i) => ({ path: `f${i}`, from: 0, bytes: 30 << 20, gzip: false }));
    const plan = planRanges(jobs, 2);
    const sizes = plan.map((p) => (p.end === Infinity ? 30 * 2 ** 20 - (p.start % (30 * 2 ** 20)) : p.end - p.start));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(300 * 2 ** 20);
    for (let i = 1; i < sizes.length; i++) {
      // Non-increasing, but for a file's open-ended remainder, which may be smaller.
      if (plan[i - 1]!.end !== Infinity) expect(sizes[i]!, `range ${i}`).toBeLessThanOrEqual(sizes[i - 1]!);
    }
    expect(sizes[0]).toBe(30 * 2 ** 20); // early ranges: whole files
    expect(Math.max(...sizes.slice(-6))).toBeLessThanOrEqual(2 ** 20); // the tail: 1 MiB at most
  });

  it('planRanges plans the newest file first, whole, and cuts the oldest into the short last ranges', () => {
    // Jobs come oldest first, as listLogFiles sorts them.
    const jobs = Array.from({ length: 10 }, (_, i) => ({ path: `f${i}`, from: 0, bytes: 30 << 20, gzip: false }));
    const plan = planRanges(jobs, 2);
    expect(plan[0]!.path).toBe('f9');
    expect(plan.filter((p) => p.path === 'f9')).toEqual([{ path: 'f9', start: 0, end: Infinity, gzip: false }]);
    expect(plan.filter((p) => p.path === 'f0').length).toBeGreaterThan(3);
    expect(plan.at(-1)!.path).toBe('f0');
  });

  it('workers give the same report as one thread, malformed line numbers included', async () => {
    const until = Date.parse('2026-11-27T10:00:00Z');
    const opts = { dirs: [dir], windowMinutes: 60, until, now: () => until, dailyTokenLimit: 1_000_000 };
    const one = await generateReport({ ...opts, threads: 1 });
    const four = await generateReport({ ...opts, threads: 4 });
    expect(one.records).toBeGreaterThan(19_000);
    expect(one.malformed.count).toBe(21); // i = 0, 997, …, 19940
    expect(one.malformed.first.map((m) => m.line)).toEqual([1, 998, 1995, 2992, 3989, 4986, 5983, 6980, 7977, 8974]);
    expectSameReport(four, one);
  });

  it('a range that cannot be read fails the whole read with one clear error, on whichever thread', async () => {
    const file = join(dir, 'perfmon-20261127-09.ndjson');
    for (let round = 0; round < 3; round++) {
      const jobs = [
        { path: file, from: 0, bytes: 2 << 20, gzip: false },
        { path: dir, from: 0, bytes: 3 << 20, gzip: false }, // a directory: read() fails with EISDIR
        { path: file, from: 0, bytes: 2 << 20, gzip: false },
      ];
      await expect(indexJobs(jobs, { threads: 3, fastPath: true, forceParallel: true })).rejects.toThrow(`cannot read ${dir}: EISDIR`);
    }
  });

  it('a worker\'s minutes arrive encoded and undecoded, and a save copies them as they are, equal to one thread\'s', async () => {
    // Eight copies of the log (≈ 21 MB), read by two workers.
    const copies = mkdtempSync(join(tmpdir(), 'perfmon-parallel-copies-'));
    try {
      const jobs = Array.from({ length: 8 }, (_, k) => {
        const path = join(copies, `perfmon-20261127-0${k}.ndjson`);
        copyFileSync(join(dir, 'perfmon-20261127-09.ndjson'), path);
        return { path, from: 0, bytes: statSync(path).size, gzip: false };
      });
      const two = await indexJobs(jobs, { threads: 2, fastPath: true, forceParallel: true });
      const one = await indexJobs(jobs, { threads: 1, fastPath: true });
      const undecoded = (x: FileIndex) => [...x.minutes.values()].filter((e) => e instanceof SavedMinute && e.undecodedCopy !== undefined).length;
      const fromWorker = jobs.reduce((n, j) => n + undecoded(two.get(j.path)!), 0);
      expect(fromWorker).toBeGreaterThan(0);
      // Names sorted: the order stages were first seen in is no part of a minute.
      const canonical = (x: FileIndex) =>
        [...x.minutes].sort((a, b) => a[0] - b[0]).map(([m, e]) => {
          const r = e.rollup.toJSON();
          const sorted = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
          return [m, e.from, e.to, e.late, { ...r, stages: sorted(r.stages), models: sorted(r.models) }];
        });
      for (const j of jobs) {
        const saved = two.get(j.path)!;
        const copied = undecoded(saved);
        const back = { ...saved, ...decodeMinutes(encodeMinutes(saved)) };
        expect(undecoded(saved)).toBe(copied); // encoding decoded none of them
        expect(JSON.stringify(canonical(back))).toBe(JSON.stringify(canonical(one.get(j.path)!)));
      }
    } finally {
      rmSync(copies, { recursive: true, force: true });
    }
  });

  it('on the sample logs too', async () => {
    const opts = { dirs: [join(root, 'fixtures/sample')], windowMinutes: 1440, until: 'latest' as const, dailyTokenLimit: 1_000_000, now: () => 0 };
    expectSameReport(await generateReport({ ...opts, threads: 3 }), await generateReport({ ...opts, threads: 1 }));
  });
});
