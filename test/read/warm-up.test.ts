import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fastParseRecord } from '../../src/read/fast-parse.js';
import { warmUpIndexing } from '../../src/read/warm-up.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * Indexes 20,000 plain lines (one model, costs ≥ 1, minutes in order), then lines that take
 * ways the plain ones never did (minutes alternating, a cost of `0.004`, a name outside the
 * parser's table, whitespace), then plain lines again, through the built indexing reader.
 * `--no-concurrent-recompilation` makes V8 optimise on the spot, so the parser is optimised
 * before the unusual lines in every run. Prints V8's deoptimisations (`--trace-deopt`).
 */
const SCRIPT = `
import { emptyIndex, indexingSink } from ${JSON.stringify(join(root, 'dist/cache/file-index.js'))};
import { LineSplitter } from ${JSON.stringify(join(root, 'dist/read/line-splitter.js'))};
import { warmUpIndexing } from ${JSON.stringify(join(root, 'dist/read/warm-up.js'))};
if (process.argv[2] === 'warm') warmUpIndexing();
const t0 = Date.parse('2026-11-27T09:00:00Z');
const plain = (i) => '{"ts":"' + new Date(t0 + i * 20).toISOString() + '","stage":"classify","durationMs":' + (600 + (i % 3000) / 10) + ',"success":true,"signalId":"sig_' + i + '","llmTokens":' + (300 + (i % 200)) + ',"llmCost":1.' + (100 + (i % 900)) + ',"cacheHit":false,"model":"gpt-4o-mini"}';
const lines = [];
for (let i = 0; i < 20000; i++) lines.push(plain(i));
const late = (i, back) => '{"ts":"' + new Date(t0 + i * 20 - back).toISOString() + '", "stage":"classify","durationMs":' + (i % 7) + ',"success":false,"llmTokens":3,"llmCost":0.004,"model":"m"} ';
for (let i = 20000; i < 20100; i++) lines.push(i % 2 ? late(i, 60000) : plain(i));
for (let i = 20100; i < 21000; i++) lines.push(plain(i));
const index = emptyIndex(0);
new LineSplitter(indexingSink('log', index, { fastPath: true })).push(Buffer.from(lines.join('\\n') + '\\n'));
console.log('lines', index.lines, 'malformed', index.malformed.count);
`;

function run(mode: 'cold' | 'warm'): { out: string; bailouts: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'perfmon-warm-up-'));
  dirs.push(dir);
  const file = join(dir, 'index.mjs');
  writeFileSync(file, SCRIPT);
  const out = execFileSync(process.execPath, ['--no-concurrent-recompilation', '--trace-deopt', file, mode], { encoding: 'utf8', maxBuffer: 1 << 26 });
  // An eager deoptimisation of the reader's own functions: optimised code met a way it had no
  // type feedback for, threw itself away, and the function ran unoptimised until compiled again.
  const ours = /<JSFunction (parseLine|fastParseFlat|sink\.linesAt|entryFor|addFlat|statsFor|add|push) /;
  const bailouts = out.split('\n').filter((l) => l.startsWith('[bailout (kind: deopt-eager') && ours.test(l));
  return { out, bailouts };
}

describe('warmUpIndexing', () => {
  it('without it, a way first taken after the parser is optimised throws optimised code away', () => {
    // The premise of the warm-up, so that the next test means something.
    const { out, bailouts } = run('cold');
    expect(out).toContain('lines 21000 malformed 0');
    expect(bailouts.some((l) => l.includes('<JSFunction parseLine '))).toBe(true);
  });

  it('after it, the indexing reader meets those ways without a deoptimisation', () => {
    const { out, bailouts } = run('warm');
    expect(out).toContain('lines 21000 malformed 0');
    expect(bailouts).toEqual([]);
  });

  it('changes no record: lines naming its made-up names, minutes and days parse as before it', () => {
    const lines = [
      '{"ts":"2026-11-27T09:00:01.000Z","stage":"warm-model","durationMs":5,"success":true}',
      '{"ts":"2000-01-01T00:01:00.030Z","type":"queue","depth":7}',
      '{"ts":"2000-01-01T00:00:59.040Z","stage":"decide","durationMs":3,"success":true}',
      '{"ts":"2000-01-02T00:00:00.120Z","type":"llm","model":"w","durationMs":1,"success":true}',
    ].map((l) => Buffer.from(l));
    const before = lines.map((b) => ({ ...fastParseRecord(b, 0, b.length) }));
    warmUpIndexing();
    const after = lines.map((b) => ({ ...fastParseRecord(b, 0, b.length) }));
    expect(after).toEqual(before);
    expect(after[1]).toMatchObject({ type: 'queue', ts: Date.parse('2000-01-01T00:01:00.030Z'), depth: 7 });
  });
});
