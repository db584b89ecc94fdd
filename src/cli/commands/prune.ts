import { Command } from 'commander';
import { stat } from 'node:fs/promises';
import { PerfmonError } from '../../errors.js';
import { pruneExpired } from '../../record/retention.js';
import { collect, resolveCommon, type CliIO, type CommonOptions } from '../context.js';

interface PruneFlags extends CommonOptions {
  retentionHours?: string;
  dryRun?: boolean;
}

export function pruneCommand(io: CliIO): Command {
  return new Command('prune')
    .description('delete perfmon log files whose hour ended more than the retention ago (other files are never touched)')
    .option('-d, --dir <dir>', 'log directory (repeatable)', collect)
    .option('-c, --config <file>', 'configuration file')
    .option('--retention-hours <n>', 'override metricsRetentionHours')
    .option('-n, --dry-run', 'list what would be deleted, delete nothing')
    .action(async (flags: PruneFlags) => {
      const { config, dirs } = resolveCommon(io, flags);
      const hours = flags.retentionHours === undefined ? config.metricsRetentionHours : Number(flags.retentionHours);
      if (!Number.isFinite(hours) || hours < 0) {
        throw new PerfmonError('BAD_ARGUMENT', `invalid --retention-hours "${flags.retentionHours}": expected a number >= 0`, 2);
      }
      if (hours === 0) {
        io.stderr.write('retention is 0 (keep everything): nothing pruned\n');
        return;
      }
      for (const dir of dirs) {
        const st = await stat(dir).catch(() => undefined);
        if (!st?.isDirectory()) throw new PerfmonError('DIR_NOT_FOUND', `log directory not found: ${dir} (pass --dir DIR or set PERFMON_DIR)`);
        const removed = pruneExpired(dir, { retentionHours: hours, now: io.now(), dryRun: flags.dryRun });
        for (const path of removed) io.stdout.write(`${flags.dryRun ? 'would delete' : 'deleted'} ${path}\n`);
        if (removed.length === 0) io.stderr.write(`${dir}: nothing older than ${hours} h\n`);
      }
    });
}
