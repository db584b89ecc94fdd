/**
 * The Tailer against real files (DESIGN §1–2): each test drives `poll()` itself (the injected
 * re-scan trigger), writes and rotates files the way writers and logrotate do, and checks that the
 * set of records delivered is exactly the set written: every signalId once, none lost, none twice.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  appendFileSync,
  closeSync,
  copyFileSync,
  mkdtempSync,
  openSync,
  readFileSync,
  statSync,
  renameSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Tailer, FINGERPRINT_BYTES } from '../../src/read/tailer.js';
import { MalformedLog } from '../../src/read/malformed.js';
import type { MetricRecord } from '../../src/schema.js';

let dir: string;
const fds: number[] = [];
const tailers: Tailer[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'perfmon-tailer-'));
  clock = BASE;
});

afterEach(async () => {
  for (const t of tailers.splice(0)) await t.close();
  for (const fd of fds.splice(0)) closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
});

const BASE = Date.UTC(2026, 10, 27, 10, 15, 0, 0);
/** Each written line gets the next millisecond, as a busy pipeline's records do. */
let clock = BASE;

/** One stage line with a unique signalId. */
function line(id: string, ts = clock++, stage = 'total', durationMs = 100.25): string {
  return `{"ts":"${new Date(ts).toISOString()}","stage":"${stage}","durationMs":${durationMs},"success":true,"signalId":"${id}","llmTokens":10}\n`;
}

/** Lines `${tag}-${from}` … `${tag}-${to - 1}`; returns their text and ids. */
function batch(tag: string, from: number, to: number): { text: string; ids: string[] } {
  const ids: string[] = [];
  let text = '';
  for (let i = from; i < to; i++) {
    ids.push(`${tag}-${i}`);
    text += line(`${tag}-${i}`);
  }
  return { text, ids };
}

/** Appends lines to a path (a writer opening with O_APPEND for each batch). */
function append(path: string, tag: string, from: number, to: number): string[] {
  const b = batch(tag, from, to);
  appendFileSync(path, b.text);
  return b.ids;
}

/** Appends lines through an already open descriptor (a writer that keeps its file open). */
function appendFd(fd: number, tag: string, from: number, to: number): string[] {
  const b = batch(tag, from, to);
  writeSync(fd, b.text);
  return b.ids;
}

function openAppend(path: string): number {
  const fd = openSync(path, 'a');
  fds.push(fd);
  return fd;
}

interface Harness {
  tailer: Tailer;
  malformed: MalformedLog;
  records: MetricRecord[];
  /** How often each signalId was delivered. */
  seen: Map<string, number>;
}

/** `beforeRecord` runs inside the delivery, i.e. in the middle of a poll's read. */
function tail(options: { since?: number; dirs?: string[]; beforeRecord?: () => void } = {}): Harness {
  const malformed = new MalformedLog();
  const records: MetricRecord[] = [];
  const seen = new Map<string, number>();
  const tailer = new Tailer({
    dirs: options.dirs ?? [dir],
    malformed,
    since: options.since,
    onRecord: (r) => {
      options.beforeRecord?.();
      records.push(r);
      const id = r.type === 'stage' ? (r.signalId ?? '(none)') : `(${r.type})`;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    },
  });
  tailers.push(tailer);
  return { tailer, malformed, records, seen };
}

/** Every id written delivered exactly once, and nothing else (failures name the first few ids). */
function expectExactlyOnce(h: Harness, written: string[]): void {
  const expected = new Set(written);
  expect(expected.size, 'the test wrote each id once').toBe(written.length);
  const twice = [...h.seen].filter(([, n]) => n > 1).map(([id, n]) => `${id}×${n}`);
  const lost = written.filter((id) => !h.seen.has(id));
  const extra = [...h.seen.keys()].filter((id) => !expected.has(id));
  const summary = (ids: string[]) => ({ count: ids.length, first: ids.slice(0, 5) });
  expect({ twice: summary(twice), lost: summary(lost), extra: summary(extra) }).toEqual({
    twice: summary([]),
    lost: summary([]),
    extra: summary([]),
  });
  expect(h.records.length).toBe(written.length);
}

async function pollTimes(t: Tailer, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await t.poll();
}

describe('Tailer: hour roll-over', () => {
  it('follows the next hour’s file from its start while finishing the previous one', async () => {
    const h = tail();
    const f10 = join(dir, 'perfmon-20261127-10.ndjson');
    const f11 = join(dir, 'perfmon-20261127-11.ndjson');
    const written: string[] = [];

    written.push(...append(f10, 'a', 0, 50));
    await h.tailer.poll();
    written.push(...append(f10, 'a', 50, 120));
    await h.tailer.poll();
    expect(h.records.length).toBe(120);

    // The hour turns: new lines go to the 11 file; a slow writer's last batch still lands in 10.
    clock = Date.UTC(2026, 10, 27, 11, 0, 0, 5);
    written.push(...append(f11, 'b', 0, 40));
    written.push(...append(f10, 'a', 120, 130));
    await h.tailer.poll();
    written.push(...append(f11, 'b', 40, 90));
    await pollTimes(h.tailer, 3);

    expectExactlyOnce(h, written);
    expect(h.tailer.tracked().map((t) => t.path).sort()).toEqual([f10, f11]);
    expect(h.malformed.count).toBe(0);
  });

  it('reads files that appear and grow between every poll, each line once', async () => {
    const h = tail();
    const written: string[] = [];
    for (let hour = 0; hour < 6; hour++) {
      const path = join(dir, `perfmon-20261127-${String(hour).padStart(2, '0')}.ndjson`);
      for (let step = 0; step < 4; step++) {
        written.push(...append(path, `h${hour}`, step * 7, step * 7 + 7));
        await h.tailer.poll();
      }
    }
    await h.tailer.poll();
    expectExactlyOnce(h, written);
  });
});

describe('Tailer: rename away and recreate (logrotate create)', () => {
  it('drains the renamed file through its inode and reads the new file from 0', async () => {
    const h = tail();
    const path = join(dir, 'x.ndjson');
    const written: string[] = [];
    const oldFd = openAppend(path);

    written.push(...appendFd(oldFd, 'old', 0, 40));
    await h.tailer.poll();
    written.push(...appendFd(oldFd, 'old', 40, 60)); // not yet polled when the rename happens
    renameSync(path, join(dir, 'x.ndjson.1'));
    writeFileSync(path, ''); // logrotate `create`
    written.push(...append(path, 'new', 0, 30));
    written.push(...appendFd(oldFd, 'old', 60, 70)); // a late writer still holding the old fd
    await h.tailer.poll();
    written.push(...append(path, 'new', 30, 45));
    written.push(...appendFd(oldFd, 'old', 70, 75));
    await pollTimes(h.tailer, 3);

    expectExactlyOnce(h, written);
    expect(h.tailer.tracked().map((t) => t.path).sort()).toEqual([path, join(dir, 'x.ndjson.1')]);
    expect(h.tailer.stats.truncations).toBe(0);
  });

  it('does not read a file again when it is renamed while a scan runs (between readdir and stat)', async () => {
    // A compressed file sorted before x.ndjson is read during the scan: the rename lands after
    // readdir listed "x.ndjson" and before its stat, so this scan sees the old inode under no name.
    const path = join(dir, 'x.ndjson');
    let rotate = false;
    const h = tail({
      beforeRecord: () => {
        if (!rotate) return;
        rotate = false;
        renameSync(path, join(dir, 'x.ndjson.1'));
        writeFileSync(path, '');
      },
    });
    const written = append(path, 'old', 0, 40);
    await h.tailer.poll();
    written.push(...append(path, 'old', 40, 50)); // unpolled at the rename
    const archive = batch('archive', 0, 3);
    writeFileSync(join(dir, 'a.ndjson.1.gz'), gzipSync(archive.text));
    written.push(...archive.ids);
    rotate = true;
    await h.tailer.poll();
    expect(rotate).toBe(false);
    written.push(...append(path, 'new', 0, 10), ...append(join(dir, 'x.ndjson.1'), 'old', 50, 55));
    await pollTimes(h.tailer, 3);
    expectExactlyOnce(h, written);
    expect(h.tailer.tracked().map((t) => t.path).sort()).toEqual([join(dir, 'a.ndjson.1.gz'), path, join(dir, 'x.ndjson.1')]);
  });

  it('reads a recreated file whose first line starts like the renamed one’s (same ms, same stage)', async () => {
    // The first FINGERPRINT_BYTES of a stage line are its ts and stage: two files can share them.
    const h = tail();
    const path = join(dir, 'x.ndjson');
    const first = `{"ts":"${new Date(BASE).toISOString()}","stage":"classify","durationMs":`;
    expect(Buffer.byteLength(first)).toBeGreaterThanOrEqual(FINGERPRINT_BYTES);
    writeFileSync(path, `${first}850.5,"signalId":"old-0"}\n`);
    const written = ['old-0', ...append(path, 'old', 1, 5)];
    await h.tailer.poll();
    renameSync(path, join(dir, 'x.ndjson.1'));
    writeFileSync(path, `${first}12,"signalId":"new-0"}\n`);
    written.push('new-0', ...append(path, 'new', 1, 5));
    await pollTimes(h.tailer, 2);
    expectExactlyOnce(h, written);
  });

  it('reads per-process files of one hour whose first lines share ts and stage', async () => {
    const h = tail();
    const a = join(dir, 'perfmon-20261127-11-host-101.ndjson');
    const b = join(dir, 'perfmon-20261127-11-host-102.ndjson');
    const ts = Date.UTC(2026, 10, 27, 11, 0, 0, 3);
    writeFileSync(a, line('a-0', ts, 'classify', 850.5));
    const written = ['a-0', ...append(a, 'a', 1, 10)];
    await h.tailer.poll();
    writeFileSync(b, line('b-0', ts, 'classify', 12));
    written.push('b-0', ...append(b, 'b', 1, 10));
    await h.tailer.poll();
    written.push(...append(b, 'b', 10, 20), ...append(a, 'a', 10, 20));
    await pollTimes(h.tailer, 2);
    expectExactlyOnce(h, written);
  });
});

describe('Tailer: copy-truncate', () => {
  it('recovers the unpolled lines from the copy: exactly N + M + K records', async () => {
    const h = tail();
    const path = join(dir, 'x.ndjson');
    const written: string[] = [];
    written.push(...append(path, 'n', 0, 40)); // N
    await h.tailer.poll();
    written.push(...append(path, 'm', 0, 25)); // M, never polled from the original
    copyFileSync(path, join(dir, 'x.ndjson.1'));
    truncateSync(path, 0);
    written.push(...append(path, 'k', 0, 15)); // K: fewer bytes than were read
    await h.tailer.poll();
    await pollTimes(h.tailer, 2);

    expectExactlyOnce(h, written);
    expect(h.tailer.stats.truncations).toBe(1);
  });

  it('recovers them too when more is written after the truncation than was read before it', async () => {
    const h = tail();
    const path = join(dir, 'x.ndjson');
    const written: string[] = [];
    written.push(...append(path, 'n', 0, 20));
    await h.tailer.poll();
    written.push(...append(path, 'm', 0, 10));
    copyFileSync(path, join(dir, 'x.ndjson.1'));
    truncateSync(path, 0);
    written.push(...append(path, 'k', 0, 200)); // the size is past the old offset again
    await pollTimes(h.tailer, 3);

    expectExactlyOnce(h, written);
    expect(h.tailer.stats.truncations).toBe(1);
  });

  it('reads nothing twice when the copy is polled before the truncation happens', async () => {
    const h = tail();
    const path = join(dir, 'x.ndjson');
    const written: string[] = [];
    written.push(...append(path, 'n', 0, 40));
    await h.tailer.poll();
    written.push(...append(path, 'm', 0, 25));
    copyFileSync(path, join(dir, 'x.ndjson.1'));
    await h.tailer.poll(); // sees the copy, and the M lines in the original
    expect(h.records.length).toBe(65);
    // Lines written between the copy and the truncation: read from the original before it loses them.
    written.push(...append(path, 'l', 0, 5));
    await h.tailer.poll();
    truncateSync(path, 0);
    written.push(...append(path, 'k', 0, 15));
    await pollTimes(h.tailer, 3);

    expectExactlyOnce(h, written);
  });

  it('recognises a copy made after a scan listed the directory but before it read the truncated file', async () => {
    // A compressed file sorted before x.ndjson is read during the scan: the copy-truncate lands
    // after readdir (so this scan does not list the copy) and before x.ndjson is read.
    const path = join(dir, 'x.ndjson');
    const written: string[] = [];
    let rotate = false;
    const h = tail({
      beforeRecord: () => {
        if (!rotate) return;
        rotate = false;
        copyFileSync(path, join(dir, 'x.ndjson.1'));
        truncateSync(path, 0);
        written.push(...append(path, 'k', 0, 15));
      },
    });
    written.push(...append(path, 'n', 0, 40));
    await h.tailer.poll();
    written.push(...append(path, 'm', 0, 25)); // unpolled: only in the copy after the rotation
    const archive = batch('archive', 0, 3);
    writeFileSync(join(dir, 'a.ndjson.1.gz'), gzipSync(archive.text));
    written.push(...archive.ids);
    rotate = true;
    await h.tailer.poll();
    expect(rotate).toBe(false);
    await pollTimes(h.tailer, 3);
    expectExactlyOnce(h, written);
    expect(h.tailer.stats.truncations).toBe(1);
  });

  it('survives repeated rotations (rotate 3, copytruncate): the older copies are renamed, never re-read', async () => {
    const h = tail();
    const path = join(dir, 'x.ndjson');
    const copy = (n: number) => join(dir, `x.ndjson.${n}`);
    const written: string[] = [];
    for (let round = 0; round < 4; round++) {
      written.push(...append(path, `r${round}a`, 0, 30));
      await h.tailer.poll();
      written.push(...append(path, `r${round}b`, 0, 12)); // unpolled at rotation time
      // logrotate: shift the numbered copies up, drop the oldest, copy, truncate.
      rmSync(copy(3), { force: true });
      for (let n = 2; n >= 1; n--) {
        try {
          renameSync(copy(n), copy(n + 1));
        } catch {
          // not there yet
        }
      }
      copyFileSync(path, copy(1));
      truncateSync(path, 0);
      written.push(...append(path, `r${round}c`, 0, 8));
      await h.tailer.poll();
    }
    await pollTimes(h.tailer, 2);
    expectExactlyOnce(h, written);
    expect(h.tailer.stats.truncations).toBe(4);
  });

  it('loses nothing when the copy-truncate happens while a poll is reading the file', async () => {
    // A file larger than one read chunk (1 MiB): the truncation lands between two reads of a poll.
    const path = join(dir, 'x.ndjson');
    const written: string[] = [];
    let text = '';
    for (let i = 0; i < 12_000; i++) {
      written.push(`big-${i}`);
      text += line(`big-${i}`);
    }
    expect(text.length).toBeGreaterThan(1024 * 1024 + 100_000);
    writeFileSync(path, text);
    let rotated = false;
    // Rotate from inside the first delivery, i.e. after the first chunk was read.
    const h = tail({
      beforeRecord: () => {
        if (rotated) return;
        rotated = true;
        copyFileSync(path, join(dir, 'x.ndjson.1'));
        truncateSync(path, 0);
        written.push(...append(path, 'after', 0, 10));
      },
    });
    await pollTimes(h.tailer, 3);
    expect(rotated).toBe(true);
    expectExactlyOnce(h, written);
  });
});

describe('Tailer: logrotate compress', () => {
  /** gzip FILE: writes FILE.gz, then removes FILE (as gzip does). */
  function gzipAway(path: string): void {
    writeFileSync(`${path}.gz`, gzipSync(readFileSync(path)));
    unlinkSync(path);
  }

  it('does not read again a followed file compressed after a rename (create + compress)', async () => {
    const h = tail();
    const path = join(dir, 'x.ndjson');
    const written: string[] = [];
    const fd = openAppend(path);
    written.push(...appendFd(fd, 'old', 0, 40));
    await h.tailer.poll();
    written.push(...appendFd(fd, 'old', 40, 55)); // unpolled: read through the descriptor
    renameSync(path, `${path}.1`);
    writeFileSync(path, '');
    gzipAway(`${path}.1`);
    written.push(...append(path, 'new', 0, 20));
    await pollTimes(h.tailer, 3);
    expectExactlyOnce(h, written);
  });

  it('does not read again a renamed file compressed at the next rotation (delaycompress)', async () => {
    const h = tail();
    const path = join(dir, 'x.ndjson');
    const written: string[] = [];
    for (let round = 0; round < 3; round++) {
      written.push(...append(path, `r${round}`, 0, 30));
      await h.tailer.poll();
      written.push(...append(path, `r${round}`, 30, 40));
      if (round > 0) {
        renameSync(`${path}.1`, `${path}.2`);
        rmSync(`${path}.3.gz`, { force: true });
        try {
          renameSync(`${path}.2.gz`, `${path}.3.gz`);
        } catch {
          // first compression
        }
        gzipAway(`${path}.2`);
      }
      renameSync(path, `${path}.1`);
      writeFileSync(path, '');
      await h.tailer.poll();
    }
    await pollTimes(h.tailer, 2);
    expectExactlyOnce(h, written);
  });

  it('recovers from the compressed copy what a copy-truncate took (copytruncate + compress)', async () => {
    const h = tail();
    const path = join(dir, 'x.ndjson');
    const written: string[] = [];
    written.push(...append(path, 'n', 0, 40));
    await h.tailer.poll();
    written.push(...append(path, 'm', 0, 25)); // unpolled: only in the copy now
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    gzipAway(`${path}.1`);
    written.push(...append(path, 'k', 0, 15));
    await pollTimes(h.tailer, 3);
    expectExactlyOnce(h, written);
  });

  it('still reads a compressed file of other content that appears later', async () => {
    const h = tail();
    const written = append(join(dir, 'x.ndjson'), 'live', 0, 10);
    await h.tailer.poll();
    const archive = batch('archive', 0, 30);
    writeFileSync(join(dir, 'other.ndjson.1.gz'), gzipSync(archive.text));
    written.push(...archive.ids);
    await pollTimes(h.tailer, 3);
    expectExactlyOnce(h, written);
  });
});

describe('Tailer: deletion', () => {
  it('reads lines appended before an unlink through the open descriptor, then lets the file go', async () => {
    const h = tail();
    const path = join(dir, 'perfmon-20261127-10.ndjson');
    const other = join(dir, 'perfmon-20261127-11.ndjson');
    const written: string[] = [];
    const fd = openAppend(path);
    written.push(...appendFd(fd, 'd', 0, 30));
    written.push(...append(other, 'o', 0, 5));
    await h.tailer.poll();
    written.push(...appendFd(fd, 'd', 30, 50));
    unlinkSync(path);
    written.push(...appendFd(fd, 'd', 50, 55)); // the writer does not know yet
    await h.tailer.poll();

    expectExactlyOnce(h, written);
    expect(h.tailer.tracked().map((t) => t.path)).toEqual([other]);
    // Writes to the deleted inode after it was let go are gone with it; nothing else changes.
    appendFd(fd, 'gone', 0, 5);
    await pollTimes(h.tailer, 2);
    expectExactlyOnce(h, written);
  });

  it('finishes reading a file deleted while a poll is reading it', async () => {
    const path = join(dir, 'perfmon-20261127-10.ndjson');
    const written: string[] = [];
    let text = '';
    for (let i = 0; i < 12_000; i++) {
      written.push(`big-${i}`);
      text += line(`big-${i}`);
    }
    writeFileSync(path, text);
    let deleted = false;
    const h = tail({
      beforeRecord: () => {
        if (deleted) return;
        deleted = true;
        unlinkSync(path);
      },
    });
    await pollTimes(h.tailer, 3);
    expect(deleted).toBe(true);
    expectExactlyOnce(h, written);
    expect(h.tailer.tracked()).toEqual([]);
  });
});

describe('Tailer: lines that arrive in two halves', () => {
  it('holds half a line (not delivered, not malformed) until its newline arrives', async () => {
    const h = tail();
    const path = join(dir, 'x.ndjson');
    const written = append(path, 'w', 0, 3);
    const whole = line('half-0');
    const cut = 37;
    appendFileSync(path, whole.slice(0, cut));
    await pollTimes(h.tailer, 3);
    expect(h.records.length).toBe(3);
    expect(h.malformed.count).toBe(0);
    expect(h.tailer.tracked()[0]!.pending).toBe(cut);

    appendFileSync(path, whole.slice(cut));
    written.push('half-0');
    await pollTimes(h.tailer, 2);
    expectExactlyOnce(h, written);
    expect(h.malformed.count).toBe(0);
    expect(h.tailer.tracked()[0]!.pending).toBe(0);
  });

  it('joins a line split inside a multi-byte UTF-8 character', async () => {
    const h = tail();
    const path = join(dir, 'x.ndjson');
    const stage = 'ünïcode ✓ 日本';
    const bytes = Buffer.from(line('utf-0', BASE, stage));
    const check = Buffer.from('✓');
    const at = bytes.indexOf(check) + 1; // inside the 3-byte ✓
    expect(at).toBeGreaterThan(0);
    appendFileSync(path, bytes.subarray(0, at));
    await h.tailer.poll();
    expect(h.records).toEqual([]);
    appendFileSync(path, bytes.subarray(at, at + 1)); // still one byte short of the character
    await h.tailer.poll();
    expect(h.records).toEqual([]);
    appendFileSync(path, bytes.subarray(at + 1));
    await h.tailer.poll();

    expectExactlyOnce(h, ['utf-0']);
    expect(h.records[0]).toMatchObject({ type: 'stage', stage });
    expect(h.malformed.count).toBe(0);
  });
});

describe('Tailer: truncation and replacement in place', () => {
  it('re-reads from 0 a file truncated to a shorter size with new content', async () => {
    const h = tail();
    const path = join(dir, 'x.ndjson');
    const written = append(path, 'before', 0, 50);
    await h.tailer.poll();
    truncateSync(path, 0);
    written.push(...append(path, 'after', 0, 5));
    await pollTimes(h.tailer, 2);
    expectExactlyOnce(h, written);
    expect(h.tailer.stats.truncations).toBe(1);
    expect(h.tailer.tracked()[0]!.offset).toBe(statSync(path).size);
  });

  it('detects content replaced in place by a larger one (different first bytes) and reads it from 0', async () => {
    const h = tail();
    const path = join(dir, 'x.ndjson');
    const written = append(path, 'v1', 0, 10);
    await h.tailer.poll();
    clock += 1000;
    const replacement = batch('v2', 0, 30);
    writeFileSync(path, replacement.text); // same inode, truncated and rewritten, larger than before
    written.push(...replacement.ids);
    await pollTimes(h.tailer, 2);
    expectExactlyOnce(h, written);
    expect(h.tailer.stats.truncations).toBe(1);
  });
});

describe('Tailer: other files', () => {
  it('reads a gzip file once, however often it polls', async () => {
    const h = tail();
    const b = batch('gz', 0, 20);
    writeFileSync(join(dir, 'x.ndjson.2.gz'), gzipSync(b.text));
    const written = [...b.ids, ...append(join(dir, 'x.ndjson'), 'plain', 0, 5)];
    await pollTimes(h.tailer, 5);
    expectExactlyOnce(h, written);
  });

  it('counts a malformed line once across polls', async () => {
    const h = tail();
    const path = join(dir, 'x.ndjson');
    const written = append(path, 'g', 0, 2);
    appendFileSync(path, '{"ts": oops\n');
    written.push(...append(path, 'g', 2, 4));
    await pollTimes(h.tailer, 3);
    written.push(...append(path, 'g', 4, 6));
    await pollTimes(h.tailer, 3);
    expectExactlyOnce(h, written);
    expect(h.malformed.count).toBe(1);
    expect(h.malformed.first).toEqual([{ file: path, line: 3, reason: expect.stringMatching(/JSON/) }]);
  });

  it('skips the existing content of perfmon files whose hour ended before `since`', async () => {
    const since = Date.UTC(2026, 10, 27, 10, 30);
    const h = tail({ since });
    const old = join(dir, 'perfmon-20261127-09.ndjson');
    append(old, 'old', 0, 10);
    writeFileSync(join(dir, 'perfmon-20261127-08.ndjson.gz'), gzipSync(batch('oldgz', 0, 10).text));
    const written = [...append(join(dir, 'perfmon-20261127-10.ndjson'), 'cur', 0, 10), ...append(join(dir, 'rotated.ndjson.1'), 'any', 0, 10)];
    await h.tailer.poll();
    expectExactlyOnce(h, written);
    // What a late writer appends to the old hour's file from now on is new: it is read.
    written.push(...append(old, 'late', 0, 3));
    await h.tailer.poll();
    expectExactlyOnce(h, written);
  });

  it('delivers nothing on many polls when nothing is new', async () => {
    const h = tail();
    const written = append(join(dir, 'perfmon-20261127-10.ndjson'), 'q', 0, 25);
    await h.tailer.poll();
    const bytes = h.tailer.stats.bytes;
    await pollTimes(h.tailer, 50);
    expectExactlyOnce(h, written);
    expect(h.tailer.stats.bytes).toBe(bytes);
    expect(h.tailer.stats.lines).toBe(25);
  });

  it('folds polls requested while one runs into one more, delivering each line once', async () => {
    const h = tail();
    const path = join(dir, 'x.ndjson');
    const written = append(path, 'c', 0, 10);
    const first = h.tailer.poll();
    written.push(...append(path, 'c', 10, 20));
    const second = h.tailer.poll();
    const third = h.tailer.poll();
    await Promise.all([first, second, third]);
    expectExactlyOnce(h, written);
  });
});

