import { ExitCode } from '../errors.js';
import { globalFlags } from './completion.js';
import { type CommandNode, everyCommand, type FlagSpec } from './walk.js';

/** What each exit code means (SPEC "Exit codes"); typed so that a new code cannot go unsaid. */
const EXIT_STATUS: Record<keyof typeof ExitCode, string> = {
  ok: 'done as asked',
  failure: 'unexpected failure (a bug, or an error no other code covers)',
  usage: 'usage error: unknown flag, bad value',
  timeout: 'timed out: fewer messages than --count, or no --match, before --timeout',
  notDelivered: 'not delivered: a published message was returned unroutable or nacked',
  refused: 'refused by the broker: not found (404), access refused (403), inequivalent arguments (406)',
  badData: 'bad input data: malformed NDJSON line, bad base64, bad header value (the line number is named)',
  unreachable: 'broker unreachable, or login refused',
  sigint: 'stopped by SIGINT (Ctrl-C) after a clean shutdown',
  sigterm: 'stopped by SIGTERM after a clean shutdown',
};

/** Text as roff prints it: backslashes and hyphens literal, no line read as a request. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n');
}

function bold(text: string): string {
  return `\\fB${roff(text)}\\fR`;
}

function italic(text: string): string {
  return `\\fI${roff(text)}\\fR`;
}

/** 'warren-declare-queue': the page's name, and its file's without '.1'. */
export function manPageName(node: CommandNode): string {
  return ['warren', ...node.path].join('-');
}

function preformatted(lines: string[]): string[] {
  return ['.RS 4', '.nf', ...lines.map(roff), '.fi', '.RE'];
}

function flagEntry(flag: FlagSpec): string[] {
  const names = flag.names.map(bold);
  const value = flag.valueName === undefined ? '' : ` ${italic(flag.valueName)}`;
  const details = [
    flag.choices ? `Choices: ${flag.choices.join(', ')}.` : undefined,
    flag.defaultValue === undefined ? undefined : `Default: ${flag.defaultValue}.`,
  ].filter((d): d is string => d !== undefined);
  return [
    '.TP',
    `${names.join(', ')}${value}`,
    roff(flag.description),
    ...details.flatMap((d) => ['.br', roff(d)]),
  ];
}

function reference(node: CommandNode): string {
  return `.BR ${manPageName(node).replace(/-/g, '\\-')} (1)`;
}

function seeAlso(node: CommandNode, root: CommandNode): string[] {
  const ancestors = everyCommand(root).filter(
    (n) => n.path.length < node.path.length && n.path.every((word, i) => node.path[i] === word),
  );
  const related = [...ancestors, ...node.subcommands];
  return related.map((n, i) => `${reference(n)}${i < related.length - 1 ? ',' : ''}`);
}

function section(title: string, body: string[]): string[] {
  return body.length === 0 ? [] : [`.SH ${title}`, ...body];
}

/** The man page of one command: warren.1 for the root, with the global flags and the exit codes. */
export function manPage(node: CommandNode, root: CommandNode): string {
  const isRoot = node === root;
  const name = manPageName(node);
  const description = node.description.replace(/\.$/, '');
  const lines = [
    `.TH ${name.toUpperCase()} 1 "" "warren" "warren manual"`,
    // Left-aligned and unhyphenated: justified text spreads a short description over the
    // whole line, and a flag broken at a hyphen cannot be copied.
    '.ad l',
    '.nh',
    '.SH NAME',
    `${roff(name)} \\- ${roff(description)}`,
    '.SH SYNOPSIS',
    `${bold(node.title)} ${roff(node.usage)}`,
    '.SH DESCRIPTION',
    `${roff(description.charAt(0).toUpperCase() + description.slice(1))}.`,
    ...(node.notes === '' ? [] : ['.PP', ...preformatted(node.notes.split('\n'))]),
    ...section(
      'ARGUMENTS',
      node.arguments.flatMap((a) => [
        '.TP',
        italic(a.name),
        roff(a.description),
        ...(a.choices ? ['.br', roff(`Choices: ${a.choices.join(', ')}.`)] : []),
      ]),
    ),
    ...section(
      'COMMANDS',
      node.subcommands.flatMap((s) => ['.TP', reference(s), roff(s.description)]),
    ),
    ...section('OPTIONS', [
      ...(isRoot ? ['These options apply to every command.'] : []),
      ...node.flags.flatMap(flagEntry),
    ]),
    ...(isRoot
      ? []
      : [
          '.PP',
          `The global options (${globalFlags(root)
            .map((f) => bold(f.long ?? ''))
            .join(', ')}) apply too: see`,
          '.BR warren (1).',
        ]),
    ...section('EXAMPLES', node.examples.length === 0 ? [] : preformatted(node.examples)),
    ...section(
      'EXIT STATUS',
      isRoot
        ? Object.entries(EXIT_STATUS).flatMap(([key, meaning]) => [
            '.TP',
            `.B ${ExitCode[key as keyof typeof ExitCode]}`,
            roff(meaning),
          ])
        : [],
    ),
    ...section('SEE ALSO', seeAlso(node, root)),
  ];
  return `${lines.join('\n')}\n`;
}

/** Every man page, by file name under man/. */
export function manPages(root: CommandNode): Map<string, string> {
  return new Map(everyCommand(root).map((node) => [`${manPageName(node)}.1`, manPage(node, root)]));
}
