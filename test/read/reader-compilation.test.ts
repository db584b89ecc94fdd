import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The reading workers compile their hot code synchronously (see startReaders in
// src/read/parallel-read.ts), and a worker started after them does not inherit that. Watched
// through V8's own trace (`--trace-opt`), in a child process running the build.
const root = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'perfmon-reader-compilation-'));
  const t0 = Date.parse('2026-11-27T09:00:00Z');
  const lines: string[] = [];
  for (let i = 0; i < 30_000; i++) {
    lines.push(`{"ts":"${new Date(t0 + i * 100).toISOString()}","stage":"s${i % 4}","durationMs":${(i % 900) + 0.5},"success":true,"llmTokens":${i % 300},"model":"m${i % 3}"}`);
  }
  writeFileSync(join(dir, 'perfmon-20261127-09.ndjson'), lines.join('\n') + '\n');
  writeFileSync(join(dir, 'perfmon-20261127-10.ndjson'), lines.join('\n') + '\n');
  // Indexes both files on two workers, then starts a worker of its own whose hot function V8
  // optimises: its trace line says how.
  writeFileSync(
    join(dir, 'run.mjs'),
    `
import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { indexJobs } from ${JSON.stringify(join(root, 'dist/read/parallel-read.js'))};
const paths = ${JSON.stringify([join(dir, 'perfmon-20261127-09.ndjson'), join(dir, 'perfmon-20261127-10.ndjson')])};
const jobs = paths.map((path) => ({ path, from: 0, bytes: statSync(path).size, gzip: false }));
const out = await indexJobs(jobs, { threads: 2, fastPath: true, forceParallel: true });
console.log('lines', [...out.values()].reduce((n, x) => n + x.lines, 0));
const code = 'function laterWorkerHotLoop(n) { let s = 0; for (let i = 0; i < n; i++) s += i % 7; return s; } let t = 0; for (let k = 0; k < 3000; k++) t += laterWorkerHotLoop(1000); require("node:worker_threads").parentPort.postMessage(t);';
const later = new Worker(code, { eval: true });
await new Promise((resolve) => later.once('message', resolve));
await later.terminate();
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The compile modes V8 traced for a function, in order. */
function modes(trace: string, fn: string): string[] {
  const re = new RegExp(`compiling method .*<JSFunction ${fn.replace('.', '\\.')} .*mode: ConcurrencyMode::(k\\w+)`);
  return trace.split('\n').flatMap((l) => {
    const m = re.exec(l);
    return m ? [m[1]!] : [];
  });
}

function run(nodeFlags: string[]): string {
  return execFileSync(process.execPath, [...nodeFlags, '--trace-opt', join(dir, 'run.mjs')], { encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, NODE_OPTIONS: '' } });
}

describe('reading workers', () => {
  it('compile the parser synchronously, and a worker started after them compiles concurrently again', () => {
    const trace = run([]);
    expect(trace).toContain('lines 60000');
    const parser = modes(trace, 'parseLine');
    expect(parser.length).toBeGreaterThan(0);
    expect(parser.every((m) => m === 'kSynchronous')).toBe(true);
    expect(modes(trace, 'laterWorkerHotLoop')).toContain('kConcurrent');
    expect(modes(trace, 'laterWorkerHotLoop')).not.toContain('kSynchronous');
  });

  it('leave a choice made on the command line alone', () => {
    const trace = run(['--no-concurrent-recompilation']);
    expect(trace).toContain('lines 60000');
    expect(modes(trace, 'laterWorkerHotLoop').length).toBeGreaterThan(0);
    expect(modes(trace, 'laterWorkerHotLoop').every((m) => m === 'kSynchronous')).toBe(true);
  });
});
