/**
 * The program: warren's global flags, and a commander command for each definition of the
 * registry (src/commands/registry.ts), at every depth. Parsing returns plain data.
 */
import { readFileSync } from 'node:fs';
import { Argument, Command, CommanderError, Option } from 'commander';
import type { CommandDefinition, Flag, FlagSet, ParsedCommand, ParseInput, Rule } from './commands/define.js';
import { negatable, option, repeatable, toggle } from './commands/define.js';
import { COMMANDS } from './commands/registry.js';
import { duration } from './commands/values.js';
import { configPath, type SelectedProfile, selectProfile } from './config.js';
import { DEFAULT_USAGE_HINT, UsageError } from './errors.js';
import type { GlobalOptions } from './globalOptions.js';
import { type Io, processIo } from './ui/io.js';

export type { ParsedCommand } from './commands/define.js';

/** Set by build.mjs; from package.json when the sources run as they are (tests). */
declare const WARREN_VERSION: string | undefined;
const VERSION =
  typeof WARREN_VERSION === 'string'
    ? WARREN_VERSION
    : (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
        .version;

/** The flags every command takes, given before or after the command's name. */
export const GLOBAL_FLAGS = {
  url: repeatable('--url <url>', 'broker URL, repeatable or comma-separated: tried in order'),
  ca: option('--ca <file>', 'PEM file of the CA that signed the broker certificate (amqps)'),
  cert: option('--cert <file>', 'PEM client certificate (amqps)'),
  key: option('--key <file>', 'PEM private key of the client certificate (amqps)'),
  insecure: toggle('--insecure', 'do not verify the broker certificate (warns)'),
  passwordFile: option(
    '--password-file <file>',
    'read the password from FILE (one line) rather than the URL; else WARREN_PASSWORD',
  ),
  quiet: toggle('-q, --quiet', 'no human summary on stderr'),
  verbose: toggle('-v, --verbose', 'connection and protocol detail on stderr, stack traces on errors'),
  color: negatable('--no-color', 'no colour, whatever the terminal'),
  api: option(
    '--api <url>',
    "management API URL (else WARREN_API_URL, the profile's, or http://BROKER-HOST:15672)",
  ),
  waitForBroker: option(
    '--wait-for-broker <duration>',
    'keep trying to connect this long (a broker starting beside a CI job)',
    duration,
  ),
  profile: option('--profile <name>', 'a broker profile from the config file (else WARREN_PROFILE)'),
};

const PROGRAM_EXAMPLES = [
  'warren publish --routing-key orders \'{"id":42}\'',
  'warren consume orders --count 10 | jq .body',
  'warren consume orders --format ndjson > capture.ndjson',
];

function programHelp(io: Io): string {
  return `
Connection: --url, else WARREN_URL, else AMQP_URL, else the profile's, else amqp://guest:guest@localhost:5672/.
Password:   --password-file, else WARREN_PASSWORD, else the profile's passwordFile, else the URL's.
            (A password in --url is visible to every user of the machine in the process list.)
Management API (ls, info, route, export): --api, else WARREN_API_URL, else the profile's api,
            else http://BROKER-HOST:15672 (https for amqps), with the broker's user and password.
Profiles: ${configPath(io.env) ?? '$XDG_CONFIG_HOME/warren/config.json'}
Exit codes: 0 ok, 1 failure, 2 usage, 3 timed out, 4 not delivered, 5 refused by the broker,
            65 bad input data, 69 broker unreachable, 130/143 stopped by SIGINT/SIGTERM.
${examplesText(PROGRAM_EXAMPLES)}`;
}

function examplesText(examples: string[]): string {
  return `\nExamples:\n${examples.map((line) => `  $ ${line}`).join('\n')}`;
}

/** What parsing found out besides the command: where it failed, the global flags it saw. */
interface ParseState {
  parsed: ParsedCommand | undefined;
  /** The words of the command being parsed (`declare queue`), for its help. */
  path: string[];
  /** The words after `--`, when the command takes them. */
  trailing: string[];
  /** commander's report of a usage error, and the command it came from. */
  failure: { text: string; command: Command } | undefined;
  verbose: boolean;
  noColor: boolean;
}

function newState(): ParseState {
  return { parsed: undefined, path: [], trailing: [], failure: undefined, verbose: false, noColor: false };
}

/**
 * The program. Words after the first `--` go to the command that takes them (tail's
 * trigger); for any other command they stay operands, as commander reads them.
 */
class WarrenProgram extends Command {
  constructor(private readonly state: ParseState) {
    super('warren');
  }

  override parseOptions(args: string[]): { operands: string[]; unknown: string[] } {
    const dashes = args.indexOf('--');
    if (dashes === -1) return super.parseOptions(args);
    const { operands, unknown } = super.parseOptions(args.slice(0, dashes));
    const after = args.slice(dashes + 1);
    const named = COMMANDS.find((definition) => definition.name === operands[0]);
    if (named?.trailing) {
      this.state.trailing = after;
      return { operands, unknown };
    }
    return { operands, unknown: [...unknown, '--', ...after] };
  }
}

/** The commander options of a flag: itself, and its `--no-` spelling if it has one. */
function optionsOf(key: string, flag: Flag<unknown>, ruleText: { before: string; after: string }): Option[] {
  // A description that names its rule itself ("with --queue: …") is not told it twice.
  const before = flag.description.startsWith(ruleText.before) ? '' : ruleText.before;
  const option = new Option(flag.flags, `${before}${flag.description}${ruleText.after}`);
  if (option.attributeName() !== key) {
    throw new Error(`flag ${flag.flags} is keyed '${key}', not '${option.attributeName()}'`);
  }
  if (flag.read) option.argParser(flag.read);
  if (flag.choices) option.choices(flag.choices);
  if (flag.defaultValue !== undefined) option.default(flag.defaultValue);
  if (flag.hidden) option.hideHelp();
  if (flag.required) option.makeOptionMandatory();
  if (!flag.negation) return [option];
  return [option, new Option(flag.negation.flags, flag.negation.description)];
}

/** A rule's `with`: a flag (`rpc`), or a flag and the value it must have (`timing=original`). */
function ruleTarget(target: string): { key: string; value: string | undefined } {
  const [key = '', value] = target.split('=');
  return { key, value };
}

/** `--rpc`, `--timing original`, `--exec or --pipe`: how a rule's `with` reads in help and errors. */
function withText(flags: FlagSet, target: string | string[]): string {
  if (Array.isArray(target)) return target.map((one) => withText(flags, one)).join(' or ');
  const { key, value } = ruleTarget(target);
  const spelling = longName(flags, key);
  return value === undefined ? spelling : `${spelling} ${value}`;
}

function longName(flags: FlagSet, key: string): string {
  const flag = flags[key];
  return flag ? (new Option(flag.flags).long ?? key) : key;
}

/** What a flag's help says of the rules about it: "with --rpc: …", "… (not with --exec)". */
function ruleTextOf(flags: FlagSet, rules: Rule<string>[], key: string): { before: string; after: string } {
  let before = '';
  const after: string[] = [];
  for (const rule of rules) {
    if ('only' in rule && rule.only.includes(key)) before = `with ${withText(flags, rule.with)}: `;
    if ('not' in rule && rule.not.includes(key)) after.push(`not with ${withText(flags, rule.with)}`);
  }
  return { before, after: after.length > 0 ? ` (${after.join(', ')})` : '' };
}

/** The rules between a command's flags, in one wording: throws the first broken. */
function checkRules(
  flags: FlagSet,
  rules: Rule<string>[],
  values: Record<string, unknown>,
  given: (key: string) => boolean,
): void {
  const holds = (target: string | string[]): boolean => {
    if (Array.isArray(target)) return target.some(holds);
    const { key, value } = ruleTarget(target);
    return value === undefined ? given(key) : values[key] === value;
  };
  for (const rule of rules) {
    if ('only' in rule) {
      const stray = rule.only.find((key) => given(key));
      if (stray !== undefined && !holds(rule.with)) {
        throw new UsageError(`${longName(flags, stray)} goes with ${withText(flags, rule.with)}`);
      }
    } else if (holds(rule.with)) {
      const stray = rule.not.find((key) => given(key));
      if (stray !== undefined) {
        const because = rule.because ? `: ${rule.because}` : '';
        throw new UsageError(
          `${longName(flags, stray)} does not go with ${withText(flags, rule.with)}${because}`,
        );
      }
    }
  }
}

/** The help of a command: `see 'warren declare queue --help'`. */
function helpHint(path: string[]): string {
  return `see 'warren ${[...path, ''].join(' ')}--help'`;
}

/** A usage error that points at the general help, pointed at the command's own. */
export function withCommandHelp(error: unknown, path: string[]): unknown {
  if (!(error instanceof UsageError) || error.hint !== DEFAULT_USAGE_HINT || path.length === 0) return error;
  return new UsageError(error.message, { cause: error.cause, hint: helpHint(path) });
}

interface Scope {
  io: Io;
  state: ParseState;
  global(command: Command): GlobalOptions;
  format(command: Command, given: unknown): unknown;
}

function addCommand(parent: Command, definition: CommandDefinition, scope: Scope, path: string[]): Command {
  const flags = definition.flags ?? {};
  const rules = (definition.rules ?? []) as Rule<string>[];
  for (const rule of rules) {
    const targets = Array.isArray(rule.with) ? rule.with : [rule.with];
    const keys = [
      ...('only' in rule ? rule.only : rule.not),
      ...targets.map((target) => ruleTarget(target).key),
    ];
    const unknown = keys.find((key) => !(key in flags));
    if (unknown !== undefined)
      throw new Error(`a rule of '${definition.name}' names no flag of it: ${unknown}`);
  }
  const command = parent.command(definition.name).description(definition.description);
  command.configureOutput({
    ...parent.configureOutput(),
    outputError: (text) => {
      scope.state.failure = { text, command };
    },
  });
  if (definition.usage) command.usage(definition.usage);
  for (const arg of Object.values(definition.args ?? {})) {
    const argument = new Argument(arg.name, arg.description);
    if (arg.read) argument.argParser(arg.read);
    if (arg.choices) argument.choices(arg.choices);
    command.addArgument(argument);
  }
  for (const [key, flag] of Object.entries(flags)) {
    for (const option of optionsOf(key, flag, ruleTextOf(flags, rules, key))) command.addOption(option);
  }
  if (definition.examples) command.addHelpText('after', examplesText(definition.examples));
  for (const sub of definition.subcommands ?? []) addCommand(command, sub, scope, [...path, sub.name]);
  const parse = definition.parse;
  if (!parse) return command;
  command.action((..._params: unknown[]) => {
    scope.state.path = path;
    const raw = command.opts();
    const given = (key: string) => command.getOptionValueSource(key) === 'cli';
    checkRules(flags, rules, raw, given);
    const input: ParseInput<Record<string, never>, FlagSet> = {
      args: Object.fromEntries(
        Object.entries(definition.args ?? {}).map(([key, arg], i) => [
          key,
          arg.finish(command.processedArgs[i]),
        ]),
      ),
      flags: Object.fromEntries(Object.entries(flags).map(([key, flag]) => [key, flag.finish(raw[key])])),
      given,
      inherited: command.optsWithGlobals(),
      global: () => scope.global(command),
      format: (value) => scope.format(command, value) as never,
      trailing: definition.trailing ? scope.state.trailing : [],
      io: scope.io,
    };
    scope.state.parsed = parse(input as never);
  });
  return command;
}

/** The program, its commands built from the registry; `state` learns what parsing finds. */
export function buildProgram(io: Io, state: ParseState = newState()): Command {
  const program = new WarrenProgram(state)
    .description('Publish and consume events on RabbitMQ (AMQP 0-9-1).')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .addHelpText('after', programHelp(io))
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text) => {
        state.failure = { text, command: program };
      },
    });
  for (const [key, flag] of Object.entries(GLOBAL_FLAGS)) {
    for (const option of optionsOf(key, flag, { before: '', after: '' })) program.addOption(option);
  }
  program.on('option:verbose', () => {
    state.verbose = true;
  });
  program.on('option:no-color', () => {
    state.noColor = true;
  });

  // The config file is read once, when a command is parsed, and only if it exists.
  let profile: { selected: SelectedProfile | undefined } | undefined;
  const profileOf = (o: Record<string, unknown>): SelectedProfile | undefined => {
    profile ??= { selected: selectProfile(o['profile'] as string | undefined, io.env) };
    return profile.selected;
  };
  const scope: Scope = {
    io,
    state,
    global: (command) => {
      const o = command.optsWithGlobals();
      return {
        urls: o['url'] as string[] | undefined,
        ca: o['ca'] as string | undefined,
        cert: o['cert'] as string | undefined,
        key: o['key'] as string | undefined,
        api: o['api'] as string | undefined,
        passwordFile: o['passwordFile'] as string | undefined,
        insecure: o['insecure'] === true,
        quiet: o['quiet'] === true,
        verbose: o['verbose'] === true,
        color: o['color'] === false ? false : undefined,
        waitForBrokerMs: o['waitForBroker'] as number | undefined,
        profile: profileOf(o),
      };
    },
    format: (command, given) =>
      given ??
      profileOf(command.optsWithGlobals())?.settings.format ??
      (io.stdout.isTTY ? 'pretty' : 'ndjson'),
  };
  for (const definition of COMMANDS) addCommand(program, definition, scope, [definition.name]);
  return program;
}

/**
 * `--key` is the TLS key file everywhere, and the binding key after `declare binding` or
 * `delete binding`: commander lets the program's `--key` win wherever it stands, so there
 * it is renamed before parsing.
 */
function bindingKeyArgs(argv: string[]): string[] {
  const at = argv.findIndex(
    (arg, i) => arg === 'binding' && (argv[i - 1] === 'declare' || argv[i - 1] === 'delete'),
  );
  if (at === -1) return argv;
  const end = argv.indexOf('--', at);
  return argv.map((arg, i) => {
    if (i <= at || (end !== -1 && i > end)) return arg;
    if (arg === '--key') return '--binding-key';
    return arg.startsWith('--key=') ? `--binding-key=${arg.slice(6)}` : arg;
  });
}

/** A command line, parsed; `path` names the command for its help, whether parsing worked or not. */
export interface CommandLine {
  parsed: ParsedCommand | undefined;
  path: string[];
  verbose: boolean;
  noColor: boolean;
}

/** commander's usage error, in warren's words, pointing at the failing command's help. */
function usageErrorOf(error: CommanderError, state: ParseState): UsageError {
  const failing = state.failure?.command;
  const path: string[] = [];
  for (let c = failing; c?.parent; c = c.parent) path.unshift(c.name());
  const hint = helpHint(path);
  const [first = error.message, ...rest] = (state.failure?.text ?? '').trim().split('\n');
  // `warren declare exchnage x`: say what the word after a command with subcommands may be.
  const word = failing?.args[0];
  if (error.code === 'commander.excessArguments' && failing && failing.commands.length > 0 && word) {
    const names = failing.commands.map((c) => c.name());
    return new UsageError(`${path.join(' ')}: '${word}' is not one of ${names.join(', ')}`, {
      cause: error,
      hint,
    });
  }
  const suggestion = rest.join(' ').replace(/^\((.*)\)$/, '$1');
  return new UsageError(first.replace(/^error: /, ''), {
    cause: error,
    hint: suggestion ? `${suggestion.replace(/\?$/, '')}? ${hint}` : hint,
  });
}

/** Parses argv, and says what it saw even when it throws (see `main`). */
export async function parseCommandLine(argv: string[], io: Io, seen: CommandLine): Promise<void> {
  const state = newState();
  const program = buildProgram(io, state);
  try {
    await program.parseAsync(bindingKeyArgs(argv), { from: 'user' });
  } catch (error) {
    // A command's own usage error points at that command's help.
    if (!(error instanceof CommanderError)) throw withCommandHelp(error, state.path);
    if (error.exitCode === 0 || error.code === 'commander.help' || error.code === 'commander.helpDisplayed') {
      if (error.exitCode !== 0) throw new UsageError('', { hint: undefined });
      return;
    }
    throw usageErrorOf(error, state);
  } finally {
    Object.assign(seen, {
      parsed: state.parsed,
      path: state.path,
      verbose: state.verbose,
      noColor: state.noColor,
    });
  }
  if (!state.parsed) {
    program.outputHelp({ error: true });
    throw new UsageError('', { hint: undefined });
  }
}

/**
 * Parses argv into a command and typed options, without running anything. Resolves to
 * undefined when there is nothing to run (help or version was shown).
 */
export async function parseArgs(argv: string[], io: Io = processIo()): Promise<ParsedCommand | undefined> {
  const seen: CommandLine = { parsed: undefined, path: [], verbose: false, noColor: false };
  await parseCommandLine(argv, io, seen);
  return seen.parsed;
}

/** The definition whose runners include `command` (`rpc` is publish's), at any depth. */
export function definitionRunning(
  command: string,
  definitions: CommandDefinition[] = COMMANDS,
): CommandDefinition | undefined {
  for (const definition of definitions) {
    if (definition.runners?.[command]) return definition;
    const sub = definitionRunning(command, definition.subcommands ?? []);
    if (sub) return sub;
  }
  return undefined;
}
