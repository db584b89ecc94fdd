import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { isPerfmonError } from '../errors.js';
import { configCommand } from './commands/config.js';
import { issuesCommand } from './commands/issues.js';
import { promCommand } from './commands/prom.js';
import { realtimeCommand } from './commands/realtime.js';
import { watchCommand } from './commands/watch.js';
import { serveCommand } from './commands/serve.js';
import { rulesCommand } from './commands/rules.js';
import { cacheCommand } from './commands/cache.js';
import { pruneCommand } from './commands/prune.js';
import { recordCommand } from './commands/record.js';
import { reportCommand } from './commands/report.js';
import type { CliIO, CliRun } from './context.js';
import { formatNagiosUnknown } from '../export/nagios.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

export function createProgram(io: CliIO, run: CliRun = { exitCode: 0 }): Command {
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
  const commands = [reportCommand, issuesCommand, watchCommand, serveCommand, realtimeCommand, promCommand, rulesCommand, cacheCommand, configCommand, recordCommand, pruneCommand];
  for (const make of commands) {
    const cmd = make(io, run);
    for (const c of [cmd, ...cmd.commands]) c.exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
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

/**
 * Runs the CLI and returns the exit code; errors a user can cause print one line. For `issues`,
 * every failure to evaluate exits 3 (the monitoring-plugin UNKNOWN), with a Nagios line when
 * that format was asked for.
 */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const run: CliRun = { exitCode: 0 };
  const program = createProgram(io, run);
  const isIssues = argv.find((a) => !a.startsWith('-')) === 'issues';
  const unknown = (code: number, message: string): number => {
    if (!isIssues) return code;
    if (/(^|\s)(-f|--format)(=|\s+)nagios\b/.test(argv.join(' '))) io.stdout.write(formatNagiosUnknown(message));
    return 3;
  };
  try {
    await program.parseAsync(argv, { from: 'user' });
    return run.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version "errors" are successes; usage errors were already printed by commander.
      return e.exitCode === 0 ? 0 : unknown(2, e.message);
    }
    if (isPerfmonError(e)) {
      io.stderr.write(`perfmon: ${e.message}\n`);
      if (argv.includes('--debug')) io.stderr.write(`${e.stack}\n`);
      return unknown(e.exitCode, e.message);
    }
    io.stderr.write(`perfmon: unexpected error: ${(e as Error)?.message ?? String(e)}\n`);
    io.stderr.write(argv.includes('--debug') ? `${(e as Error)?.stack}\n` : '(run with --debug for the stack trace; this is a bug, please report it)\n');
    return unknown(1, (e as Error)?.message ?? String(e));
  }
}
