import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { HOUR_MS, perfmonFileHour } from './file-name.js';

export interface PruneOptions {
  retentionHours: number;
  now: number;
  dryRun?: boolean;
}

/**
 * Deletes the perfmon files of `dir` whose hour ended before now − retention, and returns their
 * paths. Files with other names are never touched: perfmon only removes what it names itself.
 * Synchronous on purpose: the writer calls it once an hour, at rotation, between batches.
 */
export function pruneExpired(dir: string, o: PruneOptions): string[] {
  const cutoff = o.now - o.retentionHours * HOUR_MS;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const removed: string[] = [];
  for (const name of names.sort()) {
    const hour = perfmonFileHour(name);
    if (hour === undefined || hour + HOUR_MS > cutoff) continue;
    const path = join(dir, name);
    if (!o.dryRun) {
      try {
        unlinkSync(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // another process pruned it
        throw e;
      }
    }
    removed.push(path);
  }
  return removed;
}
