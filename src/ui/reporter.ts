import { redact } from '../redact.js';
import type { Paint } from './colour.js';

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
  const write = (line: string) => options.stderr.write(`${redact(line)}\n`);
  return {
    info: (line) => {
      if (!options.quiet) write(line);
    },
    warn: (line) => write(`${options.paint.yellow('warning:')} ${line}`),
    detail: (line) => {
      if (options.verbose) write(options.paint.dim(`· ${line}`));
    },
    verbose: options.verbose,
  };
}
