import type { PerfmonConfig } from '../config.js';
import type { PerformanceReport } from '../report/types.js';
import { cacheRule } from './cache.js';
import { errorsRule } from './errors.js';
import { latencyRule } from './latency.js';
import { queueRule } from './queue.js';
import { stalenessRule } from './staleness.js';
import { throughputRule } from './throughput.js';
import { tokensRule } from './tokens.js';
import { trendRule } from './trend.js';
import { SEVERITY_ORDER, type Check, type Issue, type Rule, type RuleThresholds } from './types.js';

export const RULES: readonly Rule[] = [latencyRule, errorsRule, cacheRule, tokensRule, queueRule, stalenessRule, throughputRule, trendRule];

export function ruleThresholds(config: PerfmonConfig): RuleThresholds {
  return { ...config.alertThresholds, minSamples: config.minSamples };
}

export interface Evaluation {
  issues: Issue[];
  checks: Check[];
}

/** Runs every rule; issues sorted critical → warning → info (stable within a severity). */
export function evaluateRules(report: PerformanceReport, previous: PerformanceReport | undefined, t: RuleThresholds): Evaluation {
  const issues: Issue[] = [];
  const checks: Check[] = [];
  for (const rule of RULES) {
    const r = rule(report, previous, t);
    issues.push(...r.issues);
    checks.push(...r.checks);
  }
  issues.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
  return { issues, checks };
}

export function detectIssues(report: PerformanceReport, previous: PerformanceReport | undefined, t: RuleThresholds): Issue[] {
  return evaluateRules(report, previous, t).issues;
}

/** Monitoring-plugin exit code: 0 none or info, 1 warning, 2 critical. */
export function exitCodeFor(issues: readonly Issue[], failOn: 'warning' | 'critical' = 'warning'): 0 | 1 | 2 {
  if (issues.some((i) => i.severity === 'critical')) return 2;
  if (failOn === 'warning' && issues.some((i) => i.severity === 'warning')) return 1;
  return 0;
}
