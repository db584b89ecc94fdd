import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PerfmonConfig } from '../config.js';
import { ruleThresholds } from '../detect/detect-issues.js';
import { evaluateWindow } from '../detect/evaluate-window.js';
import { parseWindow } from '../duration.js';
import { PerfmonError, isPerfmonError } from '../errors.js';
import { OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE, renderOpenMetrics, renderText } from '../export/exposition.js';
import { cumulativeFamilies, reportFamilies } from '../export/prometheus.js';
import { REALTIME_WINDOW_MINUTES, realtimeMetrics } from '../report/realtime.js';
import { CumulativeStats } from '../stats/cumulative.js';
import { follow, type Follower } from '../watch/follow.js';
import { LiveMonitor } from '../watch/live-monitor.js';

export interface ServeOptions {
  dirs: readonly string[];
  host: string;
  port: number;
  /** The window of the gauges and issues (the live picture's length). */
  windowMinutes: number;
  config: PerfmonConfig;
  namespace: string;
  now?: () => number;
  /** Re-scan period; tests set it low. */
  rescanMs?: number;
  onError?: (message: string) => void;
}

export interface RunningServer {
  url: string;
  server: Server;
  live: LiveMonitor;
  /** Reads what was appended now (tests use it instead of waiting for the re-scan). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `perfmon serve`: follows the directories like `watch` and answers from memory. A scrape never
 * re-reads the logs: /metrics renders the live window and the counters kept since start.
 */
export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const now = o.now ?? Date.now;
  const cumulative = new CumulativeStats(now());
  const live = new LiveMonitor({ dirs: o.dirs, windowMinutes: o.windowMinutes, config: o.config, now, onRecord: (r) => cumulative.add(r) });
  await live.poll();
  let lastError: string | undefined;
  const refresh = async (): Promise<void> => {
    try {
      await live.poll();
      lastError = undefined;
    } catch (e) {
      // Keep serving what is known; report the condition once per change, and on /healthz.
      const message = (e as Error).message;
      if (message !== lastError) o.onError?.(message);
      lastError = message;
    }
  };
  let follower: Follower | undefined = follow(o.dirs, () => void refresh(), o.rescanMs);

  // Within the followed window the live picture answers; a longer one is read from the logs.
  const evaluate = async (windowMinutes: number) =>
    windowMinutes <= o.windowMinutes
      ? live.snapshot(windowMinutes)
      : evaluateWindow({ dirs: o.dirs, windowMinutes, now, dailyTokenLimit: o.config.dailyTokenLimit, thresholds: ruleThresholds(o.config) });

  const routes: Record<string, (req: IncomingMessage, url: URL) => Promise<Reply> | Reply> = {
    '/metrics': (req) => {
      const snap = live.snapshot();
      const families = [
        ...reportFamilies(snap.report, snap.issues, { namespace: o.namespace }),
        ...cumulativeFamilies(cumulative, live.malformed.count, { namespace: o.namespace }),
      ];
      const openMetrics = /application\/openmetrics-text/i.test(req.headers.accept ?? '');
      return openMetrics
        ? { status: 200, type: OPENMETRICS_CONTENT_TYPE, body: renderOpenMetrics(families) }
        : { status: 200, type: TEXT_CONTENT_TYPE, body: renderText(families) };
    },
    '/api/metrics/realtime': () => {
      const snap = live.snapshot(REALTIME_WINDOW_MINUTES);
      return json(200, realtimeMetrics(snap.report, snap.issues));
    },
    '/api/metrics/report': async (_req, url) => json(200, (await evaluate(windowParam(url, o.windowMinutes))).report),
    '/api/metrics/issues': async (_req, url) => json(200, (await evaluate(windowParam(url, o.windowMinutes))).issues),
    '/healthz': () =>
      json(lastError === undefined ? 200 : 503, {
        status: lastError === undefined ? 'ok' : 'degraded',
        ...(lastError !== undefined ? { error: lastError } : {}),
        uptimeSeconds: (now() - cumulative.since) / 1000,
        files: live.tailer.stats.files,
        records: cumulative.records,
        malformed: live.malformed.count,
      }),
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const route = routes[url.pathname];
      if (!route) reply = json(404, { error: `not found: ${url.pathname}`, paths: Object.keys(routes) });
      else if (req.method !== 'GET' && req.method !== 'HEAD') reply = { ...json(405, { error: `method ${req.method} not allowed; use GET` }), allow: 'GET, HEAD' };
      else reply = await route(req, url);
    } catch (e) {
      reply = isPerfmonError(e) ? json(400, { error: e.message }) : json(500, { error: (e as Error).message });
    }
    res.writeHead(reply.status, {
      'content-type': reply.type,
      'cache-control': 'no-store',
      ...(reply.allow ? { allow: reply.allow } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : reply.body);
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          e.code === 'EADDRINUSE'
            ? new PerfmonError('PORT_IN_USE', `port ${o.port} on ${o.host} is in use (choose another with --port)`)
            : new PerfmonError('LISTEN_FAILED', `cannot listen on ${o.host}:${o.port}: ${e.message}`),
        ),
      );
      server.listen(o.port, o.host, () => resolve());
    });
  } catch (e) {
    // Nothing to serve: stop following the logs, or their watchers would keep the process alive.
    await follower?.stop();
    follower = undefined;
    await live.close();
    throw e;
  }
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    server,
    live,
    refresh,
    async close() {
      await follower?.stop();
      follower = undefined;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await live.close();
    },
  };
}

interface Reply {
  status: number;
  type: string;
  body: string;
  allow?: string;
}

function json(status: number, value: unknown): Reply {
  return { status, type: 'application/json; charset=utf-8', body: JSON.stringify(value, null, 2) + '\n' };
}

/** `?window=` as minutes or a duration; a bad value is a 400 naming it. */
function windowParam(url: URL, fallback: number): number {
  const raw = url.searchParams.get('window');
  if (raw === null || raw === '') return fallback;
  return parseWindow(raw, 'window');
}
