import type { PerformanceReport, StageBreakdown } from '../report/types.js';
import type { Category, Check, Issue, RuleResult } from './types.js';

/** Builds a rule's result from its one check and, when it fires, its issue. */
export function result(check: Check, issue?: Issue): RuleResult {
  return { checks: [check], issues: issue ? [issue] : [] };
}

export function tooFew(category: Category, label: string, have: number, need: number, unit: Check['unit'], threshold: number, what = 'signals'): RuleResult {
  return result({
    category,
    label,
    currentValue: NaN,
    threshold,
    unit,
    status: 'skipped',
    skipped: `${have} ${what} in the window, ${need} needed (minSamples)`,
  });
}

/** Stages other than the one counting signals, by a figure, largest first. */
export function stagesBy(r: PerformanceReport, key: (s: StageBreakdown) => number): Array<[string, StageBreakdown]> {
  return Object.entries(r.stageBreakdown)
    .filter(([name]) => name !== r.signalStage)
    .sort((a, b) => key(b[1]) - key(a[1]));
}

export function quote(stage: string): string {
  return JSON.stringify(stage.length > 60 ? stage.slice(0, 59) + '…' : stage);
}

export function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

export function fmtPct(p: number): string {
  return `${p.toFixed(1)} %`;
}

export function windowText(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440} d`;
  if (minutes % 60 === 0) return `${minutes / 60} h`;
  return `${+minutes.toFixed(2)} min`;
}
