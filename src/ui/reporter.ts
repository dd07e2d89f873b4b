import type { ChalkInstance } from 'chalk';
import { redact } from '../redact.js';

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
  chalk: ChalkInstance;
  quiet: boolean;
  verbose: boolean;
}): Reporter {
  const write = (line: string) => options.stderr.write(`${redact(line)}\n`);
  return {
    info: (line) => {
      if (!options.quiet) write(line);
    },
    warn: (line) => write(`${options.chalk.yellow('warning:')} ${line}`),
    detail: (line) => {
      if (options.verbose) write(options.chalk.dim(`· ${line}`));
    },
    verbose: options.verbose,
  };
}
