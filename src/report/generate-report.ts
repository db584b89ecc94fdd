import { buildFromRollup, buildReport, type BuildOptions } from './build-report.js';
import { readWindow, type ReadWindowOptions, type WindowData } from './read-window.js';
import type { PerformanceReport } from './types.js';

export interface ReportOptions extends ReadWindowOptions {
  dailyTokenLimit: number;
  stages?: readonly string[];
}

/** Reads the log directories and returns the report of the window. */
export async function generateReport(o: ReportOptions): Promise<PerformanceReport> {
  const data = await readWindow(o);
  return buildReport(data.acc, buildOptions(o, data));
}

export interface WindowReports {
  report: PerformanceReport;
  /** The previous window of equal length, ending where this one starts. */
  previous: PerformanceReport;
}

/** The window's report and the previous window's, from one pass (for the issue rules). */
export async function generateReports(o: ReportOptions): Promise<WindowReports> {
  const data = await readWindow({ ...o, withPrevious: true });
  const opts = buildOptions(o, data);
  const { acc } = data;
  const b = acc.bounds;
  const previous = buildFromRollup(
    acc.previous!,
    { bounds: { ...b, until: b.from, from: b.previousFrom! }, dayTokens: acc.dayTokens, dayCost: acc.dayCost, latestQueueDepth: acc.latestQueueDepth },
    { ...opts, malformed: { count: 0, first: [] } },
  );
  return { report: buildReport(acc, opts), previous };
}

function buildOptions(o: ReportOptions, data: WindowData): BuildOptions {
  return {
    windowMinutes: o.windowMinutes,
    dailyTokenLimit: o.dailyTokenLimit,
    generatedAt: data.generatedAt,
    malformed: data.malformed.toJSON(),
    files: data.files.length,
    stages: o.stages,
  };
}
