// Bundles the CLI into dist/bundle: main.cjs (the CLI), read-worker.js (its worker thread), and
// run-watch.cjs and serve.cjs, the parts only `watch` and `serve` need (the file watcher, the
// NDJSON stream, the HTTP server), which main.cjs requires when those commands run. A run then
// reads one file instead of resolving and linking some forty modules (20-40 ms of every `perfmon`
// run on a 2-core VM) and does not load what it will not use (10-20 ms more): much of what a
// cached run costs beyond starting Node. (Split by esbuild into chunks, the gain was gone.)
// The CLI's bundles are CommonJS so that bin/perfmon.js can compile them with V8's code cache
// (Node 20 takes cached data for scripts, not for ES modules); scripts/code-cache.js writes it.
// The worker stays an ES module (a Worker loads it by URL). The library (dist/index.js) is not
// bundled.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';

const common = {
  outdir: 'dist/bundle',
  bundle: true,
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
};
const commonJs = {
  ...common,
  // Without comments and indentation (names kept): 435 → 280 KB, and ASCII only. A cached run
  // reads and decodes the whole source before anything else, and that measured 4-6 ms of its
  // ≈ 90 ms. `--debug` stack traces still name each function; their positions are the bundle's.
  minifyWhitespace: true,
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  // import() of what stays outside (the lazy parts, node: modules) becomes require(): a script
  // compiled by vm.Script has no module loader of its own for import().
  supported: { 'dynamic-import': false },
  // The sources locate package.json and the worker from their own URL, made when first asked
  // for: a report from the cache asks for neither, and making it cost ≈ 0.5 ms of every run.
  define: { 'import.meta.url': 'perfmonBundle.url' },
  banner: { js: 'const perfmonBundle = { get url() { return (this.href ??= require("node:url").pathToFileURL(__filename).href); } };' },
};

rmSync('dist/bundle', { recursive: true, force: true }); // no stale files of an earlier layout

// The imports main.cjs leaves to files of their own, loaded when a command gets there.
const lazyParts = { '../run-watch.js': './run-watch.cjs', '../../serve/server.js': './serve.cjs' };

// commander requires node:child_process (with net, dgram and streams: ≈ 4 ms) at load, for
// subcommands that are executables of their own, which perfmon has none of: give it a stand-in
// that loads the module on first use.
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) => (/[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy-builtin' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      contents: "let m; module.exports = new Proxy({}, { get: (_, key) => (m ??= require('node:child_process'))[key] });",
      loader: 'js',
    }));
  },
};

await build({
  ...commonJs,
  entryPoints: { main: 'dist/cli/main.js' },
  plugins: [
    {
      name: 'lazy-parts',
      setup(b) {
        b.onResolve({ filter: /(^\.\.\/run-watch\.js$)|(^\.\.\/\.\.\/serve\/server\.js$)/ }, (args) => ({ path: lazyParts[args.path], external: true }));
      },
    },
    lazyChildProcess,
  ],
});
await build({ ...commonJs, entryPoints: { 'run-watch': 'dist/cli/run-watch.js', serve: 'dist/serve/server.js' } });
// The worker is CommonJS too (dist/bundle/package.json says so for its .js name, which the CLI
// bundle's worker URL points at): a worker started on an ES module spent ≈ 30 ms more in Node's
// ES module loader before reading a byte.
await build({ ...commonJs, outExtension: {}, entryPoints: { 'read-worker': 'dist/read/read-worker.js' } });
writeFileSync('dist/bundle/package.json', '{ "type": "commonjs" }\n');
// In a process of its own: the cache must come from a V8 with the flags a plain `perfmon` run has.
execFileSync(process.execPath, ['scripts/code-cache.js'], { stdio: 'inherit' });
