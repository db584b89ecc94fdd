import { buildReport } from './build-report.js';
import { readWindow, type ReadWindowOptions } from './read-window.js';
import type { PerformanceReport } from './types.js';

export interface ReportOptions extends ReadWindowOptions {
  dailyTokenLimit: number;
  stages?: readonly string[];
}

/** Reads the log directories and returns the report of the window. */
export async function generateReport(o: ReportOptions): Promise<PerformanceReport> {
  const data = await readWindow(o);
  return buildReport(data.acc, {
    windowMinutes: o.windowMinutes,
    dailyTokenLimit: o.dailyTokenLimit,
    generatedAt: data.generatedAt,
    malformed: data.malformed.toJSON(),
    files: data.files.length,
    stages: o.stages,
  });
}
