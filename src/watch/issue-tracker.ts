import type { Issue } from '../detect/types.js';

export type TransitionKind = 'raised' | 'cleared' | 'changed';

/** An issue appearing, clearing, or changing severity: what watch announces and posts. */
export interface IssueTransition {
  kind: TransitionKind;
  key: string;
  issue: Issue;
  at: number;
}

/** Identity of an issue across ticks: its category and the stage it names, not its numbers. */
export function issueKey(i: Issue): string {
  return i.stage === undefined ? i.category : `${i.category}:${i.stage}`;
}

/** Remembers the active issues and reports only what changed since the last evaluation. */
export class IssueTracker {
  private active = new Map<string, Issue>();

  update(issues: readonly Issue[], at: number): IssueTransition[] {
    const next = new Map<string, Issue>();
    for (const i of issues) next.set(issueKey(i), i);
    const out: IssueTransition[] = [];
    for (const [key, issue] of next) {
      const before = this.active.get(key);
      if (!before) out.push({ kind: 'raised', key, issue, at });
      else if (before.severity !== issue.severity) out.push({ kind: 'changed', key, issue, at });
    }
    for (const [key, issue] of this.active) if (!next.has(key)) out.push({ kind: 'cleared', key, issue, at });
    this.active = next;
    return out;
  }

  get current(): Issue[] {
    return [...this.active.values()];
  }
}
