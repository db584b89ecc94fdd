/**
 * The recorder across real processes (DESIGN §2, §7): several writers appending to one directory
 * never interleave inside a line, and process.exit(), SIGTERM and SIGINT lose no buffered line.
 * The children import the built library (dist/), so `npm run build` must have run first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { perfmonFileHour } from '../../src/record/file-name.js';
import { parseRecord, type StageRecord } from '../../src/schema.js';

const CHILD = fileURLToPath(new URL('../fixtures-scripts/record-child.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

const dirs: string[] = [];
const children: ChildProcess[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'perfmon-proc-'));
  dirs.push(dir);
  return dir;
}

beforeAll(() => {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run "npm run build" before these tests`);
});

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startChild(dir: string, tag: string, count: number, mode: 'natural' | 'exit' | 'wait'): Child {
  const proc = spawn(process.execPath, [CHILD, dir, tag, String(count), mode], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(proc);
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { proc, stdout: () => out, stderr: () => err, exited };
}

/** Resolves once the child's stdout matches, or fails after `ms` (a bounded wait). */
async function waitForOutput(child: Child, re: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = child.stdout().match(re);
    if (m) return m;
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) {
      throw new Error(`child ended before printing ${re}: stdout=${child.stdout()} stderr=${child.stderr()}`);
    }
    if (Date.now() > deadline) throw new Error(`child did not print ${re} within ${ms} ms; stderr=${child.stderr()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface DirContents {
  lines: string[];
  records: StageRecord[];
  malformed: { file: string; line: number; reason: string }[];
  unterminated: string[];
}

/** Every line of every perfmon file in `dir`, parsed. */
function readDir(dir: string): DirContents {
  const result: DirContents = { lines: [], records: [], malformed: [], unterminated: [] };
  const names = readdirSync(dir);
  for (const name of names) {
    expect(perfmonFileHour(name), `unexpected file ${name}`).toBeTypeOf('number');
    const text = readFileSync(join(dir, name), 'utf8');
    if (text.length > 0 && !text.endsWith('\n')) result.unterminated.push(name);
    const lines = text.split('\n');
    lines.pop(); // after the final "\n"
    lines.forEach((line, i) => {
      result.lines.push(line);
      const parsed = parseRecord(line);
      if (!parsed.ok) result.malformed.push({ file: name, line: i + 1, reason: parsed.reason });
      else if (parsed.record.type === 'stage') result.records.push(parsed.record);
      else result.malformed.push({ file: name, line: i + 1, reason: `unexpected type ${parsed.record.type}` });
    });
  }
  return result;
}

/** Checks that the records hold exactly the signal ids `<tag>-0` … `<tag>-<count-1>` once each. */
function expectAllSignals(records: StageRecord[], tag: string, count: number): void {
  const seen = new Uint8Array(count);
  let duplicates = 0;
  let foreign = 0;
  const prefix = `${tag}-`;
  for (const r of records) {
    if (!r.signalId?.startsWith(prefix)) continue;
    const i = Number(r.signalId.slice(prefix.length));
    if (!Number.isInteger(i) || i < 0 || i >= count) foreign++;
    else if ((seen[i] = seen[i]! + 1) > 1) duplicates++;
  }
  const missing = seen.reduce((n, v) => n + (v === 0 ? 1 : 0), 0);
  expect({ tag, missing, duplicates, foreign }).toEqual({ tag, missing: 0, duplicates: 0, foreign: 0 });
}

describe('recorder in real processes', () => {
  it('four processes recording 50,000 lines each into one directory write 200,000 whole lines', async () => {
    const dir = tempDir();
    const PER_CHILD = 50_000;
    const tags = ['a', 'b', 'c', 'd'];
    const kids = tags.map((tag) => startChild(dir, tag, PER_CHILD, 'natural'));
    // A start barrier: all four load the library first, then record at the same time.
    await Promise.all(kids.map((k) => waitForOutput(k, /ready\n/)));
    for (const k of kids) k.proc.stdin!.end('go\n');
    const exits = await bounded(Promise.all(kids.map((k) => k.exited)), 20_000, 'the four writers');
    for (const [i, e] of exits.entries()) {
      expect(e, `child ${tags[i]} stderr: ${kids[i]!.stderr()}`).toEqual({ code: 0, signal: null });
      expect(kids[i]!.stderr()).toBe('');
    }

    const { lines, records, malformed, unterminated } = readDir(dir);
    expect(unterminated).toEqual([]);
    expect(malformed.slice(0, 5)).toEqual([]);
    expect(lines).toHaveLength(4 * PER_CHILD);
    expect(records).toHaveLength(4 * PER_CHILD);
    for (const tag of tags) expectAllSignals(records, tag, PER_CHILD);
    // The full metadata survived in every line (a torn or merged line would lose or mix fields).
    const wrong = records.filter((r) => {
      const i = Number(r.signalId!.slice(2));
      return r.stage !== 'classify' || r.durationMs !== 100 + (i % 900) + 0.25 || r.llmTokens !== 200 + (i % 500) ||
        r.llmCost !== 0.0001 * (i % 50) || r.cacheHit !== (i % 3 === 0) || r.success !== (i % 17 !== 0) ||
        r.model !== 'gpt-4o-mini' || r.error !== undefined;
    });
    expect(wrong.slice(0, 3)).toEqual([]);
    // The writers really overlapped (otherwise this test would prove nothing about sharing a file):
    // in file order, the writer changes more often than the three times of four back-to-back runs.
    let runs = 0;
    let previous = '';
    for (const r of records) {
      const tag = r.signalId!.slice(0, 1);
      if (tag !== previous) runs++;
      previous = tag;
    }
    expect(runs).toBeGreaterThan(4);
  });

  it('process.exit(0) right after recording loses no buffered line', async () => {
    const dir = tempDir();
    const N = 12_345;
    const child = startChild(dir, 'x', N, 'exit');
    const exit = await bounded(child.exited, 15_000, 'the exiting child');
    expect(exit, child.stderr()).toEqual({ code: 0, signal: null });
    // Lines were still in memory when process.exit() was called: the exit hook wrote them.
    const buffered = Number(/buffered (\d+)/.exec(child.stdout())?.[1]);
    expect(buffered).toBeGreaterThan(0);

    const { lines, records, malformed, unterminated } = readDir(dir);
    expect(unterminated).toEqual([]);
    expect(malformed).toEqual([]);
    expect(lines).toHaveLength(N);
    expectAllSignals(records, 'x', N);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} while lines are buffered loses nothing, and the process still dies by ${signal}`, async () => {
      const dir = tempDir();
      const N = 7_777;
      const child = startChild(dir, 's', N, 'wait');
      const m = await waitForOutput(child, /ready (\d+)\n/);
      expect(Number(m[1])).toBeGreaterThan(0); // something is left for the signal handler to flush
      child.proc.kill(signal);
      const exit = await bounded(child.exited, 10_000, `the child after ${signal}`);
      // perfmon flushed, then re-raised the signal: the parent sees a death by signal, not exit 0.
      expect(exit, child.stderr()).toEqual({ code: null, signal });

      const { lines, records, malformed, unterminated } = readDir(dir);
      expect(unterminated).toEqual([]);
      expect(malformed).toEqual([]);
      expect(lines).toHaveLength(N);
      expectAllSignals(records, 's', N);
    });
  }
});
