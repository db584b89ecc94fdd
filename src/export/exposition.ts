/**
 * Prometheus text exposition format 0.0.4: the one place that knows HELP/TYPE lines, label
 * escaping and number spelling. Exporters build plain `MetricFamily` data; this renders it.
 */

export type MetricType = 'gauge' | 'counter' | 'summary' | 'histogram';

export interface Sample {
  /** Appended to the family name: '', '_sum', '_count', '_bucket'. */
  suffix?: string;
  labels?: ReadonlyArray<readonly [string, string]>;
  value: number;
}

export interface MetricFamily {
  /** For counters, the name without `_total` (the renderers add it to the samples). */
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

const NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Whether `s` can prefix metric names (no colons: those are for recording rules). */
export function isValidNamespace(s: string): boolean {
  return NAME_RE.test(s);
}

/** Label values: backslash, double quote and newline escaped, as the format requires. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text: backslash and newline escaped. */
export function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/**
 * Renders families in order, each with HELP and TYPE once and its samples grouped under it.
 * Families without samples are left out (an empty family says nothing).
 */
export function renderText(families: readonly MetricFamily[]): string {
  let out = '';
  for (const f of families) {
    if (f.samples.length === 0) continue;
    // Text 0.0.4 names a counter family by its sample name, `_total` included.
    const header = f.type === 'counter' ? f.name + '_total' : f.name;
    out += `# HELP ${header} ${escapeHelp(f.help)}\n# TYPE ${header} ${f.type}\n`;
    out += renderSamples(f);
  }
  return out;
}

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/**
 * OpenMetrics 1.0: counter families are named without `_total` (their samples keep it), HELP
 * also escapes double quotes, and the exposition ends with `# EOF`.
 */
export function renderOpenMetrics(families: readonly MetricFamily[]): string {
  let out = '';
  for (const f of families) {
    if (f.samples.length === 0) continue;
    out += `# HELP ${f.name} ${escapeHelp(f.help).replace(/"/g, '\\"')}\n# TYPE ${f.name} ${f.type}\n`;
    out += renderSamples(f);
  }
  return out + '# EOF\n';
}

function renderSamples(f: MetricFamily): string {
  let out = '';
  const base = f.type === 'counter' ? f.name + '_total' : f.name;
  for (const s of f.samples) {
    out += base + (s.suffix ?? '');
    if (s.labels && s.labels.length > 0) {
      out += '{' + s.labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',') + '}';
    }
    out += ' ' + formatValue(s.value) + '\n';
  }
  return out;
}
