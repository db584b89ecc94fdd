import type { MalformedSummary } from '../read/malformed.js';

/** Durations in milliseconds, rates in percent (0–100), as in DESIGN §3. */
export interface StageBreakdown {
  count: number;
  totalDuration: number;
  averageDuration: number;
  minDuration: number;
  maxDuration: number;
  p50Duration: number;
  p95Duration: number;
  p99Duration: number;
  errorCount: number;
  errorRate: number;
}

export interface ThroughputMetrics {
  totalSignalsProcessed: number;
  signalsPerMinute: number;
  signalsPerHour: number;
  averageSignalsPerMinute: number;
}

export interface CacheEfficiency {
  totalRequests: number;
  cacheHits: number;
  cacheMisses: number;
  hitRate: number;
}

export interface TokenUsage {
  totalTokens: number;
  totalCost: number;
  averageTokensPerRequest: number;
  dailyTokens: number;
  dailyCost: number;
  dailyLimit: number;
  percentOfLimit: number;
}

export interface DepthPoint {
  timestamp: string;
  depth: number;
}

export interface QueueMetrics {
  currentDepth: number;
  /** Queue samples in the window. */
  samples: number;
  averageDepth: number;
  maxDepth: number;
  depthHistory: DepthPoint[];
}

export interface PerformanceReport {
  generatedAt: string;
  timeWindowMinutes: number;
  /** The window (from, until] as ISO times. */
  window: { from: string; until: string };
  /** The stage whose records count as signals: `total`, or the busiest stage standing in. */
  signalStage: string | null;
  averageTotalTime: number;
  /** p95 of signal durations (ms); the trend rule compares it across windows. */
  p95TotalTime: number;
  errorRate: number;
  totalErrors: number;
  throughput: ThroughputMetrics;
  stageBreakdown: Record<string, StageBreakdown>;
  /** `llm` records by model, in the stage breakdown's shape. */
  modelBreakdown: Record<string, StageBreakdown>;
  cacheEfficiency: CacheEfficiency;
  tokenUsage: TokenUsage;
  queueMetrics: QueueMetrics;
  /** Well-formed records in the window. */
  records: number;
  /** Log files read. */
  files: number;
  malformed: MalformedSummary;
}
