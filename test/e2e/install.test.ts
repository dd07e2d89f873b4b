import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/spawn.js';

// What a user gets from `npm pack` and `npm install -g` of the tarball: a warren on PATH, its
// man pages where man looks, its completion scripts in the package.

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  man: string[];
};

describe('npm pack, then npm install -g of the tarball', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'warren-install-'));
  const prefix = join(dir, 'prefix');
  const installed = join(prefix, 'lib', 'node_modules', pkg.name);
  const warren = join(prefix, 'bin', 'warren');

  beforeAll(async () => {
    // dist/ is already built (npm test builds first); --ignore-scripts keeps `prepare` from
    // rebuilding it under the other tests running beside this one.
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: REPO_ROOT });
    const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack left no tarball in ${dir}`);
    // The dependencies come from npm's cache when they are there, else from the registry.
    await run(
      'npm',
      [
        'install',
        '-g',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        join(dir, tarball),
      ],
      { cwd: dir },
    );
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('puts a warren that runs on the prefix bin/', async () => {
    const { stdout } = await run(warren, ['--version'], { cwd: dir });
    expect(stdout.trim()).toBe(pkg.version);
  });

  it('installs the completion scripts, and the installed warren prints the same', async () => {
    const { stdout } = await run(warren, ['completion', 'bash'], { cwd: dir });
    expect(stdout).toContain('complete -o default -F _warren warren');
    expect(readFileSync(join(installed, 'completions', 'warren.bash'), 'utf8')).toBe(stdout);
    for (const shell of ['zsh', 'fish'])
      expect(existsSync(join(installed, 'completions', `warren.${shell}`))).toBe(true);
  });

  it('links every man page into share/man/man1', () => {
    expect(pkg.man).toContain('man/warren.1');
    for (const page of pkg.man) {
      expect(existsSync(join(prefix, 'share', 'man', 'man1', page.replace(/^man\//, ''))), page).toBe(true);
    }
  });
});
