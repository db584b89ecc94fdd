import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryPath, verifyEntry } from '../../src/cache/index-store.js';
import { generateReport } from '../../src/report/generate-report.js';
import { BIN, cleanEnv, ensureBuilt, removeTempDirs, ROOT, tempDir, type Run } from '../helpers/cli.js';

/*
 * Two real `perfmon report` processes at once, sharing one cache, against a directory that grows
 * while they run. Lines appended during a run carry a ts after the fixed --until, so they must
 * never change the report; lines inside the window are appended only between iterations, and the
 * expected report is recomputed (without the cache) after each such append. After every
 * iteration both reports must equal the expected one and the shared entry must verify.
 *
 * Iterations: 100, within a time budget of 100 s. Process start-up dominates (`perfmon --version`
 * alone takes ~0.22 s here); on the 2-vCPU machine this was written on, a pair of concurrent runs
 * plus the checks takes ~0.7 s, so the 100 fit in ~70 s. Should a loaded machine run out of
 * budget, the loop stops there, and at least 30 iterations must have run (it prints how many).
 */

const UNTIL = '2026-11-27T10:30:00.000Z';
const UNTIL_MS = Date.parse(UNTIL);
const ITERATIONS = 100;
const MIN_ITERATIONS = 30;
const BUDGET_MS = 100_000;

beforeAll(() => {
  ensureBuilt();
});

const children = new Set<ChildProcess>();
let writer: NodeJS.Timeout | undefined;
afterAll(() => {
  if (writer) clearInterval(writer);
  for (const c of children) if (c.exitCode === null && c.pid !== undefined) c.kill('SIGKILL');
  removeTempDirs();
});

/** Like runPerfmon with XDG_CACHE_HOME, but each child is tracked so afterAll can kill one left running. */
function perfmon(args: string[], xdg: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cleanEnv({ XDG_CACHE_HOME: xdg }), stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => {
      children.delete(child);
      resolve({ status, stdout, stderr });
    });
  });
}

let seq = 0;
function rec(ts: number): string {
  const i = seq++;
  if (i % 9 === 0) return JSON.stringify({ ts: new Date(ts).toISOString(), type: 'queue', depth: i % 300 }) + '\n';
  return (
    JSON.stringify({
      ts: new Date(ts).toISOString(),
      stage: i % 3 === 0 ? 'total' : i % 3 === 1 ? 'classify' : 'extract',
      durationMs: (i * 37) % 4000 + 0.25,
      success: i % 17 !== 0,
      llmTokens: i % 700,
      llmCost: (i % 13) / 1000,
      cacheHit: i % 4 === 0,
    }) + '\n'
  );
}
function recs(n: number, from: number, to: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += rec(from + Math.floor(((to - from) * i) / n));
  return s;
}

/**
 * Whether the entry, as a reader sees it at this instant, is whole: its length, head and every
 * file's minutes as its header and lines say (verifyEntry). 'missing' when there is none.
 */
function entryState(cacheDir: string, logDir: string): 'ok' | 'missing' | 'torn' {
  const r = verifyEntry(cacheDir, logDir);
  return r.entry !== undefined ? 'ok' : r.reason === 'missing' ? 'missing' : 'torn';
}

function withoutGeneratedAt(json: string): Record<string, unknown> {
  const r = JSON.parse(json) as Record<string, unknown>;
  delete r.generatedAt;
  return r;
}

describe('two perfmon report processes at once on a growing directory', () => {
  it(`never print a wrong report nor leave a cache entry that fails its checksum (up to ${ITERATIONS} iterations, at least ${MIN_ITERATIONS})`, async () => {
    const root = tempDir('perfmon-cache-concurrency-');
    const D = join(root, 'logs');
    const XDG = join(root, 'xdg');
    const CACHE = join(XDG, 'perfmon');
    mkdirSync(D);
    const H09 = join(D, 'perfmon-20261127-09.ndjson');
    const H10 = join(D, 'perfmon-20261127-10.ndjson');
    const APP = join(D, 'app.ndjson');
    const T9 = Date.parse('2026-11-27T09:00:00.000Z');
    const T10 = Date.parse('2026-11-27T10:00:00.000Z');
    writeFileSync(H09, recs(8000, T9, T10));
    writeFileSync(H10, recs(6000, T10, UNTIL_MS - 60_000));
    writeFileSync(APP, recs(2000, T9 + 1_800_000, UNTIL_MS));

    const expected = async () =>
      JSON.parse(JSON.stringify(await generateReport({ dirs: [D], windowMinutes: 1440, until: UNTIL_MS, now: Date.now, dailyTokenLimit: 1_000_000 }))) as Record<string, unknown>;
    const args = ['report', '--dir', D, '--json', '--window', '1d', '--until', UNTIL];

    // The in-process expectation is what the CLI prints without its cache.
    let want = await expected();
    delete want.generatedAt;
    const plain = await perfmon([...args, '--no-cache'], XDG);
    expect(plain.status, plain.stderr).toBe(0);
    expect(withoutGeneratedAt(plain.stdout)).toEqual(want);
    expect(existsSync(CACHE)).toBe(false);

    // During runs: lines after --until (in the until minute, and later), whole lines only.
    let after = UNTIL_MS + 1;
    let duringBytes = 0;
    writer = setInterval(() => {
      const text = rec(after) + rec(after + 45_000) + rec(after + 3_600_000);
      after = after + 7 > UNTIL_MS + 59_999 ? UNTIL_MS + 1 : after + 7;
      appendFileSync(H10, text);
      appendFileSync(APP, rec(after + 120_000));
      duringBytes += text.length;
    }, 3);

    const started = Date.now();
    let done = 0;
    let polled = 0;
    let inWindow = UNTIL_MS - 30 * 60_000;
    for (let i = 0; i < ITERATIONS; i++) {
      if (i > 0 && Date.now() - started > BUDGET_MS) break;
      // Between iterations: lines inside the window (some into minutes already indexed, some
      // exactly on the edges), now and then a rotation or a lost cache entry.
      if (i > 0) {
        appendFileSync(H10, rec(inWindow) + rec(UNTIL_MS) + rec(T10 + (i % 30) * 60_000 + 123) + (i % 10 === 0 ? rec(UNTIL_MS - 86_400_000 + 1) : ''));
        appendFileSync(APP, rec(inWindow + 17) + rec(UNTIL_MS - 1));
        inWindow += 9_001;
        if (i % 25 === 0) {
          renameSync(APP, `${APP}.${i}`);
          writeFileSync(APP, recs(50, UNTIL_MS - 600_000, UNTIL_MS));
        }
        if (i % 10 === 5) rmSync(entryPath(CACHE, D), { force: true }); // both rebuild at once
        want = await expected();
        delete want.generatedAt;
      }
      // While they run, a reader polls the entry: it must only ever see a whole one (or none).
      const seen = { ok: 0, missing: 0, torn: 0 };
      const poll = setInterval(() => seen[entryState(CACHE, D)]++, 2);
      let a: Run, b: Run;
      try {
        [a, b] = await Promise.all([perfmon(args, XDG), perfmon(args, XDG)]);
      } finally {
        clearInterval(poll);
      }
      expect(seen.torn, `iteration ${i}: a reader saw a torn entry (${JSON.stringify(seen)})`).toBe(0);
      polled += seen.ok;
      for (const [name, r] of [
        ['first', a],
        ['second', b],
      ] as const) {
        expect(r.status, `iteration ${i}, ${name} process: ${r.stderr}`).toBe(0);
        expect(r.stderr, `iteration ${i}, ${name} process`).toBe('');
        expect(withoutGeneratedAt(r.stdout), `iteration ${i}, ${name} process`).toEqual(want);
      }
      const loaded = verifyEntry(CACHE, D);
      expect(loaded.entry === undefined ? loaded.reason : 'ok', `iteration ${i}: the cache entry`).toBe('ok');
      expect(readdirSync(CACHE).filter((n) => n.endsWith('.tmp')), `iteration ${i}: temp files left`).toEqual([]);
      // The entry the two processes left gives the right report to a third reader.
      if (i % 5 === 0) {
        const viaCache = JSON.parse(JSON.stringify(await generateReport({ dirs: [D], windowMinutes: 1440, until: UNTIL_MS, now: Date.now, dailyTokenLimit: 1_000_000, cacheDir: CACHE }))) as Record<string, unknown>;
        delete viaCache.generatedAt;
        expect(viaCache, `iteration ${i}: a cached in-process report`).toEqual(want);
      }
      done++;
    }
    clearInterval(writer);
    writer = undefined;
    expect(duringBytes, 'the writer did not write during the runs').toBeGreaterThan(0);
    expect(polled, 'the entry was never seen while the processes ran').toBeGreaterThan(done);
    expect(done).toBeGreaterThanOrEqual(MIN_ITERATIONS);
    if (done < ITERATIONS) console.warn(`concurrency: ${done} of ${ITERATIONS} iterations fit in ${BUDGET_MS / 1000} s`);
  }, 120_000);
});
