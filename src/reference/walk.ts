import type { Argument, Command, Option } from 'commander';

/**
 * One command of the tree as the reference generators see it (completions, man pages, the
 * flag tables of docs/): read from the commander definitions themselves, so none can drift.
 */
export interface CommandNode {
  /** ['declare', 'queue']; [] for warren itself. */
  path: string[];
  /** 'warren declare queue'. */
  title: string;
  description: string;
  /** commander's usage line: '[options] <name>'. */
  usage: string;
  arguments: ArgumentSpec[];
  /** Its own flags, --help included (the root's are the global flags). */
  flags: FlagSpec[];
  subcommands: CommandNode[];
  /** The lines of the "Examples:" section of its help, without their indent. */
  examples: string[];
  /** Any other text its help prints after the flags (the root's connection notes). */
  notes: string;
}

export interface ArgumentSpec {
  name: string;
  description: string;
  required: boolean;
  variadic: boolean;
  choices: readonly string[] | undefined;
}

export interface FlagSpec {
  /** '-e, --exchange <name>' */
  flags: string;
  long: string | undefined;
  short: string | undefined;
  /** ['-e', '--exchange']: the short one first. */
  names: string[];
  /** '<name>'; undefined for a flag that takes no value. */
  argument: string | undefined;
  /** 'name': the argument without its brackets. */
  valueName: string | undefined;
  description: string;
  /** 'raw', '5'. */
  defaultValue: string | undefined;
  choices: readonly string[] | undefined;
  /** Its value is a path: the shells complete file names. */
  file: boolean;
  repeatable: boolean;
}

function flagSpec(option: Option): FlagSpec {
  // A required value is <...> (which may hold brackets: <exchange[:key]>), an optional one [...].
  const argument = /<[^>]*>|\[[^\]]*\]/.exec(option.flags)?.[0];
  const value: unknown = option.defaultValue;
  const defaultValue =
    option.defaultValueDescription ??
    (value === undefined || option.negate
      ? undefined
      : typeof value === 'string'
        ? value
        : JSON.stringify(value));
  return {
    flags: option.flags,
    long: option.long,
    short: option.short,
    names: [option.short, option.long].filter((name): name is string => name !== undefined),
    argument,
    valueName: argument?.slice(1, -1),
    description: option.description,
    defaultValue,
    choices: option.argChoices,
    file: /^[<[](file|path)[>\]]$/.test(argument ?? ''),
    repeatable: option.variadic || /\brepeatable\b/.test(option.description),
  };
}

function argumentSpec(argument: Argument): ArgumentSpec {
  return {
    name: argument.name(),
    description: argument.description,
    required: argument.required,
    variadic: argument.variadic,
    choices: argument.argChoices,
  };
}

/** The whole help text of a command, as `--help` prints it, at a fixed width and without colour. */
function helpParts(command: Command): { after: string } {
  const saved = command.configureOutput();
  let text = '';
  command.configureOutput({
    writeOut: (chunk) => {
      text += chunk;
    },
    getOutHelpWidth: () => 100,
    getOutHasColors: () => false,
  });
  try {
    command.outputHelp();
    const base = command.helpInformation();
    const at = text.indexOf(base);
    return { after: at === -1 ? '' : text.slice(at + base.length) };
  } finally {
    command.configureOutput(saved);
  }
}

/** Splits what a command's help prints after its flags into its examples and the rest. */
export function examplesAndNotes(after: string): { examples: string[]; notes: string } {
  const lines = after.split('\n');
  const start = lines.indexOf('Examples:');
  if (start === -1) return { examples: [], notes: after.trim() };
  let end = start + 1;
  while (end < lines.length && (lines[end] === '' || lines[end]?.startsWith(' '))) end++;
  const examples = lines
    .slice(start + 1, end)
    .filter((line) => line.trim() !== '')
    .map((line) => line.replace(/^ {2}/, ''));
  const notes = [...lines.slice(0, start), ...lines.slice(end)].join('\n').trim();
  return { examples, notes };
}

/** The command tree, walked to every depth: `warren`, `warren declare`, `warren declare queue`… */
export function walk(command: Command, path: string[] = []): CommandNode {
  const help = command.createHelp();
  const { examples, notes } = examplesAndNotes(helpParts(command).after);
  return {
    path,
    title: ['warren', ...path].join(' '),
    description: command.description(),
    usage: command.usage(),
    arguments: help.visibleArguments(command).map(argumentSpec),
    flags: help.visibleOptions(command).map(flagSpec),
    // Commander's implicit `help` command is left out: it is not one of warren's.
    subcommands: help
      .visibleCommands(command)
      .filter((sub) => command.commands.includes(sub))
      .map((sub) => walk(sub, [...path, sub.name()])),
    examples,
    notes,
  };
}

/** The root and every command below it, parents before their children. */
export function everyCommand(root: CommandNode): CommandNode[] {
  return [root, ...root.subcommands.flatMap(everyCommand)];
}
