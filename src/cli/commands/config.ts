import { Command } from 'commander';
import { collect, resolveCommon, type CliIO, type CommonOptions } from '../context.js';

export function configCommand(io: CliIO): Command {
  return new Command('config')
    .description('print the effective configuration (defaults < config file < PERFMON_* variables) as JSON')
    .option('-c, --config <file>', 'configuration file (default: ./perfmon.config.json if present)')
    .option('-d, --dir <dir>', 'log directory (repeatable)', collect)
    .action((flags: CommonOptions) => {
      const { config, sources, dirs } = resolveCommon(io, flags);
      io.stdout.write(JSON.stringify({ ...config, dirs, sources }, null, 2) + '\n');
    });
}
