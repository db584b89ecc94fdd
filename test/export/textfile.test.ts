import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PerfmonError } from '../../src/errors.js';
import { writeFileAtomic } from '../../src/export/textfile.js';
import { BIN, cleanEnv, ensureBuilt, removeTempDirs, ROOT, tempDir as makeTempDir } from '../helpers/cli.js';

const tempDir = () => makeTempDir('perfmon-textfile-');
afterAll(removeTempDirs);

beforeAll(() => {
  ensureBuilt();
});

describe('writeFileAtomic', () => {
  it('writes the content', () => {
    const d = tempDir();
    const f = join(d, 'perfmon.prom');
    const text = '# HELP x Ünïcode 🚀.\n# TYPE x gauge\nx 1\n';
    writeFileAtomic(f, text);
    expect(readFileSync(f, 'utf8')).toBe(text);
    writeFileAtomic(join(d, 'empty.prom'), '');
    expect(readFileSync(join(d, 'empty.prom'), 'utf8')).toBe('');
  });

  it('replaces an existing file, longer or shorter, with a new inode (rename, not rewrite in place)', () => {
    const d = tempDir();
    const f = join(d, 'perfmon.prom');
    writeFileSync(f, 'old content that is rather long\n'.repeat(100));
    const oldIno = statSync(f).ino;
    writeFileAtomic(f, 'short\n');
    expect(readFileSync(f, 'utf8')).toBe('short\n');
    expect(statSync(f).ino).not.toBe(oldIno);
    writeFileAtomic(f, 'longer again\n'.repeat(50));
    expect(readFileSync(f, 'utf8')).toBe('longer again\n'.repeat(50));
  });

  it('leaves no temp file behind', () => {
    const d = tempDir();
    for (let i = 0; i < 20; i++) writeFileAtomic(join(d, 'perfmon.prom'), `v ${i}\n`);
    writeFileAtomic(join(d, 'other.prom'), 'o\n');
    expect(readdirSync(d).sort()).toEqual(['other.prom', 'perfmon.prom']);
  });

  it('throws a PerfmonError naming the path when the directory does not exist, and creates nothing', () => {
    const d = tempDir();
    const f = join(d, 'missing-dir', 'perfmon.prom');
    let err: unknown;
    try {
      writeFileAtomic(f, 'x 1\n');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PerfmonError);
    expect((err as PerfmonError).message).toContain(f);
    expect(readdirSync(d)).toEqual([]);
  });

  it('cleans up its temp file when the rename fails (target is a non-empty directory)', () => {
    const d = tempDir();
    const f = join(d, 'perfmon.prom');
    mkdirSync(f);
    writeFileSync(join(f, 'inside'), 'x');
    expect(() => writeFileAtomic(f, 'x 1\n')).toThrow(PerfmonError);
    expect(() => writeFileAtomic(f, 'x 1\n')).toThrow(f);
    expect(readdirSync(d)).toEqual(['perfmon.prom']);
  });
});

// ---------------------------------------------------------------------------------------------
// No half-written file. writeFileAtomic is synchronous, so the reader is a child process: it reads
// the target in a tight loop and checks every read is exactly one of the two complete contents.

/** 2 MB, self-describing: a header with the body's length and sha256, then the body. */
function content(tag: string, size = 2 * 1024 * 1024): Buffer {
  const line = `${tag} ${'x'.repeat(60)}\n`;
  const body = Buffer.from(line.repeat(Math.ceil(size / line.length)));
  const header = `# LEN ${body.length} SHA ${createHash('sha256').update(body).digest('hex')}\n`;
  return Buffer.concat([Buffer.from(header), body]);
}

const READER = String.raw`
const { readFileSync, existsSync, writeFileSync } = require('node:fs');
const { createHash } = require('node:crypto');
const [target, stopFile, caughtFile, hashA, hashB, maxMs] = process.argv.slice(1);
const deadline = Date.now() + Number(maxMs);
let reads = 0, sawA = 0, sawB = 0, bad = 0;
const badSamples = [];
function check(buf) {
  const h = createHash('sha256').update(buf).digest('hex');
  if (h === hashA) { sawA++; return; }
  if (h === hashB) { sawB++; return; }
  bad++;
  // Say what was wrong: empty, truncated, or a mix.
  const nl = buf.indexOf(10);
  const header = nl < 0 ? '' : buf.subarray(0, nl).toString();
  const m = /^# LEN (\d+) SHA ([0-9a-f]+)$/.exec(header);
  if (badSamples.length < 5) badSamples.push({ length: buf.length, header: header.slice(0, 100), declared: m ? Number(m[1]) + nl + 1 : null });
  if (caughtFile) writeFileSync(caughtFile, 'caught');
}
process.stdout.write('ready\n');
while (!existsSync(stopFile) && Date.now() < deadline) {
  let buf;
  try { buf = readFileSync(target); } catch (e) { bad++; if (badSamples.length < 5) badSamples.push({ error: e.code }); if (caughtFile) writeFileSync(caughtFile, 'caught'); continue; }
  reads++;
  check(buf);
}
process.stdout.write(JSON.stringify({ reads, sawA, sawB, bad, badSamples }) + '\n');
`;

interface ReaderResult {
  reads: number;
  sawA: number;
  sawB: number;
  bad: number;
  badSamples: unknown[];
}

interface Reader {
  child: ChildProcess;
  ready: Promise<void>;
  result: Promise<ReaderResult>;
}

function startReader(target: string, stopFile: string, caughtFile: string, a: Buffer, b: Buffer, maxMs: number): Reader {
  const sha = (x: Buffer) => createHash('sha256').update(x).digest('hex');
  const child = spawn(process.execPath, ['-e', READER, target, stopFile, caughtFile, sha(a), sha(b), String(maxMs)], { stdio: ['ignore', 'pipe', 'pipe'], timeout: maxMs + 5000 });
  let out = '';
  let err = '';
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (out.startsWith('ready\n')) onReady();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const result = new Promise<ReaderResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      onReady();
      const last = out.trim().split('\n').pop()!;
      if (code !== 0 || !last.startsWith('{')) reject(new Error(`reader exited ${code}: ${out}\n${err}`));
      else resolve(JSON.parse(last) as ReaderResult);
    });
  });
  return { child, ready, result };
}

describe('writeFileAtomic under a concurrent reader', () => {
  const A = content('A');
  const B = content('B');

  it('the reader catches torn writes from a plain writeFileSync (so the check below can fail)', async () => {
    const d = tempDir();
    const target = join(d, 'perfmon.prom');
    const stop = join(d, 'stop');
    const caught = join(d, 'caught');
    writeFileSync(target, A);
    const r = startReader(target, stop, caught, A, B, 6000);
    await r.ready;
    const until = Date.now() + 4000;
    for (let i = 0; Date.now() < until && !existsSync(caught); i++) writeFileSync(target, i % 2 ? A : B);
    writeFileSync(stop, '');
    const res = await r.result;
    expect(res.bad, JSON.stringify(res)).toBeGreaterThan(0);
  });

  it('every read is exactly one of the two complete contents: never partial, never empty', async () => {
    const d = tempDir();
    const target = join(d, 'perfmon.prom');
    const stop = join(d, 'stop');
    writeFileAtomic(target, A.toString());
    const r = startReader(target, stop, '', A, B, 8000);
    await r.ready;
    let writes = 0;
    const until = Date.now() + 2500;
    for (; writes < 200 && Date.now() < until; writes++) writeFileAtomic(target, (writes % 2 ? A : B).toString());
    writeFileSync(stop, '');
    const res = await r.result;
    expect(res.bad, `bad reads: ${JSON.stringify(res.badSamples)}`).toBe(0);
    expect(writes).toBeGreaterThanOrEqual(20);
    // The reader really ran alongside the writer: it saw both contents, many times over.
    expect(res.reads).toBeGreaterThanOrEqual(20);
    expect(res.sawA).toBeGreaterThan(0);
    expect(res.sawB).toBeGreaterThan(0);
    expect(readdirSync(d).sort()).toEqual(['perfmon.prom', 'stop']);
  });
});

describe('perfmon prom --textfile', () => {
  function perfmon(args: string[]) {
    return spawnSync(process.execPath, [BIN, 'prom', ...args], { cwd: ROOT, env: cleanEnv(), encoding: 'utf8', timeout: 20_000 });
  }

  it('writes the same text stdout would have printed, and prints nothing', () => {
    const d = tempDir();
    const f = join(d, 'perfmon.prom');
    const common = ['--dir', 'fixtures/sample', '--until', 'latest', '--window', '30'];
    const toStdout = perfmon(common);
    expect(toStdout.status).toBe(0);
    expect(toStdout.stdout).toMatch(/^# HELP perfmon_/);
    const toFile = perfmon([...common, '--textfile', f]);
    expect(toFile.stderr).toBe('');
    expect(toFile.status).toBe(0);
    expect(toFile.stdout).toBe('');
    expect(readFileSync(f, 'utf8')).toBe(toStdout.stdout);
    expect(readdirSync(d)).toEqual(['perfmon.prom']);
  });

  it('fails with one line naming the path when the directory does not exist', () => {
    const d = tempDir();
    const f = join(d, 'nope', 'perfmon.prom');
    const r = perfmon(['--dir', 'fixtures/sample', '--until', 'latest', '--textfile', f]);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(f);
  });
});
