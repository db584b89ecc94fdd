import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What the tests that spawn the real CLI share: where it is, a build if dist is missing, a clean
 * env, a run to completion, and temporary directories removed after the file.
 */

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'perfmon.js');

/** `npm test` builds first; a single test file run on a fresh clone builds here. */
export function ensureBuilt(): void {
  if (['main.cjs', 'main.cjs.code-cache', 'read-worker.js', 'run-watch.cjs', 'serve.cjs'].every((f) => existsSync(join(ROOT, 'dist', 'bundle', f)))) return;
  const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`npm run build failed:\n${b.stdout}\n${b.stderr}`);
}

/** The parent's environment without anything that would change colour, config or the log directory. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('PERFMON_') || k === 'FORCE_COLOR' || k === 'NO_COLOR') delete env[k];
  return { ...env, ...extra };
}

/** How a process that ran to completion ended, and all it wrote. */
export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Working directory; ROOT unless given (relative fixture paths are from the repository root). */
  cwd?: string;
  /** Added to cleanEnv(). */
  env?: Record<string, string>;
  /** Written to stdin, which is then closed (closed at once when absent). */
  input?: string;
  /** Killed after this long; 20 s unless given. */
  timeoutMs?: number;
}

/**
 * Runs a command to completion without blocking, so the tests of a describe.concurrent overlap.
 * Resolves whatever the exit status (the test judges it); rejects only when it cannot start.
 */
export function runProcess(cmd: string, args: string[], o: RunOptions = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: o.cwd ?? ROOT, env: cleanEnv(o.env), stdio: ['pipe', 'pipe', 'pipe'], timeout: o.timeoutMs ?? 20_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.on('error', () => {}); // a child that exits early is reported through its status
    child.stdin.end(o.input ?? '');
  });
}

/** `perfmon ARGS` through bin/perfmon.js, as a user runs it. */
export function runPerfmon(args: string[], o: RunOptions = {}): Promise<Run> {
  return runProcess(process.execPath, [BIN, ...args], o);
}

const temps: string[] = [];

/** A fresh directory under the OS temp dir; removed by removeTempDirs(), which each test file calls from its afterAll. */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

/** Removes every directory tempDir() made in this test file (vitest gives each file its own copy of this module). */
export function removeTempDirs(): void {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
}
