import { generateReports, type ReportOptions } from '../report/generate-report.js';
import type { PerformanceReport } from '../report/types.js';
import { evaluateRules, type Evaluation } from './detect-issues.js';
import type { RuleThresholds } from './types.js';

export interface WindowEvaluation extends Evaluation {
  report: PerformanceReport;
  previous: PerformanceReport;
}

/** Reads the window and the previous one, and runs every rule. */
export async function evaluateWindow(o: ReportOptions & { thresholds: RuleThresholds }): Promise<WindowEvaluation> {
  const { report, previous } = await generateReports(o);
  return { report, previous, ...evaluateRules(report, previous, o.thresholds) };
}
