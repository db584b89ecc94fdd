/**
 * Builds record lines from string fragments rather than objects passed to JSON.stringify: the
 * recorder's hot path (after pino). Only untrusted strings go through JSON.stringify, for escaping.
 */

export interface MetricMetadata {
  signalId?: string;
  llmTokens?: number;
  llmCost?: number;
  cacheHit?: boolean;
  success?: boolean;
  model?: string;
  error?: string;
}

export interface LlmCall {
  model: string;
  durationMs?: number;
  llmTokens?: number;
  llmCost?: number;
  cacheHit?: boolean;
  success?: boolean;
  error?: string;
}

let lastMs = NaN;
let lastIso = '';

/** ISO time of `ms`, cached: consecutive records often share a millisecond. */
export function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

export function stageLine(ts: number, stage: string, durationMs: number, m: MetricMetadata | undefined): string {
  let line = `{"ts":"${isoTime(ts)}","stage":${JSON.stringify(stage)},"durationMs":${durationMs}`;
  if (m !== undefined && m !== null) {
    line += `,"success":${m.success !== false}`;
    if (m.error !== undefined) line += `,"error":${JSON.stringify(String(m.error))}`;
    if (m.signalId !== undefined) line += `,"signalId":${JSON.stringify(String(m.signalId))}`;
    if (m.llmTokens !== undefined) line += `,"llmTokens":${m.llmTokens}`;
    if (m.llmCost !== undefined) line += `,"llmCost":${m.llmCost}`;
    if (m.cacheHit !== undefined) line += `,"cacheHit":${m.cacheHit === true}`;
    if (m.model !== undefined) line += `,"model":${JSON.stringify(String(m.model))}`;
  } else {
    line += ',"success":true';
  }
  return line + '}\n';
}

export function queueLine(ts: number, depth: number): string {
  return `{"ts":"${isoTime(ts)}","type":"queue","depth":${depth}}\n`;
}

export function llmLine(ts: number, c: LlmCall): string {
  let line = `{"ts":"${isoTime(ts)}","type":"llm","model":${JSON.stringify(String(c.model))}`;
  if (c.durationMs !== undefined) line += `,"durationMs":${c.durationMs}`;
  if (c.llmTokens !== undefined) line += `,"llmTokens":${c.llmTokens}`;
  if (c.llmCost !== undefined) line += `,"llmCost":${c.llmCost}`;
  if (c.cacheHit !== undefined) line += `,"cacheHit":${c.cacheHit === true}`;
  line += `,"success":${c.success !== false}`;
  if (c.error !== undefined) line += `,"error":${JSON.stringify(String(c.error))}`;
  return line + '}\n';
}

/** Why a value would make a malformed line, or undefined when it is fine. */
export function badMetadata(m: MetricMetadata | LlmCall | undefined): string | undefined {
  if (m === undefined || m === null) return undefined;
  if (typeof m !== 'object') return 'metadata must be an object';
  if (m.llmTokens !== undefined && !isCount(m.llmTokens)) return `llmTokens must be a finite number >= 0, got ${String(m.llmTokens)}`;
  if (m.llmCost !== undefined && !isCount(m.llmCost)) return `llmCost must be a finite number >= 0, got ${String(m.llmCost)}`;
  if (m.cacheHit !== undefined && typeof m.cacheHit !== 'boolean') return `cacheHit must be a boolean, got ${String(m.cacheHit)}`;
  if (m.success !== undefined && typeof m.success !== 'boolean') return `success must be a boolean, got ${String(m.success)}`;
  return undefined;
}

export function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}
