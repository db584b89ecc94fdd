// One measured run of the report benchmark, in its own process so its peak RSS is its own.
//   node bench/report-child.js perfmon|baseline DIR
// Prints one JSON line: { mode, ms, maxRssMB, signals }.
import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';

const [mode, dir] = process.argv.slice(2);
const t0 = performance.now();
let signals;

if (mode === 'perfmon') {
  // The real CLI code path, output discarded.
  const { runCli } = await import('../dist/cli/program.js');
  let out = '';
  const sink = new Writable({ write(chunk, _e, cb) { out += chunk; cb(); } });
  const code = await runCli(['report', '--dir', dir, '--until', 'latest', '--window', '1d', '--json'], {
    stdout: sink, stderr: process.stderr, env: {}, cwd: process.cwd(), now: Date.now,
  });
  if (code !== 0) throw new Error(`perfmon exited ${code}`);
  signals = JSON.parse(out).throughput.totalSignalsProcessed;
} else if (mode === 'baseline') {
  // What one writes without perfmon: split lines, JSON.parse each, keep every duration per
  // stage, sort for exact percentiles. Memory grows with the number of lines.
  const byStage = new Map();
  for (const name of readdirSync(dir).sort()) {
    let rest = '';
    for await (const chunk of createReadStream(join(dir, name), { encoding: 'utf8', highWaterMark: 1 << 20 })) {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop();
      for (const line of lines) {
        let r;
        try { r = JSON.parse(line); } catch { continue; }
        if (r.type !== undefined && r.type !== 'stage') continue;
        let arr = byStage.get(r.stage);
        if (!arr) byStage.set(r.stage, (arr = []));
        arr.push(r.durationMs);
      }
    }
  }
  for (const arr of byStage.values()) {
    arr.sort((a, b) => a - b);
    for (const p of [50, 95, 99]) void arr[Math.ceil((p / 100) * arr.length) - 1];
  }
  signals = byStage.get('total')?.length ?? 0;
} else {
  throw new Error(`unknown mode ${mode}`);
}

const ms = performance.now() - t0;
console.log(JSON.stringify({ mode, ms: Math.round(ms), maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024), signals }));
