#!/usr/bin/env node
// Soak benchmark for `perfmon watch`: a writer appends 2,000 records/s while watch follows the
// directory; samples the watcher's CPU share and RSS from /proc. RSS must stay flat.
//   node bench/watch-soak.js [--minutes 10] [--rate 2000] [--window 5m]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const minutes = Number(opt('--minutes', '10'));
const rate = Number(opt('--rate', '2000'));
const windowArg = opt('--window', '5m');
const CLK = 100; // USER_HZ on Linux

const dir = mkdtempSync(join(tmpdir(), 'perfmon-soak-'));
const writer = spawn(process.execPath, [join(here, 'soak-writer.js'), dir, String(rate), String(minutes * 60)], { stdio: ['ignore', 'pipe', 'inherit'] });
let writerOut = '';
writer.stdout.on('data', (d) => (writerOut += d));
const writerExited = new Promise((r) => writer.once('exit', r));
// Let the first file appear so watch starts on a live directory.
await new Promise((r) => setTimeout(r, 500));
const watcher = spawn(process.execPath, [join(here, '..', 'bin', 'perfmon.js'), 'watch', '--dir', dir, '--window', windowArg, '--interval', '1m', '--json'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let lastLine = '';
let lines = 0;
let buf = '';
watcher.stdout.on('data', (d) => {
  buf += d;
  const parts = buf.split('\n');
  buf = parts.pop();
  for (const p of parts) if (p) { lastLine = p; lines++; }
});

function sample(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuTicks = Number(f[11]) + Number(f[12]); // utime + stime
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { cpuTicks, rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024 };
}

const t0 = Date.now();
const s0 = sample(watcher.pid);
const rows = [];
const marks = new Set([1, 5, 10, 15, 20, 30, 60].filter((m) => m <= minutes));
if (!marks.has(minutes)) marks.add(minutes);
let prev = { t: t0, ...s0 };
await new Promise((resolve) => {
  const timer = setInterval(() => {
    const t = Date.now();
    const elapsedMin = (t - t0) / 60000;
    const s = sample(watcher.pid);
    const due = [...marks].find((m) => elapsedMin >= m && !rows.some((r) => r.minute === m));
    if (due !== undefined) {
      const cpuShare = ((s.cpuTicks - prev.cpuTicks) / CLK) / ((t - prev.t) / 1000);
      rows.push({ minute: due, rssMB: s.rssMB, peakMB: s.hwmMB, cpuShare, cumulativeCpu: ((s.cpuTicks - s0.cpuTicks) / CLK) / ((t - t0) / 1000) });
      prev = { t, ...s };
      process.stderr.write(`minute ${due}: RSS ${s.rssMB.toFixed(1)} MiB, peak ${s.hwmMB.toFixed(1)} MiB\n`);
    }
    if (rows.length === marks.size) {
      clearInterval(timer);
      resolve();
    }
  }, 1000);
});
await writerExited;
watcher.kill('SIGTERM');
const code = await new Promise((r) => watcher.once('exit', (c) => r(c)));
const final = lastLine ? JSON.parse(lastLine) : undefined;
rmSync(dir, { recursive: true, force: true });

console.log(`# watch soak — ${rate} records/s for ${minutes} min, window ${windowArg}; ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, Node ${process.version}`);
console.log('');
console.log('| minute | watcher RSS | peak RSS (VmHWM) | CPU share since previous mark | CPU share since start |');
console.log('|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.minute} | ${r.rssMB.toFixed(1)} MiB | ${r.peakMB.toFixed(1)} MiB | ${(r.cpuShare * 100).toFixed(1)} % | ${(r.cumulativeCpu * 100).toFixed(1)} % |`);
}
console.log('');
console.log(`writer: ${writerOut.trim()}; watch printed ${lines} NDJSON reports, exit code ${code} after SIGTERM; last report: ${final?.records ?? '?'} records in its ${final?.timeWindowMinutes ?? '?'}-minute window.`);
