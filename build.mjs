// Bundles warren into dist/: start-up is most of a single `warren publish`, and a few
// bundled chunks load much faster than a tree of modules. Chunks split at the dynamic
// imports, so a command loads only what it uses (the client library only when connecting).
import { readFile, rm } from 'node:fs/promises';
import { build } from 'esbuild';

/**
 * Dependencies require some of Node's modules at load time that warren seldom needs: TLS
 * (only for amqps://) and child_process (commander's executable subcommands, unused).
 * They are loaded on first use instead.
 */
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: /^node:(tls|child_process)$/ }, (args) =>
      args.importer.includes('node_modules') ? { path: args.path, namespace: 'lazy-builtin' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: `let loaded;
module.exports = new Proxy({}, { get: (_, key) => (loaded ??= require(${JSON.stringify(args.path)}))[key] });`,
      loader: 'js',
    }));
  },
};

await rm('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/main.ts'],
  outdir: 'dist',
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  alias: {
    'amqplib-codec': './node_modules/amqplib/lib/codec.js',
    'amqplib-defs': './node_modules/amqplib/lib/defs.js',
  },
  plugins: [lazyBuiltins],
  // The version, written in at build time: no package.json to read at start-up.
  define: { WARREN_VERSION: JSON.stringify(JSON.parse(await readFile('package.json', 'utf8')).version) },
  // CommonJS dependencies (amqplib, commander) call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __warrenRequire } from 'node:module'; const require = __warrenRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
