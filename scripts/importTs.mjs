// A TypeScript module of src/, loaded from a plain-JS script (npm run gen, npm run bench):
// bundled on the spot by esbuild, its dependencies left to node_modules, into a folder one
// down from the root as dist/ is (the program reads ../package.json for its version when it
// runs from its sources); imported, then the folder is removed.
import { rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The module at `entry` (a path from the repository's root, e.g. src/inventory/listing.ts). */
export async function importTs(entry) {
  const outdir = join(ROOT, `.gen-${process.pid}`);
  await rm(outdir, { recursive: true, force: true });
  try {
    await build({
      entryPoints: [join(ROOT, entry)],
      outdir,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      logLevel: 'warning',
    });
    return await import(pathToFileURL(join(outdir, basename(entry).replace(/\.ts$/, '.js'))).href);
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}
