import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { lazyStdio } from '../../src/cli/lazy-stdio.js';

const dir = mkdtempSync(join(tmpdir(), 'perfmon-lazy-stdio-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in for process.stdout: a stream that records what reaches it, and says it is a TTY. */
function fakeStream(): { stream: NodeJS.WriteStream; text: () => string } {
  const s = new PassThrough();
  let out = '';
  s.on('data', (d: Buffer) => (out += d.toString()));
  Object.assign(s, { isTTY: true, columns: 77 });
  return { stream: s as unknown as NodeJS.WriteStream, text: () => out };
}

describe('lazyStdio', () => {
  it('writes to the descriptor without creating the stream, whole, in order', () => {
    const path = join(dir, 'out1');
    const fd = openSync(path, 'w');
    let made = 0;
    const out = lazyStdio(fd, () => (made++, fakeStream().stream), () => {});
    out.write('héllo ');
    out.write(Buffer.from('world\n'));
    let called = false;
    out.write('done\n', () => (called = true));
    closeSync(fd);
    expect(readFileSync(path, 'utf8')).toBe('héllo world\ndone\n');
    expect(made).toBe(0);
    expect(called).toBe(true);
  });

  it('creates the stream once anything else is asked, and writes through it from then on', () => {
    const path = join(dir, 'out2');
    const fd = openSync(path, 'w');
    const fake = fakeStream();
    let made = 0;
    const out = lazyStdio(fd, () => (made++, fake.stream), () => {});
    out.write('before\n');
    expect(out.isTTY).toBe(true);
    expect(out.columns).toBe(77);
    out.write('after\n');
    closeSync(fd);
    expect(made).toBe(1);
    expect(readFileSync(path, 'utf8')).toBe('before\n');
    expect(fake.text()).toBe('after\n');
  });

  it('writes what is left through the stream when the descriptor would block, and writes short writes in full', () => {
    const fake = fakeStream();
    const got: string[] = [];
    let calls = 0;
    // A descriptor that takes 3 bytes a call, then would block.
    const writeSync = (_fd: number, data: Uint8Array): number => {
      if (++calls > 2) throw Object.assign(new Error('EAGAIN: resource temporarily unavailable, write'), { code: 'EAGAIN' });
      got.push(Buffer.from(data.subarray(0, 3)).toString());
      return Math.min(3, data.length);
    };
    const out = lazyStdio(99, () => fake.stream, () => {}, writeSync);
    out.write('abcdefghij');
    expect(got.join('')).toBe('abcdef');
    expect(fake.text()).toBe('ghij');
    out.write('k');
    expect(fake.text()).toBe('ghijk');
  });

  it('calls onEpipe when the reader has gone, and rethrows other errors', () => {
    let gone = 0;
    const epipe = lazyStdio(99, () => fakeStream().stream, () => gone++, () => {
      throw Object.assign(new Error('EPIPE: broken pipe, write'), { code: 'EPIPE' });
    });
    expect(epipe.write('x')).toBe(false);
    expect(gone).toBe(1);
    const bad = lazyStdio(99, () => fakeStream().stream, () => gone++, () => {
      throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
    });
    expect(() => bad.write('x')).toThrow(/EIO/);
    expect(gone).toBe(1);
  });
});
