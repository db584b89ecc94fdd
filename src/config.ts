import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PerfmonError } from './errors.js';

/**
 * Configuration (DESIGN §6): defaults < perfmon.config.json (or --config FILE) < PERFMON_*
 * environment variables < flags, resolved once at the edge into one frozen object.
 */

export interface AlertThresholds {
  /** ms; average signal time above this is critical. */
  maxAverageProcessingTime: number;
  /** percent; signal error rate above this is critical. */
  maxErrorRate: number;
  /** percent; cache hit rate below this is a warning. */
  minCacheHitRate: number;
  /** percent of the daily token limit above which a warning is raised (critical above 95). */
  tokenLimitWarningPercent: number;
  /** queue depth above this is a warning. */
  maxQueueDepth: number;
}

export interface PerfmonConfig {
  logIntervalMinutes: number;
  metricsRetentionHours: number;
  dailyTokenLimit: number;
  /** Fewest signals a rule needs to speak (staleness and tokens excepted). */
  minSamples: number;
  alertThresholds: AlertThresholds;
}

export const DEFAULT_CONFIG: PerfmonConfig = deepFreeze({
  logIntervalMinutes: 10,
  metricsRetentionHours: 24,
  dailyTokenLimit: 1_000_000,
  minSamples: 10,
  alertThresholds: {
    maxAverageProcessingTime: 5000,
    maxErrorRate: 5,
    minCacheHitRate: 30,
    tokenLimitWarningPercent: 80,
    maxQueueDepth: 100,
  },
});

export const CONFIG_FILE_NAME = 'perfmon.config.json';
export const DEFAULT_DIR = './data/performance';

type Check = { test: (v: number) => boolean; expect: string };
const positive: Check = { test: (v) => v > 0, expect: 'a number > 0' };
const nonNegative: Check = { test: (v) => v >= 0, expect: 'a number >= 0' };
const percentage: Check = { test: (v) => v >= 0 && v <= 100, expect: 'a percentage from 0 to 100' };
const wholeNonNegative: Check = { test: (v) => Number.isInteger(v) && v >= 0, expect: 'a whole number >= 0' };

const TOP_KEYS: Record<Exclude<keyof PerfmonConfig, 'alertThresholds'>, Check> = {
  logIntervalMinutes: positive,
  metricsRetentionHours: nonNegative,
  dailyTokenLimit: positive,
  minSamples: wholeNonNegative,
};
const THRESHOLD_KEYS: Record<keyof AlertThresholds, Check> = {
  maxAverageProcessingTime: nonNegative,
  maxErrorRate: percentage,
  minCacheHitRate: percentage,
  tokenLimitWarningPercent: percentage,
  maxQueueDepth: nonNegative,
};

/** A partial configuration, as a file, the environment or `updateConfig` gives it. */
export interface ConfigOverrides {
  logIntervalMinutes?: number;
  metricsRetentionHours?: number;
  dailyTokenLimit?: number;
  minSamples?: number;
  alertThresholds?: Partial<AlertThresholds>;
}

export interface LoadConfigOptions {
  /** Explicit --config path; it must exist. */
  configPath?: string;
  /** Where to look for perfmon.config.json. */
  cwd: string;
  env: Record<string, string | undefined>;
  /** Highest precedence: values from flags. */
  flags?: ConfigOverrides;
}

export interface LoadedConfig {
  config: PerfmonConfig;
  /** Where each layer came from, for `perfmon config`. */
  sources: { file: string | null; env: string[] };
}

export function loadConfig(o: LoadConfigOptions): LoadedConfig {
  let file: string | null = null;
  let fromFile: ConfigOverrides = {};
  const path = o.configPath !== undefined ? resolve(o.cwd, o.configPath) : resolve(o.cwd, CONFIG_FILE_NAME);
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (o.configPath !== undefined || code !== 'ENOENT') {
      throw new PerfmonError('CONFIG_UNREADABLE', `cannot read config file ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, 3);
    }
  }
  if (text !== undefined) {
    file = path;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new PerfmonError('CONFIG_INVALID', `${path}: not valid JSON (${(e as Error).message})`, 3);
    }
    fromFile = validateOverrides(raw, path);
  }
  const { overrides: fromEnv, names } = envOverrides(o.env);
  const config = mergeConfig(mergeConfig(mergeConfig(DEFAULT_CONFIG, fromFile), fromEnv), o.flags ?? {});
  return { config, sources: { file, env: names } };
}

/** Checks a partial configuration; errors name the key and where it came from. */
export function validateOverrides(raw: unknown, where: string): ConfigOverrides {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new PerfmonError('CONFIG_INVALID', `${where}: the configuration must be a JSON object`, 3);
  }
  const out: ConfigOverrides = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === '$schema') continue;
    if (key === 'alertThresholds') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new PerfmonError('CONFIG_INVALID', `${where}: "alertThresholds" must be an object`, 3);
      }
      const t: Partial<AlertThresholds> = {};
      for (const [tk, tv] of Object.entries(value)) {
        const check = (THRESHOLD_KEYS as Record<string, Check>)[tk];
        if (!check) throw unknownKey(`alertThresholds.${tk}`, where, Object.keys(THRESHOLD_KEYS));
        t[tk as keyof AlertThresholds] = checked(`alertThresholds.${tk}`, tv, check, where);
      }
      out.alertThresholds = t;
      continue;
    }
    const check = (TOP_KEYS as Record<string, Check>)[key];
    if (!check) throw unknownKey(key, where, [...Object.keys(TOP_KEYS), 'alertThresholds']);
    (out as Record<string, number>)[key] = checked(key, value, check, where);
  }
  return out;
}

export function mergeConfig(base: PerfmonConfig, o: ConfigOverrides): PerfmonConfig {
  return deepFreeze({
    ...base,
    ...stripUndefined(o),
    alertThresholds: { ...base.alertThresholds, ...stripUndefined(o.alertThresholds ?? {}) },
  } as PerfmonConfig);
}

/** PERFMON_<KEY> in SCREAMING_SNAKE_CASE sets a key; thresholds go by their own names. */
export function envName(key: string): string {
  return 'PERFMON_' + key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Variables that are not configuration keys but are perfmon's. */
const OTHER_ENV = new Set(['PERFMON_DIR', 'PERFMON_CONFIG']);

function envOverrides(env: Record<string, string | undefined>): { overrides: ConfigOverrides; names: string[] } {
  const byName = new Map<string, { key: string; threshold: boolean; check: Check }>();
  for (const [key, check] of Object.entries(TOP_KEYS)) byName.set(envName(key), { key, threshold: false, check });
  for (const [key, check] of Object.entries(THRESHOLD_KEYS)) byName.set(envName(key), { key, threshold: true, check });
  const out: ConfigOverrides = {};
  const names: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('PERFMON_') || OTHER_ENV.has(name)) continue;
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const spec = byName.get(name);
    if (!spec) {
      throw new PerfmonError(
        'CONFIG_INVALID',
        `environment variable ${name} is not a perfmon setting (known: ${[...byName.keys(), ...OTHER_ENV].join(', ')})`,
        3,
      );
    }
    const value = checked(spec.key, raw.trim() === '' ? NaN : Number(raw), spec.check, `environment variable ${name}="${raw}"`);
    if (spec.threshold) (out.alertThresholds ??= {})[spec.key as keyof AlertThresholds] = value;
    else (out as Record<string, number>)[spec.key] = value;
    names.push(name);
  }
  return { overrides: out, names };
}

function checked(key: string, value: unknown, check: Check, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !check.test(value)) {
    throw new PerfmonError('CONFIG_INVALID', `${where}: "${key}" must be ${check.expect}, got ${JSON.stringify(value) ?? String(value)}`, 3);
  }
  return value;
}

function unknownKey(key: string, where: string, known: string[]): PerfmonError {
  return new PerfmonError('CONFIG_INVALID', `${where}: unknown key "${key}" (known: ${known.join(', ')})`, 3);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** The log directories: --dir flags, else $PERFMON_DIR, else ./data/performance. */
export function resolveDirs(flagDirs: readonly string[] | undefined, env: Record<string, string | undefined>): string[] {
  if (flagDirs && flagDirs.length > 0) return [...flagDirs];
  const fromEnv = env.PERFMON_DIR;
  return [fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_DIR];
}
