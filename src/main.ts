/**
 * warren's entry: parse the command line, run the command, and the one place that turns an
 * error into an exit code and a message (redacted, one line, a hint).
 */
import { noteAlteredArguments } from './argvBytes.js';
import { createContext } from './commandContext.js';
import { ExitCode, WarrenError } from './errors.js';
import {
  buildProgram,
  type CommandLine,
  definitionRunning,
  parseCommandLine,
  withCommandHelp,
} from './program.js';
import { redactArgument } from './redact.js';
import { paintFor } from './ui/colour.js';
import { type Io, processIo } from './ui/io.js';
import { humanLine, humanLines } from './ui/terminalText.js';

/** Runs warren and returns its exit code; every error ends here. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const line: CommandLine = { parsed: undefined, path: [], verbose: false, noColor: false };
  try {
    await parseCommandLine(argv, io, line);
    const { parsed } = line;
    if (!parsed) return ExitCode.ok;
    const definition = definitionRunning(parsed.command);
    const load = definition?.runners?.[parsed.command];
    if (!definition || !load) throw new Error(`no code runs '${parsed.command}'`);
    const context = await createContext(
      parsed,
      {
        connectionName: definition.connectionNames?.[parsed.command] ?? `warren ${parsed.command}`,
        readsStdin: definition.readsStdin?.(parsed) ?? false,
        commandTree: () => buildProgram(io),
      },
      io,
    );
    const runner = await load();
    await runner(parsed.options as never, context);
    return ExitCode.ok;
  } catch (error) {
    const verbose = line.parsed?.global.verbose ?? line.verbose;
    return await reportError(
      withCommandHelp(error, line.path),
      io,
      verbose,
      line.noColor ? false : undefined,
    );
  }
}

async function reportError(
  error: unknown,
  io: Io,
  verbose: boolean,
  colourFlag: false | undefined,
): Promise<number> {
  const colour = await paintFor(io.stderr, io.env, colourFlag);
  if (error instanceof WarrenError) {
    // Signals end quietly; an empty message means the help was already shown.
    if (error.exitCode === ExitCode.sigint || error.exitCode === ExitCode.sigterm || error.message === '') {
      return error.exitCode;
    }
    io.stderr.write(`${colour.red('error:')} ${humanLine(error.message)}\n`);
    if (error.hint) io.stderr.write(`${colour.dim(`  ${humanLine(error.hint)}`)}\n`);
    if (verbose && error.cause instanceof Error && error.cause.stack) {
      io.stderr.write(`${humanLines(error.cause.stack)}\n`);
    }
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`${colour.red('error:')} ${humanLine(message)}\n`);
  if (verbose && error instanceof Error && error.stack) io.stderr.write(`${humanLines(error.stack)}\n`);
  else
    io.stderr.write(colour.dim('  this is a bug in warren; run again with --verbose for the stack trace\n'));
  return ExitCode.failure;
}

/** The entry point of bin/warren.js: the one place that exits. */
export function run(argv: string[]): void {
  // The process list shows the command line to every user of the machine: not a password
  // given in --url (Linux shows the title in place of the arguments). Masked argument by
  // argument, before anything is parsed, so that a password with a space is one word.
  // First: the title overwrites the arguments' bytes in /proc.
  noteAlteredArguments(argv);
  process.title = ['warren', ...argv.map(redactArgument)].join(' ');
  main(argv).then((code) => {
    // Let stdout finish (a pipe may still hold data) before leaving.
    process.stdout.write('', () => process.exit(code));
  });
}
