import type { IssueTransition } from './issue-tracker.js';

export type Timer = { cancel(): void };
export type SetTimer = (fn: () => void, ms: number) => Timer;

export interface WebhookOptions {
  url: string;
  /** At most one post per issue per this many ms; a later change is posted when it ends. */
  cooldownMs: number;
  /** Attempts after the first, with exponential backoff. */
  retries?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
  /** Injected for tests: the HTTP client, clock and timers. */
  fetch?: typeof fetch;
  now?: () => number;
  setTimer?: SetTimer;
  onError?: (message: string) => void;
  /** Added to every payload (e.g. the host), so a channel can tell watchers apart. */
  source?: string;
}

export interface WebhookStats {
  posted: number;
  failed: number;
  retried: number;
  suppressed: number;
}

interface KeyState {
  lastPostAt: number;
  lastSignature: string;
  pending: IssueTransition | undefined;
  timer: Timer | undefined;
}

export const defaultSetTimer: SetTimer = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return { cancel: () => clearTimeout(t) };
};

/** The JSON body: a Slack-compatible `text` plus the structured transition. */
export function webhookPayload(t: IssueTransition, source?: string): Record<string, unknown> {
  const i = t.issue;
  const verb = t.kind === 'cleared' ? 'cleared' : t.kind === 'changed' ? `is now ${i.severity}` : 'raised';
  const text =
    t.kind === 'cleared'
      ? `perfmon: ✅ ${i.category} cleared — was: ${i.message}`
      : `perfmon: ${i.severity === 'critical' ? '🔴' : i.severity === 'warning' ? '🟠' : 'ℹ️'} [${i.severity.toUpperCase()}] ${i.category} ${verb} — ${i.message}. ${i.recommendation}`;
  return { text: source ? `${text} (${source})` : text, event: t.kind, key: t.key, at: new Date(t.at).toISOString(), issue: i, ...(source ? { source } : {}) };
}

/**
 * Posts issue transitions to a webhook without ever blocking or failing the watch loop: each
 * post runs on its own, retried with backoff, and a per-issue cooldown bounds the noise.
 */
export class WebhookNotifier {
  readonly stats: WebhookStats = { posted: 0, failed: 0, retried: 0, suppressed: 0 };
  private readonly keys = new Map<string, KeyState>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private readonly setTimer: SetTimer;

  constructor(private readonly o: WebhookOptions) {
    this.fetchFn = o.fetch ?? fetch;
    this.now = o.now ?? Date.now;
    this.setTimer = o.setTimer ?? defaultSetTimer;
  }

  notify(t: IssueTransition): void {
    const now = this.now();
    const state = this.keys.get(t.key);
    if (!state || now - state.lastPostAt >= this.o.cooldownMs) {
      state?.timer?.cancel();
      this.keys.set(t.key, { lastPostAt: now, lastSignature: signature(t), pending: undefined, timer: undefined });
      this.send(t);
      return;
    }
    // In cooldown: keep only the newest state, and post it when the cooldown ends if it differs
    // from what was last posted (so a "cleared" is not lost, but a flap costs nothing).
    this.stats.suppressed++;
    state.pending = t;
    state.timer ??= this.setTimer(() => {
      state.timer = undefined;
      const p = state.pending;
      state.pending = undefined;
      if (p && signature(p) !== state.lastSignature) {
        state.lastPostAt = this.now();
        state.lastSignature = signature(p);
        this.send(p);
      }
    }, state.lastPostAt + this.o.cooldownMs - now);
  }

  /** Waits (at most `ms`) for posts under way, e.g. before exiting. */
  async drain(ms: number): Promise<void> {
    let timer: Timer | undefined;
    // The limit must keep the process alive (the default timers are unref'd): otherwise a drain
    // that waits on a retry backoff leaves nothing running and Node exits 13 (unsettled await).
    const refTimer: SetTimer = (fn, delay) => {
      const t = setTimeout(fn, delay);
      return { cancel: () => clearTimeout(t) };
    };
    const limit = new Promise<void>((resolve) => (timer = (this.o.setTimer ?? refTimer)(resolve, ms)));
    await Promise.race([Promise.allSettled([...this.inflight]), limit]);
    timer?.cancel();
  }

  /** Cancels pending cooldown posts. */
  close(): void {
    for (const s of this.keys.values()) s.timer?.cancel();
  }

  private send(t: IssueTransition): void {
    const p = this.deliver(t).finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  private async deliver(t: IssueTransition): Promise<void> {
    const body = JSON.stringify(webhookPayload(t, this.o.source));
    const retries = this.o.retries ?? 4;
    const base = this.o.baseDelayMs ?? 1000;
    let lastError = '';
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) {
        this.stats.retried++;
        await new Promise<void>((resolve) => this.setTimer(resolve, base * 2 ** (attempt - 1)));
      }
      try {
        const res = await this.fetchFn(this.o.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(this.o.timeoutMs ?? 5000),
        });
        // Drain the body so the connection can be reused.
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          this.stats.posted++;
          return;
        }
        lastError = `HTTP ${res.status}`;
        if (res.status >= 400 && res.status < 500 && res.status !== 429) break; // will not get better
      } catch (e) {
        lastError = (e as Error).message;
      }
    }
    this.stats.failed++;
    this.o.onError?.(`webhook ${this.o.url}: could not post "${t.key} ${t.kind}" (${lastError})`);
  }
}

function signature(t: IssueTransition): string {
  return t.kind === 'cleared' ? 'cleared' : `active:${t.issue.severity}`;
}
