import type { Paint } from './colour.js';
import { humanLine } from './terminalText.js';

/** Everything for a person goes through here, to stderr: never to stdout. */
export interface Reporter {
  /** The human summary; silenced by --quiet. */
  info(line: string): void;
  /** Warnings always show. */
  warn(line: string): void;
  /** Connection and protocol detail, with --verbose. */
  detail(line: string): void;
  readonly verbose: boolean;
}

export function createReporter(options: {
  stderr: NodeJS.WritableStream;
  paint: Paint;
  quiet: boolean;
  verbose: boolean;
}): Reporter {
  // The one place a person's line is made safe: painted after, so the colours survive.
  const write = (line: string) => options.stderr.write(`${line}\n`);
  return {
    info: (line) => {
      if (!options.quiet) write(humanLine(line));
    },
    warn: (line) => write(`${options.paint.yellow('warning:')} ${humanLine(line)}`),
    detail: (line) => {
      if (options.verbose) write(options.paint.dim(`· ${humanLine(line)}`));
    },
    verbose: options.verbose,
  };
}
