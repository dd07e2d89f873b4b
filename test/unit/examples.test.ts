import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { buildProgram, parseArgs } from '../../src/program.js';
import { everyCommand, walk } from '../../src/reference/walk.js';
import { fakeIo } from '../helpers/fakeIo.js';
import {
  type CodeBlock,
  codeBlocks,
  expectsUsageError,
  type Invocation,
  invocations,
  isShellBlock,
  markdownFiles,
  PLACEHOLDER,
  readDoc,
  shellLines,
} from '../helpers/shellExamples.js';

/**
 * Every warren command line shown to users (the examples of each command's help, and the
 * shell blocks of README.md and docs/) parses: no flag that does not exist, no value a flag
 * refuses, no rule broken. A line marked `# exit 2` shows a usage error on purpose, and must
 * fail to parse. A synopsis (`warren purge [--json] QUEUE`) is no command line: it goes in a
 * ```text block, which is not read.
 */

// The docs' profile examples name `staging`: a config file that has it, as the line before
// each of them (`warren profile add staging …`) would leave; latency's, two nodes.
const configHome = mkdtempSync(join(tmpdir(), 'warren-examples-'));
mkdirSync(join(configHome, 'warren'));
writeFileSync(
  join(configHome, 'warren', 'config.json'),
  JSON.stringify({
    profiles: {
      staging: { url: 'amqps://warren@rabbit-1.staging:5671' },
      'node-a': { url: 'amqp://node-a' },
      'node-b': { url: 'amqp://node-b' },
    },
  }),
);
afterAll(() => rmSync(configHome, { recursive: true, force: true }));

interface Example {
  /** Where it is shown: `docs/commands/tail.md:30`, `warren declare queue --help`. */
  where: string;
  text: string;
  invocation: Invocation;
}

function examplesOf(blocks: CodeBlock[], where: (line: number) => string): Example[] {
  return blocks.filter(isShellBlock).flatMap((block) =>
    shellLines(block).flatMap((line) =>
      invocations(line.text).map((invocation) => ({
        where: where(line.line),
        text: line.text,
        invocation,
      })),
    ),
  );
}

function docExamples(): Example[] {
  return markdownFiles().flatMap((file) =>
    examplesOf(codeBlocks(file, readDoc(file)), (line) => `${file}:${line}`),
  );
}

/** The "Examples:" of every command's help, read as a console block of `$ ` lines. */
function helpExamples(): Example[] {
  const root = walk(buildProgram(fakeIo().io));
  return everyCommand(root).flatMap((node) => {
    const body = node.examples.map((text, i) => ({ line: i + 1, text }));
    const block: CodeBlock = { file: '', line: 0, info: 'console', body };
    return examplesOf([block], (line) => `${node.title} --help, example line ${line}`);
  });
}

async function parse(argv: string[]): Promise<unknown> {
  const fake = fakeIo();
  fake.io.env = { XDG_CONFIG_HOME: configHome, HOME: configHome };
  try {
    await parseArgs(argv, fake.io);
    return undefined;
  } catch (error) {
    return error;
  }
}

const examples = [...helpExamples(), ...docExamples()];
/** An argv as a shell line again, to name a test: `warren publish -k q 'a b'`. */
function shown(argv: string[]): string {
  return ['warren', ...argv.map((word) => (/^[\w@%+=:,./~-]+$/.test(word) ? word : `'${word}'`))].join(' ');
}

const rows = (wanted: boolean) =>
  examples
    .filter(({ invocation }) => expectsUsageError(invocation) === wanted)
    .map((example) => [example.where, shown(example.invocation.argv), example.invocation.argv] as const);

describe('the examples shown to users', () => {
  it('are found: help examples and doc examples of every command', () => {
    const commands = new Set(
      examples.map(({ invocation }) => invocation.argv.find((w) => !w.startsWith('-'))),
    );
    for (const name of ['publish', 'consume', 'tail', 'replay', 'declare', 'delete', 'purge', 'profile']) {
      expect(commands).toContain(name);
    }
    expect(examples.some(({ where }) => where.includes('--help'))).toBe(true);
    expect(examples.some(({ where }) => where.startsWith('README.md:'))).toBe(true);
    expect(rows(true).length).toBeGreaterThan(0);
  });

  it.each(rows(false))('%s parses: %s', async (_where, _text, argv) => {
    const error = await parse([...argv]);
    if (error !== undefined && !(error instanceof UsageError)) throw error;
    expect(error === undefined ? undefined : (error as Error).message).toBeUndefined();
  });

  it.each(rows(true))('%s is refused, as its "# exit 2" says: %s', async (_where, _text, argv) => {
    expect(await parse([...argv])).toBeInstanceOf(UsageError);
  });
});

describe('reading a shell line as the shell would', () => {
  const argvs = (text: string) => invocations(text).map(({ argv }) => argv);

  it.each([
    ['warren publish -k q \'{"id":42}\'  # a comment', [['publish', '-k', 'q', '{"id":42}']]],
    ['seq 3 | warren publish -k "$Q" --input lines', [['publish', '-k', PLACEHOLDER, '--input', 'lines']]],
    ["Q=$(warren declare queue '' --expires 5m)", [['declare', 'queue', '', '--expires', '5m']]],
    ['mkdir -p d && warren completion bash > d/warren 2>&1', [['completion', 'bash']]],
    ['true; warren purge "q-$' + '{N}-$(id -un)" >/dev/null', [['purge', `q-${PLACEHOLDER}-${PLACEHOLDER}`]]],
    ['echo q | xargs -n 1 warren purge', [['purge']]],
    [
      'warren publish -k q a\\ b "c \\"d\\" \\$e" \'f\\g\'',
      [['publish', '-k', 'q', 'a b', 'c "d" $e', 'f\\g']],
    ],
    ['npx warren --version', [['--version']]],
    ["trap 'warren delete --file t.json -q || true' EXIT", [['delete', '--file', 't.json', '-q']]],
    [
      "warren consume q --exec 'warren publish -k seen' &",
      [
        ['consume', 'q', '--exec', 'warren publish -k seen'],
        ['publish', '-k', 'seen'],
      ],
    ],
    [
      'warren tail x --count 1 -- warren publish -e x hi',
      [
        ['tail', 'x', '--count', '1', '--', 'warren', 'publish', '-e', 'x', 'hi'],
        ['publish', '-e', 'x', 'hi'],
      ],
    ],
    ['command -v warren', []],
    ['echo "warren publish"', []],
  ])('%s', (text, expected) => {
    expect(argvs(text)).toEqual(expected);
  });

  it('joins continuation lines, and in a console block reads only the prompted lines', () => {
    const block: CodeBlock = {
      file: 'f.md',
      line: 1,
      info: 'console',
      body: [
        { line: 2, text: '$ warren publish -k q \\' },
        { line: 3, text: '    hello' },
        { line: 4, text: 'published 1, confirmed 1' },
        { line: 5, text: '$ warren purge q   # exit 2' },
      ],
    };
    const lines = shellLines(block);
    expect(lines.map(({ line, text }) => [line, text])).toEqual([
      [2, 'warren publish -k q hello'],
      [5, 'warren purge q   # exit 2'],
    ]);
    expect(invocations(lines[1]?.text ?? '').map(expectsUsageError)).toEqual([true]);
  });
});
