import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/program.js';

/**
 * README.md is the front door and docs/ the reference: every flag of every command at every
 * depth is on its command's page, each command has its generated flag-list markers, every
 * relative link leads somewhere, and every line reads in a terminal 100 columns wide.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const io = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough(), env: {} };
const program = buildProgram(io);

interface CommandPath {
  path: string;
  flags: string[];
}

function commandPaths(command: Command, path: string): CommandPath[] {
  const flags = command.options.filter((o) => !o.hidden && o.long).map((o) => o.long as string);
  return [{ path, flags }, ...command.commands.flatMap((sub) => commandPaths(sub, `${path} ${sub.name()}`))];
}

/** `warren` itself is documented in docs/connection.md, `warren X …` in docs/commands/X.md. */
function pageOf(path: string): string {
  const top = path.split(' ')[1];
  return top === undefined ? 'docs/connection.md' : `docs/commands/${top}.md`;
}

function markdownFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? markdownFiles(join(dir, entry.name))
      : entry.name.endsWith('.md')
        ? [join(dir, entry.name)]
        : [],
  );
}

const DOCS = ['README.md', ...markdownFiles('docs')];
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const paths = commandPaths(program, 'warren');

/** The lines outside fenced code blocks (a `# comment` in a shell example is no heading). */
function prose(text: string): string[] {
  let fenced = false;
  return text.split('\n').filter((line) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return false;
    }
    return !fenced;
  });
}

/** GitHub's anchor for a heading: the text without markup, lower case, punctuation dropped. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(file: string): Set<string> {
  const headings = prose(read(file)).flatMap((line) => /^#{1,6}\s+(.*)$/.exec(line)?.slice(1) ?? []);
  return new Set(headings.map(slug));
}

function relativeLinks(file: string): string[] {
  return prose(read(file)).flatMap((line) => {
    const withoutCode = line.replace(/`[^`]*`/g, '');
    return [...withoutCode.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string);
  });
}

describe('the docs', () => {
  it.each(paths.flatMap(({ path, flags }) => flags.map((flag) => [path, flag, pageOf(path)])))(
    'document %s %s on %s',
    (_path, flag, page) => {
      expect(read(page)).toMatch(new RegExp(`(?<![\\w-])${flag}(?![\\w-])`));
    },
  );

  it.each(paths.map(({ path }) => [path, pageOf(path)]))(
    'have the flag-list markers of %s on %s',
    (path, page) => {
      const begin = `<!-- BEGIN GENERATED FLAGS: ${path} -->`;
      const text = read(page);
      const at = text.indexOf(begin);
      expect(at, `${page} lacks ${begin}`).toBeGreaterThanOrEqual(0);
      const rest = text.slice(at + begin.length);
      const end = rest.indexOf('<!-- END GENERATED FLAGS -->');
      expect(end, `${begin} is not closed`).toBeGreaterThanOrEqual(0);
      expect(rest.slice(0, end)).not.toContain('<!-- BEGIN GENERATED FLAGS');
    },
  );

  it('have one marker pair per command path, and none for a command that does not exist', () => {
    const known = new Set(paths.map(({ path }) => path));
    const found = DOCS.flatMap((file) =>
      [...read(file).matchAll(/<!-- BEGIN GENERATED FLAGS: (.*?) -->/g)].map((m) => m[1] as string),
    );
    expect(found.filter((path) => !known.has(path))).toEqual([]);
    expect(found.filter((path, i) => found.indexOf(path) !== i)).toEqual([]);
  });

  it('have a page per command, linked from the front page and the index', () => {
    const readme = read('README.md');
    const index = read('docs/README.md');
    for (const command of program.commands) {
      const page = `docs/commands/${command.name()}.md`;
      expect(existsSync(join(ROOT, page)), page).toBe(true);
      expect(readme).toContain(`](${page})`);
      expect(index).toContain(`](commands/${command.name()}.md)`);
    }
  });

  it('keep the front page short', () => {
    expect(read('README.md').split('\n').length).toBeLessThanOrEqual(300);
  });

  it.each(DOCS)('%s reads at 100 columns (only a bare URL or a link definition may be longer)', (file) => {
    const long = read(file)
      .split('\n')
      .map((line, i) => `${i + 1}: ${line}`)
      .filter((numbered) => {
        const line = numbered.slice(numbered.indexOf(': ') + 2);
        // A bare URL, or a link reference definition (`[label]: URL`), cannot be wrapped.
        return [...line].length > 100 && !/^\s*(\[[^\]]+\]:\s*)?<?https?:\/\/\S+>?\s*$/.test(line);
      });
    expect(long).toEqual([]);
  });

  it.each(DOCS)('%s links only to files and headings that exist', (file) => {
    const broken = relativeLinks(file).filter((link) => {
      if (/^[a-z]+:/i.test(link)) return false; // https:, mailto:
      const [target = '', anchor] = link.split('#');
      const path = target === '' ? file : relative(ROOT, resolve(ROOT, dirname(file), target));
      if (!existsSync(join(ROOT, path))) return true;
      return anchor !== undefined && path.endsWith('.md') && !anchors(path).has(anchor);
    });
    expect(broken).toEqual([]);
  });
});
