// npm run gen: writes what is generated from the command definitions (src/reference/):
// completions/, man/, package.json "man" and the flag regions of docs/**/*.md. Nothing else
// writes them; test/unit/reference.test.ts fails when they are out of date.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { importTs } from './importTs.mjs';

// The generators are TypeScript (src/reference/).
const { referenceFiles, manField, walk, commandTree, fillFlagRegions } =
  await importTs('src/reference/generate.ts');

const written = [];
async function update(path, text) {
  const old = await readFile(path, 'utf8').catch(() => undefined);
  if (old === text) return;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
  written.push(path);
}

const files = referenceFiles();
for (const [path, text] of files) await update(path, text);
// A command that is gone takes its page with it.
for (const name of await readdir('man').catch(() => [])) {
  if (name.endsWith('.1') && !files.has(`man/${name}`)) {
    await rm(join('man', name));
    written.push(`man/${name} (removed)`);
  }
}

const pkg = JSON.parse(await readFile('package.json', 'utf8'));
pkg.man = manField();
await update('package.json', `${JSON.stringify(pkg, null, 2)}\n`);

const root = walk(commandTree());
const docs = await readdir('docs', { recursive: true }).catch(() => []);
for (const name of docs.filter((n) => n.endsWith('.md')).sort()) {
  const path = join('docs', name);
  await update(path, fillFlagRegions(await readFile(path, 'utf8'), root, path).text);
}

console.log(written.length === 0 ? 'gen: everything was up to date' : `gen: wrote ${written.join(', ')}`);
