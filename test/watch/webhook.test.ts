import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Issue } from '../../src/detect/types.js';
import type { IssueTransition, TransitionKind } from '../../src/watch/issue-tracker.js';
import { WebhookNotifier, webhookPayload, type SetTimer } from '../../src/watch/webhook.js';

// WebhookNotifier against a real HTTP server on 127.0.0.1 (port 0) with the real fetch. Only the
// clock and, for the cooldown, the timers are injected; retries use the real timers.

interface Hit {
  at: number;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface TestServer {
  url: string;
  hits: Hit[];
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

const servers: TestServer[] = [];

/** A server that records every request (after its body) and lets `handle` answer it (or not). */
async function startServer(handle: Handler): Promise<TestServer> {
  const hits: Hit[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      hits.push({ at: performance.now(), method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handle(req, res, hits.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const s: TestServer = {
    url: `http://127.0.0.1:${port}/hook`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(s);
  return s;
}

const ok: Handler = (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');

afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
});

beforeAll(async () => {
  // Node loads its fetch implementation on the first call; load it here so that the timing of
  // notify() below measures the notifier, not that one-time module load.
  const s = await startServer(ok);
  await (await fetch(s.url, { method: 'POST', body: '{}' })).text();
  await s.close();
  servers.length = 0;
});

function tokensIssue(severity: 'warning' | 'critical', pct = severity === 'critical' ? 97 : 85): Issue {
  return {
    category: 'tokens',
    severity,
    message: `Today's tokens are ${pct} % of the daily limit`,
    currentValue: pct,
    threshold: severity === 'critical' ? 95 : 80,
    recommendation: 'Cache more prompts or raise dailyTokenLimit.',
  };
}

const queueIssue: Issue = {
  category: 'queue',
  severity: 'warning',
  message: 'Queue depth 250 is above 100',
  currentValue: 250,
  threshold: 100,
  recommendation: 'Add workers.',
};

function transition(kind: TransitionKind, issue: Issue, at = Date.parse('2026-11-26T12:00:00Z')): IssueTransition {
  return { kind, key: issue.stage === undefined ? issue.category : `${issue.category}:${issue.stage}`, issue, at };
}

/** Timers fired by hand. */
function manualTimers() {
  const timers: Array<{ fn: () => void; ms: number; cancelled: boolean; fired: boolean }> = [];
  const setTimer: SetTimer = (fn, ms) => {
    const t = { fn, ms, cancelled: false, fired: false };
    timers.push(t);
    return { cancel: () => void (t.cancelled = true) };
  };
  const fire = (t: (typeof timers)[number]) => {
    expect(t.cancelled, 'firing a cancelled timer').toBe(false);
    t.fired = true;
    t.fn();
  };
  return { timers, setTimer, fire, live: () => timers.filter((t) => !t.cancelled && !t.fired) };
}

const MIN = 60_000;

async function waitForHits(s: TestServer, n: number, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (s.hits.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
}

describe('WebhookNotifier: the post', () => {
  it('POSTs a transition as JSON: a Slack-compatible text naming the category and severity, the event and the issue', async () => {
    const s = await startServer(ok);
    const w = new WebhookNotifier({ url: s.url, cooldownMs: 10 * MIN, retries: 0 });
    const t = transition('raised', tokensIssue('warning'));
    w.notify(t);
    await w.drain(3000);

    expect(s.hits).toHaveLength(1);
    const hit = s.hits[0]!;
    expect(hit.method).toBe('POST');
    expect(hit.url).toBe('/hook');
    expect(hit.headers['content-type']).toBe('application/json');
    const body = JSON.parse(hit.body) as Record<string, unknown>;
    expect(typeof body.text).toBe('string');
    expect(body.text).toContain('tokens');
    expect(body.text).toContain('WARNING');
    expect(body.text).toContain(t.issue.message);
    expect(body.event).toBe('raised');
    expect(body.key).toBe('tokens');
    expect(body.at).toBe('2026-11-26T12:00:00.000Z');
    const issue = body.issue as Issue;
    expect(issue).toEqual(t.issue);
    expect(Object.keys(issue)).toEqual(expect.arrayContaining(['category', 'severity', 'message', 'recommendation']));
    expect(w.stats).toEqual({ posted: 1, failed: 0, retried: 0, suppressed: 0 });
  });

  it('a cleared or changed transition says so in its text, and a source is added to the text and the body', () => {
    const cleared = webhookPayload(transition('cleared', tokensIssue('critical')));
    expect(cleared.event).toBe('cleared');
    expect(cleared.text).toMatch(/tokens cleared/);
    const changed = webhookPayload(transition('changed', tokensIssue('critical')), 'host-a');
    expect(changed.event).toBe('changed');
    expect(changed.text).toMatch(/\[CRITICAL\] tokens is now critical/);
    expect(changed.text).toMatch(/\(host-a\)$/);
    expect(changed.source).toBe('host-a');
  });
});

describe('WebhookNotifier: per-issue cooldown', () => {
  async function setup() {
    const s = await startServer(ok);
    let now = Date.parse('2026-11-26T12:00:00Z');
    const clock = { advance: (ms: number) => void (now += ms) };
    const timers = manualTimers();
    const w = new WebhookNotifier({ url: s.url, cooldownMs: 10 * MIN, retries: 0, now: () => now, setTimer: timers.setTimer });
    const events = () => s.hits.map((h) => (JSON.parse(h.body) as { event: string; key: string; issue: Issue }));
    return { s, w, clock, timers, events };
  }

  it('raised → cleared → raised within the cooldown posts once; the same state at the end of the cooldown posts nothing', async () => {
    const { s, w, clock, timers, events } = await setup();
    w.notify(transition('raised', queueIssue));
    await waitForHits(s, 1);
    clock.advance(1 * MIN);
    w.notify(transition('cleared', queueIssue));
    clock.advance(1 * MIN);
    w.notify(transition('raised', queueIssue));
    expect(w.stats.suppressed).toBe(2);

    // One timer for the key, due when the cooldown that started at the post ends (10 − 1 min).
    expect(timers.live()).toHaveLength(1);
    const cooldown = timers.live()[0]!;
    expect(cooldown.ms).toBe(9 * MIN);

    clock.advance(8 * MIN);
    timers.fire(cooldown);
    await w.drain(500);
    await new Promise((r) => setTimeout(r, 50));
    expect(events().map((e) => e.event)).toEqual(['raised']);
    expect(w.stats.posted).toBe(1);
  });

  it('a different state at the end of the cooldown is posted then (a "cleared" is not lost)', async () => {
    const { s, w, clock, timers, events } = await setup();
    w.notify(transition('raised', queueIssue));
    await waitForHits(s, 1);
    clock.advance(2 * MIN);
    w.notify(transition('cleared', queueIssue));
    clock.advance(1 * MIN);
    w.notify(transition('raised', queueIssue));
    clock.advance(1 * MIN);
    w.notify(transition('cleared', queueIssue));
    expect(s.hits).toHaveLength(1);
    expect(timers.live()).toHaveLength(1);
    expect(timers.live()[0]!.ms).toBe(8 * MIN);

    clock.advance(6 * MIN);
    timers.fire(timers.live()[0]!);
    await w.drain(2000);
    expect(events().map((e) => e.event)).toEqual(['raised', 'cleared']);
    expect(w.stats).toMatchObject({ posted: 2, suppressed: 3 });

    // That post starts a new cooldown: a flap right after it is held again.
    clock.advance(1 * MIN);
    w.notify(transition('raised', queueIssue));
    expect(w.stats.suppressed).toBe(4);
    expect(timers.live()).toHaveLength(1);
    expect(timers.live()[0]!.ms).toBe(9 * MIN);
    await new Promise((r) => setTimeout(r, 50));
    expect(s.hits).toHaveLength(2);
  });

  it('a severity change held by the cooldown is posted when it ends', async () => {
    const { s, w, clock, timers, events } = await setup();
    w.notify(transition('raised', tokensIssue('warning')));
    await waitForHits(s, 1);
    clock.advance(3 * MIN);
    w.notify(transition('changed', tokensIssue('critical')));
    expect(s.hits).toHaveLength(1);
    clock.advance(7 * MIN);
    timers.fire(timers.live()[0]!);
    await w.drain(2000);
    const e = events();
    expect(e.map((x) => x.event)).toEqual(['raised', 'changed']);
    expect(e[1]!.issue.severity).toBe('critical');
  });

  it('after the cooldown a new transition posts at once (and the pending timer is cancelled)', async () => {
    const { s, w, clock, timers, events } = await setup();
    w.notify(transition('raised', queueIssue));
    await waitForHits(s, 1);
    clock.advance(1 * MIN);
    w.notify(transition('cleared', queueIssue));
    const pending = timers.live()[0]!;
    clock.advance(10 * MIN); // the timer has not fired yet (a late timer): the next transition is not held
    w.notify(transition('raised', queueIssue));
    expect(pending.cancelled).toBe(true);
    await w.drain(2000);
    expect(events().map((e) => e.event)).toEqual(['raised', 'raised']);
  });

  it('keys are independent: one issue in cooldown does not hold another', async () => {
    const { s, w, clock, timers, events } = await setup();
    w.notify(transition('raised', queueIssue));
    w.notify(transition('raised', tokensIssue('warning')));
    clock.advance(1 * MIN);
    w.notify(transition('cleared', queueIssue)); // held
    w.notify(transition('raised', { ...queueIssue, stage: 'classify' })); // another key: posted
    await w.drain(2000);
    await waitForHits(s, 3);
    expect(events().map((e) => `${e.key} ${e.event}`).sort()).toEqual(['queue raised', 'queue:classify raised', 'tokens raised']);
    expect(w.stats.suppressed).toBe(1);
    expect(timers.live().filter((t) => t.ms === 9 * MIN)).toHaveLength(1);
  });

  it('close() cancels the pending cooldown posts', async () => {
    const { s, w, clock, timers } = await setup();
    w.notify(transition('raised', queueIssue));
    await waitForHits(s, 1);
    clock.advance(1 * MIN);
    w.notify(transition('cleared', queueIssue));
    const pending = timers.live()[0]!;
    w.close();
    expect(pending.cancelled).toBe(true);
  });
});

describe('WebhookNotifier: failures', () => {
  it('retries a failing endpoint (500, 500, then 200) with exponential backoff and posts once', async () => {
    const s = await startServer((_req, res, n) => res.writeHead(n <= 2 ? 500 : 200).end(n <= 2 ? 'boom' : 'ok'));
    const onError = vi.fn();
    const w = new WebhookNotifier({ url: s.url, cooldownMs: 10 * MIN, retries: 4, baseDelayMs: 10, onError });
    const t0 = performance.now();
    w.notify(transition('raised', queueIssue));
    await w.drain(5000);
    expect(performance.now() - t0).toBeLessThan(3000);

    expect(s.hits).toHaveLength(3);
    expect(new Set(s.hits.map((h) => h.body)).size).toBe(1); // the same post each time
    expect(w.stats).toEqual({ posted: 1, failed: 0, retried: 2, suppressed: 0 });
    expect(onError).not.toHaveBeenCalled();
    // Backoff: ~10 ms before the second attempt, ~20 ms before the third (timers may be late, never early).
    const gap1 = s.hits[1]!.at - s.hits[0]!.at;
    const gap2 = s.hits[2]!.at - s.hits[1]!.at;
    expect(gap1).toBeGreaterThanOrEqual(8);
    expect(gap2).toBeGreaterThanOrEqual(18);
  });

  it('an endpoint that never answers: notify() returns at once, drain is bounded, and the post ends failed with one error', async () => {
    const s = await startServer(() => {}); // accepts, reads the request, never responds
    const onError = vi.fn();
    const w = new WebhookNotifier({ url: s.url, cooldownMs: 10 * MIN, retries: 1, baseDelayMs: 10, timeoutMs: 200, onError });

    const t0 = performance.now();
    w.notify(transition('raised', queueIssue));
    const notifyMs = performance.now() - t0;
    expect(notifyMs).toBeLessThan(5);

    // A short drain returns when its limit is up, with the post still under way.
    const d0 = performance.now();
    await w.drain(50);
    const drainMs = performance.now() - d0;
    expect(drainMs).toBeGreaterThanOrEqual(40);
    expect(drainMs).toBeLessThan(180);
    expect(w.stats.failed).toBe(0);

    // Two attempts of 200 ms each (plus 10 ms backoff), then failure.
    await w.drain(3000);
    expect(performance.now() - t0).toBeLessThan(2500);
    await waitForHits(s, 2);
    expect(s.hits).toHaveLength(2);
    expect(w.stats).toEqual({ posted: 0, failed: 1, retried: 1, suppressed: 0 });
    expect(onError).toHaveBeenCalledTimes(1);
    const message = onError.mock.calls[0]![0] as string;
    expect(message).toContain(s.url);
    expect(message).toContain('queue raised');
  });

  it('a 4xx other than 429 is not retried', async () => {
    const s = await startServer((_req, res) => res.writeHead(404).end('no such hook'));
    const onError = vi.fn();
    const w = new WebhookNotifier({ url: s.url, cooldownMs: 10 * MIN, retries: 4, baseDelayMs: 10, onError });
    w.notify(transition('raised', queueIssue));
    await w.drain(3000);
    await new Promise((r) => setTimeout(r, 100)); // a retry would come within 10 ms
    expect(s.hits).toHaveLength(1);
    expect(w.stats).toEqual({ posted: 0, failed: 1, retried: 0, suppressed: 0 });
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]![0]).toContain('HTTP 404');
  });

  it('429 (rate limited) is retried', async () => {
    const s = await startServer((_req, res, n) => res.writeHead(n === 1 ? 429 : 200).end());
    const w = new WebhookNotifier({ url: s.url, cooldownMs: 10 * MIN, retries: 4, baseDelayMs: 10 });
    w.notify(transition('raised', queueIssue));
    await w.drain(3000);
    expect(s.hits).toHaveLength(2);
    expect(w.stats).toEqual({ posted: 1, failed: 0, retried: 1, suppressed: 0 });
  });

  it('a refused connection fails after its retries without throwing into the caller', async () => {
    const s = await startServer(ok);
    const url = s.url;
    await s.close();
    servers.length = 0;
    const onError = vi.fn();
    const w = new WebhookNotifier({ url, cooldownMs: 0, retries: 2, baseDelayMs: 5, onError });
    expect(() => w.notify(transition('raised', queueIssue))).not.toThrow();
    await w.drain(3000);
    expect(w.stats).toMatchObject({ posted: 0, failed: 1, retried: 2 });
    expect(onError).toHaveBeenCalledTimes(1);
  });
});
