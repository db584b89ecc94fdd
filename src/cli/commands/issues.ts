import { Command, Option } from 'commander';
import { ruleThresholds, exitCodeFor } from '../../detect/detect-issues.js';
import { evaluateWindow } from '../../detect/evaluate-window.js';
import { parseUntil, parseWindow } from '../../duration.js';
import { formatNagios } from '../../export/nagios.js';
import { progressReporter, resolveCommon, stdoutColor, type CliIO, type CliRun, type CommonOptions } from '../context.js';
import { cacheOptions, defaultWindow, threadsOption, windowOptions } from './report.js';

interface IssuesFlags extends CommonOptions {
  window?: string;
  threads?: string;
  cache?: boolean;
  until: string;
  json?: boolean;
  format: 'table' | 'json' | 'nagios';
  failOn: 'warning' | 'critical';
}

export function issuesCommand(io: CliIO, run: CliRun): Command {
  const cmd = new Command('issues').description('detect performance issues; the exit code says the worst severity (for cron and monitoring)');
  windowOptions(cmd)
    .option('--json', 'print the issues as a JSON array (same as --format json)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json', 'nagios']).default('table'))
    .addOption(new Option('--fail-on <severity>', 'lowest severity that makes the exit code non-zero').choices(['warning', 'critical']).default('warning'))
    .addHelpText(
      'after',
      `
Exit codes (monitoring-plugin convention):
  0  no issues, or info only      1  a warning      2  a critical issue
  3  could not evaluate (missing or unreadable directory, bad config, bad arguments)

Examples:
  perfmon issues --window 30
  perfmon issues --window 30 --json --fail-on critical
  perfmon issues --window 15 --format nagios      # for Nagios/Icinga/Sensu check runners`,
    )
    .action(async (flags: IssuesFlags) => {
      const { config, dirs } = resolveCommon(io, flags);
      const windowMinutes = flags.window !== undefined ? parseWindow(flags.window) : defaultWindow(config.metricsRetentionHours);
      const thresholds = ruleThresholds(config);
      const progress = progressReporter(io);
      const e = await evaluateWindow({
        dirs,
        windowMinutes,
        until: parseUntil(flags.until),
        now: io.now,
        dailyTokenLimit: config.dailyTokenLimit,
        thresholds,
        threads: threadsOption(flags.threads),
        ...cacheOptions(io, flags),
        onProgress: progress.onProgress,
      }).finally(progress.done);
      const code = exitCodeFor(e.issues, flags.failOn);
      const format = flags.json ? 'json' : flags.format;
      if (format === 'json') io.stdout.write(JSON.stringify(e.issues, null, 2) + '\n');
      else if (format === 'nagios') io.stdout.write(formatNagios(code, e, e.report, thresholds));
      else io.stdout.write((await import('../format-issues.js')).formatIssues(e, e.report, stdoutColor(io)));
      run.exitCode = code;
    });
  return cmd;
}
