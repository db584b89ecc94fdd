import { result, windowText } from './rule-helpers.js';
import type { Rule } from './types.js';

/** No record at all in the window is a warning: the pipeline or its recorder may have stopped. */
export const stalenessRule: Rule = (r) => {
  const firing = r.records === 0;
  const check = { category: 'staleness' as const, label: 'records in window', currentValue: r.records, threshold: 0, unit: '' as const, status: firing ? ('firing' as const) : ('ok' as const) };
  if (!firing) return result(check);
  return result(check, {
    category: 'staleness',
    severity: 'warning',
    message: `No records in the last ${windowText(r.timeWindowMinutes)} (up to ${r.window.until})`,
    currentValue: 0,
    threshold: 0,
    recommendation:
      'Check that the pipeline is running and that it writes to this directory (PERFMON_DIR / --dir); `perfmon report --until latest` shows when the newest record was written.',
  });
};
