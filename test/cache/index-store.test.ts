import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { decodeMinutes, emptyIndex, indexingSink, indexToJSON, INDEX_PARAMS, SavedSummary, summarize, type FileIndex } from '../../src/cache/file-index.js';
import { ByteReader } from '../../src/stats/bytes.js';
import { Rollup } from '../../src/stats/rollup.js';
import { checksumText } from '../../src/cache/checksum.js';
import { cacheInfo, clearCache, closeEntry, defaultCacheDir, entryPath, loadEntry, readPrefix, saveEntry, verifyEntry, type CacheEntry, type LoadResult } from '../../src/cache/index-store.js';
import { LineSplitter } from '../../src/read/line-splitter.js';
import { generateReport } from '../../src/report/generate-report.js';
import { readWindow } from '../../src/report/read-window.js';

const temps: string[] = [];
function tempDir(prefix = 'perfmon-index-store-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

const NOW = Date.parse('2026-11-28T12:00:00.000Z');
const now = () => NOW;
const UNTIL = Date.parse('2026-11-27T10:30:00.000Z');

/** A few minutes of records, one malformed line among them. */
function sampleLines(): string {
  let s = '';
  for (let i = 0; i < 120; i++) {
    const ts = new Date(Date.parse('2026-11-27T10:00:00.000Z') + i * 7_001).toISOString();
    s += JSON.stringify({ ts, stage: i % 3 === 0 ? 'total' : 'classify', durationMs: 100 + i * 3.25, success: i % 11 !== 0, llmTokens: i, llmCost: i / 1e5, cacheHit: i % 2 === 0 }) + '\n';
    if (i === 50) s += 'not json\n';
    if (i % 10 === 0) s += JSON.stringify({ ts, type: 'queue', depth: i }) + '\n';
  }
  return s;
}

/** The index of `text` as the reader builds it. */
function indexOf(path: string, text: string): FileIndex {
  const index = emptyIndex(0);
  const splitter = new LineSplitter(indexingSink(path, index));
  splitter.push(Buffer.from(text));
  return index;
}

/** A log directory with one file, and an entry describing it. */
function sample(): { logDir: string; cacheDir: string; entry: CacheEntry; text: string } {
  const root = tempDir();
  const logDir = join(root, 'logs');
  const cacheDir = join(root, 'cache');
  mkdirSync(logDir);
  const text = sampleLines();
  const name = 'perfmon-20261127-10.ndjson';
  writeFileSync(join(logDir, name), text);
  const st = statSync(join(logDir, name));
  const index = indexOf(join(logDir, name), text);
  const entry: CacheEntry = {
    dir: logDir,
    files: new Map([[name, { dev: st.dev, ino: st.ino, fingerprint: Buffer.from(text.slice(0, 64)).toString('hex'), size: st.size, index }]]),
  };
  return { logDir, cacheDir, entry, text };
}

function header(path: string): { fields: string[]; body: Buffer; raw: Buffer } {
  const raw = readFileSync(path);
  const nl = raw.indexOf(10);
  return { fields: raw.subarray(0, nl).toString('latin1').split(' '), body: raw.subarray(nl + 1), raw };
}

/** Spaces to a multiple of 8 bytes, as a head is written. */
const padded = (b: Buffer): Buffer => Buffer.concat([b, Buffer.from(' '.repeat((8 - (b.length % 8)) % 8))]);

/**
 * Writes `body` under a valid header: the head `headBytes` long (all of the body, padded, by
 * default), then `summaryBytes` of summaries under the checksum, then the rest as minutes.
 */
function writeBody(path: string, body: Buffer, headBytes?: number, summaryBytes = 0): void {
  if (headBytes === undefined) {
    body = padded(body);
    headBytes = body.length;
  }
  const front = body.subarray(0, Math.min(body.length, headBytes + summaryBytes));
  const minutes = body.length - headBytes - summaryBytes;
  writeFileSync(path, Buffer.concat([Buffer.from(`PERFMON-INDEX ${INDEX_PARAMS.version} ${checksumText(front)} ${headBytes} ${summaryBytes} ${minutes}\n`), body]));
}

/** Flips a bit of the first byte of the minutes (they follow the head and summaries): the head's checksum still holds. */
function damageFirstMinutesByte(p: string): void {
  const raw = readFileSync(p);
  const { fields } = header(p);
  const at = raw.indexOf(10) + 1 + Number(fields[3]) + Number(fields[4]);
  raw[at] = raw[at]! ^ 1;
  writeFileSync(p, raw);
}

/** A rollup's plain data with its exact sums as their values (merging may change their partials, not their value). */
function sumsAsValues(r: Rollup): unknown {
  return { ...r.toJSON(), tokens: r.tokens, cost: r.cost, queueSum: r.queueSum };
}

/** loadEntry, with the entry file it opens closed after the test. */
const opened: CacheEntry[] = [];
function load(cacheDir: string, logDir: string): LoadResult {
  const r = loadEntry(cacheDir, logDir);
  if (r.entry !== undefined) opened.push(r.entry);
  return r;
}
afterEach(() => {
  for (const e of opened.splice(0)) closeEntry(e);
});

/** What a prefix keeps of the merge of summaries: all but the depths by minute (see saveEntry). */
function prefixView(r: Rollup): unknown {
  return { ...(sumsAsValues(r) as object), depthByMinute: undefined };
}

function reasonOf(cacheDir: string, logDir: string): string {
  const r = load(cacheDir, logDir);
  return r.entry === undefined ? r.reason : 'loaded';
}

describe('saveEntry / loadEntry', () => {
  it('round-trips an entry: identities, offsets, lines, minutes, rollups and malformed lines', () => {
    const { logDir, cacheDir, entry, text } = sample();
    saveEntry(cacheDir, entry);
    const r = load(cacheDir, logDir);
    expect(r.entry, r.entry === undefined ? r.reason : '').toBeDefined();
    const got = r.entry!;
    expect(got.dir).toBe(logDir);
    expect([...got.files.keys()]).toEqual([...entry.files.keys()]);
    const [name, want] = [...entry.files][0]!;
    const f = got.files.get(name)!;
    expect({ dev: f.dev, ino: f.ino, fingerprint: f.fingerprint, size: f.size }).toEqual({ dev: want.dev, ino: want.ino, fingerprint: want.fingerprint, size: want.size });
    expect(f.index.offset).toBe(Buffer.byteLength(text));
    expect(f.index.lines).toBe(text.split('\n').length - 1);
    expect(f.index.malformed.count).toBe(1);
    expect(f.index.malformed.first[0]).toEqual({ file: expect.stringMatching(/perfmon-20261127-10\.ndjson$/), line: text.split('\n').indexOf('not json') + 1, reason: expect.any(String) });
    // The whole index, minute by minute (rollups, byte ranges), survives the trip exactly.
    expect(JSON.stringify(indexToJSON(f.index))).toBe(JSON.stringify(indexToJSON(want.index)));
  });

  it('writes `PERFMON-INDEX <version> <checksum> <head length> <summaries length> <minutes length>`, then a head of JSON lines, each file\'s binary summary, and its binary minutes with their own checksum', () => {
    const { logDir, cacheDir, entry } = sample();
    saveEntry(cacheDir, entry);
    const path = entryPath(cacheDir, logDir);
    expect(path.startsWith(cacheDir)).toBe(true);
    const { fields, body } = header(path);
    expect(fields).toHaveLength(6);
    const [magic, version, digest, headLength, summariesLength, minutesLength] = fields;
    expect(magic).toBe('PERFMON-INDEX');
    expect(Number(version)).toBe(INDEX_PARAMS.version);
    expect(digest).toMatch(/^[0-9a-f]{8}$/);
    const headBytes = Number(headLength);
    const summaryBytes = Number(summariesLength);
    expect(headBytes % 8).toBe(0);
    expect(headBytes + summaryBytes + Number(minutesLength)).toBe(body.length);
    // The checksum covers the head and the summaries.
    expect(checksumText(body.subarray(0, headBytes + summaryBytes))).toBe(digest);
    // The head: lines of JSON, the directory and parameters first, then one per file.
    const lines = body.subarray(0, headBytes).toString('utf8').trimEnd().split('\n');
    const top = JSON.parse(lines[0]!) as { dir: string; params: unknown };
    expect(top.dir).toBe(logDir);
    expect(top.params).toEqual(INDEX_PARAMS);
    expect(lines).toHaveLength(2);
    const [name, file] = JSON.parse(lines[1]!) as [string, { summaryBytes: number; minutesBytes: number; minutesSum: string }];
    expect(name).toMatch(/\.ndjson$/);
    const want = [...entry.files.values()][0]!.index;
    // After the head, the file's summary in binary: the merge of its minutes.
    expect(file.summaryBytes).toBe(summaryBytes);
    const summary = new SavedSummary(new Uint8Array(body.subarray(headBytes, headBytes + summaryBytes)), () => {
      throw new Error('damaged summary');
    });
    expect(JSON.stringify(summary.rollup)).toBe(JSON.stringify(summarize(want)!.rollup));
    // The file's minutes: binary [minute, from, to, late, length, rollup], after the summaries, with
    // their checksum in the file's line.
    const from = headBytes + summaryBytes;
    const bytes = body.subarray(from, from + file.minutesBytes);
    expect(checksumText(bytes)).toBe(file.minutesSum);
    expect([...decodeMinutes(bytes).minutes.keys()]).toEqual([...want.minutes.keys()].sort((a, b) => a - b));
    // Then the file's prefix (its summary merged with those of the files before it: none here),
    // its length and checksum in the head's first line.
    const [prefixBytes, prefixSum] = (top as unknown as { prefixes: Array<[number, string]> }).prefixes[0]!;
    const prefix = body.subarray(from + file.minutesBytes);
    expect(prefix.length).toBe(prefixBytes);
    expect(checksumText(prefix)).toBe(prefixSum);
    expect(prefixView(Rollup.decode(new ByteReader(new Uint8Array(prefix))))).toEqual(prefixView(summarize(want)!.rollup));
  });

  it('keeps, for each file, the merge of its summary and those of the files before it (but for depths by minute)', () => {
    const { logDir, cacheDir, entry } = sample();
    const [name, f] = [...entry.files][0]!;
    for (const hour of ['11', '12']) {
      const later = sampleLines().replaceAll('2026-11-27T10:', `2026-11-27T${hour}:`);
      entry.files.set(name.replace('-10.', `-${hour}.`), { ...f, ino: f.ino + Number(hour), index: indexOf(join(logDir, name), later) });
    }
    saveEntry(cacheDir, entry);
    const loaded = load(cacheDir, logDir).entry!;
    const want = new Rollup();
    for (const [n, c] of [...entry.files].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      want.merge(summarize(c.index)!.rollup);
      const prefix = readPrefix(loaded.files.get(n)!.prefix!, logDir);
      expect(prefixView(prefix), n).toEqual(prefixView(want));
      expect(prefix.depthByMinute.size, 'a prefix carries no depths by minute').toBe(0);
    }
  });

  it('a save after new lines in the newest file copies the prefixes of the files before it as saved, and merges on from the last of them', () => {
    const { logDir, cacheDir, entry } = sample();
    const [name, f] = [...entry.files][0]!;
    const hours = ['11', '12', '13', '14'];
    for (const hour of hours) {
      const later = sampleLines().replaceAll('2026-11-27T10:', `2026-11-27T${hour}:`);
      entry.files.set(name.replace('-10.', `-${hour}.`), { ...f, ino: f.ino + Number(hour), index: indexOf(join(logDir, name), later) });
    }
    saveEntry(cacheDir, entry);
    const loaded = load(cacheDir, logDir).entry!;
    // The newest file grew: a new index and size (as a run that read its new lines leaves it).
    const newest = name.replace('-10.', '-14.');
    const grown = sampleLines().replaceAll('2026-11-27T10:', '2026-11-27T14:') + sampleLines().replaceAll('2026-11-27T10:', '2026-11-27T14:').replaceAll('T14:0', 'T14:3');
    const old = loaded.files.get(newest)!;
    loaded.files.set(newest, { ...old, size: old.size + 1, summary: undefined, minutes: undefined, index: indexOf(join(logDir, name), grown) });
    const realDecode = Rollup.decode;
    let decodes = 0;
    Rollup.decode = (r) => {
      decodes++;
      return realDecode(r);
    };
    try {
      saveEntry(cacheDir, loaded);
    } finally {
      Rollup.decode = realDecode;
    }
    // One decode: the prefix of the file before the newest. The four unchanged files' summaries
    // are not decoded and merged again (four decodes before).
    expect(decodes).toBe(1);
    const again = load(cacheDir, logDir).entry!;
    const want = new Rollup();
    for (const [n, c] of [...again.files].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      want.merge(c.summary!.rollup);
      expect(prefixView(readPrefix(c.prefix!, logDir)), n).toEqual(prefixView(want));
    }
    expect(again.files.get(newest)!.summary!.rollup.records).toBe(summarize(indexOf(join(logDir, name), grown))!.rollup.records);
  });

  it('a save copies damaged minutes under their old checksum (still found when read), and leaves out a damaged file that needs a new line', () => {
    const { logDir, cacheDir, entry } = sample();
    saveEntry(cacheDir, entry);
    damageFirstMinutesByte(entryPath(cacheDir, logDir));
    // Saved again as loaded: the damage is not blessed with a new checksum.
    saveEntry(cacheDir, load(cacheDir, logDir).entry!);
    expect(verifyEntry(cacheDir, logDir)).toEqual({ entry: undefined, reason: 'corrupt' });
    // The file's identity changed (a new line, a new checksum): its minutes are checked, and it
    // is left out, to be indexed anew.
    const loaded = load(cacheDir, logDir).entry!;
    const [name, f] = [...loaded.files][0]!;
    loaded.files.set(name, { ...f, size: f.size + 1 });
    saveEntry(cacheDir, loaded);
    const again = verifyEntry(cacheDir, logDir);
    expect(again.entry, 'the entry without the damaged file').toBeDefined();
    expect([...again.entry!.files.keys()]).toEqual([]);
  });

  it('reads minutes only when asked, through the descriptor it opened: an entry replaced since does not change them', () => {
    const { logDir, cacheDir, entry } = sample();
    saveEntry(cacheDir, entry);
    const loaded = load(cacheDir, logDir).entry!;
    // Another run renames a new entry into place (here: one of no files) before this one reads.
    saveEntry(cacheDir, { dir: logDir, files: new Map() });
    const [name, want] = [...entry.files][0]!;
    expect(JSON.stringify(indexToJSON(loaded.files.get(name)!.index))).toBe(JSON.stringify(indexToJSON(want.index)));
    closeEntry(loaded);
  });

  it('finds damaged minutes when they are read: verifyEntry and cache info say so, and a report rebuilds the entry and answers as without it', async () => {
    const { logDir, cacheDir, entry } = sample();
    saveEntry(cacheDir, entry);
    damageFirstMinutesByte(entryPath(cacheDir, logDir));
    const loaded = load(cacheDir, logDir).entry!;
    expect(() => [...loaded.files.values()][0]!.index.minutes).toThrow(/damaged minutes/);
    closeEntry(loaded);
    expect(verifyEntry(cacheDir, logDir)).toEqual({ entry: undefined, reason: 'corrupt' });
    expect(cacheInfo(cacheDir, [logDir]).entries[0]).toMatchObject({ problem: expect.stringContaining('corrupt') });
    // A window boundary inside the file: its minutes are needed.
    const o = { dirs: [logDir], windowMinutes: 20, until: UNTIL, now, dailyTokenLimit: 1e6 };
    expect(JSON.stringify(await generateReport({ ...o, cacheDir }))).toBe(JSON.stringify(await generateReport(o)));
    expect(verifyEntry(cacheDir, logDir).entry, 'the entry was not rebuilt').toBeDefined();
  });

  it('a save after a load writes back each file\'s line and summary as read, unless the file\'s identity changed', () => {
    const { logDir, cacheDir, entry } = sample();
    const [name, f] = [...entry.files][0]!;
    entry.files.set('perfmon-20261127-11.ndjson', { ...f, ino: f.ino + 1, index: indexOf(join(logDir, name), sampleLines()) });
    saveEntry(cacheDir, entry);
    const headLines = () => {
      const { fields, body } = header(entryPath(cacheDir, logDir));
      return body.subarray(0, Number(fields[3])).toString('utf8').trimEnd().split('\n');
    };
    const before = headLines();
    const loaded = load(cacheDir, logDir).entry!;
    const records = loaded.files.get(name)!.summary!.rollup.records;
    // Spoil what saving would write from the data, to see which lines are rewritten.
    for (const c of loaded.files.values()) c.summary!.rollup.records += 1000;
    const moved = loaded.files.get('perfmon-20261127-11.ndjson')!;
    loaded.files.set('perfmon-20261127-11.ndjson', { ...moved, size: moved.size + 1 });
    saveEntry(cacheDir, loaded);
    const after = headLines();
    // The first line: the same directory and parameters; its prefixes follow the (spoiled) data.
    const firstLine = (l: string) => JSON.parse(l) as { dir: string; params: unknown; prefixes: unknown };
    expect({ ...firstLine(after[0]!), prefixes: 0 }).toEqual({ ...firstLine(before[0]!), prefixes: 0 });
    expect(firstLine(after[0]!).prefixes).not.toEqual(firstLine(before[0]!).prefixes);
    expect(after[1]).toBe(before[1]); // unchanged: the line as read
    expect(after[2]).not.toBe(before[2]); // another size: written anew, from the data
    expect(JSON.parse(after[2]!)[1]).toMatchObject({ size: moved.size + 1 });
    // And the entry still loads, each file's summary and minutes where its line says: the
    // unchanged file's summary as read, the other's from the (spoiled) data.
    const again = load(cacheDir, logDir).entry!;
    expect([...again.files.keys()]).toEqual([name, 'perfmon-20261127-11.ndjson']);
    expect(again.files.get(name)!.summary!.rollup.records).toBe(records);
    expect(again.files.get('perfmon-20261127-11.ndjson')!.summary!.rollup.records).toBe(records + 1000);
    expect(again.files.get(name)!.index.minutes.size).toBe(f.index.minutes.size);
  });

  it('names the entry by the absolute directory: other spellings share it, other directories do not', () => {
    const { logDir, cacheDir } = sample();
    expect(entryPath(cacheDir, logDir + '/')).toBe(entryPath(cacheDir, logDir));
    expect(entryPath(cacheDir, join(logDir, '..', 'logs'))).toBe(entryPath(cacheDir, logDir));
    expect(entryPath(cacheDir, logDir + '2')).not.toBe(entryPath(cacheDir, logDir));
  });

  it('leaves no temp file behind, and overwrites in place', () => {
    const { cacheDir, entry } = sample();
    for (let i = 0; i < 5; i++) saveEntry(cacheDir, entry);
    const names = readdirSync(cacheDir);
    expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^[0-9a-f]{24}\.idx$/);
  });

  it('loads a missing entry as missing', () => {
    const { logDir, cacheDir } = sample();
    expect(load(cacheDir, logDir)).toEqual({ entry: undefined, reason: 'missing' });
  });

  const damaged: Array<[string, (path: string, other: string) => void, 'corrupt' | 'foreign' | 'version']> = [
    [
      'a flipped byte in the head',
      (p) => {
        const raw = readFileSync(p);
        const at = raw.indexOf(10) + 20;
        raw[at] = raw[at]! ^ 1;
        writeFileSync(p, raw);
      },
      'corrupt',
    ],
    [
      'a flipped byte in the summaries',
      (p) => {
        const raw = readFileSync(p);
        const { fields } = header(p);
        const at = raw.indexOf(10) + 1 + Number(fields[3]) + 3;
        raw[at] = raw[at]! ^ 1;
        writeFileSync(p, raw);
      },
      'corrupt',
    ],
    ['a body cut short', (p) => writeFileSync(p, readFileSync(p).subarray(0, readFileSync(p).length - 1)), 'corrupt'],
    ['a file cut inside the header', (p) => writeFileSync(p, readFileSync(p).subarray(0, 30)), 'corrupt'],
    ['an empty file', (p) => writeFileSync(p, ''), 'corrupt'],
    ['garbage', (p) => writeFileSync(p, Buffer.from([0x1f, 0x8b, 0, 1, 2, 3, 10, 4, 5, 6])), 'corrupt'],
    ['a header of another format', (p) => writeFileSync(p, Buffer.concat([Buffer.from('OTHER-INDEX 1 x 1\n'), header(p).body])), 'corrupt'],
    [
      'bytes appended after the body',
      (p) => writeFileSync(p, Buffer.concat([readFileSync(p), Buffer.from('x')])),
      'corrupt',
    ],
    ['a valid checksum over plain text', (p) => writeBody(p, Buffer.from('plain text')), 'corrupt'],
    ['a valid checksum over a gzipped entry (an older layout)', (p) => writeBody(p, gzipSync(header(p).body)), 'corrupt'],
    ['a valid checksum over a head that is not JSON', (p) => writeBody(p, Buffer.from('{"dir":')), 'corrupt'],
    ['a head longer than the body', (p) => writeBody(p, header(p).body, header(p).body.length + 8), 'corrupt'],
    ['summaries that reach past the body', (p) => writeBody(p, header(p).body, Number(header(p).fields[3]), header(p).body.length), 'corrupt'],
    ['a head length that is not a multiple of 8', (p) => writeBody(p, Buffer.concat([header(p).body, Buffer.from('x')]), Number(header(p).fields[3]) + 1, Number(header(p).fields[4])), 'corrupt'],
    ['a header with a field too many', (p) => writeFileSync(p, Buffer.concat([Buffer.from(readFileSync(p).subarray(0, readFileSync(p).indexOf(10)).toString() + ' 0\n'), header(p).body])), 'corrupt'],
    [
      'another version in the header',
      (p) => {
        const { fields, body } = header(p);
        writeFileSync(p, Buffer.concat([Buffer.from(`${fields[0]} ${INDEX_PARAMS.version + 1} ${fields.slice(2).join(' ')}\n`), body]));
      },
      'version',
    ],
    [
      'other rollup parameters under a valid checksum',
      (p) => {
        const { fields, body } = header(p);
        const headBytes = Number(fields[3]);
        const lines = body.subarray(0, headBytes).toString('utf8').trimEnd().split('\n');
        const parsed = JSON.parse(lines[0]!) as { params: Record<string, number> };
        parsed.params.minuteMs = 30_000;
        lines[0] = JSON.stringify(parsed);
        const head = padded(Buffer.from(lines.join('\n')));
        writeBody(p, Buffer.concat([head, body.subarray(headBytes)]), head.length, Number(fields[4]));
      },
      'version',
    ],
    ["another directory's valid entry", (p, other) => copyFileSync(other, p), 'foreign'],
  ];
  // Bodies that verify but are not an entry of this format (another build that kept the version
  // number, or a hand-made file): they must read as corrupt, never throw. Each is the head's
  // lines: the directory and parameters, then one per file.
  // One empty prefix per file line (`files`), as a writer of no minutes would write them.
  const top = (dir: string, files = 1) => JSON.stringify({ dir, params: INDEX_PARAMS, prefixes: Array.from({ length: files }, () => [0, checksumText(new Uint8Array(0))]) });
  const fileLine = (f: unknown) => JSON.stringify(['perfmon-20261127-10.ndjson', f]);
  const shapes: Array<[string, (dir: string) => string[]]> = [
    ['no prefixes', (dir) => [JSON.stringify({ dir, params: INDEX_PARAMS })]],
    ['a prefix too many', (dir) => [top(dir, 1)]],
    ['a prefix that reaches past the end', (dir) => [JSON.stringify({ dir, params: INDEX_PARAMS, prefixes: [[64, '00000000']] }), fileLine({ dev: 1, ino: 2, fingerprint: '', size: 0, offset: 0, lines: 0, malformed: { count: 0, first: [] }, summaryBytes: 0, minutesBytes: 0, minutesSum: '00000000' })]],
    ['null', () => ['null']],
    ['an array', () => ['[]']],
    ['a number', () => ['42']],
    ['a first line that is not JSON', () => ['{"dir":']],
    ['a file line of another shape', (dir) => [top(dir), fileLine({})]],
    ['a file line that is not a pair', (dir) => [top(dir), '7']],
    ['a file line that is not JSON', (dir) => [top(dir), '{"dev":']],
    ["minutes that point past the body's end", (dir) => [top(dir), fileLine({ dev: 1, ino: 2, fingerprint: '', size: 0, offset: 0, lines: 0, malformed: { count: 0, first: [] }, summaryBytes: 0, minutesBytes: 64, minutesSum: '00000000' })]],
    ["a summary that points past the body's end", (dir) => [top(dir), fileLine({ dev: 1, ino: 2, fingerprint: '', size: 0, offset: 0, lines: 0, malformed: { count: 0, first: [] }, summaryBytes: 64, minutesBytes: 0, minutesSum: '00000000' })]],
    ['a summary length that is not a multiple of 8', (dir) => [top(dir), fileLine({ dev: 1, ino: 2, fingerprint: '', size: 0, offset: 0, lines: 0, malformed: { count: 0, first: [] }, summaryBytes: 3, minutesBytes: 0, minutesSum: '00000000' })]],
    ['an index without its malformed lines', (dir) => [top(dir), fileLine({ dev: 1, ino: 2, fingerprint: '', size: 0, index: { offset: 0, lines: 0, minutes: [] }, minutesBytes: 0 })]],
  ];
  for (const [what, head] of shapes) {
    it(`reads a checksummed body of another shape as corrupt (${what}), and a report still runs`, async () => {
      const { logDir, cacheDir, entry } = sample();
      saveEntry(cacheDir, entry);
      const text = Buffer.from(head(logDir).join('\n'));
      writeBody(entryPath(cacheDir, logDir), text);
      expect(load(cacheDir, logDir)).toEqual({ entry: undefined, reason: 'corrupt' });
      const o = { dirs: [logDir], windowMinutes: 20, until: UNTIL, now, dailyTokenLimit: 1e6 };
      expect(JSON.stringify(await generateReport({ ...o, cacheDir }))).toBe(JSON.stringify(await generateReport(o)));
      expect(load(cacheDir, logDir).entry, 'the entry was not rebuilt').toBeDefined();
    });
  }
  for (const [what, harm, reason] of damaged) {
    it(`ignores ${what}: {entry: undefined, reason: '${reason}'}`, () => {
      const { logDir, cacheDir, entry } = sample();
      saveEntry(cacheDir, entry);
      // Another directory's entry in the same cache.
      const otherDir = logDir + '-other';
      mkdirSync(otherDir);
      saveEntry(cacheDir, { dir: otherDir, files: new Map() });
      expect(reasonOf(cacheDir, logDir)).toBe('loaded');
      harm(entryPath(cacheDir, logDir), entryPath(cacheDir, otherDir));
      expect(load(cacheDir, logDir)).toEqual({ entry: undefined, reason });
    });
  }

  it('reads an entry in the version-1 layout (a file saved as `index`) as outdated, and a report still runs', async () => {
    const { logDir, cacheDir, entry } = sample();
    const [name, f] = [...entry.files][0]!;
    const body = { dir: logDir, params: { ...INDEX_PARAMS, version: 1 }, files: [[name, { dev: f.dev, ino: f.ino, fingerprint: f.fingerprint, size: f.size, index: indexToJSON(f.index) }]] };
    const gz = gzipSync(JSON.stringify(body));
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(entryPath(cacheDir, logDir), Buffer.concat([Buffer.from(`PERFMON-INDEX 1 ${checksumText(gz)} ${gz.length}\n`), gz]));
    expect(load(cacheDir, logDir)).toEqual({ entry: undefined, reason: 'version' });
    const o = { dirs: [logDir], windowMinutes: 20, until: UNTIL, now, dailyTokenLimit: 1e6 };
    expect(JSON.stringify(await generateReport({ ...o, cacheDir }))).toBe(JSON.stringify(await generateReport(o)));
    expect(load(cacheDir, logDir).entry).toBeDefined();
  });

  it('throws when the cache directory cannot be created, leaving nothing behind', () => {
    const { cacheDir, entry } = sample();
    writeFileSync(cacheDir, 'a file where the cache directory should be');
    expect(() => saveEntry(join(cacheDir, 'sub'), entry)).toThrow();
    expect(readFileSync(cacheDir, 'utf8')).toBe('a file where the cache directory should be');
  });
});

describe('defaultCacheDir', () => {
  it('is $XDG_CACHE_HOME/perfmon, else ~/.cache/perfmon, home being $HOME where it is set', () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache' })).toBe('/x/cache/perfmon');
    expect(defaultCacheDir({ XDG_CACHE_HOME: '', HOME: '/h' })).toBe(join('/h', '.cache', 'perfmon'));
    expect(defaultCacheDir({})).toBe(join(homedir(), '.cache', 'perfmon'));
    expect(defaultCacheDir({ HOME: '' })).toBe(join(homedir(), '.cache', 'perfmon'));
  });
});

describe('cacheInfo / clearCache', () => {
  it('reports each entry: path, size, and every file with its offset, lines and minutes', async () => {
    const { logDir, cacheDir, text } = sample();
    await generateReport({ dirs: [logDir], windowMinutes: 60, until: UNTIL, now, dailyTokenLimit: 1e6, cacheDir });
    const info = cacheInfo(cacheDir, [logDir]);
    expect(info.cacheDir).toBe(cacheDir);
    expect(info.entries).toHaveLength(1);
    const e = info.entries[0]!;
    expect(e.file).toBe(entryPath(cacheDir, logDir));
    expect(e.bytes).toBe(statSync(e.file).size);
    expect(e.bytes).toBeGreaterThan(0);
    expect(e.dir).toBe(logDir);
    expect(e.problem).toBeUndefined();
    expect(e.files).toEqual([{ name: 'perfmon-20261127-10.ndjson', offset: Buffer.byteLength(text), lines: text.split('\n').length - 1, minutes: 14 }]);
  });

  it('says when there is no entry, and when an entry is unusable', () => {
    const { logDir, cacheDir, entry } = sample();
    expect(cacheInfo(cacheDir, [logDir]).entries[0]).toMatchObject({ bytes: 0, problem: 'no entry' });
    saveEntry(cacheDir, entry);
    writeFileSync(entryPath(cacheDir, logDir), 'junk');
    expect(cacheInfo(cacheDir, [logDir]).entries[0]).toMatchObject({ bytes: 4, problem: expect.stringContaining('corrupt') });
  });

  it('clears the entries of the given directories only, or all of them', () => {
    const { logDir, cacheDir, entry } = sample();
    const other = logDir + '-b';
    mkdirSync(other);
    saveEntry(cacheDir, entry);
    saveEntry(cacheDir, { dir: other, files: new Map() });
    writeFileSync(join(cacheDir, 'leftover.123.tmp'), 'x');
    expect(clearCache(cacheDir, [logDir])).toEqual([entryPath(cacheDir, logDir)]);
    expect(existsSync(entryPath(cacheDir, logDir))).toBe(false);
    expect(existsSync(entryPath(cacheDir, other))).toBe(true);
    expect(clearCache(cacheDir, [logDir])).toEqual([]);
    expect(clearCache(cacheDir).sort()).toEqual([entryPath(cacheDir, other), join(cacheDir, 'leftover.123.tmp')].sort());
    expect(readdirSync(cacheDir)).toEqual([]);
    expect(clearCache(join(cacheDir, 'missing'))).toEqual([]);
  });
});

describe('an unwritable cache location', () => {
  it('still gives the right report, with exactly one one-line notice', async () => {
    const { logDir } = sample();
    const notAdir = join(tempDir(), 'file');
    writeFileSync(notAdir, 'x');
    const cacheDir = join(notAdir, 'sub'); // mkdir fails with ENOTDIR, even as root
    const second = logDir + '-2';
    mkdirSync(second);
    writeFileSync(join(second, 'app.ndjson'), sampleLines());
    const notices: string[] = [];
    const o = { dirs: [logDir, second], windowMinutes: 20, until: UNTIL, now, dailyTokenLimit: 1e6 };
    const got = await generateReport({ ...o, cacheDir, onNotice: (m) => notices.push(m) });
    const want = await generateReport(o);
    expect(JSON.stringify(got)).toBe(JSON.stringify(want));
    expect(want.records).toBeGreaterThan(0);
    expect(notices).toHaveLength(1);
    expect(notices[0]).not.toContain('\n');
    expect(notices[0]).toMatch(/cache/);
    // And again: still right, still (per run) one notice.
    const again = await generateReport({ ...o, cacheDir, onNotice: (m) => notices.push(m) });
    expect(JSON.stringify(again)).toBe(JSON.stringify(want));
    expect(notices).toHaveLength(2);
  });

  it('a cache entry path that is a directory is ignored and the run still succeeds', async () => {
    const { logDir, cacheDir } = sample();
    mkdirSync(entryPath(cacheDir, logDir), { recursive: true }); // rename over a directory fails
    const notices: string[] = [];
    const o = { dirs: [logDir], windowMinutes: 20, until: UNTIL, now, dailyTokenLimit: 1e6 };
    const got = await generateReport({ ...o, cacheDir, onNotice: (m) => notices.push(m) });
    expect(JSON.stringify(got)).toBe(JSON.stringify(await generateReport(o)));
    expect(notices).toHaveLength(1);
    expect(readdirSync(cacheDir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

describe('incremental reading', () => {
  it('reads nothing when nothing changed, and only the appended bytes after an append', async () => {
    const { logDir, cacheDir } = sample();
    const o = { dirs: [logDir], windowMinutes: 60, until: UNTIL, now, cacheDir };
    const first = await readWindow(o);
    const file = join(logDir, 'perfmon-20261127-10.ndjson');
    expect(first.bytesRead).toBe(statSync(file).size);
    const mtime = statSync(entryPath(cacheDir, logDir)).mtimeMs;
    expect((await readWindow(o)).bytesRead).toBe(0);
    expect(statSync(entryPath(cacheDir, logDir)).mtimeMs, 'an unchanged run rewrote the entry').toBe(mtime);
    const more = JSON.stringify({ ts: '2026-11-27T10:20:00.000Z', stage: 'total', durationMs: 5 }) + '\n';
    writeFileSync(file, more, { flag: 'a' });
    expect((await readWindow(o)).bytesRead).toBe(Buffer.byteLength(more));
    expect(load(cacheDir, logDir).entry!.files.get('perfmon-20261127-10.ndjson')!.index.offset).toBe(statSync(file).size);
  });
});
