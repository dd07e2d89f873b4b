import { exitCodeOf } from '../../check/outcome.js';
import { render } from '../../check/report.js';
import { runChecks } from '../../check/run.js';
import type { CheckFormat, CheckSpec } from '../../check/specs.js';
import { WarrenError } from '../../errors.js';
import type { CommandContext } from '../context.js';

export interface CheckOptions {
  checks: CheckSpec[];
  /** Unset: pretty on a terminal, json otherwise. */
  format: CheckFormat | undefined;
  /** --watch: run the checks again this often, until Ctrl-C. */
  watchMs: number | undefined;
}

/**
 * Runs the checks at once, writes every result in the format asked for, and ends with the
 * worst status's exit code (docs/exit-codes.md; --format nagios: the plugin codes 0 to 3).
 */
export async function check(options: CheckOptions, context: CommandContext): Promise<void> {
  const format = options.format ?? (context.io.stdout.isTTY ? 'pretty' : 'json');
  const results = await runChecks(options.checks, context);
  context.io.stdout.write(render(results, format, context.stdoutPaint));
  const code = exitCodeOf(
    results.map((result) => result.status),
    format === 'nagios',
  );
  // The results say it all: the code alone, no error line.
  if (code !== 0) throw new WarrenError('', code);
}
