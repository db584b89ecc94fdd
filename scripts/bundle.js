// Bundles the CLI, and its read worker, into one file each in dist/bundle. A run then reads one
// file instead of resolving and linking some forty modules: 20-40 ms of every `perfmon` run on a
// 2-core VM, which is much of what a cached run costs beyond starting Node. (Split into chunks,
// the gain was gone; V8 compiles the functions a run does not call only when called.) The
// library (dist/index.js) is not bundled.
import { build } from 'esbuild';

await build({
  entryPoints: { main: 'dist/cli/main.js', 'read-worker': 'dist/read/read-worker.js' },
  outdir: 'dist/bundle',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // CommonJS dependencies (commander) call require(): give each output file one.
  banner: { js: "import { createRequire as perfmonCreateRequire } from 'node:module'; const require = perfmonCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
