import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // As in build.mjs: amqplib's codec module, which its package does not export.
    alias: {
      'amqplib-codec': fileURLToPath(new URL('./node_modules/amqplib/lib/codec.js', import.meta.url)),
      'amqplib-defs': fileURLToPath(new URL('./node_modules/amqplib/lib/defs.js', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Fails the run if a test queue could outlive an interrupted run (see the file).
    globalSetup: ['test/globalSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most test files wait (on the broker, on warren's children, on timers), not compute: three
    // at once on two cores fill the waits. (Vitest's default, one fewer than the cores, ran the
    // files one at a time here; four starved the files that boot broker nodes of their own.)
    // Each file's names are unique, so files never share an entity.
    maxWorkers: 3,
  },
});
