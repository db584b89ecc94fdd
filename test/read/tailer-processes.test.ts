/**
 * The Tailer against real writer processes (DESIGN §2): 3–4 children record through the built
 * recorder (dist/, small flushIntervalMs) into one directory while the test polls a Tailer in a
 * loop and, mid-writing, turns the hour, renames the file away and recreates it, copy-truncates
 * it, or deletes a finished file. After the writers exit and a final poll, every record written
 * must have been delivered exactly once.
 *
 * Each child gets an injected clock (1 ms per record from a fixed base, jumping one hour at a
 * given record), and pause points: at each it flushes, prints `paused <i>` and waits for a `go`
 * line on stdin. Pauses make the file operations land exactly where a scenario needs them; the
 * writing between pauses is concurrent with the polls.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MalformedLog } from '../../src/read/malformed.js';
import { Tailer } from '../../src/read/tailer.js';
import { logFileName } from '../../src/record/file-name.js';

const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const HOUR = 3_600_000;
/** The writers' fake clock starts here: 10:40 UTC, so the jump lands in the 11 o'clock file. */
const BASE = Date.UTC(2026, 10, 27, 10, 40, 0, 0);
const FILE_10 = logFileName(BASE);
const FILE_11 = logFileName(BASE + HOUR);

const CHILD_SOURCE = `
const { createRecorder } = await import(${JSON.stringify(pathToFileURL(DIST).href)});
const [dir, tag, countText, baseText, jumpAtText, pausesText] = process.argv.slice(2);
const count = Number(countText);
const jumpAt = Number(jumpAtText);
const pauses = new Set(pausesText ? pausesText.split(',').map(Number) : []);
let clock = Number(baseText);
const recorder = createRecorder({
  dir,
  now: () => clock,
  flushIntervalMs: 3,
  retentionHours: 0,
  onWarning: (m) => process.stderr.write('warning: ' + m + '\\n'),
});
let waiting;
let buffered = '';
process.stdin.setEncoding('utf8').on('data', (s) => {
  buffered += s;
  let nl;
  while ((nl = buffered.indexOf('\\n')) !== -1) {
    buffered = buffered.slice(nl + 1);
    const w = waiting;
    waiting = undefined;
    w?.();
  }
});
const go = () => new Promise((resolve) => (waiting = resolve));
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

process.stdout.write('ready\\n');
await go();
for (let i = 0; i < count; i++) {
  if (pauses.has(i)) {
    recorder.flush();
    process.stdout.write('paused ' + i + '\\n');
    await go();
  }
  if (i === jumpAt) clock += ${HOUR};
  recorder.recordMetric('total', 100 + (i % 900) + 0.25, { signalId: tag + '-' + i, llmTokens: 10 + (i % 7), cacheHit: i % 3 === 0, success: i % 13 !== 0 });
  clock += 1;
  if (i % 8 === 7) await tick();
}
await recorder.close();
const s = recorder.stats();
process.stdout.write('done ' + s.written + ' ' + s.failed + ' ' + s.dropped + '\\n');
process.stdin.destroy();
`;

let work: string;
let childScript: string;
const children: ChildProcess[] = [];
const tailers: Tailer[] = [];
const dirs: string[] = [];

beforeAll(() => {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run "npm run build" before these tests`);
  work = mkdtempSync(join(tmpdir(), 'perfmon-tailproc-'));
  childScript = join(work, 'tail-writer.mjs');
  writeFileSync(childScript, CHILD_SOURCE);
});

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const t of tailers.splice(0)) await t.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'perfmon-tailproc-logs-'));
  dirs.push(d);
  return d;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Writer {
  tag: string;
  count: number;
  proc: ChildProcess;
  out: () => string;
  err: () => string;
  /** Ended, and its output read to the end ('close', which follows 'exit' and the last data). */
  closed: () => boolean;
  exited: Promise<number | null>;
}

function startWriter(dir: string, tag: string, count: number, o: { base?: number; jumpAt?: number; pauses?: number[] } = {}): Writer {
  const args = [childScript, dir, tag, String(count), String(o.base ?? BASE), String(o.jumpAt ?? -1), (o.pauses ?? []).join(',')];
  const proc = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(proc);
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  let closed = false;
  const exited = new Promise<number | null>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', (code) => {
      closed = true;
      resolve(code);
    });
  });
  return { tag, count, proc, out: () => out, err: () => err, closed: () => closed, exited };
}

/** Waits (bounded) until every writer has printed a line matching `re`. */
async function waitAll(writers: Writer[], re: RegExp, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const pending = writers.filter((w) => !re.test(w.out()));
    if (pending.length === 0) return;
    for (const w of pending) {
      if (w.closed()) throw new Error(`${w.tag} exited before printing ${re}: ${w.out()} ${w.err()}`);
    }
    if (Date.now() > deadline) throw new Error(`${pending.map((w) => w.tag).join(', ')} did not print ${re} within ${ms} ms`);
    await sleep(2);
  }
}

function goAll(writers: Writer[]): void {
  for (const w of writers) w.proc.stdin!.write('go\n');
}

/** Waits for the writers to end normally, each having written every record. */
async function finish(writers: Writer[]): Promise<void> {
  await waitAll(writers, /^done /m, 15_000);
  for (const w of writers) {
    expect(await w.exited, w.err()).toBe(0);
    expect(w.out()).toContain(`done ${w.count} 0 0`);
  }
}

/** A Tailer polled back to back until stopped; `hold()` stops polling (after the one in flight). */
class PollLoop {
  readonly seen = new Map<string, number>();
  readonly malformed = new MalformedLog();
  readonly tailer: Tailer;
  polls = 0;
  private held = false;
  private stopped = false;
  private current: Promise<void> = Promise.resolve();
  private readonly done: Promise<void>;

  constructor(dir: string) {
    this.tailer = new Tailer({
      dirs: [dir],
      malformed: this.malformed,
      onRecord: (r) => {
        const id = r.type === 'stage' ? (r.signalId ?? '(none)') : `(${r.type})`;
        this.seen.set(id, (this.seen.get(id) ?? 0) + 1);
      },
    });
    tailers.push(this.tailer);
    this.done = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (!this.held) {
        this.current = this.tailer.poll();
        await this.current;
        this.polls++;
      }
      await sleep(1);
    }
  }

  async hold(): Promise<void> {
    this.held = true;
    await this.current;
  }

  release(): void {
    this.held = false;
  }

  /** Stops the loop, then polls twice more: everything on disk has been read. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
    await this.tailer.poll();
    await this.tailer.poll();
  }

  get delivered(): number {
    let n = 0;
    for (const c of this.seen.values()) n += c;
    return n;
  }
}

function expectEachOnce(loop: PollLoop, writers: Writer[]): void {
  const expected = new Set<string>();
  for (const w of writers) for (let i = 0; i < w.count; i++) expected.add(`${w.tag}-${i}`);
  const twice = [...loop.seen].filter(([, n]) => n > 1).map(([id, n]) => `${id}×${n}`);
  const lost = [...expected].filter((id) => !loop.seen.has(id));
  const extra = [...loop.seen.keys()].filter((id) => !expected.has(id));
  const summary = (ids: string[]) => ({ count: ids.length, first: ids.slice(0, 5) });
  expect({ twice: summary(twice), lost: summary(lost), extra: summary(extra) }).toEqual({
    twice: summary([]),
    lost: summary([]),
    extra: summary([]),
  });
  expect(loop.delivered).toBe(expected.size);
  expect(loop.malformed.count).toBe(0);
}

const COUNT = 3000;

describe('Tailer with concurrent writer processes', () => {
  it('(a) the hour rolls over mid-writing: both hours’ files are followed, each record once', async () => {
    const dir = tempDir();
    const loop = new PollLoop(dir);
    const writers = ['a', 'b', 'c'].map((tag) => startWriter(dir, tag, COUNT, { jumpAt: COUNT / 2 }));
    await waitAll(writers, /^ready$/m);
    goAll(writers);
    await finish(writers);
    const pollsWhileWriting = loop.polls;
    await loop.stop();

    expect(readdirSync(dir).sort()).toEqual([FILE_10, FILE_11]);
    expect(statSync(join(dir, FILE_11)).size).toBeGreaterThan(0);
    expect(pollsWhileWriting).toBeGreaterThan(5);
    expectEachOnce(loop, writers);
  }, 20_000);

  it('(b) the file being written is renamed away and recreated: the old inode is drained, the new one read', async () => {
    const dir = tempDir();
    const path = join(dir, FILE_10);
    const loop = new PollLoop(dir);
    const writers = ['a', 'b', 'c'].map((tag) => startWriter(dir, tag, COUNT, { pauses: [COUNT / 3] }));
    await waitAll(writers, /^ready$/m);
    goAll(writers);
    await waitAll(writers, /^paused /m);
    // logrotate (create): rename, then a new empty file at the path. The writers keep their
    // descriptor: what they write next goes to the renamed inode.
    renameSync(path, `${path}.1`);
    writeFileSync(path, '');
    const renamedSize = statSync(`${path}.1`).size;
    goAll(writers);
    // A pipeline process started after the rotation opens the path: the recreated file.
    const late = startWriter(dir, 'late', COUNT / 2, { base: BASE + 120_000 });
    await waitAll([late], /^ready$/m);
    goAll([late]);
    await finish([...writers, late]);
    await loop.stop();

    // The scenario happened as intended: both files grew after the rotation.
    expect(statSync(`${path}.1`).size).toBeGreaterThan(renamedSize);
    expect(statSync(path).size).toBeGreaterThan(0);
    expectEachOnce(loop, [...writers, late]);
  }, 20_000);

  it('(c) the file being written is copy-truncated: the unpolled lines are recovered from the copy', async () => {
    // The writers are paused around each copy + truncate: lines written between the copy and the
    // truncation would be lost on disk (copytruncate's known window), so with writers running the
    // expected set would have to come from the disk. Paused, the expected set is what they wrote.
    const dir = tempDir();
    const path = join(dir, FILE_10);
    const loop = new PollLoop(dir);
    const writers = ['a', 'b', 'c'].map((tag) => startWriter(dir, tag, COUNT, { pauses: [600, 1000, 2000] }));
    await waitAll(writers, /^ready$/m);
    goAll(writers);

    // First rotation: polls held from pause 600 to pause 1000, so ~1200 lines are in the file
    // but unread when it is copied and truncated: they can only come from the copy.
    await waitAll(writers, /^paused 600$/m);
    await loop.hold();
    const deliveredAtHold = loop.delivered;
    goAll(writers);
    await waitAll(writers, /^paused 1000$/m);
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    expect(loop.delivered).toBe(deliveredAtHold);
    loop.release();
    goAll(writers);

    // Second rotation with the polls running, so that one may be in flight during the truncation.
    await waitAll(writers, /^paused 2000$/m);
    renameSync(`${path}.1`, `${path}.2`);
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    goAll(writers);

    await finish(writers);
    await loop.stop();
    expect(loop.tailer.stats.truncations).toBe(2);
    expectEachOnce(loop, writers);
  }, 20_000);

  it('(d) a finished file is deleted before it was read to its end: the rest is read through the descriptor', async () => {
    const dir = tempDir();
    const loop = new PollLoop(dir);
    const jumpAt = COUNT / 2;
    const writers = ['a', 'b', 'c', 'd'].map((tag) => startWriter(dir, tag, COUNT, { jumpAt, pauses: [jumpAt - 500, jumpAt + 200] }));
    await waitAll(writers, /^ready$/m);
    goAll(writers);
    // Polls held from 500 records before the hour turns to 200 after: the 10 o'clock file is
    // then finished (every writer has flushed into the 11 file), and its last lines are unread.
    await waitAll(writers, new RegExp(`^paused ${jumpAt - 500}$`, "m"));
    await loop.hold();
    const before = statSync(join(dir, FILE_10)).size;
    goAll(writers);
    await waitAll(writers, new RegExp(`^paused ${jumpAt + 200}$`, 'm'));
    const tracked10 = loop.tailer.tracked().find((t) => t.path.endsWith(FILE_10))!;
    expect(statSync(join(dir, FILE_10)).size).toBeGreaterThan(before);
    expect(tracked10.offset).toBeLessThan(statSync(join(dir, FILE_10)).size);
    unlinkSync(join(dir, FILE_10)); // retention, or a person tidying up
    loop.release();
    goAll(writers);

    await finish(writers);
    await loop.stop();
    expect(loop.tailer.tracked().map((t) => t.path)).toEqual([join(dir, FILE_11)]);
    expectEachOnce(loop, writers);
  }, 20_000);
});
