import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { ruleThresholds } from '../../src/detect/detect-issues.js';
import { evaluateWindow, type WindowEvaluation } from '../../src/detect/evaluate-window.js';
import { PerfmonError } from '../../src/errors.js';
import { checkNamespace, formatPrometheus } from '../../src/export/prometheus.js';
import { generateReports } from '../../src/report/generate-report.js';

const SAMPLE = fileURLToPath(new URL('../../fixtures/sample/', import.meta.url));
const WINDOW_MIN = 30;

// ---------------------------------------------------------------------------------------------
// An independent reader of text exposition format 0.0.4, strict enough to reject anything that
// is neither a comment nor a sample.

interface ParsedSample {
  line: number;
  name: string;
  labels: Array<[string, string]>;
  value: number;
}
interface Parsed {
  help: Map<string, { line: number; text: string }[]>;
  type: Map<string, { line: number; type: string }[]>;
  samples: ParsedSample[];
  lines: string[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(s: string, where: string): number {
  if (s === 'NaN') return NaN;
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(s)) throw new Error(`${where}: bad value ${JSON.stringify(s)}`);
  return Number(s);
}

function unescapeHelp(s: string): string {
  return s.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'));
}

function parseSample(l: string, where: string): Omit<ParsedSample, 'line'> {
  const nm = METRIC_NAME.exec(l);
  if (!nm) throw new Error(`${where}: no metric name: ${JSON.stringify(l)}`);
  const name = nm[0];
  let i = name.length;
  const labels: Array<[string, string]> = [];
  if (l[i] === '{') {
    i++;
    while (l[i] !== '}') {
      const ln = LABEL_NAME.exec(l.slice(i));
      if (!ln) throw new Error(`${where}: bad label name at ${i}: ${JSON.stringify(l)}`);
      i += ln[0].length;
      if (l[i] !== '=' || l[i + 1] !== '"') throw new Error(`${where}: expected =" at ${i}: ${JSON.stringify(l)}`);
      i += 2;
      let v = '';
      for (;;) {
        const c = l[i];
        if (c === undefined) throw new Error(`${where}: unterminated label value: ${JSON.stringify(l)}`);
        if (c === '"') break;
        if (c === '\\') {
          const n = l[i + 1];
          if (n === '\\') v += '\\';
          else if (n === '"') v += '"';
          else if (n === 'n') v += '\n';
          else throw new Error(`${where}: bad escape \\${n} at ${i}: ${JSON.stringify(l)}`);
          i += 2;
        } else {
          v += c;
          i++;
        }
      }
      i++; // closing quote
      labels.push([ln[0], v]);
      if (l[i] === ',') i++;
      else if (l[i] !== '}') throw new Error(`${where}: expected , or } at ${i}: ${JSON.stringify(l)}`);
    }
    i++; // closing brace
  }
  if (l[i] !== ' ') throw new Error(`${where}: expected a space before the value at ${i}: ${JSON.stringify(l)}`);
  const rest = l.slice(i + 1).split(' ');
  if (rest.length > 2 || (rest.length === 2 && !/^-?\d+$/.test(rest[1]!))) throw new Error(`${where}: trailing garbage: ${JSON.stringify(l)}`);
  return { name, labels, value: parseValue(rest[0]!, where) };
}

function parseExposition(text: string): Parsed {
  expect(text.endsWith('\n'), 'exposition ends with a newline').toBe(true);
  const lines = text.slice(0, -1).split('\n');
  const out: Parsed = { help: new Map(), type: new Map(), samples: [], lines };
  lines.forEach((l, idx) => {
    const where = `line ${idx + 1}`;
    if (l.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(l);
      if (!m) {
        // Other comments are allowed by the format but perfmon writes none.
        throw new Error(`${where}: unexpected comment ${JSON.stringify(l)}`);
      }
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (kind === 'HELP') out.help.set(name, [...(out.help.get(name) ?? []), { line: idx, text: unescapeHelp(rest) }]);
      else {
        if (!/^(counter|gauge|summary|histogram|untyped)$/.test(rest)) throw new Error(`${where}: bad type ${rest}`);
        out.type.set(name, [...(out.type.get(name) ?? []), { line: idx, type: rest }]);
      }
      return;
    }
    out.samples.push({ line: idx, ...parseSample(l, where) });
  });
  return out;
}

/** The family a sample belongs to, given the TYPE lines seen. */
function familyOf(p: Parsed, name: string): string | undefined {
  if (p.type.has(name)) return name;
  for (const [suffix, types] of [
    ['_sum', ['summary', 'histogram']],
    ['_count', ['summary', 'histogram']],
    ['_bucket', ['histogram']],
  ] as const) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const t = p.type.get(base)?.[0]?.type;
      if (t !== undefined && (types as readonly string[]).includes(t)) return base;
    }
  }
  return undefined;
}

const seriesKey = (s: ParsedSample): string =>
  s.name + '{' + [...s.labels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',') + '}';

const label = (s: ParsedSample, k: string): string | undefined => s.labels.find(([n]) => n === k)?.[1];

function find(p: Parsed, name: string, labels: Record<string, string> = {}): ParsedSample {
  const hits = p.samples.filter((s) => s.name === name && s.labels.length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => label(s, k) === v));
  expect(hits, `${name}${JSON.stringify(labels)}`).toHaveLength(1);
  return hits[0]!;
}

/** The structural rules every perfmon exposition must keep. */
function checkStructure(p: Parsed): void {
  // Unique series.
  const seen = new Map<string, number>();
  for (const s of p.samples) {
    const k = seriesKey(s);
    expect(seen.has(k), `series ${k} repeated on lines ${seen.get(k)! + 1} and ${s.line + 1}`).toBe(false);
    seen.set(k, s.line);
  }
  // HELP and TYPE once per family, HELP before TYPE, both before the family's samples.
  for (const [name, helps] of p.help) expect(helps, `HELP ${name}`).toHaveLength(1);
  for (const [name, types] of p.type) expect(types, `TYPE ${name}`).toHaveLength(1);
  expect([...p.help.keys()].sort()).toEqual([...p.type.keys()].sort());
  for (const [name, [t]] of p.type) expect(p.help.get(name)![0]!.line, `HELP of ${name} right before its TYPE`).toBe(t!.line - 1);
  // Every sample has a family with a TYPE, after that TYPE, and a family's samples are contiguous.
  const familyLines = new Map<string, number[]>();
  for (const s of p.samples) {
    const fam = familyOf(p, s.name);
    expect(fam, `sample ${s.name} (line ${s.line + 1}) has no TYPE`).toBeDefined();
    expect(s.line, `${s.name} after its TYPE`).toBeGreaterThan(p.type.get(fam!)![0]!.line);
    familyLines.set(fam!, [...(familyLines.get(fam!) ?? []), s.line]);
  }
  for (const [fam, ls] of familyLines) {
    const t = p.type.get(fam)![0]!.line;
    expect(ls, `samples of ${fam} grouped right under its TYPE`).toEqual(ls.map((_, i) => t + 1 + i));
  }
  // Every family written has samples (empty families are left out).
  for (const name of p.type.keys()) expect(familyLines.has(name), `family ${name} has no samples`).toBe(true);
  // _total only on counters.
  for (const s of p.samples) {
    if (s.name.endsWith('_total')) expect(p.type.get(s.name)?.[0]?.type, `${s.name} ends in _total`).toBe('counter');
  }
  for (const [name, [t]] of p.type) if (name.endsWith('_total')) expect(t!.type, `${name} ends in _total`).toBe('counter');
  // Base units only.
  for (const name of p.type.keys()) {
    expect(name, 'non-base unit in a name').not.toMatch(/_(milliseconds|ms|microseconds|minutes|hours|days|percent|pct|kilobytes|megabytes)(_|$)/);
  }
}

// ---------------------------------------------------------------------------------------------
// Independent figures from the fixture files.

interface RawRecord {
  ts: number;
  type?: string;
  stage?: string;
  durationMs?: number;
  success?: boolean;
  cacheHit?: boolean;
}

function readRaw(dir: string): RawRecord[] {
  const out: RawRecord[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ndjson'))) {
    for (const l of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (l.trim() === '') continue;
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(l);
      } catch {
        continue;
      }
      const ts = typeof o.ts === 'number' ? o.ts : Date.parse(String(o.ts));
      if (!Number.isFinite(ts)) continue;
      out.push({ ...(o as object), ts } as RawRecord);
    }
  }
  return out;
}

function nearestRank(sorted: number[], p: number): number {
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
}

// ---------------------------------------------------------------------------------------------

const evaluate = (dirs: string[], windowMinutes = WINDOW_MIN): Promise<WindowEvaluation> =>
  evaluateWindow({ dirs, windowMinutes, until: 'latest', now: () => Date.UTC(2030, 0, 1), dailyTokenLimit: DEFAULT_CONFIG.dailyTokenLimit, thresholds: ruleThresholds(DEFAULT_CONFIG) });

describe('formatPrometheus on the sample fixtures', () => {
  let e: WindowEvaluation;
  let text: string;
  let p: Parsed;
  beforeAll(async () => {
    e = await evaluate([SAMPLE]);
    text = formatPrometheus(e.report, e.issues);
    p = parseExposition(text);
  });

  it('the window is not empty (so the checks below check something)', () => {
    expect(e.report.records).toBeGreaterThan(100);
    expect(Object.keys(e.report.stageBreakdown).length).toBeGreaterThanOrEqual(3);
    expect(p.samples.length).toBeGreaterThan(40);
  });

  it('every line is a HELP/TYPE comment or a sample, unique series, HELP/TYPE once per family, no stray _total, base units', () => {
    checkStructure(p);
  });

  it('generateReports gives the same report as evaluateWindow (the figures below do not depend on the rules)', async () => {
    const { report } = await generateReports({ dirs: [SAMPLE], windowMinutes: WINDOW_MIN, until: 'latest', now: () => Date.UTC(2030, 0, 1), dailyTokenLimit: DEFAULT_CONFIG.dailyTokenLimit });
    expect(formatPrometheus(report, e.issues)).toBe(text);
  });

  it('stage durations are a summary in seconds: quantiles = report ms / 1000', () => {
    expect(p.type.get('perfmon_window_stage_duration_seconds')![0]!.type).toBe('summary');
    for (const [stage, b] of Object.entries(e.report.stageBreakdown)) {
      const name = 'perfmon_window_stage_duration_seconds';
      expect(find(p, name, { stage, quantile: '0.5' }).value).toBeCloseTo(b.p50Duration / 1000, 12);
      expect(find(p, name, { stage, quantile: '0.95' }).value).toBeCloseTo(b.p95Duration / 1000, 12);
      expect(find(p, name, { stage, quantile: '0.99' }).value).toBeCloseTo(b.p99Duration / 1000, 12);
      expect(find(p, `${name}_sum`, { stage }).value).toBeCloseTo(b.totalDuration / 1000, 9);
      expect(find(p, `${name}_count`, { stage }).value).toBe(b.count);
    }
  });

  it('the total stage matches figures computed from the NDJSON files, in seconds', () => {
    const raw = readRaw(SAMPLE);
    const latest = Math.max(...raw.map((r) => r.ts));
    const from = latest - WINDOW_MIN * 60_000;
    const totals = raw.filter((r) => (r.type ?? 'stage') === 'stage' && r.stage === 'total' && typeof r.durationMs === 'number' && r.ts > from && r.ts <= latest);
    const d = totals.map((r) => r.durationMs!).sort((a, b) => a - b);
    expect(d.length).toBeGreaterThan(50);
    const sumMs = d.reduce((a, b) => a + b, 0);
    const name = 'perfmon_window_stage_duration_seconds';
    expect(find(p, `${name}_count`, { stage: 'total' }).value).toBe(d.length);
    expect(find(p, `${name}_sum`, { stage: 'total' }).value).toBeCloseTo(sumMs / 1000, 6);
    for (const [q, pc] of [['0.5', 50], ['0.95', 95], ['0.99', 99]] as const) {
      const exactS = nearestRank(d, pc) / 1000;
      const got = find(p, name, { stage: 'total', quantile: q }).value;
      // Quantiles are within 0.5 % of the exact nearest-rank value (DESIGN: histogram accuracy).
      expect(Math.abs(got - exactS) / exactS, `quantile ${q}: ${got} vs ${exactS}`).toBeLessThanOrEqual(0.005 + 1e-12);
    }
    expect(find(p, 'perfmon_window_signals').value).toBe(d.length);
    expect(find(p, 'perfmon_window_signal_average_duration_seconds').value).toBeCloseTo(sumMs / d.length / 1000, 9);
    const failed = totals.filter((r) => r.success === false).length;
    expect(find(p, 'perfmon_window_signal_error_ratio').value).toBeCloseTo(failed / d.length, 12);
    expect(find(p, 'perfmon_window_signals_per_second').value).toBeCloseTo(d.length / (WINDOW_MIN * 60), 12);
    expect(find(p, 'perfmon_window_seconds').value).toBe(WINDOW_MIN * 60);
  });

  it('ratios are 0-1: cache hit ratio = hitRate / 100, computed from the files too', () => {
    const hit = find(p, 'perfmon_window_cache_hit_ratio').value;
    expect(hit).toBeCloseTo(e.report.cacheEfficiency.hitRate / 100, 12);
    const raw = readRaw(SAMPLE);
    const latest = Math.max(...raw.map((r) => r.ts));
    const flagged = raw.filter((r) => r.ts > latest - WINDOW_MIN * 60_000 && r.ts <= latest && typeof r.cacheHit === 'boolean');
    expect(flagged.length).toBeGreaterThan(0);
    expect(hit).toBeCloseTo(flagged.filter((r) => r.cacheHit).length / flagged.length, 12);
    expect(find(p, 'perfmon_window_cache_requests').value).toBe(flagged.length);
    for (const s of p.samples.filter((x) => x.name.endsWith('_ratio'))) {
      expect(s.value, seriesKey(s)).toBeGreaterThanOrEqual(0);
      expect(s.value, seriesKey(s)).toBeLessThanOrEqual(1);
    }
    for (const [stage, b] of Object.entries(e.report.stageBreakdown)) {
      expect(find(p, 'perfmon_window_stage_error_ratio', { stage }).value).toBeCloseTo(b.errorRate / 100, 12);
      expect(find(p, 'perfmon_window_stage_errors', { stage }).value).toBe(b.errorCount);
    }
    expect(find(p, 'perfmon_daily_llm_token_limit_ratio').value).toBeCloseTo(e.report.tokenUsage.percentOfLimit / 100, 12);
  });

  it('active issues are counted by severity, one series each', () => {
    for (const sev of ['critical', 'warning', 'info']) {
      expect(find(p, 'perfmon_active_issues', { severity: sev }).value).toBe(e.issues.filter((i) => i.severity === sev).length);
    }
  });

  it('--namespace reasoning prefixes every name with reasoning_ and changes nothing else', () => {
    const r = formatPrometheus(e.report, e.issues, { namespace: 'reasoning' });
    const q = parseExposition(r);
    checkStructure(q);
    for (const s of q.samples) expect(s.name, s.name).toMatch(/^reasoning_/);
    for (const n of [...q.help.keys(), ...q.type.keys()]) expect(n).toMatch(/^reasoning_/);
    expect(r.replace(/^(# (?:HELP|TYPE) )?reasoning_/gm, '$1perfmon_')).toBe(text);
  });

  it('the default namespace is perfmon', () => {
    for (const s of p.samples) expect(s.name).toMatch(/^perfmon_/);
    expect(formatPrometheus(e.report, e.issues, { namespace: 'perfmon' })).toBe(text);
  });

  it('an invalid namespace throws a PerfmonError naming it', () => {
    for (const bad of ['9x', 'a-b', 'a:b', '', 'a b', 'a\nb']) {
      let err: unknown;
      try {
        formatPrometheus(e.report, e.issues, { namespace: bad });
      } catch (x) {
        err = x;
      }
      expect(err, JSON.stringify(bad)).toBeInstanceOf(PerfmonError);
      expect((err as PerfmonError).message).toContain(`"${bad}"`);
      expect((err as PerfmonError).exitCode).toBe(2);
      expect(() => checkNamespace(bad)).toThrow(PerfmonError);
    }
    expect(checkNamespace('ok_1')).toBe('ok_1');
  });
});

describe('formatPrometheus with hostile stage names', () => {
  const HOSTILE = [
    'double"quote',
    'back\\slash',
    'new\nline',
    '}',
    '{',
    '=',
    ',',
    '"} 1\nfake_metric 2',
    'ünïcödé',
    'emoji 🚀🔥',
    'trailing\\',
    '\\n literal backslash-n',
    '\\"',
    'a="b",c="d"',
    ' spaced ',
    '#comment',
    '__proto__',
  ];
  // The busiest stage stands in for signals when there is no "total": make it a hostile one so
  // the HELP text that names it is exercised too.
  const BUSIEST = 'busy\\"} 9\nfake_metric{x="y"} 3\\';
  let dir: string;
  let e: WindowEvaluation;
  let text: string;
  let p: Parsed;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'perfmon-prom-hostile-'));
    const lines: string[] = [];
    let t = Date.UTC(2026, 0, 1, 10, 0, 0);
    const rec = (stage: string, i: number) => {
      t += 1000;
      lines.push(JSON.stringify({ ts: new Date(t).toISOString(), stage, durationMs: 100 + 10 * i, success: i !== 1, cacheHit: i === 0, llmTokens: 5 }));
    };
    for (const s of HOSTILE) for (let i = 0; i < 3; i++) rec(s, i);
    for (let i = 0; i < 6; i++) rec(BUSIEST, i);
    lines.push(JSON.stringify({ ts: new Date(t).toISOString(), type: 'queue', depth: 4 }));
    writeFileSync(join(dir, 'perfmon-20260101-10.ndjson'), lines.join('\n') + '\n');
    e = await evaluate([dir]);
    text = formatPrometheus(e.report, e.issues);
    p = parseExposition(text);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the report holds every hostile stage (so the exposition is the thing under test)', () => {
    expect(Object.keys(e.report.stageBreakdown).sort()).toEqual([...HOSTILE, BUSIEST].sort());
    expect(e.report.signalStage).toBe(BUSIEST);
  });

  it('keeps the structure: comments and samples only, unique series, one HELP/TYPE per family', () => {
    checkStructure(p);
  });

  it('an independent parser recovers every stage name exactly, in every per-stage family', () => {
    const want = [...HOSTILE, BUSIEST].sort();
    for (const fam of ['perfmon_window_stage_errors', 'perfmon_window_stage_error_ratio', 'perfmon_window_stage_duration_seconds_count', 'perfmon_window_stage_duration_seconds_sum']) {
      const got = p.samples.filter((s) => s.name === fam).map((s) => label(s, 'stage')!);
      expect(got.sort(), fam).toEqual(want);
    }
    for (const stage of want) {
      for (const q of ['0.5', '0.95', '0.99']) find(p, 'perfmon_window_stage_duration_seconds', { stage, quantile: q });
      expect(find(p, 'perfmon_window_stage_duration_seconds_count', { stage }).value).toBe(stage === BUSIEST ? 6 : 3);
      expect(find(p, 'perfmon_window_stage_errors', { stage }).value).toBe(1);
    }
  });

  it('no injected line: nothing begins with fake_metric, every sample is a perfmon_ name', () => {
    for (const l of p.lines) expect(l.startsWith('fake_metric'), JSON.stringify(l)).toBe(false);
    for (const s of p.samples) expect(s.name).toMatch(/^perfmon_/);
    // Only the families perfmon writes: the raw line count is HELP+TYPE per family plus samples.
    expect(p.lines.length).toBe(p.help.size + p.type.size + p.samples.length);
  });

  it('the HELP text naming the signal stage is escaped and reads back to the stage name', () => {
    const help = p.help.get('perfmon_window_signals')![0]!.text;
    expect(help).toContain(`"${BUSIEST}"`);
    expect(p.lines.filter((l) => l.startsWith('# HELP perfmon_window_signals '))).toHaveLength(1);
  });
});
