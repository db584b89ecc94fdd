import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureBuilt, removeTempDirs, runProcess, tempDir } from '../helpers/cli.js';

// Loads a bundle in a fresh Node (the cache is only valid for V8's default flags) and prints
// whether V8 took its code cache, then runs the CLI's --version through the loaded exports.
const probe = (bundle: string): string[] => [
  '--input-type=module',
  '-e',
  `import { loadBundle } from ${JSON.stringify(join(ROOT, 'bin', 'perfmon.js'))};
   const b = loadBundle(${JSON.stringify(bundle)});
   const out = []; const io = { stdout: { write: (s) => out.push(s) }, stderr: { write: (s) => out.push(s) }, env: {}, cwd: process.cwd(), now: Date.now };
   const code = await b.exports.runCli(['--version'], io);
   console.log(JSON.stringify({ cacheAccepted: b.cacheAccepted, code, out: out.join('') }));`,
];

describe('bin/perfmon.js (the loader)', () => {
  beforeAll(ensureBuilt);
  afterAll(removeTempDirs);

  it('loads the built CLI with the code cache the build wrote, and V8 accepts it', async () => {
    const r = await runProcess(process.execPath, probe(join(ROOT, 'dist', 'bundle', 'main.cjs')));
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ cacheAccepted: true, code: 0, out: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
  });

  it('runs the bundle as usual when its cache is garbage or missing', async () => {
    // A copy beside a package.json of its own, as the bundle finds its version from its path.
    const dir = tempDir('perfmon-bundle-');
    mkdirSync(join(dir, 'dist', 'bundle'), { recursive: true });
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    const copy = join(dir, 'dist', 'bundle', 'main.cjs');
    copyFileSync(join(ROOT, 'dist', 'bundle', 'main.cjs'), copy);
    const missing = JSON.parse((await runProcess(process.execPath, probe(copy))).stdout);
    expect(missing).toMatchObject({ cacheAccepted: false, code: 0 });
    writeFileSync(`${copy}.code-cache`, Buffer.from('not a V8 code cache at all'));
    const garbage = await runProcess(process.execPath, probe(copy));
    expect(garbage.stderr).toBe('');
    expect(JSON.parse(garbage.stdout)).toEqual({ ...missing, cacheAccepted: false });
  });

  it('a cached report loads no node:crypto, worker_threads or child_process (each costs milliseconds per run)', async () => {
    // From a script file: `node -e` itself loads crypto before any code runs.
    const dir = tempDir('perfmon-modules-');
    const script = join(dir, 'probe.mjs');
    writeFileSync(
      script,
      `import { loadBundle } from ${JSON.stringify(join(ROOT, 'bin', 'perfmon.js'))};
       const cli = loadBundle(${JSON.stringify(join(ROOT, 'dist', 'bundle', 'main.cjs'))}).exports;
       const sink = { write: () => true };
       const io = { stdout: sink, stderr: sink, env: { XDG_CACHE_HOME: ${JSON.stringify(dir)} }, cwd: ${JSON.stringify(ROOT)}, now: Date.now };
       const args = ['report', '--dir', 'fixtures/sample', '--until', 'latest', '--json'];
       if (process.argv[2] === 'fill') { await cli.runCli(args, io); process.exit(0); }
       const code = await cli.runCli(args, io);
       const loaded = process.moduleLoadList.filter((m) => /^NativeModule (crypto|worker_threads|child_process)$/.test(m));
       console.log(JSON.stringify({ code, loaded }));`,
    );
    await runProcess(process.execPath, [script, 'fill']); // the first run writes the cache
    const r = await runProcess(process.execPath, [script]);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { code: number; loaded: string[] };
    expect(out.code).toBe(0);
    expect(out.loaded).toEqual([]);
  });

  it('the installed command, writing a cached --json report to a pipe, loads neither zlib, Node\'s streams, net, tty, fs/promises, module nor os', async () => {
    const dir = tempDir('perfmon-stdio-');
    // Preloaded: which of Node's modules the command loads after this point, written at exit.
    const probe = join(dir, 'probe.cjs');
    writeFileSync(
      probe,
      `const base = new Set(process.moduleLoadList);
       process.on('exit', () => require('node:fs').writeSync(2, JSON.stringify([process.moduleLoadList.filter((m) => !base.has(m)), Object.keys(require.cache)]) + '\\n'));`,
    );
    const args = ['-r', probe, join(ROOT, 'bin', 'perfmon.js'), 'report', '--dir', 'fixtures/sample', '--until', 'latest', '--json'];
    const env = { XDG_CACHE_HOME: dir };
    await runProcess(process.execPath, args, { env }); // the first run writes the cache
    const r = await runProcess(process.execPath, args, { env });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveProperty('throughput');
    const [loaded, files] = JSON.parse(r.stderr.trim().split('\n').at(-1)!) as [string[], string[]];
    // Of files of its own, the command itself only (its loader within it; the bundle is compiled
    // from its text, not required): a second module to resolve and compile was ≈ 0.7 ms.
    expect(files.filter((f) => f !== probe)).toEqual([join(ROOT, 'bin', 'perfmon.js')]);
    // (module: its createRequire loads Node's ES module loader; os: ≈ 0.3 ms, for a thread count
    // or a home directory a run from the cache does not need.)
    expect(loaded.filter((m) => /^NativeModule (zlib|stream|net|tty|fs\/promises|crypto|worker_threads|child_process|module|os)$/.test(m))).toEqual([]);
    // What it does load instead is small: the probe sees the bundle's own needs.
    expect(loaded).toContain('NativeModule vm');
  });

  it('the installed command reads a directory past the parallel threshold on two threads, its worker bundle included, as one thread does', async () => {
    // 36 MB (over PARALLEL_MIN_BYTES): the worker thread runs dist/bundle/read-worker.js, a
    // CommonJS bundle beside a package.json that says so. Were it loaded as an ES module (the
    // project's default), it would fail at its first require and the run with it.
    const dir = tempDir('perfmon-threads-');
    const t0 = Date.parse('2026-11-26T10:00:00Z');
    const lines: string[] = [];
    for (let i = 0; i < 260_000; i++) {
      const ts = new Date(t0 + i * 13).toISOString();
      lines.push(`{"ts":"${ts}","stage":"${['preprocess', 'classify', 'total'][i % 3]}","durationMs":${(i % 9000) / 10},"success":${i % 17 !== 0},"signalId":"sig_${i}","llmTokens":${i % 500},"llmCost":0.00${i % 97}}`);
    }
    writeFileSync(join(dir, 'perfmon-20261126-10.ndjson'), lines.join('\n') + '\n');
    const run = (threads: string) =>
      runProcess(process.execPath, [join(ROOT, 'bin', 'perfmon.js'), 'report', '--dir', dir, '--until', 'latest', '--window', '2h', '--json', '--no-cache', '--threads', threads], { timeoutMs: 60_000 });
    const [two, one] = await Promise.all([run('2'), run('1')]);
    expect(two.stderr).toBe('');
    expect(two.status).toBe(0);
    const strip = (out: string) => ({ ...JSON.parse(out), generatedAt: undefined });
    expect(strip(two.stdout)).toEqual(strip(one.stdout));
    expect(strip(two.stdout).throughput.totalSignalsProcessed).toBe(86_666);
  }, 60_000);
});
