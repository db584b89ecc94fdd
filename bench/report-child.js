// One measured run of a report benchmark, in its own process so its peak RSS is its own.
//   node bench/report-child.js perfmon|perfmon-1thread|perfmon-cached|baseline|duckdb DIR [WINDOW]
// perfmon modes run without the cache (a cold run) except perfmon-cached, which uses the cache
// in $XDG_CACHE_HOME/perfmon.
// Prints one JSON line: { mode, ms, maxRssMB, signals }.
import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';

const [mode, dir, windowArg = '1d'] = process.argv.slice(2);
const t0 = performance.now();
let signals;

if (mode === 'perfmon' || mode === 'perfmon-1thread' || mode === 'perfmon-cached') {
  // The installed command's code path (bin/perfmon.js: the bundle, with its code cache, and its
  // worker bundle), output discarded.
  const { createRequire } = await import('node:module');
  const { loadBundle } = createRequire(import.meta.url)('../bin/perfmon.js');
  const { runCli } = loadBundle(new URL('../dist/bundle/main.cjs', import.meta.url)).exports;
  let out = '';
  const sink = new Writable({ write(chunk, _e, cb) { out += chunk; cb(); } });
  const args = ['report', '--dir', dir, '--until', 'latest', '--window', windowArg, '--json'];
  if (mode === 'perfmon-1thread') args.push('--threads', '1');
  if (mode !== 'perfmon-cached') args.push('--no-cache');
  const code = await runCli(args, { stdout: sink, stderr: process.stderr, env: { XDG_CACHE_HOME: process.env.XDG_CACHE_HOME }, cwd: process.cwd(), now: Date.now });
  if (code !== 0) throw new Error(`perfmon exited ${code}`);
  signals = JSON.parse(out).throughput.totalSignalsProcessed;
} else if (mode === 'duckdb') {
  // DuckDB's equivalent of the whole-day report: per-stage count, mean, min, max, exact
  // nearest-rank percentiles (quantile_disc), errors, tokens, cost and cache counts, 2 threads.
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { threads: '2' });
  const c = await db.connect();
  const glob = join(dir, '*.ndjson').replace(/'/g, "''");
  const res = await c.runAndReadAll(`
    SELECT stage, count(*) AS n, avg(durationMs), min(durationMs), max(durationMs),
           quantile_disc(durationMs, [0.5, 0.95, 0.99]),
           count(*) FILTER (WHERE success = false),
           sum(llmTokens), sum(llmCost),
           count(*) FILTER (WHERE cacheHit), count(*) FILTER (WHERE NOT cacheHit)
    FROM read_ndjson('${glob}', format = 'newline_delimited', ignore_errors = true,
      columns = {ts: 'VARCHAR', type: 'VARCHAR', stage: 'VARCHAR', durationMs: 'DOUBLE', success: 'BOOLEAN',
                 llmTokens: 'DOUBLE', llmCost: 'DOUBLE', cacheHit: 'BOOLEAN', depth: 'DOUBLE'})
    WHERE type IS NULL OR type = 'stage'
    GROUP BY stage`);
  const rows = res.getRows();
  signals = Number(rows.find((r) => r[0] === 'total')?.[1] ?? 0);
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
