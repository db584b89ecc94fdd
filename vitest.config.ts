import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The suite's own $XDG_CACHE_HOME, removed when it ends (see the file).
    globalSetup: ['test/global-setup.ts'],
  },
});
