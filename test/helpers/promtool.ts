import { spawnSync } from 'node:child_process';

/** Prometheus' own checker: Debian's prometheus package (which CI installs) provides it. */
export const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

/** Fails (never skips) when promtool does not run, saying how to install it. */
export function requirePromtool(): void {
  const v = spawnSync(PROMTOOL, ['--version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) {
    throw new Error(
      `promtool is not installed or does not run (${v.error?.message ?? `exit ${v.status}`}): ` +
        `install Debian's prometheus package (apt-get install prometheus), which provides /usr/bin/promtool; CI installs it. ` +
        `These tests are not skipped without it.`,
    );
  }
}
