import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, removeTempDirs, runPerfmon, tempDir as makeTempDir, type Run } from '../helpers/cli.js';
import { entryPath, loadEntry } from '../../src/cache/index-store.js';

// Spawns the real CLI (bin/perfmon.js → dist/). Each test sets its own XDG_CACHE_HOME.

const UNTIL = '2026-11-27T10:30:00.000Z';

beforeAll(() => {
  ensureBuilt();
});

const tempDir = () => makeTempDir('perfmon-cli-cache-');
afterAll(removeTempDirs);

/** `perfmon ARGS` with its cache under `xdg`. */
const perfmon = (args: string[], xdg: string): Promise<Run> => runPerfmon(args, { env: { XDG_CACHE_HOME: xdg } });

/** A log directory of two files (one with a malformed line and a half-written last line), and a cache home. */
function setup(): { dir: string; xdg: string; cacheDir: string; files: Record<string, { bytes: number; lines: number }> } {
  const root = tempDir();
  const dir = join(root, 'logs');
  const xdg = join(root, 'xdg');
  mkdirSync(dir);
  let a = '';
  for (let i = 0; i < 1500; i++) {
    const ts = new Date(Date.parse('2026-11-27T10:00:00.000Z') + i * 1_111).toISOString();
    a += JSON.stringify({ ts, stage: i % 2 ? 'total' : 'classify', durationMs: 10 + (i % 97), llmTokens: i % 50, cacheHit: i % 3 === 0 }) + '\n';
  }
  a += 'not json\n';
  const b = JSON.stringify({ ts: '2026-11-27T10:10:00.000Z', type: 'queue', depth: 7 }) + '\n';
  writeFileSync(join(dir, 'perfmon-20261127-10.ndjson'), a);
  writeFileSync(join(dir, 'app.ndjson'), b + '{"ts":"2026-11-27T10:1'); // incomplete last line: not indexed
  return {
    dir,
    xdg,
    cacheDir: join(xdg, 'perfmon'),
    files: {
      'perfmon-20261127-10.ndjson': { bytes: Buffer.byteLength(a), lines: 1501 },
      'app.ndjson': { bytes: Buffer.byteLength(b), lines: 1 },
    },
  };
}

function withoutGeneratedAt(json: string): unknown {
  const r = JSON.parse(json) as Record<string, unknown>;
  expect(typeof r.generatedAt).toBe('string');
  delete r.generatedAt;
  return r;
}

const report = (dir: string, xdg: string, ...extra: string[]) => perfmon(['report', '--dir', dir, '--json', '--window', '1d', '--until', UNTIL, ...extra], xdg);

describe.concurrent('perfmon cache', () => {
  it('info shows the entry path, its size and each file’s bytes and lines indexed', async () => {
    const { dir, xdg, cacheDir, files } = setup();
    const r = await report(dir, xdg);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const path = entryPath(cacheDir, dir);
    expect(existsSync(path)).toBe(true);
    const info = await perfmon(['cache', 'info', '--dir', dir], xdg);
    expect(info.status, info.stderr).toBe(0);
    expect(info.stdout).toContain(`cache: ${cacheDir}\n`);
    expect(info.stdout).toContain(dir);
    expect(info.stdout).toContain(`entry ${path} (${(statSync(path).size / 1024).toFixed(1)} KiB)`);
    for (const [name, f] of Object.entries(files)) {
      expect(info.stdout).toMatch(new RegExp(`${name.replace(/\./g, '\\.')}: ${f.bytes.toLocaleString('en-US')} bytes, ${f.lines.toLocaleString('en-US')} lines, \\d+ minutes indexed`));
    }
  });

  it('info --json parses and gives files, offsets and lines', async () => {
    const { dir, xdg, cacheDir, files } = setup();
    expect((await report(dir, xdg)).status).toBe(0);
    const info = await perfmon(['cache', 'info', '--dir', dir, '--json'], xdg);
    expect(info.status, info.stderr).toBe(0);
    const j = JSON.parse(info.stdout) as { cacheDir: string; entries: Array<{ file: string; bytes: number; dir: string; files: Array<{ name: string; offset: number; lines: number; minutes: number }> }> };
    expect(j.cacheDir).toBe(cacheDir);
    expect(j.entries).toHaveLength(1);
    const e = j.entries[0]!;
    expect(e.file).toBe(entryPath(cacheDir, dir));
    expect(e.bytes).toBe(statSync(e.file).size);
    expect(e.dir).toBe(dir);
    const got = Object.fromEntries(e.files.map((f) => [f.name, { bytes: f.offset, lines: f.lines }]));
    expect(got).toEqual(files);
    expect(e.files.find((f) => f.name === 'perfmon-20261127-10.ndjson')!.minutes).toBe(28);
  });

  it('clear deletes the entry; info then says there is none', async () => {
    const { dir, xdg, cacheDir } = setup();
    expect((await report(dir, xdg)).status).toBe(0);
    const path = entryPath(cacheDir, dir);
    expect(existsSync(path)).toBe(true);
    const c = await perfmon(['cache', 'clear', '--dir', dir], xdg);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toBe(`deleted ${path}\n`);
    expect(existsSync(path)).toBe(false);
    const info = await perfmon(['cache', 'info', '--dir', dir], xdg);
    expect(info.status).toBe(0);
    expect(info.stdout).toContain('no entry');
    const again = await perfmon(['cache', 'clear', '--dir', dir], xdg);
    expect(again.stdout).toBe('nothing to clear\n');
  });

  it('clear --all deletes every entry', async () => {
    const a = setup();
    const b = setup();
    expect((await report(a.dir, a.xdg)).status).toBe(0);
    expect((await report(b.dir, a.xdg)).status).toBe(0);
    expect(readdirSync(a.cacheDir).filter((n) => n.endsWith('.idx'))).toHaveLength(2);
    const c = await perfmon(['cache', 'clear', '--all'], a.xdg);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout.trim().split('\n')).toHaveLength(2);
    expect(readdirSync(a.cacheDir)).toEqual([]);
  });

  it('report --no-cache writes no entry, and prints what the cached report prints', async () => {
    const { dir, xdg, cacheDir } = setup();
    const plain = await report(dir, xdg, '--no-cache');
    expect(plain.status, plain.stderr).toBe(0);
    expect(existsSync(cacheDir) ? readdirSync(cacheDir) : []).toEqual([]);
    const cached = await report(dir, xdg);
    expect(cached.status).toBe(0);
    expect(existsSync(entryPath(cacheDir, dir))).toBe(true);
    const cachedAgain = await report(dir, xdg);
    const want = withoutGeneratedAt(plain.stdout);
    expect(withoutGeneratedAt(cached.stdout)).toEqual(want);
    expect(withoutGeneratedAt(cachedAgain.stdout)).toEqual(want);
    expect((want as { records: number }).records).toBe(1501);
  });

  it('a second report over unchanged logs does not rewrite the entry; an append does', async () => {
    const { dir, xdg, cacheDir } = setup();
    expect((await report(dir, xdg)).status).toBe(0);
    const path = entryPath(cacheDir, dir);
    const before = statSync(path);
    await new Promise((r) => setTimeout(r, 30)); // let a rewrite show in the mtime
    expect((await report(dir, xdg)).status).toBe(0);
    const after = statSync(path);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.ino, 'the entry was renamed over').toBe(before.ino);
    writeFileSync(join(dir, 'app.ndjson'), '0:00.000Z","type":"queue","depth":9}\n', { flag: 'a' }); // completes the half line
    const r = await report(dir, xdg);
    expect(r.status).toBe(0);
    expect(statSync(path).ino).not.toBe(before.ino);
    expect(loadEntry(cacheDir, dir).entry!.files.get('app.ndjson')!.index.lines).toBe(2);
    expect((JSON.parse(r.stdout) as { queueMetrics: { currentDepth: number } }).queueMetrics.currentDepth).toBe(9);
  });

  it('an unwritable cache location: the right report, exit 0, one line on stderr', async () => {
    const { dir } = setup();
    const file = join(tempDir(), 'not-a-dir');
    writeFileSync(file, 'x');
    const r = await report(dir, file); // $XDG_CACHE_HOME/perfmon cannot be created: ENOTDIR
    expect(r.status, r.stderr).toBe(0);
    const plain = await report(dir, file, '--no-cache');
    expect(plain.stderr).toBe('');
    expect(withoutGeneratedAt(r.stdout)).toEqual(withoutGeneratedAt(plain.stdout));
    expect(r.stderr.endsWith('\n')).toBe(true);
    expect(r.stderr.slice(0, -1).split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(/^perfmon: .*cache/);
  });

  it('a corrupt entry is ignored silently, reported by info, and rebuilt by the next report', async () => {
    const { dir, xdg, cacheDir } = setup();
    const plain = await report(dir, xdg, '--no-cache');
    expect((await report(dir, xdg)).status).toBe(0);
    const path = entryPath(cacheDir, dir);
    const raw = readFileSync(path);
    raw[raw.length - 3] = raw[raw.length - 3]! ^ 0xff;
    writeFileSync(path, raw);
    const info = await perfmon(['cache', 'info', '--dir', dir], xdg);
    expect(info.stdout).toMatch(/unusable \(corrupt\)/);
    const r = await report(dir, xdg);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(withoutGeneratedAt(r.stdout)).toEqual(withoutGeneratedAt(plain.stdout));
    expect(loadEntry(cacheDir, dir).entry).toBeDefined();
  });
});
