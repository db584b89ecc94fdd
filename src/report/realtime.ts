import type { Issue } from '../detect/types.js';
import type { PerformanceReport } from './types.js';

/** The original monitor's real-time snapshot: the last few minutes in one small object. */
export interface RealTimeMetrics {
  timestamp: string;
  /** Signals per minute over the window. */
  currentThroughput: number;
  /** Average signal duration, ms. */
  averageLatency: number;
  /** Percent of signals failed. */
  errorRate: number;
  /** Percent of cache lookups that hit. */
  cacheHitRate: number;
  queueDepth: number;
  activeIssues: number;
  /** Today's tokens as a percent of the daily limit. */
  tokenUsagePercent: number;
}

export const REALTIME_WINDOW_MINUTES = 5;

export function realtimeMetrics(r: PerformanceReport, issues: readonly Issue[]): RealTimeMetrics {
  return {
    timestamp: r.window.until,
    currentThroughput: r.throughput.signalsPerMinute,
    averageLatency: r.averageTotalTime,
    errorRate: r.errorRate,
    cacheHitRate: r.cacheEfficiency.hitRate,
    queueDepth: r.queueMetrics.currentDepth,
    activeIssues: issues.length,
    tokenUsagePercent: r.tokenUsage.percentOfLimit,
  };
}
