import { fmtPct, result } from './rule-helpers.js';
import type { Rule } from './types.js';
import { thousands } from '../thousands.js';

export const TOKENS_CRITICAL_PERCENT = 95;

/** Today's tokens above 95 % of the daily limit are critical, above tokenLimitWarningPercent a warning. */
export const tokensRule: Rule = (r, _prev, t) => {
  const u = r.tokenUsage;
  const value = u.percentOfLimit;
  const critical = value > TOKENS_CRITICAL_PERCENT;
  const warning = !critical && value > t.tokenLimitWarningPercent;
  const threshold = critical ? TOKENS_CRITICAL_PERCENT : t.tokenLimitWarningPercent;
  const check = {
    category: 'tokens' as const,
    label: 'daily token budget',
    currentValue: value,
    threshold,
    unit: '%' as const,
    status: critical || warning ? ('firing' as const) : ('ok' as const),
  };
  if (!critical && !warning) return result(check);
  return result(check, {
    category: 'tokens',
    severity: critical ? 'critical' : 'warning',
    message: `Today's ${thousands(u.dailyTokens)} tokens ($${u.dailyCost.toFixed(2)}) are ${fmtPct(value)} of the ${thousands(u.dailyLimit)} daily limit`,
    currentValue: value,
    threshold,
    recommendation: critical
      ? 'The budget runs out today: pause non-urgent work, route calls to a smaller model, or raise dailyTokenLimit if the spend is intended.'
      : 'Cache more prompts, trim prompt context, or move simple calls to a smaller model; raise dailyTokenLimit if the growth is expected.',
  });
};
