import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { completionScript, globalFlags } from '../../src/reference/completion.js';
import { commandTree } from '../../src/reference/tree.js';
import { type CommandNode, everyCommand, type FlagSpec, walk } from '../../src/reference/walk.js';
import { runMain } from '../helpers/fakeIo.js';

// Completion: every flag of every command, at every depth, must be known to every shell.

const root = walk(commandTree());
const commands = everyCommand(root);
const global = globalFlags(root);
/** A command's own flags (the root's: only --help and --version; the rest are global). */
const own = (node: CommandNode): FlagSpec[] => node.flags.filter((f) => !global.includes(f));
const names = (flags: FlagSpec[]): string[] => flags.flatMap((f) => f.names);
const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
/** A path's display name in test titles. */
const at = (node: CommandNode) => node.title;

function which(program: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('the command tree the completions are made from', () => {
  it('is walked to every depth, with the flags of the nested commands', () => {
    expect(commands.map((n) => n.path.join(' '))).toEqual(
      expect.arrayContaining(['', 'publish', 'declare', 'declare queue', 'delete binding', 'profile add']),
    );
    const flagsAt = (path: string) => names(commands.find((n) => n.path.join(' ') === path)?.flags ?? []);
    expect(flagsAt('declare queue')).toEqual(expect.arrayContaining(['--dead-letter-exchange', '--max-age']));
    expect(flagsAt('delete queue')).toContain('--if-empty');
    expect(flagsAt('profile add')).toEqual(expect.arrayContaining(['--vhost', '--force']));
    expect(names(global)).toEqual(expect.arrayContaining(['--url', '-q', '--no-color', '--profile']));
  });

  it.each(['bash', 'zsh', 'fish'])('warren completion %s prints the script, and only it', async (shell) => {
    const { code, stdout, stderr } = await runMain(['completion', shell]);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toBe(completionScript(shell, commandTree()));
  });
});

// ---------------------------------------------------------------------------------------
// bash: the script run for real, COMP_WORDS set as bash sets them on <TAB>.

describe('bash completion', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warren-completion-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const scriptPath = join(dir, 'warren.bash');
  writeFileSync(scriptPath, completionScript('bash', commandTree()));

  /** What <TAB> offers after each line of words (the last word is the one being completed). */
  function completeAll(lines: string[][]): string[][] {
    const calls = lines.map(
      (words) =>
        `COMP_WORDS=(${words.map(quote).join(' ')}); COMP_CWORD=${words.length - 1}; COMPREPLY=(); _warren; ` +
        `printf '%s\\n' '#' "\${COMPREPLY[@]}"`,
    );
    const out = execFileSync('bash', ['-c', [`source ${quote(scriptPath)}`, ...calls].join('\n')], {
      cwd: dir,
      encoding: 'utf8',
    });
    return out
      .split('#\n')
      .slice(1)
      .map((reply) => reply.split('\n').filter(Boolean).sort());
  }
  const complete = (words: string[]): string[] => completeAll([words])[0] ?? [];

  it('completes `warren declare queue --dead-l`, `warren delete queue --if-e`, `warren profile add --`', () => {
    expect(complete(['warren', 'declare', 'queue', 'q', '--dead-l'])).toEqual([
      '--dead-letter-exchange',
      '--dead-letter-routing-key',
    ]);
    expect(complete(['warren', 'delete', 'queue', '--if-e'])).toEqual(['--if-empty']);
    const profileAdd = complete(['warren', 'profile', 'add', '--']);
    expect(profileAdd).toEqual(
      expect.arrayContaining(['--vhost', '--default', '--force', '--format', '--url']),
    );
    expect(profileAdd).not.toContain('--json');
  });

  it('completes, at every command, each of its flags and each global flag', () => {
    const replies = completeAll(commands.map((node) => ['warren', ...node.path, '-']));
    commands.forEach((node, i) => {
      expect(replies[i], at(node)).toEqual([...new Set([...names(node.flags), ...names(global)])].sort());
    });
  });

  it('completes, at every command that has them, its subcommands', () => {
    const parents = commands.filter((node) => node.subcommands.length > 0);
    const replies = completeAll(parents.map((node) => ['warren', ...node.path, '']));
    parents.forEach((node, i) => {
      expect(replies[i], at(node)).toEqual(node.subcommands.map((s) => s.path.at(-1)).sort());
    });
  });

  it('completes the choices of every flag that has them, at every command', () => {
    const cases = commands.flatMap((node) =>
      node.flags.filter((f) => f.choices).flatMap((f) => f.names.map((name) => ({ node, name, f }))),
    );
    expect(cases.map((c) => `${at(c.node)} ${c.name}`)).toContain('warren declare queue --type');
    const replies = completeAll(cases.map(({ node, name }) => ['warren', ...node.path, name, '']));
    cases.forEach(({ node, name, f }, i) => {
      expect(replies[i], `${at(node)} ${name}`).toEqual([...(f.choices ?? [])].sort());
    });
  });

  it('completes file names for a file flag, and the choices of an argument', () => {
    writeFileSync(join(dir, 'topology.json'), '{}');
    expect(complete(['warren', 'declare', '--file', 'topo'])).toEqual(['topology.json']);
    expect(complete(['warren', 'completion', ''])).toEqual(['bash', 'fish', 'zsh']);
    expect(complete(['warren', 'consume', 'q', '--on-failure', 'd'])).toEqual(['dead-letter']);
  });

  it("skips flags' values: `warren declare --file queue --ch` is declare's --check", () => {
    expect(complete(['warren', 'declare', '--file', 'queue', '--ch'])).toEqual(['--check']);
    expect(complete(['warren', '--profile', 'declare', 'pu'])).toEqual(['publish', 'purge']);
  });

  it("leaves tail's trigger command, after --, to the shell", () => {
    expect(complete(['warren', 'tail', 'orders', '--', 'warren', '--'])).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------
// zsh and fish are read, not run (neither is installed here); each checked for syntax when it is.

function zshFunctionBody(script: string, node: CommandNode): string {
  const name = ['_warren', ...node.path].join('_');
  return new RegExp(`^${name}\\(\\) \\{\\n([\\s\\S]*?)^\\}`, 'm').exec(script)?.[1] ?? '';
}

function zshOffers(block: string, f: FlagSpec): boolean {
  if (f.short && f.long) return block.includes(`{${f.short},${f.long}}'[`);
  return block.includes(`'${f.long ?? f.short}[`) || block.includes(`'*${f.long ?? f.short}[`);
}

describe('zsh completion', () => {
  const script = completionScript('zsh', commandTree());

  it('has a function per command offering each of its flags, and the global flags', () => {
    const globals = /^_warren_global=\(\n([\s\S]*?)^\)/m.exec(script)?.[1] ?? '';
    for (const f of global) expect(zshOffers(globals, f), `global ${f.flags}`).toBe(true);
    for (const node of commands) {
      const body = zshFunctionBody(script, node);
      expect(body, at(node)).toContain('_arguments');
      expect(body, at(node)).toContain('$_warren_global');
      for (const f of own(node)) expect(zshOffers(body, f), `${at(node)} ${f.flags}`).toBe(true);
    }
  });

  it('hands each subcommand on to its own function', () => {
    for (const node of commands.filter((n) => n.subcommands.length > 0)) {
      const body = zshFunctionBody(script, node);
      for (const sub of node.subcommands) {
        expect(body, at(sub)).toContain(`${sub.path.at(-1)}) ${['_warren', ...sub.path].join('_')} ;;`);
        expect(body, at(sub)).toMatch(new RegExp(`^ {4}'${sub.path.at(-1)}:`, 'm'));
      }
    }
  });

  it.skipIf(!which('zsh'))('is valid zsh', () => {
    execFileSync('zsh', ['-n'], { input: script });
  });
});

describe('fish completion', () => {
  const script = completionScript('fish', commandTree());
  const lines = script.split('\n');
  const offers = (f: FlagSpec, condition: string | undefined) =>
    lines.some(
      (line) =>
        line.startsWith('complete -c warren ') &&
        (f.long === undefined || line.includes(` -l ${f.long.slice(2)} `)) &&
        (f.short === undefined || line.includes(` -s ${f.short.slice(1)} `)) &&
        (condition === undefined ? !line.includes(' -n ') : line.includes(` -n '${condition}' `)),
    );

  it('offers each global flag everywhere, and each flag of a command under that command only', () => {
    for (const f of global) expect(offers(f, undefined), `global ${f.flags}`).toBe(true);
    for (const node of commands) {
      const condition = ['__warren_at', ...node.path].join(' ');
      for (const f of own(node)) expect(offers(f, condition), `${at(node)} ${f.flags}`).toBe(true);
      for (const sub of node.subcommands) {
        expect(script, at(sub)).toContain(`complete -c warren -n '${condition}' -a ${sub.path.at(-1)} -d`);
      }
    }
  });

  it('knows every command path, to tell `declare queue` from `delete queue`', () => {
    const paths = /^set -g __warren_paths (.*)$/m.exec(script)?.[1] ?? '';
    for (const node of commands.filter((n) => n !== root))
      expect(paths).toContain(`'${node.path.join(' ')}'`);
  });

  it.skipIf(!which('fish'))('is valid fish', () => {
    execFileSync('fish', ['-n'], { input: script });
  });
});
