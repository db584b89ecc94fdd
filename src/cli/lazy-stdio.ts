import { writeSync as fsWriteSync } from 'node:fs';

type WriteSync = (fd: number, data: Uint8Array) => number;

/**
 * process.stdout (or stderr), created only when something other than `write` is asked of it.
 * Creating the stream loads Node's net and tty modules: ≈ 4 ms on a pipe, a large part of what a
 * cached `perfmon report --json | …` costs beyond Node's start. Until then a write is a
 * synchronous write(2) on the descriptor, which is what Node's own stream does on Linux for files
 * and pipes. A descriptor that would block (a pipe another process made non-blocking) hands the
 * rest over to the stream, and once the stream exists every write goes through it, so output keeps
 * its order. `onEpipe` runs when the reader has gone (`perfmon report | head`).
 */
export function lazyStdio(fd: number, stream: () => NodeJS.WriteStream, onEpipe: () => void, writeSync: WriteSync = fsWriteSync): NodeJS.WriteStream {
  let real: NodeJS.WriteStream | undefined;
  const open = (): NodeJS.WriteStream => (real ??= stream());
  const write = (chunk: string | Uint8Array, encoding?: BufferEncoding | ((e?: Error | null) => void), cb?: (e?: Error | null) => void): boolean => {
    if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    if (real !== undefined) return real.write(chunk, encoding ?? 'utf8', cb);
    let rest = typeof chunk === 'string' ? Buffer.from(chunk, encoding ?? 'utf8') : chunk;
    try {
      while (rest.length > 0) rest = rest.subarray(writeSync(fd, rest));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') {
        onEpipe();
        return false;
      }
      if (code !== 'EAGAIN') throw e;
      return open().write(rest, cb);
    }
    cb?.();
    return true;
  };
  return new Proxy({} as NodeJS.WriteStream, {
    get(_, key) {
      if (key === 'write') return real === undefined ? write : real.write.bind(real);
      const s = open();
      const v = Reflect.get(s, key, s) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(s) : v;
    },
    set(_, key, value) {
      return Reflect.set(open(), key, value);
    },
  });
}
