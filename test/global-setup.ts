import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The CLI keeps an index of the logs in $XDG_CACHE_HOME/perfmon: the suite gets its own, so tests
 * neither read a developer's cache nor leave entries in it, and it is removed when the suite ends.
 * Set here, before the test workers start, so every one of them inherits it.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'perfmon-test-cache-'));
  process.env.XDG_CACHE_HOME = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
