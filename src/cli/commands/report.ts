import { Command } from 'commander';
import { parseUntil, parseWindow } from '../../duration.js';
import { defaultCacheDir } from '../../cache/index-store.js';
import { PerfmonError } from '../../errors.js';
import { generateReport } from '../../report/generate-report.js';
import { collect, progressReporter, resolveCommon, stdoutColor, type CliIO, type CommonOptions } from '../context.js';

interface ReportFlags extends CommonOptions {
  window?: string;
  threads?: string;
  cache?: boolean;
  until: string;
  stage?: string[];
  json?: boolean;
  strict?: boolean;
}

/** Adds the options every reading command shares. */
export function windowOptions(cmd: Command): Command {
  return cmd
    .option('-d, --dir <dir>', 'log directory; repeat to merge several (default: $PERFMON_DIR or ./data/performance)', collect)
    .option('-w, --window <duration>', 'window length: minutes (30) or a duration (90s, 30m, 2h, 1d) (default: the retention, 24h)')
    .option('-u, --until <time>', 'end of the window: now, latest (the newest record), or an ISO time', 'now')
    .option('-c, --config <file>', 'configuration file (default: ./perfmon.config.json if present)')
    .option('--threads <n>', 'threads reading large logs (default: one per core; 1: read on one thread)')
    .option('--no-cache', 'read the logs whole, without the index kept in $XDG_CACHE_HOME/perfmon');
}

/** The cache options of a reading command: on unless --no-cache; notices go to stderr once. */
export function cacheOptions(io: CliIO, flags: { cache?: boolean }): { cacheDir?: string; onNotice: (m: string) => void } {
  let noticed = false;
  const onNotice = (m: string) => {
    if (noticed) return;
    noticed = true;
    io.stderr.write(`perfmon: ${m}\n`);
  };
  return flags.cache === false ? { onNotice } : { cacheDir: defaultCacheDir(io.env), onNotice };
}

/** --threads as a number, or undefined for the default. */
export function threadsOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new PerfmonError('BAD_ARGUMENT', `invalid --threads "${value}": expected a whole number from 1 to 256`, 2);
  }
  return n;
}

export function reportCommand(io: CliIO): Command {
  const cmd = new Command('report').description('print the performance report of a window of the logs');
  windowOptions(cmd)
    .option('-s, --stage <name>', 'show only this stage in the breakdown (repeatable)', collect)
    .option('--json', 'print the PerformanceReport as JSON')
    .option('--strict', 'fail (exit 1) when any line is malformed, instead of counting it')
    .addHelpText(
      'after',
      `
Examples:
  perfmon report --window 30                 the last 30 minutes
  perfmon report --window 2h --until latest  the 2 hours up to the newest record
  perfmon report --dir a --dir b --json | jq .throughput`,
    )
    .action(async (flags: ReportFlags) => {
      const { config, dirs } = resolveCommon(io, flags);
      const windowMinutes = flags.window !== undefined ? parseWindow(flags.window) : defaultWindow(config.metricsRetentionHours);
      const progress = progressReporter(io);
      const report = await generateReport({
        dirs,
        windowMinutes,
        until: parseUntil(flags.until),
        strict: flags.strict,
        now: io.now,
        dailyTokenLimit: config.dailyTokenLimit,
        stages: flags.stage,
        threads: threadsOption(flags.threads),
        ...cacheOptions(io, flags),
        onProgress: progress.onProgress,
      }).finally(progress.done);
      // The table's modules load only when a table is printed: --json stays quick to start.
      io.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : (await import('../format-report.js')).formatReport(report, stdoutColor(io)));
    });
  return cmd;
}

/** The default window is the retention (24 h); retention 0 (keep everything) still means a day. */
export function defaultWindow(retentionHours: number): number {
  return (retentionHours > 0 ? retentionHours : 24) * 60;
}
