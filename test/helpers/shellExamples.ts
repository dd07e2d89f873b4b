/**
 * The warren command lines the docs show: read out of markdown code blocks (and command help)
 * and split into argv the way a POSIX shell would, so a test can parse or run each of them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './spawn.js';

/** What a shell variable or `$(…)` becomes: a plain word. */
export const PLACEHOLDER = 'placeholder';

export interface CodeBlock {
  file: string;
  /** The line of the opening fence. */
  line: number;
  /** 'sh', 'console', '' (none)… */
  info: string;
  /** The lines between the fences, each with its line number. */
  body: { line: number; text: string }[];
}

/** A command line as a user would type it: continuation lines joined. */
export interface ShellLine {
  file: string;
  line: number;
  text: string;
}

/** One `warren …` invocation found in a shell line. */
export interface Invocation {
  argv: string[];
  /** The comment closing its line, if any (`# exit 2`). */
  comment: string;
}

/** The fenced code blocks of a markdown text (fences may be indented, as in a list). */
export function codeBlocks(file: string, text: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  let open: CodeBlock | undefined;
  text.split('\n').forEach((raw, i) => {
    const fence = /^\s*```\s*(\S*)/.exec(raw);
    if (fence && !open) {
      open = { file, line: i + 1, info: fence[1] ?? '', body: [] };
    } else if (fence && open) {
      blocks.push(open);
      open = undefined;
    } else if (open) {
      open.body.push({ line: i + 1, text: raw });
    }
  });
  return blocks;
}

/** Blocks a reader may paste into a shell: sh, bash, shell, console, or untagged. */
export function isShellBlock(block: CodeBlock): boolean {
  return ['', 'sh', 'bash', 'shell', 'console'].includes(block.info);
}

/**
 * The command lines of a block. In a console block (or any line starting with `$ `) only
 * the prompted lines are commands, the rest is their output; a trailing `\` continues.
 */
export function shellLines(block: CodeBlock): ShellLine[] {
  const prompted = block.info === 'console' || block.body.some(({ text }) => /^\s*\$ /.test(text));
  const indent = Math.min(
    ...block.body
      .filter(({ text }) => text.trim() !== '')
      .map(({ text }) => /^\s*/.exec(text)?.[0].length ?? 0),
  );
  const lines: ShellLine[] = [];
  let current: ShellLine | undefined;
  for (const { line, text: raw } of block.body) {
    const text = raw.slice(Number.isFinite(indent) ? indent : 0);
    if (current) {
      current.text = `${current.text.slice(0, -1).trimEnd()} ${text.trim()}`;
    } else if (!prompted || text.startsWith('$ ')) {
      current = { file: block.file, line, text: prompted ? text.slice(2) : text };
    } else {
      continue;
    }
    if (!/(^|[^\\])(\\\\)*\\$/.test(current.text)) {
      if (current.text.trim() !== '') lines.push(current);
      current = undefined;
    }
  }
  if (current) lines.push(current);
  return lines;
}

type Token = { op: string } | { word: string };

/** The index just past the `)` closing the `(` at `open`, quotes and nesting respected. */
function closingParen(src: string, open: number): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (c === "'") i = src.indexOf("'", i + 1);
    else if (c === '"') {
      for (i++; i < src.length && src[i] !== '"'; i++) if (src[i] === '\\') i++;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
    if (i === -1) break;
  }
  throw new Error(`unclosed '(' in: ${src}`);
}

const REDIRECTION = /^\d*(?:&>>|&>|>>|>&|<&|>\||<<<|<<|<>|>|<)/;
const OPERATOR = /^(?:&&|\|\||\|&|;;|[|;&()\n])/;

interface Scan {
  tokens: Token[];
  comment: string;
}

/**
 * Splits a shell line into words and operators. Quotes and backslashes are undone;
 * `$VAR`, `${VAR}`, `$(…)` and `` `…` `` become PLACEHOLDER, and the commands inside a
 * substitution are handed to `inner`.
 */
function scan(src: string, inner: (text: string) => void): Scan {
  const tokens: Token[] = [];
  let i = 0;
  const expansion = (): string => {
    // at a `$` or a backquote: skip it, give its placeholder
    if (src[i] === '`') {
      const end = src.indexOf('`', i + 1);
      inner(src.slice(i + 1, end));
      i = end + 1;
      return PLACEHOLDER;
    }
    const next = src[i + 1] ?? '';
    if (next === '(') {
      const end = closingParen(src, i + 1);
      inner(src.slice(i + 2, end - 1));
      i = end;
    } else if (next === '{') {
      i = src.indexOf('}', i) + 1;
    } else if (/[A-Za-z_]/.test(next)) {
      i += 1 + (/^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i + 1))?.[0].length ?? 0);
    } else if (/[0-9$?#!@*-]/.test(next)) {
      i += 2;
    } else {
      i += 1;
      return '$';
    }
    return PLACEHOLDER;
  };
  while (i < src.length) {
    const rest = src.slice(i);
    const space = /^[ \t]+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    if (rest.startsWith('#')) return { tokens, comment: rest.slice(1).trim() };
    const redirection = REDIRECTION.exec(rest);
    const operator = redirection ?? OPERATOR.exec(rest);
    if (operator) {
      i += operator[0].length;
      let op = redirection ? `redirect ${operator[0]}` : operator[0];
      const dup = /^(\d+|-)/.exec(src.slice(i));
      if (redirection && /[<>]&$/.test(operator[0]) && dup) {
        i += dup[0].length;
        op = 'redirect dup';
      }
      tokens.push({ op });
      continue;
    }
    let word = '';
    while (i < src.length && !/[ \t|&;<>()\n]/.test(src[i] as string)) {
      const c = src[i] as string;
      if (c === "'") {
        const end = src.indexOf("'", i + 1);
        if (end === -1) throw new Error(`unclosed ' in: ${src}`);
        word += src.slice(i + 1, end);
        i = end + 1;
      } else if (c === '"') {
        i++;
        while (src[i] !== '"') {
          if (i >= src.length) throw new Error(`unclosed " in: ${src}`);
          const d = src[i] as string;
          if (d === '\\' && /[$`"\\\n]/.test(src[i + 1] ?? '')) {
            word += src[i + 1];
            i += 2;
          } else if (d === '$' || d === '`') {
            word += expansion();
          } else {
            word += d;
            i++;
          }
        }
        i++;
      } else if (c === '\\') {
        word += src[i + 1] ?? '';
        i += 2;
      } else if (c === '$' || c === '`') {
        word += expansion();
      } else {
        word += c;
        i++;
      }
    }
    tokens.push({ word });
  }
  return { tokens, comment: '' };
}

/** The simple commands of a token list: words only, redirections and their targets dropped. */
function simpleCommands(tokens: Token[]): string[][] {
  const commands: string[][] = [[]];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    if ('word' in token) (commands[commands.length - 1] as string[]).push(token.word);
    else if (token.op === 'redirect dup') continue;
    else if (token.op.startsWith('redirect')) i++;
    else commands.push([]);
  }
  return commands.filter((words) => words.length > 0);
}

/** xargs options that take a value as the next word. */
const XARGS_VALUED = new Set(['-n', '-I', '-L', '-P', '-d', '-E', '-s', '-a']);

/** The warren argv a simple command runs, if it runs warren; and the shell text it hands on. */
function warrenOf(words: string[], found: string[][], nested: (text: string) => void): void {
  let at = 0;
  while (at < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[at] as string)) at++;
  while (['time', 'exec', 'nohup', 'env'].includes(words[at] ?? '')) at++;
  if (words[at] === 'trap' && words[at + 1] !== undefined) {
    nested(words[at + 1] as string);
    return;
  }
  if (words[at] === 'npx') at++;
  if (words[at] === 'xargs') {
    for (at++; (words[at] ?? '').startsWith('-'); at++) if (XARGS_VALUED.has(words[at] as string)) at++;
  }
  if (words[at] !== 'warren') return;
  const argv = words.slice(at + 1);
  found.push(argv);
  argv.forEach((word, i) => {
    // A handler (`--exec 'warren publish …'`) and a trigger (`-- warren …`) are commands too.
    if (word === '--exec' && argv[i + 1] !== undefined) nested(argv[i + 1] as string);
    if (word.startsWith('--exec=')) nested(word.slice('--exec='.length));
  });
  const dashes = argv.indexOf('--');
  if (dashes !== -1) warrenOf(argv.slice(dashes + 1), found, nested);
}

/** Every `warren …` a shell line runs: in pipes, lists, `$(…)`, `xargs`, traps and handlers. */
export function invocations(text: string): Invocation[] {
  const found: string[][] = [];
  const visit = (src: string): string => {
    const { tokens, comment } = scan(src, (inner) => visit(inner));
    for (const words of simpleCommands(tokens)) warrenOf(words, found, (nested) => visit(nested));
    return comment;
  };
  const comment = visit(text);
  return found.map((argv) => ({ argv, comment }));
}

/** `# exit 2`: a line that shows a usage error on purpose. */
export function expectsUsageError(invocation: Invocation): boolean {
  return /\bexit 2\b/.test(invocation.comment);
}

/** README.md and every markdown file under docs/, relative to the repository root. */
export function markdownFiles(dir = 'docs'): string[] {
  const walk = (sub: string): string[] =>
    readdirSync(join(REPO_ROOT, sub), { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory()
        ? walk(join(sub, entry.name))
        : entry.name.endsWith('.md')
          ? [join(sub, entry.name)]
          : [],
    );
  return ['README.md', ...walk(dir)];
}

export function readDoc(file: string): string {
  return readFileSync(join(REPO_ROOT, file), 'utf8');
}

/**
 * The first code block after a heading of a markdown file (`## Quick start`), or every
 * code block up to the next heading of the same level when `all` is set.
 */
export function blocksUnder(file: string, heading: string, all = false): CodeBlock[] {
  const text = readDoc(file);
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.trim() === heading);
  if (start === -1) throw new Error(`${file} has no heading '${heading}'`);
  const level = /^#+/.exec(heading)?.[0] ?? '#';
  const after = lines.slice(start + 1);
  const stop = after.findIndex((line) => new RegExp(`^#{1,${level.length}} `).test(line));
  const end = start + 1 + (stop === -1 ? after.length : stop);
  const blocks = codeBlocks(file, text).filter((block) => block.line > start + 1 && block.line <= end);
  if (blocks.length === 0) throw new Error(`${file} has no code block under '${heading}'`);
  return all ? blocks : blocks.slice(0, 1);
}
