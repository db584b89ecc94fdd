import { describe, expect, it } from 'vitest';
import { LineSplitter, type LineSink } from '../../src/read/line-splitter.js';
import { rng } from '../helpers/rng.js';

type Event = { kind: 'line'; lineNo: number; text: string } | { kind: 'tooLong'; lineNo: number; bytes: number };

/** A sink that copies each line's bytes immediately (the splitter may reuse its buffers). */
/**
 * `count` lines of bytes 32..231 (no \n): with probability `long.chance` of length
 * long.min + [0, long.spread), else of length [0, shortMax).
 */
function randomLines(r: () => number, count: number, long: { chance: number; min: number; spread: number }, shortMax: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const len = r() < long.chance ? long.min + Math.floor(r() * long.spread) : Math.floor(r() * shortMax);
    let s = '';
    for (let j = 0; j < len; j++) s += String.fromCharCode(32 + Math.floor(r() * 200));
    lines.push(s);
  }
  return lines;
}

function collector(): { sink: LineSink; events: Event[] } {
  const events: Event[] = [];
  return {
    events,
    sink: {
      line(buf, start, end, lineNo) {
        events.push({ kind: 'line', lineNo, text: Buffer.from(buf.subarray(start, end)).toString('latin1') });
      },
      tooLong(lineNo, bytes) {
        events.push({ kind: 'tooLong', lineNo, bytes });
      },
    },
  };
}

/** The expected events, computed directly from the whole input. */
function expectedEvents(input: Buffer, max: number): { events: Event[]; pending: number } {
  const text = input.toString('latin1');
  const parts = text.split('\n');
  const last = parts.pop()!; // after the final \n: the unterminated remainder ('' if none)
  const events: Event[] = parts.map((p, i) =>
    Buffer.byteLength(p, 'latin1') > max
      ? { kind: 'tooLong', lineNo: i + 1, bytes: p.length }
      : { kind: 'line', lineNo: i + 1, text: p },
  );
  return { events, pending: last.length };
}

function feed(input: Buffer, cuts: number[], max?: number) {
  const { sink, events } = collector();
  const s = max === undefined ? new LineSplitter(sink) : new LineSplitter(sink, max);
  let prev = 0;
  for (const c of [...cuts, input.length]) {
    if (c > prev) s.push(input.subarray(prev, c));
    prev = c;
  }
  return { events, splitter: s };
}

describe('LineSplitter chunking independence', () => {
  const small = Buffer.from('ab\n\ncdef\r\nghijkl\nm\nnopq', 'latin1');

  it('every single split point gives the same lines and line numbers', () => {
    const want = expectedEvents(small, 1 << 20);
    expect(want.events).toHaveLength(5); // sanity of the oracle itself
    for (let cut = 0; cut <= small.length; cut++) {
      const { events, splitter } = feed(small, [cut]);
      expect(events, `cut ${cut}`).toEqual(want.events);
      expect(splitter.lineNo).toBe(5);
      expect(splitter.pendingBytes, `cut ${cut}`).toBe(4); // "nopq"
    }
  });

  it('every pair of split points, and one byte at a time, gives the same result', () => {
    const want = expectedEvents(small, 1 << 20);
    for (let a = 0; a <= small.length; a++) {
      for (let b = a; b <= small.length; b++) {
        expect(feed(small, [a, b]).events, `cuts ${a},${b}`).toEqual(want.events);
      }
    }
    const bytewise = feed(small, Array.from({ length: small.length }, (_, i) => i));
    expect(bytewise.events).toEqual(want.events);
  });

  it('every split point with a small max: long lines reported once with their full size', () => {
    const input = Buffer.from('short\nthis line is too long\nok\n0123456789\n01234567890\nend\n', 'latin1');
    const max = 10;
    const want = expectedEvents(input, max);
    expect(want.events.filter((e) => e.kind === 'tooLong').map((e) => e.lineNo)).toEqual([2, 5]);
    for (let a = 0; a <= input.length; a++) {
      for (let b = a; b <= input.length; b += 3) {
        expect(feed(input, [a, b], max).events, `cuts ${a},${b}`).toEqual(want.events);
      }
    }
    expect(feed(input, Array.from({ length: input.length }, (_, i) => i), max).events).toEqual(want.events);
  });

  it('random chunk sizes on a bigger input give the same lines', () => {
    const r = rng(1);
    const lines = randomLines(r, 3000, { chance: 0.02, min: 200, spread: 400 }, 120);
    const input = Buffer.from(lines.join('\n') + '\npartial-tail', 'latin1');
    const max = 256;
    const want = expectedEvents(input, max);
    expect(want.events.some((e) => e.kind === 'tooLong')).toBe(true);
    for (let trial = 0; trial < 18; trial++) {
      const cuts: number[] = [];
      const maxChunk = [1, 7, 64, 300, 5000, 100_000][trial % 6]!;
      for (let pos = 0; pos < input.length; ) {
        pos += 1 + Math.floor(r() * maxChunk);
        if (pos < input.length) cuts.push(pos);
      }
      const { events, splitter } = feed(input, cuts, max);
      expect(events.length, `trial ${trial}`).toBe(want.events.length);
      expect(events, `trial ${trial}`).toEqual(want.events);
      expect(splitter.pendingBytes).toBe('partial-tail'.length);
      expect(splitter.lineNo).toBe(3000);
    }
  });

  it('handles multi-byte UTF-8 split inside a character', () => {
    const text = 'é€😀\nзвезда\n';
    const input = Buffer.from(text, 'utf8');
    for (let cut = 0; cut <= input.length; cut++) {
      const got: string[] = [];
      const s = new LineSplitter({
        line: (buf, start, end) => got.push(buf.toString('utf8', start, end)),
        tooLong: () => {
          throw new Error('unexpected');
        },
      });
      s.push(input.subarray(0, cut));
      s.push(input.subarray(cut));
      expect(got, `cut ${cut}`).toEqual(['é€😀', 'звезда']);
    }
  });

  it('empty chunks change nothing', () => {
    const { sink, events } = collector();
    const s = new LineSplitter(sink);
    s.push(Buffer.alloc(0));
    s.push(Buffer.from('a'));
    s.push(Buffer.alloc(0));
    s.push(Buffer.from('b\n'));
    s.push(Buffer.alloc(0));
    expect(events).toEqual([{ kind: 'line', lineNo: 1, text: 'ab' }]);
  });
});

describe('LineSplitter unterminated last line', () => {
  it('is held (pendingBytes) and never emitted', () => {
    const { sink, events } = collector();
    const s = new LineSplitter(sink);
    s.push(Buffer.from('one\ntwo\nthr'));
    expect(events.map((e) => e.lineNo)).toEqual([1, 2]);
    expect(s.pendingBytes).toBe(3);
    s.push(Buffer.from('ee-and-more'));
    expect(events).toHaveLength(2);
    expect(s.pendingBytes).toBe(14);
    expect(s.lineNo).toBe(2);
    // it is emitted once completed
    s.push(Buffer.from('\n'));
    expect(events[2]).toEqual({ kind: 'line', lineNo: 3, text: 'three-and-more' });
    expect(s.pendingBytes).toBe(0);
  });

  it('input without any newline emits nothing', () => {
    const { sink, events } = collector();
    const s = new LineSplitter(sink);
    const text = '{"ts":1,"type":"queue","depth":1}';
    s.push(Buffer.from(text));
    expect(events).toEqual([]);
    expect(s.lineNo).toBe(0);
    expect(s.pendingBytes).toBe(Buffer.byteLength(text));
  });

  it('held bytes are not corrupted when the caller reuses its chunk buffer', () => {
    const { sink, events } = collector();
    const s = new LineSplitter(sink);
    const buf = Buffer.from('abc\ndef');
    s.push(buf);
    buf.write('XYZ\nXYZ'); // caller overwrites its read buffer, as readLogFile does
    s.push(Buffer.from('ghi\n'));
    expect(events.map((e) => (e.kind === 'line' ? e.text : ''))).toEqual(['abc', 'defghi']);
  });
});

describe('LineSplitter too-long lines', () => {
  const max = 16;

  it('in one chunk: reported once with its byte count; next line still emitted', () => {
    const { sink, events } = collector();
    const s = new LineSplitter(sink, max);
    const long = 'x'.repeat(40);
    s.push(Buffer.from(`ok\n${long}\nafter\n`));
    expect(events).toEqual([
      { kind: 'line', lineNo: 1, text: 'ok' },
      { kind: 'tooLong', lineNo: 2, bytes: 40 },
      { kind: 'line', lineNo: 3, text: 'after' },
    ]);
  });

  it('across many chunks: reported once with the full byte count', () => {
    const { sink, events } = collector();
    const s = new LineSplitter(sink, max);
    s.push(Buffer.from('ok\nxxxx'));
    for (let i = 0; i < 100; i++) s.push(Buffer.from('y'.repeat(10)));
    expect(events).toHaveLength(1);
    expect(s.pendingBytes).toBe(1004); // counted while skipping
    s.push(Buffer.from('zz\nafter\n'));
    expect(events).toEqual([
      { kind: 'line', lineNo: 1, text: 'ok' },
      { kind: 'tooLong', lineNo: 2, bytes: 4 + 1000 + 2 },
      { kind: 'line', lineNo: 3, text: 'after' },
    ]);
    expect(s.pendingBytes).toBe(0);
  });

  it('a held partial line that grows past max on completion is too long', () => {
    const { sink, events } = collector();
    const s = new LineSplitter(sink, max);
    s.push(Buffer.from('0123456789')); // 10 held, under max
    s.push(Buffer.from('0123456789\nnext\n')); // completes at 20 bytes
    expect(events).toEqual([
      { kind: 'tooLong', lineNo: 1, bytes: 20 },
      { kind: 'line', lineNo: 2, text: 'next' },
    ]);
  });

  it('a line of exactly max bytes is a line, max + 1 is too long', () => {
    const { sink, events } = collector();
    const s = new LineSplitter(sink, max);
    const exact = 'e'.repeat(max);
    s.push(Buffer.from(`${exact}\n${exact}x\n`));
    // the same split across chunks
    s.push(Buffer.from(exact.slice(0, 5)));
    s.push(Buffer.from(exact.slice(5)));
    s.push(Buffer.from('\n'));
    s.push(Buffer.from(exact.slice(0, 5)));
    s.push(Buffer.from(exact.slice(5) + 'x'));
    s.push(Buffer.from('\n'));
    expect(events).toEqual([
      { kind: 'line', lineNo: 1, text: exact },
      { kind: 'tooLong', lineNo: 2, bytes: max + 1 },
      { kind: 'line', lineNo: 3, text: exact },
      { kind: 'tooLong', lineNo: 4, bytes: max + 1 },
    ]);
  });

  it('an unterminated too-long last line is not reported', () => {
    const { sink, events } = collector();
    const s = new LineSplitter(sink, max);
    s.push(Buffer.from('a\n' + 'z'.repeat(100)));
    expect(events).toEqual([{ kind: 'line', lineNo: 1, text: 'a' }]);
    expect(s.pendingBytes).toBe(100);
  });
});

describe('LineSplitter.reset', () => {
  it('forgets a held partial line', () => {
    const { sink, events } = collector();
    const s = new LineSplitter(sink);
    s.push(Buffer.from('first\npart'));
    expect(s.pendingBytes).toBe(4);
    s.reset();
    expect(s.pendingBytes).toBe(0);
    s.push(Buffer.from('fresh\n'));
    expect(events).toEqual([
      { kind: 'line', lineNo: 1, text: 'first' },
      { kind: 'line', lineNo: 2, text: 'fresh' },
    ]);
  });

  it('forgets a line being skipped as too long', () => {
    const { sink, events } = collector();
    const s = new LineSplitter(sink, 8);
    s.push(Buffer.from('x'.repeat(50)));
    expect(s.pendingBytes).toBe(50);
    s.reset();
    expect(s.pendingBytes).toBe(0);
    s.push(Buffer.from('short\n'));
    expect(events).toEqual([{ kind: 'line', lineNo: 1, text: 'short' }]);
  });
});

describe('LineSplitter with a sink that finds its own newlines (linesAt)', () => {
  /**
   * A collector whose linesAt takes lines while they start with an even byte, finding each
   * newline within the limit it is given (as the fast parser does), and leaves the rest to the
   * splitter. Whichever way a line goes, the events must be the plain splitter's.
   */
  function fastCollector(): { sink: LineSink; events: Event[]; taken: () => number } {
    const { sink, events } = collector();
    let taken = 0;
    sink.linesAt = (buf, start, limit, max, lines) => {
      let pos = start;
      while (pos < limit && buf[pos]! % 2 === 0) {
        const nl = buf.subarray(0, Math.min(limit, pos + max + 1)).indexOf(10, pos);
        if (nl === -1) break;
        taken++;
        sink.line(buf, pos, nl, ++lines.lineNo);
        pos = nl + 1;
      }
      return pos;
    };
    return { sink, events, taken: () => taken };
  }

  it('gives the same lines, numbers and too-long reports at every chunking', () => {
    const r = rng(5);
    const lines = randomLines(r, 2000, { chance: 0.03, min: 40, spread: 40 }, 30);
    const input = Buffer.from(lines.join('\n') + '\ntail', 'latin1');
    const max = 40;
    const want = expectedEvents(input, max);
    expect(want.events.some((e) => e.kind === 'tooLong')).toBe(true);
    for (const maxChunk of [1, 5, 64, 1000, input.length]) {
      const { sink, events, taken } = fastCollector();
      const s = new LineSplitter(sink, max);
      for (let pos = 0; pos < input.length; ) {
        const next = Math.min(input.length, pos + 1 + Math.floor(r() * maxChunk));
        s.push(input.subarray(pos, next));
        pos = next;
      }
      expect(events, `chunks up to ${maxChunk}`).toEqual(want.events);
      expect(s.lineNo).toBe(2000);
      expect(s.pendingBytes).toBe(4);
      if (maxChunk >= 64) expect(taken()).toBeGreaterThan(500); // the fast path was used
    }
  });

  it('offers a line that spans chunks to linesAt once its newline arrives', () => {
    // Every line is pushed in two pieces, its newline in the second: each is carried, and
    // each must still reach the fast path (a reader's chunk always begins mid-line).
    const { sink, events, taken } = fastCollector();
    const s = new LineSplitter(sink);
    const lines = Array.from({ length: 100 }, (_, i) => `b${i}-${'x'.repeat(i % 7)}`);
    for (const l of lines) {
      s.push(Buffer.from(l.slice(0, 2), 'latin1'));
      s.push(Buffer.from(`${l.slice(2)}\n`, 'latin1'));
    }
    expect(events).toEqual(lines.map((text, i) => ({ kind: 'line', lineNo: i + 1, text })));
    expect(taken()).toBe(100);
    expect(s.pendingBytes).toBe(0);
  });

  it('gives a carried line linesAt does not take to line, numbered in turn', () => {
    const { sink, events, taken } = fastCollector();
    const s = new LineSplitter(sink);
    // 'a' is odd: the fast collector leaves such lines to the splitter.
    s.push(Buffer.from('b1\na', 'latin1'));
    s.push(Buffer.from('2\nb3\n', 'latin1'));
    expect(events).toEqual([
      { kind: 'line', lineNo: 1, text: 'b1' },
      { kind: 'line', lineNo: 2, text: 'a2' },
      { kind: 'line', lineNo: 3, text: 'b3' },
    ]);
    expect(taken()).toBe(2);
  });

  it('is never handed bytes past the chunk’s last newline', () => {
    const limits: Array<[number, number]> = [];
    const { sink } = collector();
    sink.linesAt = (buf, start, limit) => {
      limits.push([limit, buf.lastIndexOf(10)]);
      return start;
    };
    const s = new LineSplitter(sink);
    s.push(Buffer.from('ab\ncd\nunfinished'));
    s.push(Buffer.from('-line\nx\ny'));
    expect(limits.length).toBeGreaterThan(0);
    for (const [limit, lastNl] of limits) expect(limit).toBeLessThanOrEqual(lastNl + 1);
  });
});
