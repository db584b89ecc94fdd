// Writes V8's code cache for the CLI bundle (dist/bundle/main.cjs.code-cache), run by
// scripts/bundle.js. The cache holds the bytecode of every function compiled so far, so the
// commands users run most are first run here, inside the bundle, on the shipped sample logs:
// a report (text and JSON) with an empty cache and again from it, with windows whose edges cut
// minutes (in their middle, and near their start), issues and prom. Their output is discarded;
// a failure fails the build.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { codeCachePath, loadBundle } from '../bin/perfmon.js';

const file = fileURLToPath(new URL('../dist/bundle/main.cjs', import.meta.url));
const { exports: cli, script } = loadBundle(file);
const cacheHome = mkdtempSync(join(tmpdir(), 'perfmon-code-cache-'));
const dir = fileURLToPath(new URL('../fixtures/sample', import.meta.url));
const runs = [
  ['report', '--dir', dir, '--until', 'latest', '--window', '1d'],
  ['report', '--dir', dir, '--until', 'latest', '--window', '1d', '--json'],
  ['report', '--dir', dir, '--until', 'latest', '--window', '1d'],
  ['report', '--dir', dir, '--until', 'latest', '--window', '47', '--json'],
  // A window whose start cuts a minute 1.7 s after its first record: its near side re-read alone.
  ['report', '--dir', dir, '--until', '2026-11-26T11:00:02.000Z', '--window', '30', '--json'],
  // One ending inside the logs, both its edges half a minute in: the side of each that counts re-read.
  ['report', '--dir', dir, '--until', '2026-11-26T11:00:31.000Z', '--window', '30', '--json'],
  ['report', '--dir', dir, '--until', 'latest', '--window', '1d', '--no-cache', '--threads', '1'],
  ['issues', '--dir', dir, '--until', 'latest', '--json'],
  ['issues', '--dir', dir, '--until', 'latest'],
  ['prom', '--dir', dir, '--until', 'latest'],
];
try {
  for (const args of runs) {
    let err = '';
    const sink = (keep) => new Writable({ write(chunk, _e, cb) { if (keep) err += chunk; cb(); } });
    const code = await cli.runCli(args, { stdout: sink(false), stderr: sink(true), env: { XDG_CACHE_HOME: cacheHome }, cwd: process.cwd(), now: Date.now });
    // issues exits 1 or 2 when it finds issues; anything else is a broken build.
    if (code !== 0 && !(args[0] === 'issues' && (code === 1 || code === 2))) throw new Error(`perfmon ${args.join(' ')} exited ${code}: ${err}`);
  }
} finally {
  rmSync(cacheHome, { recursive: true, force: true });
}
writeFileSync(codeCachePath(file), script.createCachedData());
