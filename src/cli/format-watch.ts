import type { Colors } from './colors.js';
import type { Issue } from '../detect/types.js';
import type { PerformanceReport } from '../report/types.js';
import type { IssueTransition } from '../watch/issue-tracker.js';
import type { LiveSnapshot } from '../watch/live-monitor.js';
import { severityColor } from './format-issues.js';
import { fixed, int, ms, pct, printable, shortTime, windowLabel } from './text.js';

const BARS = '▁▂▃▄▅▆▇█';

/** A one-line chart of `values`, scaled to their maximum (blank for no data). */
export function sparkline(values: readonly number[]): string {
  const max = Math.max(0, ...values);
  return values.map((v) => (max <= 0 ? ' ' : BARS[Math.min(BARS.length - 1, Math.floor((v / max) * (BARS.length - 1)))])).join('');
}

/**
 * Fits a per-minute series into `width` columns: each column sums its minutes' signals and shows
 * the largest of their p95s (a column's p95 cannot be merged from per-minute p95s exactly).
 */
export function downsample(series: LiveSnapshot['series'], width: number): Array<{ signals: number; p95: number }> {
  if (series.length <= width) return series;
  const per = Math.ceil(series.length / width);
  const out: Array<{ signals: number; p95: number }> = [];
  for (let i = 0; i < series.length; i += per) {
    const group = series.slice(i, i + per);
    out.push({ signals: group.reduce((n, p) => n + p.signals, 0), p95: Math.max(...group.map((p) => p.p95)) });
  }
  return out;
}

/** The periodic summary, in the spirit of the original monitor's log block. */
export function formatSummary(r: PerformanceReport, issues: readonly Issue[], c: Colors): string {
  const u = r.tokenUsage;
  const stages = Object.entries(r.stageBreakdown)
    .map(([name, s]) => `${printable(name, 30)} ${ms(s.averageDuration)}`)
    .join(' · ');
  const lines = [
    c.bold(`[${shortTime(r.window.until)}] perfmon — last ${windowLabel(r.timeWindowMinutes)}`) + c.dim(` (${int(r.records)} records)`),
    `  avg total time ${ms(r.averageTotalTime)} (p95 ${ms(r.p95TotalTime)}) · throughput ${fixed(r.throughput.signalsPerMinute, 2)}/min (${int(r.throughput.totalSignalsProcessed)} signals) · error rate ${pct(r.errorRate)}`,
    `  cache hit rate ${r.cacheEfficiency.totalRequests === 0 ? 'n/a' : pct(r.cacheEfficiency.hitRate)} · tokens today ${int(u.dailyTokens)} (${pct(u.percentOfLimit)} of ${int(u.dailyLimit)}) · queue depth ${int(r.queueMetrics.currentDepth)}`,
    `  stages: ${stages || c.dim('none')}`,
  ];
  if (issues.length === 0) lines.push(`  issues: ${c.green('none')}`);
  for (const i of issues) lines.push(`  ${severityColor(c, i.severity)(i.severity.toUpperCase())} ${i.category}: ${printable(i.message, 300)}`);
  if (r.malformed.count > 0) lines.push(c.yellow(`  ${int(r.malformed.count)} malformed line(s) skipped so far`));
  return lines.join('\n') + '\n';
}

/** One line announcing an issue that appeared, changed or cleared. */
export function formatTransition(t: IssueTransition, c: Colors): string {
  const i = t.issue;
  const time = shortTime(new Date(t.at).toISOString());
  if (t.kind === 'cleared') return `${c.green('▼ cleared')} [${time}] ${i.category}: ${printable(i.message, 300)}\n`;
  const sev = severityColor(c, i.severity)(i.severity.toUpperCase());
  return `${c.bold(t.kind === 'raised' ? '▲ raised' : '◆ changed')} [${time}] ${sev} ${i.category}: ${printable(i.message, 300)} — ${printable(i.recommendation, 300)}\n`;
}

export interface ScreenOptions {
  width: number;
  height: number;
  dirs: readonly string[];
  intervalLabel: string;
  recent: readonly IssueTransition[];
}

/** The live TTY screen as a string: a pure function of the snapshot, so tests render it directly. */
export function renderScreen(s: LiveSnapshot, o: ScreenOptions, c: Colors): string {
  const r = s.report;
  const w = Math.max(40, o.width);
  const out: string[] = [];
  out.push(c.bold.inverse(` perfmon watch `) + ` ${printable(o.dirs.join(', '), w - 40)} ` + c.dim(`· last ${windowLabel(r.timeWindowMinutes)} · summary every ${o.intervalLabel} · q/Ctrl-C to quit`));
  out.push(c.dim(shortTime(r.window.until)));
  out.push('');
  const u = r.tokenUsage;
  out.push(
    `${c.dim('signals')} ${c.bold(int(r.throughput.totalSignalsProcessed))}  ${c.dim('throughput')} ${c.bold(fixed(r.throughput.signalsPerMinute, 2))}/min  ` +
      `${c.dim('avg')} ${c.bold(ms(r.averageTotalTime))}  ${c.dim('p95')} ${c.bold(ms(r.p95TotalTime))}  ${c.dim('errors')} ${r.errorRate > 0 ? c.red(pct(r.errorRate)) : c.green(pct(r.errorRate))}`,
  );
  out.push(
    `${c.dim('cache hit')} ${r.cacheEfficiency.totalRequests === 0 ? 'n/a' : pct(r.cacheEfficiency.hitRate)}  ${c.dim('tokens today')} ${int(u.dailyTokens)} (${pct(u.percentOfLimit)})  ${c.dim('queue')} ${int(r.queueMetrics.currentDepth)}`,
  );
  const points = downsample(s.series, Math.max(10, w - 20));
  out.push(`${c.dim('throughput ')} ${c.cyan(sparkline(points.map((p) => p.signals)))}`);
  out.push(`${c.dim('p95        ')} ${c.magenta(sparkline(points.map((p) => p.p95)))}`);
  out.push('');
  const names = Object.keys(r.stageBreakdown);
  const nameWidth = Math.min(24, Math.max(5, ...names.map((n) => printable(n, 24).length)));
  out.push(c.bold(`${'stage'.padEnd(nameWidth)} ${'count'.padStart(8)} ${'avg'.padStart(10)} ${'p50'.padStart(10)} ${'p95'.padStart(10)} ${'p99'.padStart(10)} ${'errors'.padStart(8)}`));
  for (const name of names) {
    const st = r.stageBreakdown[name]!;
    const errors = int(st.errorCount).padStart(8);
    out.push(
      `${printable(name, 24).padEnd(nameWidth)} ${int(st.count).padStart(8)} ${ms(st.averageDuration).padStart(10)} ${ms(st.p50Duration).padStart(10)} ${ms(st.p95Duration).padStart(10)} ${ms(st.p99Duration).padStart(10)} ${st.errorCount > 0 ? c.red(errors) : errors}`,
    );
  }
  out.push('');
  out.push(c.bold('issues'));
  if (s.issues.length === 0) out.push(c.green('  none'));
  for (const i of s.issues) out.push(`  ${severityColor(c, i.severity)(i.severity.toUpperCase().padEnd(8))} ${i.category}: ${printable(i.message, w - 20)}`);
  if (o.recent.length > 0) {
    out.push('', c.bold('recent changes'));
    for (const t of o.recent.slice(-5)) out.push('  ' + formatTransition(t, c).trimEnd());
  }
  if (r.malformed.count > 0) out.push('', c.yellow(`${int(r.malformed.count)} malformed line(s) skipped`));
  // Lines longer than the terminal are clipped by it; rows beyond its height are dropped here.
  return out.slice(0, Math.max(5, o.height - 1)).join('\n') + '\n';
}
