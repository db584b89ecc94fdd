import { lazyStdio } from './lazy-stdio.js';
import { runCli } from './program.js';

export { runCli };

/** Runs the CLI on this process's arguments and streams: what bin/perfmon.js calls. */
export async function main(): Promise<void> {
  // Pipes closed early (`perfmon report | head`) are normal for a CLI: end quietly.
  const closed = () => process.exit(0);
  const stdout = lazyStdio(1, () => {
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') closed();
      throw e;
    });
    return process.stdout;
  }, closed);
  // A reader of stderr that has gone away is no reason to stop the work.
  const stderr = lazyStdio(2, () => process.stderr, () => {});
  process.exitCode = await runCli(process.argv.slice(2), {
    stdout,
    stderr,
    env: process.env,
    cwd: process.cwd(),
    now: Date.now,
  });
}
