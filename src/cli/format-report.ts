import Table from 'cli-table3';
import type { Colors } from './colors.js';
import type { PerformanceReport, StageBreakdown } from '../report/types.js';
import { fixed, int, ms, pct, printable, shortTime, usd, windowLabel } from './text.js';

/** The table view of a report: headline figures, the per-stage table, malformed lines. */
export function formatReport(r: PerformanceReport, c: Colors): string {
  const out: string[] = [];
  out.push(
    c.bold(`perfmon report — ${windowLabel(r.timeWindowMinutes)} window`) +
      c.dim(` (${shortTime(r.window.from)} → ${shortTime(r.window.until)}, ${int(r.files)} file${r.files === 1 ? '' : 's'}, ${int(r.records)} records)`),
  );
  out.push('');
  if (r.records === 0) {
    out.push(c.yellow('No records in this window.') + ' Check --dir, or widen it with --window / --until latest.');
    out.push('');
  }
  const t = r.throughput;
  const signalNote =
    r.signalStage === null
      ? c.dim(' (no stage records)')
      : r.signalStage === 'total'
        ? ''
        : c.yellow(` (no "total" stage: counted by the busiest stage, "${printable(r.signalStage)}")`);
  const rows: Array<[string, string]> = [
    ['Signals', `${int(t.totalSignalsProcessed)}${signalNote}`],
    ['Throughput', `${fixed(t.signalsPerMinute, 2)}/min · ${fixed(t.signalsPerHour, 1)}/h (since first record: ${fixed(t.averageSignalsPerMinute, 2)}/min)`],
    ['Avg total time', `${ms(r.averageTotalTime)} · p95 ${ms(r.p95TotalTime)}`],
    ['Error rate', `${colorRate(c, r.errorRate, r.totalErrors)} (${int(r.totalErrors)} failed)`],
    ['Cache hit rate', cacheLine(r, c)],
    ['Tokens (window)', `${int(r.tokenUsage.totalTokens)} · ${usd(r.tokenUsage.totalCost)} · ${fixed(r.tokenUsage.averageTokensPerRequest, 1)}/request`],
    ['Tokens (today)', tokensToday(r, c)],
    ['Queue depth', `now ${int(r.queueMetrics.currentDepth)} · avg ${fixed(r.queueMetrics.averageDepth, 1)} · max ${int(r.queueMetrics.maxDepth)}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) out.push(`${c.dim(k.padEnd(width))}  ${v}`);
  out.push('');

  const stages = Object.keys(r.stageBreakdown);
  if (stages.length > 0) out.push(breakdownTable('stage', r.stageBreakdown, c));
  const models = Object.keys(r.modelBreakdown);
  if (models.length > 0) out.push(breakdownTable('llm model', r.modelBreakdown, c));

  if (r.malformed.count > 0) {
    out.push(c.yellow(`${int(r.malformed.count)} malformed line${r.malformed.count === 1 ? '' : 's'} skipped:`));
    for (const m of r.malformed.first) out.push(`  ${printable(m.file, 200)}:${m.line}: ${printable(m.reason, 120)}`);
    if (r.malformed.count > r.malformed.first.length) out.push(c.dim(`  … and ${int(r.malformed.count - r.malformed.first.length)} more`));
  }
  return out.join('\n').replace(/\n+$/, '') + '\n';
}

function breakdownTable(label: string, rows: Record<string, StageBreakdown>, c: Colors): string {
  const table = new Table({
    head: [label, 'count', 'avg', 'p50', 'p95', 'p99', 'max', 'errors'].map((h) => c.bold(h)),
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const name of Object.keys(rows)) {
    const s = rows[name]!;
    const errors = s.errorCount === 0 ? '0' : c.red(`${int(s.errorCount)} (${pct(s.errorRate)})`);
    table.push([printable(name, 40), int(s.count), ms(s.averageDuration), ms(s.p50Duration), ms(s.p95Duration), ms(s.p99Duration), ms(s.maxDuration), errors]);
  }
  return table.toString() + '\n';
}

function colorRate(c: Colors, rate: number, failed: number): string {
  const text = pct(rate);
  return failed === 0 ? c.green(text) : c.red(text);
}

function cacheLine(r: PerformanceReport, c: Colors): string {
  const e = r.cacheEfficiency;
  if (e.totalRequests === 0) return c.dim('no records with cacheHit');
  return `${pct(e.hitRate)} (${int(e.cacheHits)} hits / ${int(e.totalRequests)} requests)`;
}

function tokensToday(r: PerformanceReport, c: Colors): string {
  const u = r.tokenUsage;
  const share = pct(u.percentOfLimit);
  const colored = u.percentOfLimit > 95 ? c.red(share) : u.percentOfLimit > 80 ? c.yellow(share) : share;
  return `${int(u.dailyTokens)} · ${usd(u.dailyCost)} · ${colored} of the ${int(u.dailyLimit)} daily limit`;
}
