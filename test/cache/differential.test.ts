import { appendFileSync, closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INDEX_PARAMS } from '../../src/cache/file-index.js';
import { checksumText } from '../../src/cache/checksum.js';
import { closeEntry, entryPath, loadEntry, verifyEntry } from '../../src/cache/index-store.js';
import { hourMayHold, listLogFiles } from '../../src/read/list-files.js';
import { MalformedLog } from '../../src/read/malformed.js';
import { readLogFile, recordLineSink } from '../../src/read/read-log-file.js';
import { buildReport } from '../../src/report/build-report.js';
import { generateReport, generateReports } from '../../src/report/generate-report.js';
import { readWindow, type Until } from '../../src/report/read-window.js';
import type { PerformanceReport } from '../../src/report/types.js';
import { readStart, reportBounds, WindowAccumulator } from '../../src/report/window-accumulator.js';
import type { MetricRecord } from '../../src/schema.js';
import { rng as mulberry32 } from '../helpers/rng.js';

/*
 * Differential test of the index cache: after every step of a scripted history of a log directory
 * (appends, half lines, malformed lines, rotation, copy-truncate, truncation, in-place
 * replacement, deletion, gzip, and damage to the cache entry itself), every report computed with
 * the cache must be byte-for-byte the JSON of the same report computed without it.
 */

const at = (iso: string): number => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad test time ${iso}`);
  return ms;
};
const MIN = 60_000;
const NOW = at('2026-11-28T12:00:00.000Z');
const now = () => NOW;

const U_MID = at('2026-11-27T10:17:23.456Z'); // mid-minute
const U_EDGE = at('2026-11-27T10:20:00.000Z'); // on a minute boundary
const U_HOUR = at('2026-11-27T09:59:59.999Z'); // last ms of an hour
const U_NEXT_DAY = at('2026-11-28T00:02:30.500Z'); // the hour files are outside its range
const WINDOWS = [5, 30, 1440];
/** Window × until pairs compared after every step (a subset of the product, to stay fast). */
const PAIRS: Array<[number, Until]> = [
  [5, U_MID],
  [5, U_EDGE],
  [30, U_HOUR],
  [1440, 'latest'],
  [5, U_NEXT_DAY],
];
/** Pairs (of PAIRS) also checked against the naive reference. */
const REFERENCE: Array<[number, Until]> = [
  [5, U_MID],
  [30, U_HOUR],
  [1440, 'latest'],
];
/** Combinations also run through generateReports (previous window, for the issue rules). */
const PREVIOUS: Array<[number, Until]> = [
  [30, U_EDGE],
  [5, 'latest'],
];

const H09 = 'perfmon-20261127-09.ndjson';
const H10 = 'perfmon-20261127-10.ndjson';
const H23 = 'perfmon-20261127-23.ndjson';
const APP = 'app.ndjson';

let LOG: string;
let OTHER: string;
let CACHE: string;
const temps: string[] = [];
const notices: string[] = [];

beforeAll(() => {
  const root = mkdtempSync(join(tmpdir(), 'perfmon-cache-diff-'));
  temps.push(root);
  LOG = join(root, 'logs');
  OTHER = join(root, 'other');
  CACHE = join(root, 'cache');
  mkdirSync(LOG);
  mkdirSync(OTHER);
});
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

// ---- deterministic records ----

const rand = mulberry32(20261127);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
// Unusual stage names on purpose: prototype keys and integer-like keys reorder in plain objects.
const STAGES = ['preprocess', 'classify', 'decide', 'extract', 'total', 'total', 'total', '__proto__', '7', 'constructor'];
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude'];

/** One record line (with its newline) at `ts`; mostly ISO ts, sometimes epoch ms. */
function line(ts: number): string {
  const tsField = rand() < 0.1 ? ts : new Date(ts).toISOString();
  const k = rand();
  let o: Record<string, unknown>;
  if (k < 0.1) o = { ts: tsField, type: 'queue', depth: Math.floor(rand() * 200) };
  else if (k < 0.25)
    o = {
      ts: tsField,
      type: 'llm',
      model: pick(MODELS),
      durationMs: Math.round(rand() * 3_000_000) / 1000,
      llmTokens: Math.floor(rand() * 2000),
      llmCost: Math.round(rand() * 1e7) / 1e9,
      cacheHit: rand() < 0.4,
      success: rand() < 0.95,
    };
  else {
    o = { ts: tsField, stage: pick(STAGES), durationMs: Math.round(rand() * 5_000_000) / 1000, success: rand() < 0.93 };
    if (rand() < 0.5) o.cacheHit = rand() < 0.5;
    if (rand() < 0.4) {
      o.llmTokens = Math.floor(rand() * 900);
      o.llmCost = rand() / 1000;
    }
    if (rand() < 0.3) o.signalId = `sig_${Math.floor(rand() * 1e6)}`;
  }
  return JSON.stringify(o) + '\n';
}

/** `n` lines with ts spread over [from, to), in order with a little jitter (as several writers do). */
function lines(n: number, from: number, to: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const ts = Math.max(from, Math.min(to - 1, Math.floor(from + ((to - from) * i) / n + (rand() - 0.5) * 4000)));
    s += line(ts);
  }
  return s;
}

/** Records exactly on each window's edges and 1 ms either side: the cases a minute index can get wrong. */
function edgeLines(): { h09: string; h10: string } {
  let h09 = '';
  let h10 = '';
  for (const u of [U_MID, U_EDGE, U_HOUR]) {
    for (const w of WINDOWS) {
      for (const b of [u, u - w * MIN, u - 2 * w * MIN]) {
        for (const d of [-1, 0, 1]) {
          const ts = b + d;
          if (ts < at('2026-11-27T09:00:00.000Z')) continue;
          if (ts < at('2026-11-27T10:00:00.000Z')) h09 += line(ts);
          else h10 += line(ts);
        }
      }
    }
  }
  return { h09, h10 };
}

const p = (name: string) => join(LOG, name);
const size = (name: string) => statSync(p(name)).size;
function appendLog(name: string, text: string | Buffer): number {
  const b = typeof text === 'string' ? Buffer.from(text) : text;
  appendFileSync(p(name), b);
  return b.length;
}
/** Replaces a file with new content under a new inode (written aside, renamed over it). */
function replaceByRename(name: string, content: string | Buffer): void {
  const tmp = join(LOG, `.${name}.tmp`);
  writeFileSync(tmp, content);
  renameSync(tmp, p(name));
}
/** Rewrites a file in place: same inode, new content (opened without O_TRUNC, then cut to length). */
function rewriteInPlace(name: string, content: string | Buffer): void {
  const b = typeof content === 'string' ? Buffer.from(content) : content;
  const fd = openSync(p(name), 'r+');
  try {
    writeSync(fd, b, 0, b.length, 0);
  } finally {
    closeSync(fd);
  }
  truncateSync(p(name), b.length);
}
function inode(name: string): number {
  return statSync(p(name)).ino;
}

// ---- the comparison ----

const base = (dirs: string[], windowMinutes: number, until: Until) => ({ dirs, windowMinutes, until, now, dailyTokenLimit: 50_000 });
const cached = { cacheDir: '', onNotice: (m: string) => notices.push(m) };

function same(a: unknown, b: unknown, what: string): void {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  // On a difference, show a structural diff first (far easier to read than two long strings).
  if (x !== y) expect(JSON.parse(x), what).toEqual(JSON.parse(y));
  expect(x, what).toBe(y);
}

let nonEmpty = 0;
/**
 * The reports computed the naive way: every line of every file a window can use, one record at a
 * time into the accumulator (no minute index, no byte ranges, no cache). Both indexed paths must
 * give exactly these. The files are read once for all the pairs.
 */
async function reference(dirs: string[], pairs: Array<[number, Until]>): Promise<PerformanceReport[]> {
  const all = await listLogFiles(dirs);
  const records: MetricRecord[][] = [];
  const malformed: MalformedLog[] = [];
  for (const f of all) {
    const rs: MetricRecord[] = [];
    const m = new MalformedLog();
    await readLogFile(f.path, recordLineSink(f.path, (r) => rs.push(r), m, { fastPath: false }), { gzip: f.gzip, malformed: m });
    records.push(rs);
    malformed.push(m);
  }
  return pairs.map(([windowMinutes, until]) => {
    let u: number;
    if (until === 'latest') {
      u = -Infinity;
      for (const rs of records) for (const r of rs) if (r.ts > u) u = r.ts;
      if (u === -Infinity) u = NOW;
    } else u = until as number;
    const bounds = reportBounds(u, windowMinutes);
    const range = { from: readStart(bounds), until: u };
    const acc = new WindowAccumulator(bounds);
    const bad = new MalformedLog();
    let files = 0;
    all.forEach((f, i) => {
      if (f.hourStart !== undefined && !hourMayHold(f.hourStart, range)) return;
      files++;
      for (const r of records[i]!) acc.add(r);
      bad.merge(malformed[i]!.toJSON());
    });
    return buildReport(acc, { windowMinutes, dailyTokenLimit: 50_000, generatedAt: NOW, malformed: bad.toJSON(), files });
  });
}

/** Fewer pairs, for the steps that damage only the cache entry (the logs barely change). */
const LIGHT: Array<[number, Until]> = [
  [5, U_MID],
  [30, U_EDGE],
  [1440, 'latest'],
];

/**
 * Each window × until pair, cached vs not, plus the previous-window pairs. `dirs` defaults to
 * [LOG]; `light` compares fewer pairs.
 */
async function check(step: string, o: { dirs?: string[]; light?: boolean } = {}): Promise<void> {
  const dirs = o.dirs ?? [LOG];
  cached.cacheDir = CACHE;
  const uncached = new Map<[number, Until], PerformanceReport>();
  for (const pair of o.light ? LIGHT : PAIRS) {
    const [w, until] = pair;
    // Side by side (their file reads overlap); the cached one brings the entry up to date.
    const [c, n] = await Promise.all([generateReport({ ...base(dirs, w, until), ...cached }), generateReport(base(dirs, w, until))]);
    same(c, n, `${step}: window ${w} until ${String(until)}`);
    uncached.set(pair, n);
    if (n.records > 0) nonEmpty++;
  }
  if (!o.light) {
    const refs = await reference(dirs, REFERENCE);
    REFERENCE.forEach((pair, k) => {
      const n = uncached.get(PAIRS.find((q) => q[0] === pair[0] && q[1] === pair[1])!);
      expect(n, 'REFERENCE pairs must be among PAIRS').toBeDefined();
      same(n, refs[k], `${step}: reference, window ${pair[0]} until ${String(pair[1])}`);
    });
  }
  for (const [w, until] of o.light ? PREVIOUS.slice(0, 1) : PREVIOUS) {
    const [c, n] = await Promise.all([generateReports({ ...base(dirs, w, until), ...cached }), generateReports(base(dirs, w, until))]);
    same(c, n, `${step}: generateReports window ${w} until ${String(until)}`);
  }
  expect(notices, `${step}: unexpected cache notices`).toEqual([]);
}

/** Bytes read by a cached run over every file (`latest` lists them all). */
async function bytesRead(dirs: string[] = [LOG]): Promise<number> {
  return (await readWindow({ dirs, windowMinutes: 1440, until: 'latest', now, cacheDir: CACHE, onNotice: cached.onNotice })).bytesRead;
}
function totalLogBytes(): number {
  return [H09, H10, H23, APP].reduce((n, f) => n + (statSync(p(f), { throwIfNoEntry: false })?.size ?? 0), 0);
}

// Damage to the entry file.
const entry = () => entryPath(CACHE, LOG);
function rewriteHeader(fn: (fields: string[]) => string[]): void {
  const raw = readFileSync(entry());
  const nl = raw.indexOf(10);
  const fields = raw.subarray(0, nl).toString('latin1').split(' ');
  writeFileSync(entry(), Buffer.concat([Buffer.from(fn(fields).join(' ') + '\n', 'latin1'), raw.subarray(nl + 1)]));
}
/** Rewrites the head with a valid checksum, as another build of perfmon would write it. */
function rewriteBody(fn: (body: Record<string, unknown>) => void): void {
  const raw = readFileSync(entry());
  const nl = raw.indexOf(10);
  const [magic, version, , headLength, summariesLength, minutesLength] = raw.subarray(0, nl).toString('latin1').split(' ');
  const old = raw.subarray(nl + 1);
  // The head's first line holds the directory and the parameters.
  const lines = old.subarray(0, Number(headLength)).toString('utf8').trimEnd().split('\n');
  const body = JSON.parse(lines[0]!) as Record<string, unknown>;
  fn(body);
  lines[0] = JSON.stringify(body);
  let text = lines.join('\n');
  text += ' '.repeat((8 - (Buffer.byteLength(text) % 8)) % 8);
  const head = Buffer.from(text);
  const rest = old.subarray(Number(headLength));
  const front = Buffer.concat([head, rest.subarray(0, Number(summariesLength))]);
  const header = `${magic} ${version} ${checksumText(front)} ${head.length} ${summariesLength} ${minutesLength}\n`;
  writeFileSync(entry(), Buffer.concat([Buffer.from(header, 'latin1'), head, rest]));
}

describe('cached reports equal uncached reports through a history of the log directory', () => {
  it('holds after every append, rotation, truncation, replacement, deletion and cache damage', async () => {
    const T9 = at('2026-11-27T09:00:00.000Z');
    const T10 = at('2026-11-27T10:00:00.000Z');

    // 0. Initial logs: two hourly files, a late-evening file, and another program's app.ndjson.
    const edges = edgeLines();
    writeFileSync(p(H09), lines(400, T9, T10) + edges.h09);
    writeFileSync(p(H10), lines(400, T10 - 2000, at('2026-11-27T10:40:00.000Z')) + edges.h10);
    writeFileSync(p(H23), lines(150, at('2026-11-27T23:50:00.000Z'), at('2026-11-28T00:05:00.000Z')));
    writeFileSync(p(APP), lines(300, at('2026-11-27T09:30:00.000Z'), at('2026-11-28T00:04:00.000Z')));
    writeFileSync(join(OTHER, H10), lines(300, T10, at('2026-11-27T10:30:00.000Z')));
    await check('initial');
    expect(verifyEntry(CACHE, LOG).entry, 'no entry was saved').toBeDefined();
    expect(await bytesRead(), 'a run over unchanged logs read bytes').toBe(0);

    // 1. Appends: across a minute boundary, into minutes already indexed (out of order), and
    //    into a minute a window boundary cuts.
    let n = appendLog(H10, lines(15, at('2026-11-27T10:40:30.000Z'), at('2026-11-27T10:41:30.000Z')));
    n += appendLog(H10, line(at('2026-11-27T10:16:10.000Z')) + line(U_MID - 5) + line(U_MID + 5) + line(at('2026-11-27T10:03:00.000Z')));
    n += appendLog(H10, line(U_EDGE) + line(U_EDGE - 5 * MIN) + line(U_EDGE - 30 * MIN + 1));
    n += appendLog(H09, line(at('2026-11-27T09:47:12.345Z')) + line(at('2026-11-27T09:59:59.999Z')));
    n += appendLog(APP, lines(10, at('2026-11-27T10:10:00.000Z'), at('2026-11-27T10:25:00.000Z')));
    {
      const read = await bytesRead();
      expect(read, 'an append was not read').toBeGreaterThanOrEqual(n);
      expect(read, 'more than the appended bytes were read').toBeLessThanOrEqual(n + 256);
      expect(read, 'the appended bytes are not a small part of the logs').toBeLessThan(totalLogBytes() / 10);
    }
    await check('appends');
    expect(await bytesRead()).toBe(0);

    // 2. Half a line (a writer mid-write), then the rest of it.
    const half = line(U_MID - 1000);
    const cut = Math.floor(half.length / 2);
    appendLog(H10, half.slice(0, cut));
    await check('half a line');
    expect(await bytesRead(), 'only the pending half line is re-read').toBe(cut);
    appendLog(H10, half.slice(cut) + line(U_MID - 2000));
    await check('line completed');
    expect(await bytesRead()).toBe(0);

    // 3. Malformed lines (more than the 10 samples kept, across files, after indexed lines).
    appendLog(H09, 'not json\n' + '\n' + '{"ts":"2026-11-27T09:58:00.000Z","stage":"total"}\n' + '{"ts":"2026-11-27T09:58:00.000Z","stage":"x","durationMs":-1}\n');
    appendLog(H10, Buffer.concat([Buffer.from('{"ts":"2026-11-27T10:16:00.000Z","stage":"caf'), Buffer.from([0xff, 0xfe]), Buffer.from('","durationMs":1}\n')]));
    appendLog(H10, line(U_MID - 3000) + '{"ts":"2026-11-27T10:17:00.000Z","type":"queue"}\n' + '{}\n' + line(U_MID - 4000));
    appendLog(APP, '[1,2,3]\n' + '{"ts":"yesterday","stage":"total","durationMs":1}\n' + 'garbage\r\n' + line(U_EDGE - 10) + '{"ts":1,"stage":"total","durationMs":"slow"}\n');
    await check('malformed lines');
    {
      const r = await generateReport({ ...base([LOG], 1440, 'latest'), ...cached });
      expect(r.malformed.count).toBeGreaterThanOrEqual(11);
      expect(r.malformed.first.length).toBe(10);
    }
    appendLog(H09, 'still not json\n');
    await check('malformed line after a full sample list');

    // Valid values whose sums overflow a double (in a whole minute, and in a cut one).
    for (const ts of [at('2026-11-27T10:16:20.000Z'), at('2026-11-27T10:16:40.000Z'), U_MID - 20, U_MID - 10]) {
      appendLog(H10, JSON.stringify({ ts: new Date(ts).toISOString(), stage: 'total', durationMs: 1.5e308, llmTokens: 1e308, llmCost: 1.7e308 }) + '\n');
      appendLog(H10, JSON.stringify({ ts: new Date(ts).toISOString(), type: 'queue', depth: 1.2e308 }) + '\n');
    }
    for (const [k, d] of [0, 5e-324, 1e-9, 9.9e200, 123456789.123456789].entries()) {
      appendLog(APP, JSON.stringify({ ts: U_EDGE - 1000 * k, stage: 'extract', durationMs: d, llmCost: d / 7, llmTokens: d }) + '\n');
    }
    await check('sums that overflow');
    // Worker threads hand their fragments over the same way (as plain data): same report.
    same(await generateReport({ ...base([LOG], 5, U_MID), threads: 2 }), await generateReport(base([LOG], 5, U_MID)), 'sums that overflow: worker threads');

    // 4. Rotation: app.ndjson → app.ndjson.1, a new app.ndjson.
    renameSync(p(APP), p('app.ndjson.1'));
    writeFileSync(p(APP), lines(50, at('2026-11-27T10:15:00.000Z'), at('2026-11-27T10:30:00.000Z')));
    await check('rotation');

    // 5. copytruncate: .1 → .2, copy app.ndjson to .1, truncate app.ndjson to 0 (same inode).
    renameSync(p('app.ndjson.1'), p('app.ndjson.2'));
    copyFileSync(p(APP), p('app.ndjson.1'));
    const appIno = inode(APP);
    truncateSync(p(APP), 0);
    await check('copytruncate: emptied');
    appendLog(APP, lines(5, at('2026-11-27T10:16:00.000Z'), at('2026-11-27T10:18:00.000Z')));
    await check('copytruncate: written again');
    // Again, but the writer outgrows the old length before the next run: only the first bytes tell.
    const before = size(APP);
    truncateSync(p(APP), 0);
    appendLog(APP, lines(20, at('2026-11-27T10:12:00.000Z'), at('2026-11-27T10:19:00.000Z')));
    expect(size(APP)).toBeGreaterThan(before);
    expect(inode(APP)).toBe(appIno);
    await check('copytruncate: regrown past the indexed offset');

    // 6. Truncation to a shorter size with different content (same inode).
    rewriteInPlace(H10, lines(300, T10, at('2026-11-27T10:25:00.000Z')));
    await check('H10 rewritten shorter in place');

    // 7. Truncation keeping the first bytes (same inode, same fingerprint; only the size tells).
    {
      const text = readFileSync(p(H09), 'utf8');
      const keep = text.indexOf('\n', Math.floor(text.length / 2)) + 1;
      truncateSync(p(H09), keep);
      await check('H09 truncated, prefix kept');
    }

    // 7b. Cut short and grown back past the offset indexed before the next run (logrotate's
    //     copytruncate under a busy writer): same inode, same first bytes, a size that looks like
    //     growth; only the bytes before the old offset tell.
    {
      const text = readFileSync(p(H09), 'utf8');
      const first = text.slice(0, text.indexOf('\n') + 1);
      const ino = inode(H09);
      const old = size(H09);
      truncateSync(p(H09), first.length);
      appendLog(H09, lines(500, T9 + 1_000, at('2026-11-27T09:55:00.000Z')));
      expect(inode(H09)).toBe(ino);
      expect(size(H09)).toBeGreaterThan(old);
      expect(readFileSync(p(H09), 'utf8').slice(0, 64)).toBe(text.slice(0, 64));
      await check('H09 truncated and grown back past its old size');
    }

    // 8. In place, same inode, different first 64 bytes, longer than before: only the fingerprint tells.
    {
      const old = size(H10);
      const text = lines(400, T10 + 500, at('2026-11-27T10:35:00.000Z'));
      expect(text.length).toBeGreaterThan(old);
      const ino = inode(H10);
      rewriteInPlace(H10, text);
      expect(inode(H10)).toBe(ino);
      await check('H10 rewritten longer in place, new first bytes');
    }

    // 9. Replaced by rename (new inode), first 64 bytes different.
    replaceByRename(H23, lines(120, at('2026-11-27T23:40:00.000Z'), at('2026-11-28T00:04:00.000Z')));
    await check('H23 replaced, new inode and first bytes');

    // 10. Replaced by rename, same first bytes: shorter; then longer with different later lines.
    {
      const text = readFileSync(p(H10), 'utf8');
      const keep = text.indexOf('\n', Math.floor(text.length / 3)) + 1;
      replaceByRename(H10, text.slice(0, keep));
      await check('H10 replaced, same first bytes, shorter');
      const head = text.slice(0, text.indexOf('\n') + 1);
      expect(head.length).toBeGreaterThan(64);
      const longer = head + lines(600, T10 + 1000, at('2026-11-27T10:44:00.000Z'));
      expect(longer.length).toBeGreaterThan(size(H10));
      replaceByRename(H10, longer);
      await check('H10 replaced, same first bytes, longer');
    }

    // 11. Deletion, then a new file under the deleted name (its inode may be reused).
    unlinkSync(p('app.ndjson.2'));
    await check('app.ndjson.2 deleted');
    unlinkSync(p(H09));
    await check('H09 deleted');
    writeFileSync(p(H09), lines(500, at('2026-11-27T09:10:00.000Z'), T10));
    await check('H09 recreated');

    // 12. gzip of the rotated file, then the archive replaced, then a damaged archive.
    writeFileSync(p('app.ndjson.1.gz'), gzipSync(readFileSync(p('app.ndjson.1'))));
    unlinkSync(p('app.ndjson.1'));
    await check('app.ndjson.1 gzipped');
    expect(await bytesRead(), 'an unchanged gzip file was read again').toBe(0);
    replaceByRename('app.ndjson.1.gz', gzipSync(lines(200, at('2026-11-27T10:00:00.000Z'), at('2026-11-27T10:22:00.000Z'))));
    await check('gzip replaced');
    {
      const gz = gzipSync(lines(100, at('2026-11-27T10:05:00.000Z'), at('2026-11-27T10:21:00.000Z')));
      writeFileSync(p('app.ndjson.3.gz'), gz.subarray(0, Math.floor(gz.length * 0.7)));
      await check('damaged gzip');
      writeFileSync(p('app.ndjson.3.gz'), gz); // same inode, completed: a different size
      await check('gzip completed');
    }

    // A valid but stale entry (as when a slower concurrent run renames last) is still only a hint.
    const snapshot = readFileSync(entry());
    appendLog(H10, lines(30, at('2026-11-27T10:15:00.000Z'), at('2026-11-27T10:21:00.000Z')));
    appendLog(APP, lines(10, at('2026-11-27T10:15:00.000Z'), at('2026-11-27T10:21:00.000Z')));
    await check('appends before a stale entry');
    writeFileSync(entry(), snapshot);
    await check('stale entry restored');
    rewriteInPlace(APP, lines(8, at('2026-11-27T10:00:30.000Z'), at('2026-11-27T10:19:00.000Z')));
    writeFileSync(entry(), snapshot);
    await check('stale entry restored after a truncation');

    // 13–18. Damaged cache entries: each must be ignored (with the right reason) and rebuilt.
    const damage: Array<[string, () => void, string]> = [
      [
        'a flipped byte in the head',
        () => {
          const raw = readFileSync(entry());
          const at = raw.indexOf(10) + 30;
          raw[at] = raw[at]! ^ 0x40;
          writeFileSync(entry(), raw);
        },
        'corrupt',
      ],
      ['a truncated entry', () => writeFileSync(entry(), readFileSync(entry()).subarray(0, 100)), 'corrupt'],
      ['a truncated header', () => writeFileSync(entry(), readFileSync(entry()).subarray(0, 20)), 'corrupt'],
      ['garbage', () => writeFileSync(entry(), 'garbage\n\x00\x01\x02 PERFMON-INDEX'), 'corrupt'],
      ['an empty entry', () => writeFileSync(entry(), ''), 'corrupt'],
      [
        "another directory's entry",
        () => {
          expect(verifyEntry(CACHE, OTHER).entry, "OTHER's entry was not saved").toBeDefined();
          copyFileSync(entryPath(CACHE, OTHER), entry());
        },
        'foreign',
      ],
      ['a newer format version in the header', () => rewriteHeader(([m, , ...rest]) => [m!, '999', ...rest]), 'version'],
      [
        'other rollup parameters (valid checksum)',
        () =>
          rewriteBody((b) => {
            (b.params as Record<string, number>).relativeAccuracy = 0.02;
          }),
        'version',
      ],
      ['a checksum that does not match', () => rewriteHeader(([m, v, d, ...rest]) => [m!, v!, d!.replace(/^./, (c) => (c === '0' ? '1' : '0')), ...rest]), 'corrupt'],
      ['a wrong length', () => rewriteHeader(([m, v, d, h, sm, mn]) => [m!, v!, d!, h!, sm!, String(Number(mn) + 1)]), 'corrupt'],
      [
        'a body that is not an entry (valid checksum)',
        () => {
          const body = Buffer.from('{"dir":"x"}     ');
          writeFileSync(entry(), Buffer.concat([Buffer.from(`PERFMON-INDEX ${INDEX_PARAMS.version} ${checksumText(body)} ${body.length} 0 0\n`), body]));
        },
        'corrupt',
      ],
    ];
    // OTHER gets its own entry, for the foreign case.
    await generateReport({ ...base([OTHER], 30, U_EDGE), ...cached });
    let i = 0;
    for (const [what, harm, reason] of damage) {
      appendLog(H10, line(at('2026-11-27T10:19:00.000Z') + i++ * 1000)); // something changes each time too
      harm();
      const r = loadEntry(CACHE, LOG);
      expect(r.entry, what).toBeUndefined();
      expect(r.entry === undefined && r.reason, what).toBe(reason);
      await check(`cache entry damaged: ${what}`, { light: true });
      expect(verifyEntry(CACHE, LOG).entry, `${what}: the entry was not rebuilt`).toBeDefined();
      expect(await bytesRead(), `${what}: the rebuilt entry does not cover the logs`).toBe(0);
    }
    // The same damage with no new data since: still rebuilt, still right.
    writeFileSync(entry(), 'garbage');
    await check('garbage entry, logs unchanged', { light: true });
    expect(verifyEntry(CACHE, LOG).entry).toBeDefined();
    // Damage only the head's checksum does not cover: a byte of each file's minutes, found when
    // a run reads them (here: every file, a boundary cutting each), which then runs without
    // the entry and rebuilds it.
    {
      const raw = readFileSync(entry());
      const nl = raw.indexOf(10);
      const [, , , headLength, summariesLength] = raw.subarray(0, nl).toString('latin1').split(' ');
      let at = nl + 1 + Number(headLength) + Number(summariesLength);
      for (const l of raw.subarray(nl + 1, nl + 1 + Number(headLength)).toString('utf8').trimEnd().split('\n').slice(1)) {
        const bytes = (JSON.parse(l) as [string, { minutesBytes: number }])[1].minutesBytes;
        if (bytes > 0) raw[at + bytes - 1] = raw[at + bytes - 1]! ^ 0x10;
        at += bytes;
      }
      writeFileSync(entry(), raw);
      const loaded = loadEntry(CACHE, LOG);
      expect(loaded.entry, 'damaged minutes are found when read, not when loaded').toBeDefined();
      if (loaded.entry) closeEntry(loaded.entry);
      expect(verifyEntry(CACHE, LOG).entry).toBeUndefined();
      await check('damaged minutes', { light: true });
      expect(verifyEntry(CACHE, LOG).entry, 'damaged minutes: the entry was not rebuilt').toBeDefined();
    }

    // 19. The same directory spelled another way (relative path) shares the entry.
    const rel = relative(process.cwd(), LOG);
    expect(rel).not.toBe(LOG);
    appendLog(H10, 'relative-spelling malformed line\n' + line(U_MID - 10));
    await check('absolute spelling');
    await check('relative spelling', { dirs: [rel] });
    await check('trailing slash', { dirs: [LOG + '/'], light: true });

    // 20. Two directories at once.
    appendLog(H10, line(U_EDGE - 7));
    writeFileSync(join(OTHER, APP), lines(40, at('2026-11-27T10:00:00.000Z'), at('2026-11-27T10:30:00.000Z')));
    await check('two directories', { dirs: [LOG, OTHER] });
    await check('two directories, reversed', { dirs: [OTHER, LOG], light: true });

    // 21. The same directory given twice (--dir D --dir D): whatever it counts, the cache must
    //     agree, and must not come out of it double-counting for later runs.
    appendLog(H10, line(U_MID - 30) + line(U_EDGE - 30));
    await check('the same directory twice', { dirs: [LOG, LOG] });
    appendLog(H10, line(U_MID - 40));
    await check('the same directory twice, again', { dirs: [LOG, LOG], light: true });
    await check('one directory after it was given twice');

    // The comparisons were not vacuous.
    expect(nonEmpty).toBeGreaterThan(100);
  });
});
