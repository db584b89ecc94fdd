import { runCli } from './program.js';

export { runCli };

/** Runs the CLI on this process's arguments and streams: what bin/perfmon.js calls. */
export async function main(): Promise<void> {
  // Pipes closed early (`perfmon report | head`) are normal for a CLI: end quietly.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  process.exitCode = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    now: Date.now,
  });
}
