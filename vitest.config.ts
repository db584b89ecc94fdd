import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The CLI keeps an index of the logs in $XDG_CACHE_HOME/perfmon: give the suite its own, so
    // tests neither read a developer's cache nor leave entries in it.
    env: { XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'perfmon-test-cache-')) },
  },
});
