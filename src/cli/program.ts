import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { isPerfmonError } from '../errors.js';
import type { CliIO, CliRun } from './context.js';
import { formatNagiosUnknown } from '../export/nagios.js';

/**
 * perfmon's version, from its package.json: read only for `--version`, which names it (the help
 * does not), so that no other run reads and parses the file.
 */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

type MakeCommand = (io: CliIO, run: CliRun) => Command;

/**
 * Each command's module, loaded on demand: a run loads the one it names (a cron job's `perfmon
 * issues` does not load the HTTP server, the watcher or the recorder), help loads them all.
 */
const COMMANDS: ReadonlyArray<[string, () => Promise<MakeCommand>]> = [
  ['report', async () => (await import('./commands/report.js')).reportCommand],
  ['issues', async () => (await import('./commands/issues.js')).issuesCommand],
  ['watch', async () => (await import('./commands/watch.js')).watchCommand],
  ['serve', async () => (await import('./commands/serve.js')).serveCommand],
  ['realtime', async () => (await import('./commands/realtime.js')).realtimeCommand],
  ['prom', async () => (await import('./commands/prom.js')).promCommand],
  ['rules', async () => (await import('./commands/rules.js')).rulesCommand],
  ['cache', async () => (await import('./commands/cache.js')).cacheCommand],
  ['config', async () => (await import('./commands/config.js')).configCommand],
  ['record', async () => (await import('./commands/record.js')).recordCommand],
  ['prune', async () => (await import('./commands/prune.js')).pruneCommand],
];

/**
 * The program with every command; with `only`, just the command it names when it names one
 * (what a run needs); with `null`, none (`--version`). `version` is what `--version` prints.
 */
export async function createProgram(io: CliIO, run: CliRun = { exitCode: 0 }, only?: string | null, version = packageVersion()): Promise<Command> {
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
  const wanted = only === null ? [] : COMMANDS.some(([name]) => name === only) ? COMMANDS.filter(([name]) => name === only) : COMMANDS;
  const commands = await Promise.all(wanted.map(([, load]) => load()));
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
  // The first word not an option names the command (global options take no values).
  const name = argv.find((a) => !a.startsWith('-'));
  const help = argv.includes('--help') || argv.includes('-h');
  const versionOnly = name === undefined && (argv.includes('--version') || argv.includes('-V'));
  // Only a run that may print the version reads it (-V alone or among other short flags).
  const asksVersion = argv.some((a) => a === '--version' || (/^-[^-]/.test(a) && a.includes('V')));
  const program = await createProgram(io, run, help ? undefined : versionOnly ? null : name, asksVersion ? packageVersion() : '');
  const isIssues = name === 'issues';
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
