import { Command } from 'commander';
import { ruleThresholds } from '../../detect/detect-issues.js';
import { evaluateWindow } from '../../detect/evaluate-window.js';
import { parseUntil, parseWindow } from '../../duration.js';
import { checkNamespace, DEFAULT_NAMESPACE, formatPrometheus } from '../../export/prometheus.js';
import { writeFileAtomic } from '../../export/textfile.js';
import { resolveCommon, type CliIO, type CommonOptions } from '../context.js';
import { cacheOptions, defaultWindow, threadsOption, windowOptions } from './report.js';

interface PromFlags extends CommonOptions {
  window?: string;
  threads?: string;
  cache?: boolean;
  until: string;
  namespace: string;
  textfile?: string;
}

export function promCommand(io: CliIO): Command {
  const cmd = new Command('prom').description('print the window as Prometheus text exposition format 0.0.4');
  windowOptions(cmd)
    .option('--namespace <prefix>', 'metric name prefix', DEFAULT_NAMESPACE)
    .option('--textfile <path>', "write atomically to PATH (for node_exporter's textfile collector) instead of stdout")
    .addHelpText(
      'after',
      `
Examples:
  perfmon prom --window 5m | promtool check metrics
  perfmon prom --window 5m --textfile /var/lib/node_exporter/textfile/perfmon.prom   # from cron`,
    )
    .action(async (flags: PromFlags) => {
      const namespace = checkNamespace(flags.namespace);
      const { config, dirs } = resolveCommon(io, flags);
      const e = await evaluateWindow({
        dirs,
        windowMinutes: flags.window !== undefined ? parseWindow(flags.window) : defaultWindow(config.metricsRetentionHours),
        until: parseUntil(flags.until),
        now: io.now,
        dailyTokenLimit: config.dailyTokenLimit,
        thresholds: ruleThresholds(config),
        threads: threadsOption(flags.threads),
        ...cacheOptions(io, flags),
      });
      const text = formatPrometheus(e.report, e.issues, { namespace });
      if (flags.textfile !== undefined) writeFileAtomic(flags.textfile, text);
      else io.stdout.write(text);
    });
  return cmd;
}
