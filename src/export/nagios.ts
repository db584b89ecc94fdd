import type { Evaluation } from '../detect/detect-issues.js';
import { TOKENS_CRITICAL_PERCENT } from '../detect/tokens.js';
import type { RuleThresholds } from '../detect/types.js';
import type { PerformanceReport } from '../report/types.js';

const STATUS = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;

/**
 * One status line with performance data, as monitoring-plugin runners (Nagios, Icinga, Sensu)
 * expect: `PERFMON CRITICAL - summary | label=value[unit];warn;crit …`.
 */
export function formatNagios(code: 0 | 1 | 2, e: Evaluation, r: PerformanceReport, t: RuleThresholds): string {
  const counted = (['critical', 'warning', 'info'] as const)
    .map((s) => [s, e.issues.filter((i) => i.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);
  const summary =
    e.issues.length === 0
      ? `no issues, ${r.throughput.totalSignalsProcessed} signals in ${r.timeWindowMinutes} min`
      : `${counted.join(', ')}: ${e.issues.map((i) => oneLine(i.message)).join('; ')}`;
  const n = (v: number) => +v.toFixed(3);
  const perf = [
    `signals=${r.throughput.totalSignalsProcessed};;;0`,
    `latency_ms=${n(r.averageTotalTime)}ms;;${t.maxAverageProcessingTime};0`,
    `p95_ms=${n(r.p95TotalTime)}ms;;;0`,
    `error_rate=${n(r.errorRate)}%;;${t.maxErrorRate};0;100`,
    `cache_hit_rate=${n(r.cacheEfficiency.hitRate)}%;${t.minCacheHitRate}:;;0;100`,
    `tokens_pct=${n(r.tokenUsage.percentOfLimit)}%;${t.tokenLimitWarningPercent};${TOKENS_CRITICAL_PERCENT};0`,
    `queue_depth=${r.queueMetrics.currentDepth};${t.maxQueueDepth};;0`,
    `malformed=${r.malformed.count};;;0`,
  ];
  return `PERFMON ${STATUS[code]} - ${summary} | ${perf.join(' ')}\n`;
}

/** The UNKNOWN line for a run that could not evaluate (exit 3). */
export function formatNagiosUnknown(message: string): string {
  return `PERFMON UNKNOWN - ${oneLine(message)}\n`;
}

// The plugin protocol reserves `|` for perfdata and reads only the first line.
function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').replace(/\|/g, '/');
}
