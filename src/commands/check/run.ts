import { exitCodeOf } from '../../check/outcome.js';
import { render } from '../../check/report.js';
import { runChecks } from '../../check/run.js';
import type { CheckFormat, CheckSpec } from '../../check/specs.js';
import { WarrenError } from '../../errors.js';
import { writeAll } from '../../ui/io.js';
import type { CommandContext } from '../context.js';

export interface CheckOptions {
  checks: CheckSpec[];
  /** --file: a checks file, whose checks are the ones run. */
  file: string | undefined;
  /** Unset: pretty on a terminal, json otherwise. */
  format: CheckFormat | undefined;
  /** --watch: run the checks again this often, until Ctrl-C (not with nagios or prometheus). */
  watchMs: number | undefined;
}

/**
 * Runs the checks at once, writes every result in the format asked for, and ends with the
 * worst status's exit code (docs/exit-codes.md; --format nagios: the plugin codes 0 to 3).
 */
export async function check(options: CheckOptions, context: CommandContext): Promise<void> {
  const format = options.format ?? (context.io.stdout.isTTY ? 'pretty' : 'json');
  const specs =
    options.file === undefined
      ? options.checks
      : (await import('../../check/file.js')).readChecksFile(options.file);
  if (options.watchMs !== undefined) {
    // checkOptions refused nagios and prometheus with --watch.
    const { watchChecks } = await import('../../check/watch.js');
    await watchChecks(specs, format === 'pretty' ? 'pretty' : 'json', options.watchMs, context);
    return;
  }
  const results = await runChecks(specs, context);
  await writeAll(context.io.stdout, render(results, format, context.stdoutPaint));
  const code = exitCodeOf(
    results.map((result) => result.status),
    format === 'nagios',
  );
  // The results say it all: the code alone, no error line.
  if (code !== 0) throw new WarrenError('', code);
}
