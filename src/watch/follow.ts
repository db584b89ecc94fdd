import { watch as chokidarWatch } from 'chokidar';

/** How often the directories are re-scanned even without a change event (events can be missed). */
export const RESCAN_MS = 1000;

export interface Follower {
  stop(): Promise<void>;
}

/**
 * Calls `refresh` when a file in `dirs` changes (chokidar events, which are coalesced and can be
 * missed) and at least every `rescanMs` (the backstop). `refresh` must tolerate overlapping
 * calls; the Tailer folds them. Never uses awaitWriteFinish: a half-written line simply waits in
 * the tailer for its newline.
 */
export function follow(dirs: readonly string[], refresh: () => void, rescanMs = RESCAN_MS): Follower {
  const watcher = chokidarWatch([...dirs], { ignoreInitial: true, depth: 0 });
  watcher.on('all', refresh);
  watcher.on('error', () => {}); // the periodic re-scan is the backstop
  const timer = setInterval(refresh, rescanMs);
  return {
    async stop() {
      clearInterval(timer);
      await watcher.close();
    },
  };
}
