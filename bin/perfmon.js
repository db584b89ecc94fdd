#!/usr/bin/env node
'use strict';
// The perfmon command: runs the CLI's bundle (dist/bundle/main.cjs), and exports the loader
// that does so for the build and the tests (scripts/code-cache.js), which require this file
// without running the command. One file: a second module to resolve, read and compile was
// ≈ 0.7 ms of every run.
//
// Loads a CommonJS bundle of dist/bundle with V8's code cache for it, when there is one that
// this Node accepts. Compiling the CLI's 380 KB and then each function it calls on first use was
// 25-35 ms of every run on a 2-core VM; the cache (written by scripts/code-cache.js after the
// functions common commands use have run) replaces that with a deserialisation. A cache made by
// another Node version or with other V8 flags is rejected by V8 itself and the bundle compiles
// as usual: a cache can cost time, never correctness.
//
// This directory is CommonJS (bin/package.json): starting from an ES module cost ≈ 10 ms more
// per run in Node's ES module loader.
const { readFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { fileURLToPath } = require('node:url');
const { Script } = require('node:vm');

// The wrapper Node's own CommonJS loader uses: the bundle sees require, module and __filename.
const HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const TAIL = '\n});';

/**
 * The `require` a bundle sees: Node's modules, and the bundle's own files by a path relative to
 * its directory (the parts main.cjs loads on demand). Not module.createRequire: loading
 * node:module loads Node's ES module loader with it, ≈ 0.5 ms of every run.
 */
function bundleRequire(dir) {
  return (id) => require(id.startsWith('./') || id.startsWith('../') ? join(dir, id) : id);
}

/** The code cache's path for a bundle. */
const codeCachePath = (file) => `${file}.code-cache`;

/**
 * Runs the bundle at `file` (a path or file URL) and returns its exports, with the compiled
 * script (for createCachedData) and whether V8 took the cache.
 */
function loadBundle(file) {
  const path = typeof file === 'string' ? file : fileURLToPath(file);
  const source = readFileSync(path, 'utf8');
  let cachedData;
  try {
    cachedData = readFileSync(codeCachePath(path));
  } catch {
    // No cache (a build without it, or removed): compile as usual.
  }
  const script = new Script(HEAD + source + TAIL, { filename: path, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, bundleRequire(dirname(path)), module, path, dirname(path));
  return { exports: module.exports, script, cacheAccepted: cachedData !== undefined && !script.cachedDataRejected };
}

exports.codeCachePath = codeCachePath;
exports.loadBundle = loadBundle;

if (require.main === module) loadBundle(join(__dirname, '..', 'dist', 'bundle', 'main.cjs')).exports.main();
