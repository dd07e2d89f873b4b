import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { DOCS_WIDTH, fillFlagRegions, flagsMarkdown } from '../../src/reference/docs.js';
import { manField, referenceFiles } from '../../src/reference/generate.js';
import { manPages } from '../../src/reference/man.js';
import { commandTree } from '../../src/reference/tree.js';
import { everyCommand, examplesAndNotes, walk } from '../../src/reference/walk.js';

// What `npm run gen` writes (completions/, man/, package.json "man", the flag regions of docs/)
// is committed; these tests regenerate it in memory and fail when the committed copy is stale.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const STALE = 'out of date: run `npm run gen` and commit what it writes';
const root = walk(commandTree());
const commands = everyCommand(root);

describe('the committed reference is what the command tree generates', () => {
  const files = referenceFiles();

  it.each([...files.keys()])('%s', (path) => {
    expect(existsSync(join(ROOT, path)), `${path} is missing: ${STALE}`).toBe(true);
    expect(read(path), `${path} ${STALE}`).toBe(files.get(path));
  });

  it('man/ holds no page of a command that is gone', () => {
    const pages = readdirSync(join(ROOT, 'man')).map((name) => `man/${name}`);
    expect(pages.sort()).toEqual([...files.keys()].filter((p) => p.startsWith('man/')).sort());
  });

  it('package.json lists every man page, and ships man/ and completions/', () => {
    const pkg = JSON.parse(read('package.json')) as { man: string[]; files: string[] };
    expect(pkg.man, STALE).toEqual(manField(root));
    expect(pkg.files).toEqual(expect.arrayContaining(['man', 'completions']));
  });
});

// ---------------------------------------------------------------------------------------
// docs/: the flag regions between the markers.

function docsPages(): string[] {
  if (!existsSync(join(ROOT, 'docs'))) return [];
  return (readdirSync(join(ROOT, 'docs'), { recursive: true }) as string[])
    .filter((name) => name.endsWith('.md'))
    .map((name) => join('docs', name))
    .sort();
}

describe('the flag regions of docs/', () => {
  it('are up to date in every page', () => {
    for (const page of docsPages()) {
      expect(fillFlagRegions(read(page), root, page).text, `${page} ${STALE}`).toBe(read(page));
    }
  });

  // Skipped until docs/ exists.
  it.skipIf(!existsSync(join(ROOT, 'docs')))('cover every command at every depth, each exactly once', () => {
    const regions = docsPages().flatMap((page) => fillFlagRegions(read(page), root, page).commands);
    for (const node of commands) {
      expect(regions.filter((title) => title === node.title).length, `regions of ${node.title}`).toBe(1);
    }
  });
});

describe('filling a flag region', () => {
  const page = [
    '# declare queue',
    '',
    'Prose before.',
    '',
    '<!-- BEGIN GENERATED FLAGS: warren declare queue -->',
    'anything stale',
    '<!-- END GENERATED FLAGS -->',
    '',
    'Prose between.',
    '<!-- BEGIN GENERATED FLAGS: warren -->',
    '<!-- END GENERATED FLAGS -->',
    'Prose after.',
    '',
  ].join('\n');

  it("writes the command's flags between the markers and leaves the prose alone", () => {
    const { text, commands: named } = fillFlagRegions(page, root, 'fixture.md');
    expect(named).toEqual(['warren declare queue', 'warren']);
    expect(text).not.toContain('anything stale');
    expect(text.startsWith('# declare queue\n\nProse before.\n\n')).toBe(true);
    expect(text).toContain('<!-- END GENERATED FLAGS -->\n\nProse between.\n<!-- BEGIN');
    expect(text.endsWith('<!-- END GENERATED FLAGS -->\nProse after.\n')).toBe(true);
    expect(text).toContain('- `--dead-letter-exchange <exchange>`: where rejected and expired messages go.');
    expect(text).toMatch(/- `--type <type>`: [^-]*Choices: `classic`,\s+`quorum`, `stream`\./);
    // `warren` alone: the global flags.
    expect(text).toContain('- `--url <url>`: broker URL');
    expect(text).toContain('- `-q, --quiet`: no human summary on stderr.');
    expect(fillFlagRegions(text, root, 'fixture.md').text).toBe(text);
  });

  it('shows defaults and says when a command has no flags of its own', () => {
    const consume = commands.find((n) => n.title === 'warren consume');
    const profile = commands.find((n) => n.title === 'warren profile');
    if (!consume || !profile) throw new Error('the tree lost consume or profile');
    expect(flagsMarkdown(consume)).toMatch(/--ack-mode <mode>`: .*\s+.*Default: `ack`\. Choices: `ack`/);
    expect(flagsMarkdown(profile)).toBe('_No flags of its own besides `-h, --help`._');
  });

  it('keeps every line of every command within 100 columns', () => {
    for (const node of commands) {
      for (const line of flagsMarkdown(node).split('\n')) {
        expect(line.length, `${node.title}: ${line}`).toBeLessThanOrEqual(DOCS_WIDTH);
      }
    }
  });

  it('refuses a region that names no command, or has no end', () => {
    expect(() =>
      fillFlagRegions(
        '<!-- BEGIN GENERATED FLAGS: warren declare queues -->\n<!-- END GENERATED FLAGS -->',
        root,
        'a.md',
      ),
    ).toThrow(/a\.md.*'warren declare queues'/);
    expect(() =>
      fillFlagRegions(
        '<!-- BEGIN GENERATED FLAGS: warren purge -->\n<!-- BEGIN GENERATED FLAGS: warren -->\n<!-- END GENERATED FLAGS -->',
        root,
        'b.md',
      ),
    ).toThrow(/b\.md.*'warren purge'/);
  });
});

// ---------------------------------------------------------------------------------------
// man/

describe('the man pages', () => {
  const pages = manPages(root);

  it('are one per command at every depth', () => {
    expect([...pages.keys()]).toEqual(
      expect.arrayContaining([
        'warren.1',
        'warren-declare.1',
        'warren-declare-queue.1',
        'warren-profile-add.1',
      ]),
    );
    expect(pages.size).toBe(commands.length);
  });

  it.each([...pages.keys()])('%s has its sections, its flags and its examples', (name) => {
    const page = pages.get(name) ?? '';
    const node = commands.find((n) => ['warren', ...n.path].join('-') === name.replace(/\.1$/, ''));
    if (!node) throw new Error(`no command for ${name}`);
    for (const heading of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'SEE ALSO']) {
      expect(page).toMatch(new RegExp(`^\\.SH ${heading}$`, 'm'));
    }
    for (const flag of node.flags)
      expect(page).toContain(`\\fB${(flag.long ?? '').replace(/-/g, '\\-')}\\fR`);
    if (node.examples.length > 0) expect(page).toMatch(/^\.SH EXAMPLES$/m);
    for (const example of node.examples)
      expect(page).toContain(example.replace(/\\/g, '\\e').replace(/-/g, '\\-'));
  });

  it('warren.1 has the global flags and every exit code', () => {
    const page = pages.get('warren.1') ?? '';
    expect(page).toContain('\\fB\\-\\-wait\\-for\\-broker\\fR');
    const status = page.slice(page.indexOf('.SH EXIT STATUS'));
    for (const code of Object.values(ExitCode)) expect(status).toContain(`.B ${code}\n`);
  });

  it.skipIf(!existsSync('/usr/bin/groff'))('render without a warning from groff', () => {
    for (const [name, page] of pages) {
      const run = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z'], { input: page, encoding: 'utf8' });
      expect(run.stderr, name).toBe('');
      expect(run.status, name).toBe(0);
    }
  });
});

describe("a command's examples, read from its help", () => {
  it('are the indented lines under "Examples:"; the rest is kept as notes', () => {
    const after = '\nConnection: a\n\nExamples:\n  $ warren x\n      --y\n  $ warren z\nLater.\n';
    expect(examplesAndNotes(after)).toEqual({
      examples: ['$ warren x', '    --y', '$ warren z'],
      notes: 'Connection: a\n\nLater.',
    });
  });

  it('are found for the commands that have them', () => {
    const examples = (title: string) => commands.find((n) => n.title === title)?.examples ?? [];
    expect(examples('warren declare queue')[0]).toMatch(/^\$ warren declare queue /);
    expect(examples('warren')[0]).toMatch(/^\$ warren /);
  });
});
