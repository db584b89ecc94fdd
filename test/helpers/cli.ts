import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the tests that spawn the real CLI share: where it is, a build if dist is missing, a clean env. */

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'perfmon.js');

/** `npm test` builds first; a single test file run on a fresh clone builds here. */
export function ensureBuilt(): void {
  if (existsSync(join(ROOT, 'dist', 'bundle', 'main.js')) && existsSync(join(ROOT, 'dist', 'bundle', 'read-worker.js'))) return;
  const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`npm run build failed:\n${b.stdout}\n${b.stderr}`);
}

/** The parent's environment without anything that would change colour, config or the log directory. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('PERFMON_') || k === 'FORCE_COLOR' || k === 'NO_COLOR') delete env[k];
  return { ...env, ...extra };
}
