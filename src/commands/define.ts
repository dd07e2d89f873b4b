/**
 * What a command is, as data: its arguments, its flags (each with the type its value has
 * once parsed), the rules between flags, its examples, and how its values become the typed
 * options of the code that runs it. program.ts turns these into commander commands.
 */
import type { GlobalOptions } from '../globalOptions.js';
import type { Io } from '../ui/io.js';
import type { CommandContext } from './context.js';

/** A flag: commander's spelling, the text of its help, and how its value is read. */
export interface Flag<T> {
  readonly flags: string;
  readonly description: string;
  /** Reads one occurrence (throws InvalidArgumentError); `previous` for repeatable flags. */
  readonly read?: (value: string, previous: unknown) => unknown;
  readonly choices?: readonly string[];
  readonly defaultValue?: unknown;
  readonly hidden?: boolean;
  readonly required?: boolean;
  /** `--durable` beside `--no-durable`: the negated spelling, set to false. */
  readonly negation?: { flags: string; description: string };
  /** commander's value (undefined when not given) as the flag's type. */
  readonly finish: (raw: unknown) => T;
}

export type FlagSet = Record<string, Flag<unknown>>;
export type FlagValues<F extends FlagSet> = { [K in keyof F]: F[K] extends Flag<infer T> ? T : never };

const asIs = <T>(raw: unknown) => raw as T;

/** A flag that takes a value, read by `read` (text as given without one); undefined when absent. */
export function option(flags: string, description: string): Flag<string | undefined>;
export function option<T>(
  flags: string,
  description: string,
  read: (value: string) => T,
): Flag<T | undefined>;
export function option<T>(
  flags: string,
  description: string,
  read?: (value: string) => T,
): Flag<T | undefined> {
  return { flags, description, read: read && ((value) => read(value)), finish: asIs };
}

/** The same flag with a value when it is not given. */
export function withDefault<T>(flag: Flag<T | undefined>, value: NoInfer<T>): Flag<T> {
  return { ...flag, defaultValue: value, finish: asIs };
}

/** A flag whose value is one of `choices`. */
export function choice<C extends string>(
  flags: string,
  description: string,
  choices: readonly C[],
): Flag<C | undefined> {
  return { flags, description, choices, finish: asIs };
}

/** A flag without a value: true when given. */
export function toggle(flags: string, description: string): Flag<boolean> {
  return { flags, description, finish: (raw) => raw === true };
}

/** `--no-x`: true unless given. */
export function negatable(flags: string, description: string): Flag<boolean> {
  return { flags, description, finish: (raw) => raw !== false };
}

/** `--x` and `--no-x` both spelled out: true unless `--no-x` is given. */
export function pair(flags: string, description: string, negation: string, negated: string): Flag<boolean> {
  return {
    flags,
    description,
    negation: { flags: negation, description: negated },
    finish: (raw) => raw !== false,
  };
}

/** A repeatable flag: every value given, in order. */
export function repeatable(flags: string, description: string): Flag<string[]> {
  return {
    flags,
    description,
    read: (value, previous) => [...((previous as string[] | undefined) ?? []), value],
    finish: (raw) => (raw as string[] | undefined) ?? [],
  };
}

/** A positional argument: `<name>` required, `[name]` optional, `[name...]` variadic. */
export interface Arg<T> {
  readonly name: string;
  readonly description: string;
  readonly read?: (value: string) => unknown;
  readonly choices?: readonly string[];
  readonly finish: (raw: unknown) => T;
}
export type ArgSet = Record<string, Arg<unknown>>;
export type ArgValues<A extends ArgSet> = { [K in keyof A]: A[K] extends Arg<infer T> ? T : never };

export function required(name: string, description: string, read?: (value: string) => string): Arg<string> {
  return { name: `<${name}>`, description, read, finish: asIs };
}

export function optional(name: string, description: string): Arg<string | undefined> {
  return { name: `[${name}]`, description, finish: asIs };
}

export function variadic(name: string, description: string): Arg<string[]> {
  return { name: `[${name}...]`, description, finish: (raw) => (raw as string[] | undefined) ?? [] };
}

export function oneOf<C extends string>(name: string, description: string, choices: readonly C[]): Arg<C> {
  return { name: `<${name}>`, description, choices, finish: asIs };
}

/**
 * A rule between flags, checked before the command's own parse and shown in its help:
 * `only` flags go with `with` (a flag, `flag=value`, or any of several flags); `not` flags
 * do not go with it.
 */
export type Rule<K extends string> =
  | { only: K[]; with: K | `${K}=${string}` | K[] }
  | { not: K[]; with: K; because?: string };

/** What a command's parse gets: its values, typed, and what it may need to finish them. */
export interface ParseInput<A extends ArgSet, F extends FlagSet> {
  args: ArgValues<A>;
  flags: FlagValues<F>;
  /** Whether the flag was given on the command line (not a default). */
  given(key: keyof F & string): boolean;
  /** Every flag value of this command and the commands above it, as commander has them. */
  inherited: Record<string, unknown>;
  /** The global options, the profile resolved. */
  global(): GlobalOptions;
  /** --format, else the profile's, else pretty on a terminal and NDJSON in a pipe. */
  format<T>(given: T | undefined): T | 'pretty' | 'ndjson';
  /** The words after `--`, for a command that takes them (`trailing`). */
  trailing: string[];
  io: Io;
}

/** A parsed command line: what runs, with which options. */
export interface ParsedCommand {
  /** The runner's name, one of some definition's `runners`. */
  command: string;
  global: GlobalOptions;
  options: unknown;
}

export type Runner = (options: never, context: CommandContext) => Promise<void>;

export interface CommandDefinition<A extends ArgSet = ArgSet, F extends FlagSet = FlagSet> {
  name: string;
  description: string;
  /** The usage line, where commander's would not say it all. */
  usage?: string;
  args?: A;
  flags?: F;
  rules?: Rule<keyof F & string>[];
  /** Command lines, each shown after `$ `, with a comment if useful. */
  examples?: string[];
  subcommands?: CommandDefinition<ArgSet, FlagSet>[];
  /** Takes the words after `--` (tail's trigger command). */
  trailing?: boolean;
  /** The values, made into what runs; throws UsageError. Absent: the command needs a subcommand. */
  parse?(input: ParseInput<A, F>): ParsedCommand;
  /** The code that runs each `command` this definition's parse returns, loaded when it runs. */
  runners?: Record<string, () => Promise<Runner>>;
  /** The client-provided connection name, where it is not `warren <command>`. */
  connectionNames?: Record<string, string>;
  /** Whether the parsed command reads its input from stdin (no status line while typing). */
  readsStdin?(parsed: ParsedCommand): boolean;
}

/** Keeps a definition's types checked against each other (args and flags seen by parse). */
export function defineCommand<A extends ArgSet, F extends FlagSet>(
  definition: CommandDefinition<A, F>,
): CommandDefinition<ArgSet, FlagSet> {
  return definition as unknown as CommandDefinition<ArgSet, FlagSet>;
}
