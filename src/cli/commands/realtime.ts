import { Command } from 'commander';
import { ruleThresholds } from '../../detect/detect-issues.js';
import { evaluateWindow } from '../../detect/evaluate-window.js';
import { parseUntil } from '../../duration.js';
import { REALTIME_WINDOW_MINUTES, realtimeMetrics } from '../../report/realtime.js';
import { collect, resolveCommon, stdoutColor, type CliIO, type CommonOptions } from '../context.js';
import { cacheOptions } from './report.js';
import { fixed, ms, pct } from '../text.js';

interface RealtimeFlags extends CommonOptions {
  until: string;
  cache?: boolean;
  json?: boolean;
}

export function realtimeCommand(io: CliIO): Command {
  return new Command('realtime')
    .description(`the real-time metrics: the last ${REALTIME_WINDOW_MINUTES} minutes in a few figures`)
    .option('-d, --dir <dir>', 'log directory (repeatable)', collect)
    .option('-u, --until <time>', 'now, latest, or an ISO time', 'now')
    .option('-c, --config <file>', 'configuration file')
    .option('--json', 'print the metrics as JSON')
    .option('--no-cache', 'read the logs whole, without the index kept in $XDG_CACHE_HOME/perfmon')
    .action(async (flags: RealtimeFlags) => {
      const { config, dirs } = resolveCommon(io, flags);
      const e = await evaluateWindow({
        dirs,
        windowMinutes: REALTIME_WINDOW_MINUTES,
        until: parseUntil(flags.until),
        now: io.now,
        dailyTokenLimit: config.dailyTokenLimit,
        thresholds: ruleThresholds(config),
        ...cacheOptions(io, flags),
      });
      const m = realtimeMetrics(e.report, e.issues);
      if (flags.json) {
        io.stdout.write(JSON.stringify(m, null, 2) + '\n');
        return;
      }
      const c = stdoutColor(io);
      const rows: Array<[string, string]> = [
        ['Time', m.timestamp],
        ['Throughput', `${fixed(m.currentThroughput, 2)} signals/min`],
        ['Avg latency', ms(m.averageLatency)],
        ['Error rate', pct(m.errorRate)],
        ['Cache hit rate', pct(m.cacheHitRate)],
        ['Queue depth', String(m.queueDepth)],
        ['Token budget', `${pct(m.tokenUsagePercent)} used today`],
        ['Active issues', m.activeIssues === 0 ? c.green('0') : c.yellow(String(m.activeIssues))],
      ];
      io.stdout.write(c.bold(`perfmon realtime — last ${REALTIME_WINDOW_MINUTES} min`) + '\n' + rows.map(([k, v]) => `${c.dim(k.padEnd(14))}  ${v}`).join('\n') + '\n');
    });
}
