import { Command } from 'commander';
import { parseWindow } from '../../duration.js';
import { PerfmonError } from '../../errors.js';
import { checkNamespace, DEFAULT_NAMESPACE } from '../../export/prometheus.js';
import { collect, resolveCommon, type CliIO, type CommonOptions } from '../context.js';

interface ServeFlags extends CommonOptions {
  host: string;
  port: string;
  window: string;
  namespace: string;
}

export const DEFAULT_PORT = 9464;

export function serveCommand(io: CliIO): Command {
  return new Command('serve')
    .description('follow the logs and serve Prometheus metrics and the JSON API over HTTP')
    .option('-d, --dir <dir>', 'log directory; repeat to follow several', collect)
    .option('--host <address>', 'address to bind (loopback unless you say otherwise)', '127.0.0.1')
    .option('-p, --port <port>', 'TCP port', String(DEFAULT_PORT))
    .option('-w, --window <duration>', 'window of the gauges and issues', '30m')
    .option('--namespace <prefix>', 'metric name prefix', DEFAULT_NAMESPACE)
    .option('-c, --config <file>', 'configuration file')
    .addHelpText(
      'after',
      `
Endpoints:
  GET /metrics                      Prometheus text 0.0.4 (OpenMetrics if the Accept header asks)
  GET /api/metrics/realtime         the last 5 minutes, as perfmon realtime --json
  GET /api/metrics/report?window=N  the report, as perfmon report --json (N: minutes or 30m/2h/1d)
  GET /api/metrics/issues           the issues, as perfmon issues --json
  GET /healthz                      liveness and what has been read

Example:
  perfmon serve --dir /var/log/pipeline/perf --port 9464`,
    )
    .action(async (flags: ServeFlags) => {
      const { config, dirs } = resolveCommon(io, flags);
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new PerfmonError('BAD_ARGUMENT', `invalid --port "${flags.port}": expected a whole number from 0 to 65535`, 2);
      }
      for (const d of dirs) {
        const { stat } = await import('node:fs/promises');
        const st = await stat(d).catch(() => undefined);
        if (!st?.isDirectory()) throw new PerfmonError('DIR_NOT_FOUND', `log directory not found: ${d} (pass --dir DIR or set PERFMON_DIR)`);
      }
      const { startServer } = await import('../../serve/server.js');
      const server = await startServer({
        dirs,
        host: flags.host,
        port,
        windowMinutes: parseWindow(flags.window),
        config,
        namespace: checkNamespace(flags.namespace),
        now: io.now,
        onError: (m) => io.stderr.write(`perfmon: ${m}\n`),
      });
      io.stderr.write(`perfmon serve: listening on ${server.url} (metrics at ${server.url}/metrics), following ${dirs.join(', ')}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
    });
}
