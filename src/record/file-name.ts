/**
 * Log file names (DESIGN §2). The writer appends to `perfmon-YYYYMMDD-HH[-suffix].ndjson`, named by
 * the UTC hour of the write; readers use that hour to skip files outside a window unopened.
 */

export const HOUR_MS = 3_600_000;

const PERFMON_NAME = /^perfmon-(\d{4})(\d{2})(\d{2})-(\d{2})(?:-[^/]*)?\.(?:ndjson|jsonl)(?:\.gz)?$/;
// Any NDJSON log, including logrotate's numbered copies (metrics.ndjson.1, metrics.ndjson.2.gz).
const LOG_NAME = /\.(?:ndjson|jsonl)(?:\.\d+)?(?:\.gz)?$/;

/** The file the writer uses for the hour of `epochMs`. */
export function logFileName(epochMs: number, suffix = ''): string {
  const iso = new Date(epochMs).toISOString();
  return `perfmon-${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${suffix}.ndjson`;
}

/** Start of the UTC hour (epoch ms) a perfmon file name stands for, or undefined for other names. */
export function perfmonFileHour(name: string): number | undefined {
  const m = PERFMON_NAME.exec(name);
  if (!m) return undefined;
  const [y, mo, d, h] = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h);
  // Reject dates Date.UTC silently rolled over (e.g. Feb 30).
  return new Date(ms).getUTCDate() === d ? ms : undefined;
}

/** Whether a directory entry is a log file a reader should consider. Hidden files never are. */
export function isLogFileName(name: string): boolean {
  return !name.startsWith('.') && LOG_NAME.test(name);
}

export function isGzipName(name: string): boolean {
  return name.endsWith('.gz');
}
