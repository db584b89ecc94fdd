#!/usr/bin/env node
// Recorder benchmark: records per second from one process, perfmon's recordMetric with the full
// classify metadata against pino writing the same fields through its default destination
// (stdout, redirected to a file), in the same run; and the latency one recordMetric call adds.
//   node bench/recorder.js [--records 1000000]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync, statSync, readdirSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const records = Number(args.includes('--records') ? args[args.indexOf('--records') + 1] : '1000000');

if (args[0] === '--child') {
  const [, mode, target, n] = args;
  const count = Number(n);
  const meta = (i) => ({ signalId: `sig_${i}`, llmTokens: 450, llmCost: 0.0023, cacheHit: false, model: 'gpt-4o-mini', success: true });
  if (mode === 'pino') {
    const { default: pino } = await import('pino');
    const logger = pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime });
    const t0 = performance.now();
    for (let i = 0; i < count; i++) logger.info({ stage: 'classify', durationMs: 850.4, ...meta(i) });
    logger.flush?.();
    const ms = performance.now() - t0;
    process.stderr.write(JSON.stringify({ mode, ms }) + '\n');
  } else if (mode === 'perfmon') {
    const { createRecorder } = await import('../dist/index.js');
    const rec = createRecorder({ dir: target, retentionHours: 0 });
    const t0 = performance.now();
    for (let i = 0; i < count; i++) rec.recordMetric('classify', 850.4, meta(i));
    await rec.close();
    const ms = performance.now() - t0;
    process.stderr.write(JSON.stringify({ mode, ms }) + '\n');
  } else if (mode === 'latency') {
    // Per-call latency: time each call; subtract the cost of timing an empty call.
    const { createRecorder } = await import('../dist/index.js');
    const rec = createRecorder({ dir: target, retentionHours: 0 });
    const samples = new Float64Array(count);
    const empty = new Float64Array(count);
    const m = meta(1);
    // Let the event loop run between slices, as a pipeline does, so batches flush on the timer.
    for (let base = 0; base < count; base += 1000) {
      for (let i = base; i < base + 1000 && i < count; i++) {
        const t0 = process.hrtime.bigint();
        rec.recordMetric('classify', 850.4, m);
        samples[i] = Number(process.hrtime.bigint() - t0);
        const t1 = process.hrtime.bigint();
        empty[i] = Number(process.hrtime.bigint() - t1);
      }
      await new Promise((r) => setImmediate(r));
    }
    await rec.close();
    samples.sort();
    empty.sort();
    const q = (a, p) => a[Math.ceil((p / 100) * a.length) - 1];
    process.stderr.write(JSON.stringify({ mode, p50: q(samples, 50) - q(empty, 50), p99: q(samples, 99) - q(empty, 50), p999: q(samples, 99.9) - q(empty, 50), timerP50: q(empty, 50) }) + '\n');
  }
  process.exit(0);
}

function child(mode, n) {
  const dir = mkdtempSync(join(tmpdir(), `perfmon-rec-${mode}-`));
  const out = join(dir, 'stdout.ndjson');
  const fd = openSync(out, 'w');
  try {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, dir, String(n)], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${mode} failed: ${r.stderr}`);
    const result = JSON.parse(r.stderr.trim().split('\n').pop());
    const written = readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0);
    return { ...result, bytes: written };
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

const runs = 3;
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pinoMs = med(Array.from({ length: runs }, () => child('pino', records).ms));
const perfmonMs = med(Array.from({ length: runs }, () => child('perfmon', records).ms));
const lat = child('latency', 200_000);
console.log(`# recorder — ${records.toLocaleString('en-US')} records from one process; ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, Node ${process.version}; median of ${runs}`);
console.log('');
console.log('| writer | records/s |');
console.log('|---|---:|');
console.log(`| pino (default destination, stdout → file) | ${Math.round(records / (pinoMs / 1000)).toLocaleString('en-US')} |`);
console.log(`| perfmon recordMetric (batched, O_APPEND) | ${Math.round(records / (perfmonMs / 1000)).toLocaleString('en-US')} |`);
console.log('');
console.log(`perfmon ÷ pino rate: ${(pinoMs / perfmonMs).toFixed(2)}× (target ≥ 1.0)`);
console.log(`recordMetric added latency over 200,000 calls: p50 ${(lat.p50 / 1000).toFixed(2)} µs, p99 ${(lat.p99 / 1000).toFixed(2)} µs (target ≤ 5 µs), p99.9 ${(lat.p999 / 1000).toFixed(2)} µs (timer overhead ${lat.timerP50} ns subtracted)`);
