// Bundles warren into dist/cli.js: one file loads much faster than a tree of modules,
// and start-up is most of a single `warren publish`.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/cli.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  alias: { 'amqplib-codec': './node_modules/amqplib/lib/codec.js' },
  // CommonJS dependencies (amqplib) call require() for Node's built-in modules.
  banner: {
    js: "import { createRequire as __warrenRequire } from 'node:module'; const require = __warrenRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
