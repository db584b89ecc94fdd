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
    out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
    for (const s of f.samples) {
      out += f.name + (s.suffix ?? '');
      if (s.labels && s.labels.length > 0) {
        out += '{' + s.labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',') + '}';
      }
      out += ' ' + formatValue(s.value) + '\n';
    }
  }
  return out;
}
