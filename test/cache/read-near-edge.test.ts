import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { answerWindow } from '../../src/cache/answer-window.js';
import type { FileIndex } from '../../src/cache/file-index.js';
import { reportBounds } from '../../src/report/window-accumulator.js';
import { rng } from '../helpers/rng.js';
import { trickyLines } from '../helpers/tricky-lines.js';
import { writeIndexed } from '../helpers/indexed-log.js';
import { reference, seen } from '../helpers/window-reference.js';

// src/cache/read-near-edge.ts, through answerWindow, which uses it for a minute cut near its edge.

const T = (iso: string) => Date.parse(iso);
const temps: string[] = [];
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});


describe('answerWindow near a minute\'s edge: the near side read, the rest by subtraction', () => {
  const M = T('2026-11-27T10:00:00.000Z');
  const iso = (ts: number) => new Date(ts).toISOString();

  function write(lines: string[]): { path: string; index: FileIndex } {
    const dir = mkdtempSync(join(tmpdir(), 'perfmon-near-edge-'));
    temps.push(dir);
    return writeIndexed(dir, 'app.ndjson', lines);
  }

  const randomLines = (seed: number) => trickyLines(seed, M);

  it('answers exactly what reading every line answers, near edges and elsewhere (150 logs × 8 windows)', async () => {
    for (let seed = 0; seed < 150; seed++) {
      const lines = randomLines(seed);
      const { path, index } = write(lines);
      const rand = rng(50_000 + seed);
      for (let k = 0; k < 8; k++) {
        const minute = M + Math.floor(rand() * 4) * 60_000;
        const offset = k < 6 ? (rand() < 0.5 ? 200 + rand() * 3_000 : 56_800 + rand() * 3_000) : rand() * 60_000;
        const windowMinutes = 1 + Math.floor(rand() * 3);
        // The cut at `from` (and at `previousFrom` for the trend rules) or at `until`.
        const until = rand() < 0.7 ? minute + Math.floor(offset) + windowMinutes * 60_000 : minute + Math.floor(offset);
        const b = reportBounds(until, windowMinutes, rand() < 0.5);
        const got = await answerWindow([{ path, gzip: false, index, summary: index.summary }], b);
        expect(seen(got), `seed ${seed}, window ${k}`).toEqual(seen(reference(lines, b)));
      }
    }
  });

  /** Records in minute 10:00, one every 20 ms, alternately of stages total and other. */
  function busyMinute(duration: (i: number) => number): string[] {
    const lines: string[] = [];
    for (let i = 0; i < 3_000; i++) lines.push(JSON.stringify({ ts: iso(M + 20 * i), stage: i % 2 ? 'other' : 'total', durationMs: duration(i), success: true, llmTokens: i }));
    return lines;
  }
  // The first 51 records (before the cut) hold neither a minimum nor a maximum.
  const spread = (i: number) => (i <= 50 ? 200 + i / 100 : 100 + ((i * 7919) % 3_000) / 10);
  const cutEarly = () => reportBounds(M + 1_000 + 60_000, 1); // from = 10:00:01: records 0-50 before it
  /** The lines with far-side durations of `stage` rewritten (same length, still valid). */
  const rewrite = (lines: string[], stage: string) => lines.map((l, i) => (i > 1_000 && i < 2_000 && l.includes(`"stage":"${stage}"`) ? l.replace(/"durationMs":(\d)/, '"durationMs":9') : l));

  async function answerAfterRewrite(lines: string[], stage: string): Promise<{ got: ReturnType<typeof seen>; before: ReturnType<typeof seen>; after: ReturnType<typeof seen> }> {
    const { path, index } = write(lines);
    const b = cutEarly();
    const changed = rewrite(lines, stage);
    writeFileSync(path, changed.join('\n') + '\n');
    const got = seen(await answerWindow([{ path, gzip: false, index, summary: index.summary }], b));
    return { got, before: seen(reference(lines, b)), after: seen(reference(changed, b)) };
  }

  it('does not parse the far side: lines changed there since indexing go unseen', async () => {
    const r = await answerAfterRewrite(busyMinute(spread), 'total');
    expect(r.after).not.toEqual(r.before);
    expect(r.got).toEqual(r.before);
  });

  it('a near side holding a minimum: the far side\'s comes from the minute\'s second smallest, no far line read', async () => {
    // Record 10 (total, before the cut) holds the minimum, 50, which record 2,000 (total, after
    // it) holds too; in the second log only record 10 does, so the far side's is the next one.
    for (const both of [true, false]) {
      for (const rewritten of ['other', 'total']) {
        const r = await answerAfterRewrite(busyMinute((i) => (i === 10 || (both && i === 2_000) ? 50 : spread(i))), rewritten);
        expect(r.after).not.toEqual(r.before);
        expect(r.got).toEqual(r.before); // exact, and the changed lines unread, total's too
      }
    }
  });

  it('a near side holding the two smallest: only the far lines of that stage are read, for its extremes', async () => {
    // Records 10 and 20 (total, before the cut) hold 50 and 50.5, the two smallest the minute
    // keeps; the far side's minimum is found among its lines of total (here record 1,500's 51,
    // or in the second log a value of spread's).
    for (const far of [true, false]) {
      const durations = (i: number) => (i === 10 ? 50 : i === 20 ? 50.5 : far && i === 1_500 ? 51 : spread(i));
      const other = await answerAfterRewrite(busyMinute(durations), 'other');
      expect(other.after).not.toEqual(other.before);
      expect(other.got).toEqual(other.before); // exact, and other's changed lines unread
      if (!far) continue;
      // Record 1,500's 51 rewritten to 91: the window's minimum of total is then the rewritten
      // file's, so total's far lines were read for it.
      const total = await answerAfterRewrite(busyMinute(durations), 'total');
      const minOf = (x: typeof total.got) => x.window?.stages.find((st) => st.name === 'total')?.min;
      expect(minOf(total.before)).toBe(51);
      expect(minOf(total.after)).not.toBe(51);
      expect(minOf(total.got)).toBe(minOf(total.after));
    }
  });

  it('stops reading the minute\'s lines once no later line can be on the near side: a time rewritten there goes unseen', async () => {
    // In time order (late 0), the scan stops at the first record past the cut. Record 2,000's
    // time rewritten to just past the cut (10:00:01.001, same length): read, it would be the
    // window's first time; unread, the window's first is still record 51's.
    const lines = busyMinute(spread);
    const { path, index } = write(lines);
    expect(index.minutes.get(M)!.late).toBe(0);
    const b = cutEarly();
    const changed = lines.map((l, i) => (i === 2_000 ? l.replace(iso(M + 40_000), iso(M + 1_001)) : l));
    expect(changed[2_000]).not.toBe(lines[2_000]);
    writeFileSync(path, changed.join('\n') + '\n');
    const got = seen(await answerWindow([{ path, gzip: false, index, summary: index.summary }], b));
    expect(seen(reference(changed, b)).window?.firstTs).toBe(M + 1_001);
    expect(got.window?.firstTs).toBe(M + 1_020);
    expect(got).toEqual(seen(reference(lines, b)));
  });

  it('reads the whole minute when the far side\'s first line is not a record: then changed lines are seen', async () => {
    const lines = busyMinute(spread);
    lines[51] = JSON.stringify({ ts: iso(M + 20 * 51), stage: 'total', success: true }); // no duration: malformed
    const r = await answerAfterRewrite(lines, 'other');
    expect(r.got).toEqual(r.after);
  });
});
