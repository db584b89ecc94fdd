import { createRequire } from 'node:module';

type Zlib = typeof import('node:zlib');
let zlib: Zlib | undefined;

/**
 * node:zlib, loaded on first use: only gzip log files need it, and it loads Node's streams with
 * it (≈ 4 ms of every run that imports it). A report over plain logs, as a cached one is, never
 * loads it.
 */
export function lazyZlib(): Zlib {
  return (zlib ??= createRequire(import.meta.url)('node:zlib') as Zlib);
}
