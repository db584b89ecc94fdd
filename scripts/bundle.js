// Bundles the CLI into dist/bundle: main.js (the CLI), read-worker.js (its worker thread), and
// run-watch.js and serve.js, the parts only `watch` and `serve` need (the file watcher, the NDJSON
// stream, the HTTP server), which main.js imports when those commands run. A run then reads one
// file instead of resolving and linking some forty modules (20-40 ms of every `perfmon` run on a
// 2-core VM) and does not load what it will not use (10-20 ms more): much of what a cached run
// costs beyond starting Node. (Split by esbuild into chunks, the gain was gone.) The library
// (dist/index.js) is not bundled.
import { build } from 'esbuild';

const common = {
  outdir: 'dist/bundle',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // CommonJS dependencies (commander) call require(): give each output file one.
  banner: { js: "import { createRequire as perfmonCreateRequire } from 'node:module'; const require = perfmonCreateRequire(import.meta.url);" },
  logLevel: 'warning',
};

// The imports main.js leaves to files of their own, loaded when a command gets there.
const lazyParts = { '../run-watch.js': './run-watch.js', '../../serve/server.js': './serve.js' };

await build({
  ...common,
  entryPoints: { main: 'dist/cli/main.js' },
  plugins: [
    {
      name: 'lazy-parts',
      setup(b) {
        b.onResolve({ filter: /(^\.\.\/run-watch\.js$)|(^\.\.\/\.\.\/serve\/server\.js$)/ }, (args) => ({ path: lazyParts[args.path], external: true }));
      },
    },
  ],
});
await build({ ...common, entryPoints: { 'read-worker': 'dist/read/read-worker.js', 'run-watch': 'dist/cli/run-watch.js', serve: 'dist/serve/server.js' } });
