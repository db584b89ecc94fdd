// Types for bench/paired.js (imported by its test).
export interface Interval {
  low: number;
  high: number;
  /** The probability that the interval holds the median. */
  level: number;
}
export interface Paired extends Interval {
  ratios: number[];
  median: number;
  below: number;
}
export function median(xs: readonly number[]): number;
export function medianInterval(xs: readonly number[], confidence?: number): Interval;
export function pairedRatios(a: readonly number[], b: readonly number[], confidence?: number): Paired;
export function verdict(interval: Interval, limit: number): 'met' | 'missed' | 'not shown either way';
export function describe(p: Paired, o?: { digits?: number; scale?: number; unit?: string; lowerWord?: string }): string;
