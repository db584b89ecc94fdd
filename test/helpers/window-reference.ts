import { WindowAccumulator, type ReportBounds } from '../../src/report/window-accumulator.js';
import { parseRecord } from '../../src/schema.js';

/** The reference a window's answer is held to: every line parsed and sorted into the ranges one by one. */
export function reference(lines: readonly string[], b: ReportBounds): WindowAccumulator {
  const acc = new WindowAccumulator(b);
  for (const l of lines) {
    const p = parseRecord(l);
    if (p.ok) acc.add(p.record);
  }
  return acc;
}
