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
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
