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

// completions/ holds the scripts generated from the command definitions; a test checks
// that they still match.
const { mkdir, writeFile } = await import('node:fs/promises');
const { completionScripts } = await import('./dist/cli.js');
await mkdir('completions', { recursive: true });
const names = { bash: 'warren.bash', zsh: 'warren.zsh', fish: 'warren.fish' };
for (const [shell, script] of Object.entries(completionScripts())) {
  await writeFile(`completions/${names[shell]}`, script);
}
