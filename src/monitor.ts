import { DEFAULT_CONFIG, DEFAULT_DIR, mergeConfig, validateOverrides, type ConfigOverrides, type PerfmonConfig } from './config.js';
import { createRecorder, type Recorder, type RecorderOptions, type RecorderStats } from './record/recorder.js';
import type { LlmCall, MetricMetadata } from './record/line-format.js';
import { generateReport } from './report/generate-report.js';
import type { Until } from './report/read-window.js';
import type { PerformanceReport } from './report/types.js';

export interface MonitorOptions extends Partial<Omit<RecorderOptions, 'dir'>> {
  /** Log directory (default $PERFMON_DIR, else ./data/performance). */
  dir?: string;
  config?: ConfigOverrides;
}

/**
 * The pipeline-facing API of the original monitor: recording goes to a Recorder (buffered,
 * never throws); reading builds reports from the same directory.
 */
export class PerformanceMonitor {
  readonly dir: string;
  private readonly recorder: Recorder;
  private configValue: PerfmonConfig;
  private readonly now: () => number;

  constructor(o: MonitorOptions = {}) {
    this.dir = o.dir ?? defaultDir();
    this.now = o.now ?? Date.now;
    this.configValue = mergeConfig(DEFAULT_CONFIG, o.config ? validateOverrides(o.config, 'monitor config') : {});
    this.recorder = createRecorder({ ...o, dir: this.dir, retentionHours: o.retentionHours ?? this.configValue.metricsRetentionHours });
  }

  get config(): PerfmonConfig {
    return this.configValue;
  }

  recordMetric(stage: string, durationMs: number, metadata?: MetricMetadata): void {
    this.recorder.recordMetric(stage, durationMs, metadata);
  }

  recordError(stage: string, error: string | Error, durationMs?: number, metadata?: MetricMetadata): void {
    this.recorder.recordError(stage, error, durationMs, metadata);
  }

  recordQueueDepth(depth: number): void {
    this.recorder.recordQueueDepth(depth);
  }

  recordLLMCall(call: LlmCall): void {
    this.recorder.recordLLMCall(call);
  }

  flush(): void {
    this.recorder.flush();
  }

  stats(): RecorderStats {
    return this.recorder.stats();
  }

  /** The report of the last `windowMinutes` (default 60), including this process's buffered lines. */
  async getPerformanceReport(windowMinutes = 60, until: Until = 'now'): Promise<PerformanceReport> {
    this.recorder.flush();
    return generateReport({
      dirs: [this.dir],
      windowMinutes,
      until,
      now: this.now,
      dailyTokenLimit: this.configValue.dailyTokenLimit,
    });
  }

  /** Replaces parts of the configuration; throws on unknown keys or bad values. */
  updateConfig(overrides: ConfigOverrides): void {
    this.configValue = mergeConfig(this.configValue, validateOverrides(overrides, 'updateConfig'));
  }

  async close(): Promise<void> {
    await this.recorder.close();
  }
}

let singleton: PerformanceMonitor | undefined;

/** One monitor per process over the default directory, created on first use. */
export function getPerformanceMonitor(options?: MonitorOptions): PerformanceMonitor {
  singleton ??= new PerformanceMonitor(options);
  return singleton;
}

function defaultDir(): string {
  // The library's edge: the one place a pipeline's environment picks the directory.
  const env = process.env.PERFMON_DIR;
  return env !== undefined && env !== '' ? env : DEFAULT_DIR;
}
