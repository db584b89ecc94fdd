import ndjson from 'ndjson';
import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { debuglog } from 'node:util';
import type { PerfmonConfig } from '../config.js';
import { PerfmonError } from '../errors.js';
import { IssueTracker, type IssueTransition } from '../watch/issue-tracker.js';
import { follow } from '../watch/follow.js';
import { LiveMonitor, type LiveSnapshot } from '../watch/live-monitor.js';
import { WebhookNotifier } from '../watch/webhook.js';
import { stdoutColor, type CliIO } from './context.js';
import { formatSummary, formatTransition, renderScreen } from './format-watch.js';
import { windowLabel } from './text.js';
import type { WatchFlags } from './commands/watch.js';

// NODE_DEBUG=perfmon traces the loop's steps on stderr.
const debug = debuglog('perfmon');
const REDRAW_MS = 1000;

export interface WatchSetup {
  dirs: string[];
  windowMinutes: number;
  intervalMs: number;
  cooldownMs: number;
  flags: WatchFlags;
  config: PerfmonConfig;
}

/** The watch loop: loaded only when `perfmon watch` runs (it brings chokidar and ndjson). */
export async function runWatch(io: CliIO, s: WatchSetup): Promise<void> {
  const c = stdoutColor(io);
  const screen = s.flags.screen && !s.flags.json && io.stdout.isTTY === true;
  const missing = await firstMissingDir(s.dirs);
  if (missing) throw new PerfmonError('DIR_NOT_FOUND', `log directory not found: ${missing} (pass --dir DIR or set PERFMON_DIR)`);
  const live = new LiveMonitor({ dirs: s.dirs, windowMinutes: s.windowMinutes, config: s.config, now: io.now });
  await live.poll(); // the window's history, before anything is shown

  const tracker = new IssueTracker();
  const recent: IssueTransition[] = [];
  const webhook = s.flags.webhook
    ? new WebhookNotifier({ url: s.flags.webhook, cooldownMs: s.cooldownMs, now: io.now, source: hostname(), onError: (m) => io.stderr.write(`perfmon: ${m}\n`) })
    : undefined;
  const json = s.flags.json ? ndjson.stringify() : undefined;
  json?.pipe(io.stdout);
  let last: LiveSnapshot = live.snapshot();
  // Issues present at start are "raised" at start: the first summary follows straight away.
  const onTransitions = (snap: LiveSnapshot) => {
    for (const t of tracker.update(snap.issues, io.now())) {
      recent.push(t);
      if (recent.length > 20) recent.shift();
      if (!screen && !json) io.stdout.write(formatTransition(t, c));
      webhook?.notify(t);
    }
  };
  const summary = () => {
    last = live.snapshot();
    if (json) json.write({ ...last.report, issues: last.issues });
    else if (!screen) io.stdout.write(formatSummary(last.report, last.issues, c) + '\n');
  };
  const draw = () => {
    if (!screen) return;
    const frame = renderScreen(last, { width: io.stdout.columns || 100, height: io.stdout.rows || 40, dirs: s.dirs, intervalLabel: windowLabel(s.intervalMs / 60_000), recent }, c);
    io.stdout.write('\x1b[H\x1b[2J' + frame);
  };

  let polling = false;
  const refresh = async () => {
    if (polling) return;
    polling = true;
    try {
      await live.poll();
      last = live.snapshot();
      onTransitions(last);
    } catch (e) {
      io.stderr.write(`perfmon: ${(e as Error).message}\n`);
    } finally {
      polling = false;
    }
  };

  // Signals are caught before anything is shown: one that comes right after the first summary
  // (before the follower is set up) must still end with a final summary and exit 0.
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  if (screen) io.stdout.write('\x1b[?1049h\x1b[?25l'); // alternate screen, hidden cursor
  onTransitions(last);
  summary();
  draw();

  const follower = follow(s.dirs, () => void refresh());
  const timers = [setInterval(summary, s.intervalMs), ...(screen ? [setInterval(draw, REDRAW_MS)] : [])];

  await new Promise<void>((resolve) => {
    void stopped.then(resolve);
    if (screen && process.stdin.isTTY) {
      process.stdin.setRawMode(true);
      process.stdin.resume();
      process.stdin.on('data', (d: Buffer) => {
        if (d[0] === 0x71 /* q */ || d[0] === 0x03 /* Ctrl-C in raw mode */) stop();
      });
    }
  });

  debug('watch: stopping');
  for (const t of timers) clearInterval(t);
  await follower.stop();
  debug('watch: file watcher closed');
  if (screen) {
    if (process.stdin.isTTY) {
      process.stdin.setRawMode(false);
      process.stdin.pause();
    }
    io.stdout.write('\x1b[?25h\x1b[?1049l'); // restore the terminal
  }
  await live.poll().catch(() => {});
  debug('watch: final poll done');
  last = live.snapshot();
  onTransitions(last);
  if (json) {
    json.write({ ...last.report, issues: last.issues });
    json.end();
    await new Promise<void>((resolve) => json.once('end', resolve).once('finish', resolve).resume?.());
  } else {
    io.stdout.write(formatSummary(last.report, last.issues, c));
  }
  debug('watch: final summary written');
  await webhook?.drain(3000);
  webhook?.close();
  await live.close();
}

async function firstMissingDir(dirs: readonly string[]): Promise<string | undefined> {
  for (const d of dirs) {
    const st = await stat(d).catch(() => undefined);
    if (!st?.isDirectory()) return d;
  }
  return undefined;
}
