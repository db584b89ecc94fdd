#!/usr/bin/env node
// Cache benchmark (issue: "repeated runs read only new bytes"): on the generated day of logs,
// `perfmon report --window 1d` cold (empty cache), again with no new data, and again after
// 10,000 new lines; issue 6's 30-minute window, ending at the day's last record and mid-minute;
// the cache's size against the logs'. Each run is a fresh process: the whole
// command as a user runs it, startup included.
//   node bench/cache.js [--lines 5000000] [--runs 3] [--env-as-is]
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDay } from './generate-logs.js';
import { childEnv, envNote } from './child-env.js';
import { describe, median, pairedRatios, verdict } from './paired.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const lines = Number(opt('--lines', '5000000'));
// Nine rounds: the fewest whose ratios give the median a 95 % interval narrower than their range.
const runs = Number(opt('--runs', '9'));

const { dir, files } = ensureDay(lines);
const logBytes = () => files.reduce((n, f) => n + statSync(f).size, 0);
for (const f of files) readFileSync(f); // warm page cache

const bin = join(here, '..', 'bin', 'perfmon.js');
/** The installed command, as a user or cron runs it: a fresh process, startup included. */
function run(cacheHome, window = '1d', until = 'latest') {
  const t0 = performance.now();
  const out = execFileSync(process.execPath, [bin, 'report', '--dir', dir, '--until', until, '--window', window, '--json'], { encoding: 'utf8', maxBuffer: 1 << 24, env: { ...childEnv(args), XDG_CACHE_HOME: cacheHome } });
  return { wall: performance.now() - t0, signals: JSON.parse(out).throughput.totalSignalsProcessed };
}
/** What starting Node alone costs on this machine: the floor under any run. */
function nodeStart() {
  const t0 = performance.now();
  execFileSync(process.execPath, ['-e', '0'], { env: childEnv(args) });
  return performance.now() - t0;
}
const CHEAP_REPEATS = 3;

const cold = [];
const warm = [];
const after = [];
const window30 = [];
const windowMid = [];
/** Per round: the median 30-minute run (with and without the mid-minute end) ÷ that round's cold run. */
const round30 = [];
const roundMid = [];
/** A time of the generated day (bench/generate-logs.js) half a minute into a minute. */
const MID_MINUTE_UNTIL = '2026-11-26T23:45:31.000Z';
const bare = [];
let cacheBytes = 0;
// Appended lines carry timestamps inside the day, so the report must count them.
const last = files.at(-1);
const lastSize = statSync(last).size;
try {
  for (let i = 0; i < runs; i++) {
    const home = mkdtempSync(join(tmpdir(), 'perfmon-bench-cache-'));
    cold.push(run(home).wall);
    const [w30, wMid] = [window30.length, windowMid.length];
    // The cached runs take ≈ 0.1 s, where the machine's jitter is a larger share: three of each
    // per round (interleaved), so their medians rest on three times the samples.
    for (let k = 0; k < CHEAP_REPEATS; k++) {
      warm.push(run(home).wall);
      bare.push(nodeStart());
      // Issue 6's windowed report, answered from the index: the last 30 minutes (today's tokens too).
      window30.push(run(home, '30m').wall);
      // The same window ending at a time of day: its start falls anywhere in a minute, as a cron
      // job's at `now` does, and (the end being inside the day's data here) so does its end; a
      // minute cut in its middle is re-read on the side that counts, as far past the cut as its
      // records lie out of order (7 s in this day). (The day's last record, `latest`, lies 4.2 s
      // past a minute's start, so the runs above cut minutes near their edges and re-read only a
      // few seconds of lines.)
      windowMid.push(run(home, '30m', MID_MINUTE_UNTIL).wall);
    }
    round30.push(median(window30.slice(w30)));
    roundMid.push(median(windowMid.slice(wMid)));
    let text = '';
    for (let k = 0; k < 10_000; k++) text += `{"ts":"2026-11-26T23:59:${String(k % 60).padStart(2, '0')}.${String(k % 1000).padStart(3, '0')}Z","stage":"total","durationMs":${1000 + (k % 500)},"success":true}\n`;
    appendFileSync(last, text);
    after.push(run(home).wall);
    const cacheDir = join(home, 'perfmon');
    cacheBytes = readdirSync(cacheDir).reduce((n, f) => n + statSync(join(cacheDir, f)).size, 0);
    rmSync(home, { recursive: true, force: true });
    // The same day for every run and every later benchmark: the appended lines go again.
    truncateSync(last, lastSize);
  }
} finally {
  truncateSync(last, lastSize);
}
const total = logBytes();
console.log(`# cache — report --window 1d over ${lines.toLocaleString('en-US')}+ lines (${(total / 2 ** 20).toFixed(0)} MiB, ${files.length} files); ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, Node ${process.version}; median of ${runs} (of ${runs * CHEAP_REPEATS} for the runs without new data and node -e 0)`);
console.log(envNote(args));
console.log('');
console.log('| run | wall | ÷ cold | target |');
console.log('|---|---:|---:|---:|');
const c = median(cold);
console.log(`| cold (empty cache) | ${(c / 1000).toFixed(2)} s | 100 % | |`);
console.log(`| again, no new data | ${(median(warm) / 1000).toFixed(3)} s | ${((median(warm) / c) * 100).toFixed(1)} % | ≤ 5 % |`);
console.log(`| after 10,000 new lines | ${(median(after) / 1000).toFixed(3)} s | ${((median(after) / c) * 100).toFixed(1)} % | ≤ 10 % |`);
console.log(`| \`node -e 0\` (Node's own start) | ${(median(bare) / 1000).toFixed(3)} s | ${((median(bare) / c) * 100).toFixed(1)} % | |`);
console.log(`| --window 30m, no new data | ${(median(window30) / 1000).toFixed(3)} s | ${((median(window30) / c) * 100).toFixed(1)} % | ≤ 5 % (issue 6, against the whole-day report) |`);
console.log(`| --window 30m --until ${MID_MINUTE_UNTIL.slice(11, 19)}, no new data | ${(median(windowMid) / 1000).toFixed(3)} s | ${((median(windowMid) / c) * 100).toFixed(1)} % | (the same window ending mid-minute: its two cut minutes re-read on the side that counts) |`);
const coldRounds = cold.slice(0, round30.length);
const p30 = pairedRatios(coldRounds, round30);
const pMid = pairedRatios(coldRounds, roundMid);
const pct = { scale: 100, unit: ' %', digits: 1 };
console.log('');
console.log(`--window 30m ÷ cold, round by round: ${describe(p30, pct)} — issue 6's ≤ 5 %: ${verdict(p30, 0.05)}`);
console.log(`the same ending mid-minute, round by round: ${describe(pMid, pct)} — ≤ 5 %: ${verdict(pMid, 0.05)}`);
console.log('');
console.log(`cache size: ${(cacheBytes / 2 ** 20).toFixed(2)} MiB = ${((cacheBytes / total) * 100).toFixed(2)} % of the logs (target ≤ 2 %)`);
