import { Command } from 'commander';
import { parseWindow } from '../../duration.js';
import { PerfmonError } from '../../errors.js';
import { collect, resolveCommon, type CliIO, type CommonOptions } from '../context.js';

export interface WatchFlags extends CommonOptions {
  window: string;
  interval?: string;
  json?: boolean;
  webhook?: string;
  alertCooldown: string;
  screen: boolean;
}


export function watchCommand(io: CliIO): Command {
  return new Command('watch')
    .description('follow the log directory live: a summary every interval, issues when they appear and clear')
    .option('-d, --dir <dir>', 'log directory; repeat to follow several', collect)
    .option('-w, --window <duration>', 'the window the live picture covers (whole minutes)', '30m')
    .option('-i, --interval <duration>', 'how often to print a summary: minutes (10) or 30s/5m (default: logIntervalMinutes)')
    .option('--json', 'print one PerformanceReport (with its issues) per interval, as NDJSON')
    .option('--webhook <url>', 'POST each issue transition as JSON (Slack-compatible "text")')
    .option('--alert-cooldown <duration>', 'at most one webhook post per issue per this long', '10m')
    .option('--no-screen', 'on a terminal, print summary blocks instead of the live screen')
    .option('-c, --config <file>', 'configuration file')
    .addHelpText(
      'after',
      `
On a terminal, watch shows a live screen redrawn every second; piped, it prints one summary block
per interval, and one line whenever an issue is raised, changes severity or clears.

Examples:
  perfmon watch --window 30m --interval 5m
  perfmon watch --json --interval 1m | jq -c '{t: .window.until, p95: .p95TotalTime}'
  perfmon watch --webhook https://hooks.slack.com/services/… --alert-cooldown 15m`,
    )
    .action(async (flags: WatchFlags) => {
      const { config, dirs } = resolveCommon(io, flags);
      const windowMinutes = parseWindow(flags.window);
      const intervalMs = (flags.interval !== undefined ? parseWindow(flags.interval, '--interval') : config.logIntervalMinutes) * 60_000;
      const cooldownMs = parseWindow(flags.alertCooldown, '--alert-cooldown') * 60_000;
      if (flags.webhook !== undefined && !/^https?:\/\//i.test(flags.webhook)) {
        throw new PerfmonError('BAD_ARGUMENT', `invalid --webhook "${flags.webhook}": expected an http:// or https:// URL`, 2);
      }
      const { runWatch } = await import('../run-watch.js');
      await runWatch(io, { dirs, windowMinutes, intervalMs, cooldownMs, flags, config });
    });
}

