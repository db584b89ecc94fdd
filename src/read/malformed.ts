/** Malformed lines are counted, and the first few kept with file and line, never thrown. */

export interface MalformedLine {
  file: string;
  line: number;
  reason: string;
}

export interface MalformedSummary {
  count: number;
  first: MalformedLine[];
}

export const MALFORMED_SAMPLES = 10;

export class MalformedLog {
  count = 0;
  readonly first: MalformedLine[] = [];

  add(file: string, line: number, reason: string): void {
    this.count++;
    if (this.first.length < MALFORMED_SAMPLES) this.first.push({ file, line, reason });
  }

  merge(other: MalformedSummary): void {
    this.count += other.count;
    for (const m of other.first) if (this.first.length < MALFORMED_SAMPLES) this.first.push(m);
  }

  toJSON(): MalformedSummary {
    return { count: this.count, first: [...this.first] };
  }
}
