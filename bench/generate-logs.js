#!/usr/bin/env node
// Generates realistic perfmon logs of an LLM pipeline (preprocess → classify → decide → extract,
// plus total), deterministic for a given seed. Used for the sample logs in fixtures/ and for the
// benchmarks' large logs.
//
//   node bench/generate-logs.js --out DIR [--start ISO] [--hours 3] [--per-minute 6]
//                               [--lines N] [--seed 1] [--malformed N] [--single FILE]
//
// --lines N stops after about N lines (the signal rate is raised to fit them in --hours).
// --single FILE writes everything into one file instead of hourly perfmon files.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function parseArgs(argv) {
  const o = { out: undefined, start: '2026-11-26T09:00:00.000Z', hours: 3, perMinute: 6, lines: 0, seed: 1, malformed: 0, single: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    switch (a) {
      case '--out': o.out = v; i++; break;
      case '--start': o.start = v; i++; break;
      case '--hours': o.hours = Number(v); i++; break;
      case '--per-minute': o.perMinute = Number(v); i++; break;
      case '--lines': o.lines = Number(v); i++; break;
      case '--seed': o.seed = Number(v); i++; break;
      case '--malformed': o.malformed = Number(v); i++; break;
      case '--single': o.single = v; i++; break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  if (!o.out && !o.single) throw new Error('--out DIR or --single FILE is required');
  return o;
}

// mulberry32: small, fast, deterministic.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lognormal-ish duration around `median` ms with spread `sigma`. */
function duration(rand, median, sigma) {
  const u1 = Math.max(rand(), 1e-12);
  const u2 = rand();
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return Math.round(median * Math.exp(sigma * z) * 10) / 10;
}

const STAGES = [
  { name: 'preprocess', median: 35, sigma: 0.4, fail: 0.002 },
  { name: 'classify', median: 820, sigma: 0.35, fail: 0.01, llm: { model: 'gpt-4o-mini', tokens: 300, perToken: 0.0000051, cache: 0.45 } },
  { name: 'decide', median: 120, sigma: 0.3, fail: 0.004 },
  { name: 'extract', median: 1450, sigma: 0.45, fail: 0.015, llm: { model: 'gpt-4o', tokens: 600, perToken: 0.00001, cache: 0.2 } },
];
const ERRORS = ['timeout', 'rate_limited', 'invalid_response', 'upstream 503'];

export function* generateLines(o) {
  const rand = rng(o.seed);
  const start = Date.parse(o.start);
  const end = start + o.hours * 3_600_000;
  const perMinute = o.lines > 0 ? o.lines / 5.1 / (o.hours * 60) : o.perMinute;
  const gap = 60_000 / perMinute;
  let t = start;
  let n = 0;
  let nextQueue = start;
  let depth = 5;
  const malformedEvery = o.malformed > 0 ? Math.floor((o.lines > 0 ? o.lines : o.hours * 60 * perMinute * 5) / (o.malformed + 1)) : 0;
  let signal = 0;
  while (t < end && (o.lines === 0 || n < o.lines)) {
    if (t >= nextQueue) {
      depth = Math.max(0, Math.round(depth + (rand() - 0.5) * 6));
      yield [t, `{"ts":"${new Date(t).toISOString()}","type":"queue","depth":${depth}}\n`];
      n++;
      nextQueue += 30_000;
    }
    signal++;
    const id = `sig_${o.seed}_${signal}`;
    let at = t;
    let total = 0;
    let failed;
    for (const s of STAGES) {
      const ms = duration(rand, s.median, s.sigma);
      at += ms;
      total += ms;
      const fail = rand() < s.fail;
      let line = `{"ts":"${new Date(Math.floor(at)).toISOString()}","stage":"${s.name}","durationMs":${ms},"success":${!fail},"signalId":"${id}"`;
      if (fail) line += `,"error":"${ERRORS[Math.floor(rand() * ERRORS.length)]}"`;
      if (s.llm) {
        const hit = rand() < s.llm.cache;
        const tokens = hit ? 0 : Math.round(s.llm.tokens * (0.6 + rand() * 0.8));
        line += `,"llmTokens":${tokens},"llmCost":${+(tokens * s.llm.perToken).toFixed(6)},"cacheHit":${hit},"model":"${s.llm.model}"`;
      }
      yield [at, line + '}\n'];
      n++;
      if (malformedEvery > 0 && n % malformedEvery === 0) {
        yield [at, `{"ts":"${new Date(Math.floor(at)).toISOString()}","stage":"classify","durationMs":\n`];
        n++;
      }
      if (fail) {
        failed = fail;
        break;
      }
    }
    const overhead = duration(rand, 15, 0.5);
    let line = `{"ts":"${new Date(Math.floor(at + overhead)).toISOString()}","stage":"total","durationMs":${Math.round((total + overhead) * 10) / 10},"success":${!failed},"signalId":"${id}"`;
    if (failed) line += `,"error":"stage failed"`;
    yield [at + overhead, line + '}\n'];
    n++;
    // Jitter the arrival of the next signal, a little busier at the top of each hour.
    t += gap * (0.5 + rand());
  }
}

/** Writes the lines into hourly perfmon files (or one file); returns the number of lines. */
export function writeLogs(o) {
  const fds = new Map();
  const pending = new Map();
  let lines = 0;
  const fdFor = (ts) => {
    if (o.single) return o.single;
    const iso = new Date(ts).toISOString();
    return join(o.out, `perfmon-${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}.ndjson`);
  };
  if (o.out) mkdirSync(o.out, { recursive: true });
  const flush = (path) => {
    let fd = fds.get(path);
    if (fd === undefined) {
      fd = openSync(path, 'w');
      fds.set(path, fd);
    }
    writeSync(fd, pending.get(path).join(''));
    pending.set(path, []);
  };
  for (const [ts, line] of generateLines(o)) {
    const path = fdFor(ts);
    let buf = pending.get(path);
    if (!buf) pending.set(path, (buf = []));
    buf.push(line);
    lines++;
    if (buf.length >= 4096) flush(path);
  }
  for (const path of pending.keys()) flush(path);
  for (const fd of fds.values()) closeSync(fd);
  return lines;
}

/**
 * The benchmarks' day of logs: `lines` lines in 24 hourly files under bench/data/day24-<lines>,
 * generated once and reused. Returns the directory and its files.
 */
export function ensureDay(lines) {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'data', `day24-${lines}`);
  if (!existsSync(dir)) {
    process.stderr.write(`generating ${lines} lines in 24 hourly files under ${dir} …\n`);
    writeLogs({ out: dir, start: '2026-11-26T00:00:00.000Z', hours: 24, perMinute: 0, lines, seed: 11, malformed: 0 });
  }
  return { dir, files: readdirSync(dir).map((f) => join(dir, f)).sort() };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const o = parseArgs(process.argv.slice(2));
  const lines = writeLogs(o);
  process.stderr.write(`wrote ${lines} lines to ${o.single ?? o.out}\n`);
}
