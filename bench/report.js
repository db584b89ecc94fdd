#!/usr/bin/env node
// Report benchmark: `perfmon report --window 1d` over a generated day of logs, against a plain
// Node baseline (split + JSON.parse + sort) in the same run. Reports wall time and peak RSS at
// each size, to show perfmon's memory does not grow with the number of lines.
//
//   node bench/report.js [--lines 1000000,3000000] [--runs 3] [--fresh]
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, totalmem } from 'node:os';
import { writeLogs } from './generate-logs.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i === -1 ? dflt : args[i + 1];
};
const sizes = opt('--lines', '1000000,3000000').split(',').map(Number);
const runs = Number(opt('--runs', '3'));
const fresh = args.includes('--fresh');

function dataDir(lines) {
  const dir = join(here, 'data', `day-${lines}`);
  if (fresh && existsSync(dir)) rmSync(dir, { recursive: true });
  if (!existsSync(dir)) {
    process.stderr.write(`generating ${lines} lines in ${dir} …\n`);
    writeLogs({ out: dir, start: '2026-11-26T00:00:00.000Z', hours: 24, perMinute: 0, lines, seed: 7, malformed: 0 });
  }
  const bytes = readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  return { dir, bytes };
}

function measure(mode, dir) {
  const t0 = performance.now();
  const out = execFileSync(process.execPath, [join(here, 'report-child.js'), mode, dir], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const wall = performance.now() - t0;
  return { ...JSON.parse(out.trim().split('\n').pop()), wall: Math.round(wall) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`# report benchmark — ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
console.log('');
console.log('| lines | log size | mode | wall (median of ' + runs + ') | in-process | peak RSS | signals |');
console.log('|---:|---:|---|---:|---:|---:|---:|');
for (const lines of sizes) {
  const { dir, bytes } = dataDir(lines);
  const results = {};
  for (const mode of ['perfmon', 'baseline']) {
    const rs = [];
    for (let i = 0; i < runs; i++) rs.push(measure(mode, dir));
    results[mode] = { wall: median(rs.map((r) => r.wall)), ms: median(rs.map((r) => r.ms)), rss: Math.max(...rs.map((r) => r.maxRssMB)), signals: rs[0].signals };
    const r = results[mode];
    console.log(`| ${lines.toLocaleString('en-US')} | ${(bytes / 2 ** 20).toFixed(0)} MiB | ${mode} | ${(r.wall / 1000).toFixed(2)} s | ${(r.ms / 1000).toFixed(2)} s | ${r.rss} MiB | ${r.signals} |`);
  }
  const ratio = results.perfmon.wall / results.baseline.wall;
  console.log(`| | | perfmon ÷ baseline | ${ratio.toFixed(2)}× | | ${(results.perfmon.rss / results.baseline.rss).toFixed(2)}× | |`);
}
