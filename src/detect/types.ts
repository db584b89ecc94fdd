import type { AlertThresholds } from '../config.js';
import type { PerformanceReport } from '../report/types.js';

export type Severity = 'critical' | 'warning' | 'info';
export type Category = 'latency' | 'errors' | 'cache' | 'tokens' | 'queue' | 'staleness' | 'throughput' | 'trend';

/** A finding: plain data, the same in the table, JSON, Nagios and Prometheus outputs. */
export interface Issue {
  category: Category;
  severity: Severity;
  message: string;
  currentValue: number;
  threshold: number;
  recommendation: string;
  stage?: string;
}

export interface RuleThresholds extends AlertThresholds {
  minSamples: number;
}

/**
 * What a rule looked at, whether or not it fired, so that "no issues" can show the figures that
 * were checked. `skipped` says why a rule could not speak (too few samples).
 */
export interface Check {
  category: Category;
  label: string;
  currentValue: number;
  threshold: number;
  unit: '' | '%' | 'ms' | '/min';
  status: 'ok' | 'firing' | 'skipped';
  skipped?: string;
}

export interface RuleResult {
  issues: Issue[];
  checks: Check[];
}

/** One rule: (report, previous window's report, thresholds) → issues and the checks behind them. */
export type Rule = (report: PerformanceReport, previous: PerformanceReport | undefined, t: RuleThresholds) => RuleResult;

export const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };
