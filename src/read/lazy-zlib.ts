type Zlib = typeof import('node:zlib');
let zlib: Zlib | undefined;

/**
 * node:zlib, loaded on first use: only gzip log files need it, and it loads Node's streams with
 * it (≈ 4 ms of every run that imports it). A report over plain logs, as a cached one is, never
 * loads it. Through process.getBuiltinModule: module.createRequire would load node:module, and
 * Node's ES module loader with it, in every run.
 */
export function lazyZlib(): Zlib {
  return (zlib ??= process.getBuiltinModule('node:zlib'));
}
