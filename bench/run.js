#!/usr/bin/env node
// `npm run bench`: every benchmark, one after another, each printing its own table.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// The soak (10 minutes) is left out of the default run: `node bench/watch-soak.js`.
for (const bench of ['report.js', 'cold-report.js', 'cache.js', 'recorder.js', 'serve-load.js']) {
  const r = spawnSync(process.execPath, [join(here, bench), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
