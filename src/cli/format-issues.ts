import Table from 'cli-table3';
import type { Colors } from './colors.js';
import type { Evaluation } from '../detect/detect-issues.js';
import type { Check, Issue, Severity } from '../detect/types.js';
import type { PerformanceReport } from '../report/types.js';
import { fixed, printable, shortTime, windowLabel } from './text.js';

export function severityColor(c: Colors, s: Severity): (t: string) => string {
  return s === 'critical' ? c.red.bold : s === 'warning' ? c.yellow : c.cyan;
}

/** Issues as a table, or "no issues" with every figure that was checked. */
export function formatIssues(e: Evaluation, r: PerformanceReport, c: Colors): string {
  const head = c.bold(`perfmon issues — ${windowLabel(r.timeWindowMinutes)} window`) + c.dim(` (${shortTime(r.window.from)} → ${shortTime(r.window.until)})`);
  const out = [head, ''];
  if (e.issues.length === 0) {
    out.push(c.green('No issues.') + ' Checked:');
  } else {
    const table = new Table({
      head: ['severity', 'category', 'issue', 'recommendation'].map((h) => c.bold(h)),
      style: { head: [], border: [] },
      wordWrap: true,
      colWidths: [10, 12, 46, 56],
    });
    for (const i of e.issues) table.push([severityColor(c, i.severity)(i.severity), i.category, printable(i.message, 400), printable(i.recommendation, 600)]);
    out.push(table.toString(), '', 'Checked:');
  }
  for (const ch of e.checks) out.push('  ' + checkLine(ch, c));
  if (r.malformed.count > 0) out.push('', c.yellow(`${r.malformed.count} malformed line(s) skipped (see perfmon report).`));
  return out.join('\n') + '\n';
}

function checkLine(ch: Check, c: Colors): string {
  const mark = ch.status === 'ok' ? c.green('ok  ') : ch.status === 'firing' ? c.red('FIRE') : c.dim('skip');
  if (ch.status === 'skipped') return `${mark} ${ch.label}: ${c.dim(ch.skipped ?? 'not evaluated')}`;
  return `${mark} ${ch.label}: ${value(ch.currentValue, ch.unit)} (threshold ${value(ch.threshold, ch.unit)})`;
}

function value(v: number, unit: Check['unit']): string {
  if (unit === '%') return `${fixed(v, 1)} %`;
  if (unit === 'ms') return `${fixed(v, 1)} ms`;
  if (unit === '/min') return `${fixed(v, 2)}/min`;
  return fixed(v, 0);
}

export function issueSummary(issues: readonly Issue[]): string {
  return issues.map((i) => `${i.severity}: ${i.message}`).join('\n');
}
