#!/usr/bin/env node
// Load benchmark for `perfmon serve`: a writer appends 2,000 records/s while a local load
// generator (keep-alive HTTP clients on 127.0.0.1, bounded in time) scrapes /metrics.
// Reports scrape latency p50/p99 and requests/s; as a baseline in the same run, /healthz (no
// rendering) is loaded the same way.
//   node bench/serve-load.js [--seconds 20] [--connections 8] [--rate 2000]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const seconds = Number(opt('--seconds', '20'));
const connections = Number(opt('--connections', '8'));
const rate = Number(opt('--rate', '2000'));

const dir = mkdtempSync(join(tmpdir(), 'perfmon-serve-load-'));
const writer = spawn(process.execPath, [join(here, 'soak-writer.js'), dir, String(rate), String(seconds * 2 + 15)], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 3000)); // some history before serving
const server = spawn(process.execPath, [join(here, '..', 'bin', 'perfmon.js'), 'serve', '--dir', dir, '--host', '127.0.0.1', '--port', '0', '--window', '5m'], { stdio: ['ignore', 'ignore', 'pipe'] });
const url = await new Promise((resolve, reject) => {
  let err = '';
  server.stderr.on('data', (d) => {
    err += d;
    const m = /listening on (http:\/\/[^\s]+)/.exec(err);
    if (m) resolve(m[1]);
  });
  server.once('exit', (c) => reject(new Error(`serve exited ${c}: ${err}`)));
});

async function load(path) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies = [];
  let bytes = 0;
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const one = () =>
    new Promise((resolve) => {
      const t0 = performance.now();
      http
        .get(url + path, { agent }, (res) => {
          res.on('data', (d) => (bytes += d.length));
          res.on('end', () => {
            if (res.statusCode !== 200) errors++;
            latencies.push(performance.now() - t0);
            resolve();
          });
        })
        .on('error', () => {
          errors++;
          resolve();
        });
    });
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, async () => {
    while (performance.now() < end) await one();
  }));
  const wall = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.max(0, Math.ceil((p / 100) * latencies.length) - 1)];
  return { path, requests: latencies.length, rps: latencies.length / wall, p50: q(50), p99: q(99), avgBytes: bytes / Math.max(1, latencies.length), errors };
}

const results = [await load('/healthz'), await load('/metrics')];
const health = await (await fetch(url + '/healthz')).json();
server.kill('SIGTERM');
writer.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
rmSync(dir, { recursive: true, force: true });

console.log(`# serve load — ${connections} keep-alive connections × ${seconds} s per path, writer at ${rate} records/s; ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, Node ${process.version}`);
console.log('');
console.log('| path | requests | requests/s | p50 | p99 | body | errors |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const r of results) console.log(`| ${r.path} | ${r.requests} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${(r.avgBytes / 1024).toFixed(1)} KiB | ${r.errors} |`);
console.log('');
console.log(`/metrics ÷ /healthz requests/s: ${(results[1].rps / results[0].rps).toFixed(2)}×. Records read by serve during the run: ${health.records}.`);
