import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { isPerfmonError } from '../errors.js';
import { configCommand } from './commands/config.js';
import { pruneCommand } from './commands/prune.js';
import { recordCommand } from './commands/record.js';
import { reportCommand } from './commands/report.js';
import type { CliIO } from './context.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

export function createProgram(io: CliIO): Command {
  const program = new Command('perfmon')
    .description('Monitor multi-stage pipelines from their NDJSON metric logs.')
    .version(version, '-V, --version')
    .option('--debug', 'print stack traces of errors')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();
  for (const make of [reportCommand, configCommand, recordCommand, pruneCommand]) {
    const cmd = make(io);
    cmd.exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
    program.addCommand(cmd);
  }
  program.addHelpText(
    'after',
    `
Environment:
  PERFMON_DIR      log directory when no --dir is given (default ./data/performance)
  PERFMON_CONFIG   configuration file when no --config is given
  NO_COLOR         disable colours (they are only used on a terminal anyway)

Run "perfmon <command> --help" for a command's options.`,
  );
  return program;
}

/** Runs the CLI and returns the exit code; errors a user can cause print one line. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version "errors" are successes; usage errors were already printed by commander.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (isPerfmonError(e)) {
      io.stderr.write(`perfmon: ${e.message}\n`);
      if (argv.includes('--debug')) io.stderr.write(`${e.stack}\n`);
      return e.exitCode;
    }
    io.stderr.write(`perfmon: unexpected error: ${(e as Error)?.message ?? String(e)}\n`);
    io.stderr.write(argv.includes('--debug') ? `${(e as Error)?.stack}\n` : '(run with --debug for the stack trace; this is a bug, please report it)\n');
    return 1;
  }
}
