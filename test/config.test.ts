import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_FILE_NAME, DEFAULT_DIR, loadConfig, resolveDirs, type PerfmonConfig } from '../src/config.js';
import { PerfmonError } from '../src/errors.js';

let cwd: string;

beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'perfmon-config-test-'));
});

afterEach(() => {
  rmSync(cwd, { recursive: true, force: true });
});

function writeConfig(content: unknown, name = CONFIG_FILE_NAME): string {
  const path = join(cwd, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** The PerfmonError thrown by fn (fails the test if none is thrown). */
function perfmonError(fn: () => unknown): PerfmonError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PerfmonError);
    return e as PerfmonError;
  }
  throw new Error('expected a PerfmonError, nothing was thrown');
}

const DEFAULTS: PerfmonConfig = {
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
};

describe('loadConfig layering', () => {
  it('defaults (DESIGN §4 and §6) when there is no file, env or flag', () => {
    const { config, sources } = loadConfig({ cwd, env: {} });
    expect(config).toEqual(DEFAULTS);
    expect(sources).toEqual({ file: null, env: [] });
  });

  it('perfmon.config.json in the working directory overrides defaults, key by key', () => {
    const path = writeConfig({ dailyTokenLimit: 500_000, alertThresholds: { maxErrorRate: 2 } });
    const { config, sources } = loadConfig({ cwd, env: {} });
    expect(config.dailyTokenLimit).toBe(500_000);
    expect(config.alertThresholds.maxErrorRate).toBe(2);
    // untouched keys keep their defaults, including sibling thresholds
    expect(config.alertThresholds.minCacheHitRate).toBe(30);
    expect(config.alertThresholds.maxQueueDepth).toBe(100);
    expect(config.metricsRetentionHours).toBe(24);
    expect(sources.file).toBe(path);
  });

  it('--config FILE is used instead of the working-directory file', () => {
    writeConfig({ dailyTokenLimit: 1 });
    const other = writeConfig({ dailyTokenLimit: 2 }, 'custom.json');
    const { config, sources } = loadConfig({ cwd, env: {}, configPath: 'custom.json' });
    expect(config.dailyTokenLimit).toBe(2);
    expect(sources.file).toBe(other);
  });

  it('a "$schema" key is allowed in the file', () => {
    writeConfig({ $schema: './schema/config.json', minSamples: 3 });
    expect(loadConfig({ cwd, env: {} }).config.minSamples).toBe(3);
  });

  it('PERFMON_MAX_ERROR_RATE and PERFMON_DAILY_TOKEN_LIMIT override the file', () => {
    writeConfig({ dailyTokenLimit: 500_000, alertThresholds: { maxErrorRate: 2, maxQueueDepth: 7 } });
    const { config, sources } = loadConfig({
      cwd,
      env: { PERFMON_MAX_ERROR_RATE: '12.5', PERFMON_DAILY_TOKEN_LIMIT: '2000000', HOME: '/x', PATH: '/bin' },
    });
    expect(config.alertThresholds.maxErrorRate).toBe(12.5);
    expect(config.dailyTokenLimit).toBe(2_000_000);
    expect(config.alertThresholds.maxQueueDepth).toBe(7); // from the file, not reset by env
    expect(sources.env.sort()).toEqual(['PERFMON_DAILY_TOKEN_LIMIT', 'PERFMON_MAX_ERROR_RATE']);
  });

  it('flags override env', () => {
    writeConfig({ dailyTokenLimit: 500_000 });
    const { config } = loadConfig({
      cwd,
      env: { PERFMON_MAX_ERROR_RATE: '12', PERFMON_DAILY_TOKEN_LIMIT: '2000000' },
      flags: { alertThresholds: { maxErrorRate: 1 }, dailyTokenLimit: 42 },
    });
    expect(config.alertThresholds.maxErrorRate).toBe(1);
    expect(config.dailyTokenLimit).toBe(42);
  });

  it('undefined flag values do not erase lower layers', () => {
    const { config } = loadConfig({
      cwd,
      env: { PERFMON_DAILY_TOKEN_LIMIT: '77' },
      flags: { dailyTokenLimit: undefined, alertThresholds: { maxErrorRate: undefined } },
    });
    expect(config.dailyTokenLimit).toBe(77);
    expect(config.alertThresholds.maxErrorRate).toBe(5);
  });

  it('PERFMON_DIR (and PERFMON_CONFIG) are allowed and are not settings; empty variables are ignored', () => {
    const { config, sources } = loadConfig({
      cwd,
      env: { PERFMON_DIR: '/var/log/perfmon', PERFMON_CONFIG: 'x.json', PERFMON_MAX_QUEUE_DEPTH: '' },
    });
    expect(config).toEqual(DEFAULTS);
    expect(sources.env).toEqual([]);
  });

  it('the result is deeply frozen, and defaults are not mutated by loads', () => {
    writeConfig({ alertThresholds: { maxErrorRate: 3 } });
    const { config } = loadConfig({ cwd, env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.alertThresholds)).toBe(true);
    expect(() => {
      (config as { dailyTokenLimit: number }).dailyTokenLimit = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.alertThresholds as { maxErrorRate: number }).maxErrorRate = 1;
    }).toThrow(TypeError);
    // a later load without the file is back to the defaults: nothing shared was mutated
    rmSync(join(cwd, CONFIG_FILE_NAME));
    expect(loadConfig({ cwd, env: {} }).config).toEqual(DEFAULTS);
  });
});

describe('loadConfig errors', () => {
  it('unknown top-level key names the key and the file', () => {
    const path = writeConfig({ dailyTokenLimt: 5 });
    const e = perfmonError(() => loadConfig({ cwd, env: {} }));
    expect(e.message).toContain('dailyTokenLimt');
    expect(e.message).toContain(path);
    expect(e.exitCode).toBe(3);
  });

  it('unknown threshold key names the key and the file', () => {
    const path = writeConfig({ alertThresholds: { maxErrorRat: 5 } });
    const e = perfmonError(() => loadConfig({ cwd, env: {} }));
    expect(e.message).toContain('maxErrorRat');
    expect(e.message).toContain(path);
  });

  it('a string where a number belongs names the key and the file', () => {
    const path = writeConfig({ dailyTokenLimit: '1000000' });
    const e = perfmonError(() => loadConfig({ cwd, env: {} }));
    expect(e.message).toContain('dailyTokenLimit');
    expect(e.message).toContain(path);
  });

  it('a percentage above 100 names the key and the file', () => {
    const path = writeConfig({ alertThresholds: { maxErrorRate: 150 } });
    const e = perfmonError(() => loadConfig({ cwd, env: {} }));
    expect(e.message).toContain('maxErrorRate');
    expect(e.message).toContain(path);
  });

  it('other out-of-range or mistyped values are rejected', () => {
    for (const bad of [
      { dailyTokenLimit: 0 },
      { dailyTokenLimit: -5 },
      { logIntervalMinutes: null },
      { minSamples: 2.5 },
      { metricsRetentionHours: -1 },
      { alertThresholds: { minCacheHitRate: -1 } },
      { alertThresholds: { maxQueueDepth: true } },
      { alertThresholds: 5 },
      { alertThresholds: [] },
    ]) {
      writeConfig(bad);
      const e = perfmonError(() => loadConfig({ cwd, env: {} }));
      const key = Object.keys(bad)[0]!;
      expect(e.message, JSON.stringify(bad)).toContain(key);
      expect(e.message).toContain(join(cwd, CONFIG_FILE_NAME));
    }
  });

  it('a file that is not a JSON object is an error naming the file', () => {
    for (const text of ['[]', '42', 'null']) {
      const path = writeConfig(text);
      expect(perfmonError(() => loadConfig({ cwd, env: {} })).message).toContain(path);
    }
  });

  it('invalid JSON names the file', () => {
    const path = writeConfig('{ "dailyTokenLimit": 5, }');
    const e = perfmonError(() => loadConfig({ cwd, env: {} }));
    expect(e.message).toContain(path);
    expect(e.message).toMatch(/JSON/);
  });

  it('--config pointing to a missing file is an error naming it', () => {
    const e = perfmonError(() => loadConfig({ cwd, env: {}, configPath: 'nope.json' }));
    expect(e.message).toContain(join(cwd, 'nope.json'));
  });

  it('an unknown PERFMON_* variable is an error naming it', () => {
    const e = perfmonError(() => loadConfig({ cwd, env: { PERFMON_MAX_ERROR: '5' } }));
    expect(e.message).toContain('PERFMON_MAX_ERROR');
    // other variables are none of perfmon's business
    expect(() => loadConfig({ cwd, env: { PERFMONX: '1', MY_PERFMON_THING: '1' } })).not.toThrow();
  });

  it('a non-numeric or out-of-range env value is an error naming the variable', () => {
    for (const env of [
      { PERFMON_MAX_ERROR_RATE: 'five' },
      { PERFMON_MAX_ERROR_RATE: '101' },
      { PERFMON_DAILY_TOKEN_LIMIT: '0' },
      { PERFMON_DAILY_TOKEN_LIMIT: ' ' },
      { PERFMON_MIN_SAMPLES: '1.5' },
    ]) {
      const name = Object.keys(env)[0]!;
      const e = perfmonError(() => loadConfig({ cwd, env }));
      expect(e.message, name).toContain(name);
    }
  });
});

describe('resolveDirs', () => {
  it('--dir flags, else PERFMON_DIR, else ./data/performance', () => {
    expect(resolveDirs(['a', 'b'], { PERFMON_DIR: '/env' })).toEqual(['a', 'b']);
    expect(resolveDirs([], { PERFMON_DIR: '/env' })).toEqual(['/env']);
    expect(resolveDirs(undefined, { PERFMON_DIR: '' })).toEqual([DEFAULT_DIR]);
    expect(resolveDirs(undefined, {})).toEqual(['./data/performance']);
  });
});
