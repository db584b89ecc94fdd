import { describe, expect, it } from 'vitest';
import type { Issue } from '../../src/detect/types.js';
import { IssueTracker, issueKey } from '../../src/watch/issue-tracker.js';

// IssueTracker turns the issues of each evaluation into transitions: what `watch` prints and
// posts. "Alerts on change, not every tick": an issue that stays is silent, whatever its numbers.

function issue(over: Partial<Issue> & Pick<Issue, 'category'>): Issue {
  return {
    severity: 'warning',
    message: `${over.category} message`,
    currentValue: 1,
    threshold: 0,
    recommendation: `${over.category} recommendation`,
    ...over,
  };
}

const tokensWarning = (pct: number) =>
  issue({ category: 'tokens', severity: 'warning', currentValue: pct, threshold: 80, message: `tokens at ${pct} %` });
const tokensCritical = (pct: number) =>
  issue({ category: 'tokens', severity: 'critical', currentValue: pct, threshold: 95, message: `tokens at ${pct} %` });

describe('IssueTracker', () => {
  it('reports nothing while there are no issues', () => {
    const t = new IssueTracker();
    expect(t.update([], 1)).toEqual([]);
    expect(t.update([], 2)).toEqual([]);
    expect(t.current).toEqual([]);
  });

  it('raises an issue once when it appears, then stays silent while it stays, even as its numbers change', () => {
    const t = new IssueTracker();
    const first = tokensWarning(81);
    const raised = t.update([first], 1000);
    expect(raised).toEqual([{ kind: 'raised', key: 'tokens', issue: first, at: 1000 }]);

    expect(t.update([tokensWarning(85)], 2000)).toEqual([]);
    expect(t.update([tokensWarning(90.5)], 3000)).toEqual([]);
    // The tracker remembers the newest version of the issue.
    expect(t.current).toEqual([tokensWarning(90.5)]);
  });

  it('announces a severity change (tokens warning → critical, and back) as "changed" with the new issue', () => {
    const t = new IssueTracker();
    t.update([tokensWarning(90)], 1);
    const up = t.update([tokensCritical(96)], 2);
    expect(up).toEqual([{ kind: 'changed', key: 'tokens', issue: tokensCritical(96), at: 2 }]);
    expect(t.update([tokensCritical(97)], 3)).toEqual([]);
    const down = t.update([tokensWarning(94)], 4);
    expect(down).toEqual([{ kind: 'changed', key: 'tokens', issue: tokensWarning(94), at: 4 }]);
  });

  it('clears an issue when it goes, carrying the last version of it, and raises it again when it returns', () => {
    const t = new IssueTracker();
    t.update([tokensWarning(81)], 1);
    t.update([tokensWarning(88)], 2);
    const cleared = t.update([], 3);
    expect(cleared).toEqual([{ kind: 'cleared', key: 'tokens', issue: tokensWarning(88), at: 3 }]);
    expect(t.update([], 4)).toEqual([]);
    expect(t.current).toEqual([]);
    expect(t.update([tokensWarning(82)], 5)).toEqual([{ kind: 'raised', key: 'tokens', issue: tokensWarning(82), at: 5 }]);
  });

  it('keys issues by category and stage, so each is tracked on its own', () => {
    expect(issueKey(issue({ category: 'latency' }))).toBe('latency');
    expect(issueKey(issue({ category: 'latency', stage: 'classify' }))).toBe('latency:classify');
    expect(issueKey(issue({ category: 'latency', stage: 'classify' }))).not.toBe(issueKey(issue({ category: 'errors', stage: 'classify' })));

    const t = new IssueTracker();
    const classify = issue({ category: 'latency', stage: 'classify', severity: 'critical' });
    const extract = issue({ category: 'latency', stage: 'extract', severity: 'critical' });
    const cache = issue({ category: 'cache' });
    const raised = t.update([classify, extract, cache], 10);
    expect(raised.map((x) => [x.kind, x.key])).toEqual([
      ['raised', 'latency:classify'],
      ['raised', 'latency:extract'],
      ['raised', 'cache'],
    ]);

    // One stage recovers, another changes severity, the cache issue stays, errors appear: one
    // transition each, nothing for what stayed.
    const extractWarning = { ...extract, severity: 'warning' as const };
    const errors = issue({ category: 'errors', severity: 'critical' });
    const next = t.update([extractWarning, cache, errors], 20);
    expect(next).toHaveLength(3);
    expect(next).toContainEqual({ kind: 'changed', key: 'latency:extract', issue: extractWarning, at: 20 });
    expect(next).toContainEqual({ kind: 'raised', key: 'errors', issue: errors, at: 20 });
    expect(next).toContainEqual({ kind: 'cleared', key: 'latency:classify', issue: classify, at: 20 });
  });

  it('the same category without and with a stage are different issues', () => {
    const t = new IssueTracker();
    const overall = issue({ category: 'latency', severity: 'critical' });
    const staged = issue({ category: 'latency', severity: 'critical', stage: 'decide' });
    t.update([overall], 1);
    const out = t.update([staged], 2);
    expect(out).toHaveLength(2);
    expect(out).toContainEqual({ kind: 'raised', key: 'latency:decide', issue: staged, at: 2 });
    expect(out).toContainEqual({ kind: 'cleared', key: 'latency', issue: overall, at: 2 });
  });
});
