/**
 * `warren check --watch INTERVAL`: the checks again and again, a round every INTERVAL (from
 * the start of one round to the start of the next), until Ctrl-C. On a terminal the table is
 * redrawn in place; otherwise each round's results are written as they come (a JSON line per
 * check, with its round). A broker out of reach does not end the watch: the round says so.
 * Ends with InterruptedError at Ctrl-C, or quietly when the reader of stdout leaves.
 */
import type { CommandContext } from '../commands/context.js';
import { formatDuration } from '../duration.js';
import { InterruptedError } from '../errors.js';
import { writeAll } from '../ui/io.js';
import { eraseRowsAbove } from '../ui/redraw.js';
import { watchStopSignals } from '../ui/signals.js';
import { oneRow } from '../ui/spinner.js';
import { jsonLines, prettyLines } from './report.js';
import { runChecks } from './run.js';
import type { CheckSpec } from './specs.js';

export async function watchChecks(
  specs: CheckSpec[],
  format: 'pretty' | 'json',
  intervalMs: number,
  context: CommandContext,
): Promise<void> {
  const stdout = context.io.stdout;
  const redraw = format === 'pretty' && stdout.isTTY === true;
  let stoppedBy: 'SIGINT' | 'SIGTERM' | undefined;
  let wake: (() => void) | undefined;
  // The round under way finishes and is shown (its connections closed cleanly); the wait
  // after it ends at once. A second Ctrl-C ends warren without waiting.
  const dispose = watchStopSignals((signal) => {
    stoppedBy = signal;
    wake?.();
  });
  let drawn = 0;
  try {
    for (let round = 1; stoppedBy === undefined; round++) {
      const started = performance.now();
      const results = await runChecks(specs, context, { unreachableIsUnknown: true });
      let text: string;
      if (format === 'json') text = jsonLines(results, round);
      else {
        const time = new Date().toTimeString().slice(0, 8);
        const header = `round ${round} at ${time}, every ${formatDuration(intervalMs)} (Ctrl-C to stop)`;
        const lines = [header, ...prettyLines(results, context.stdoutPaint).slice(0, -1).split('\n')];
        if (redraw) {
          // Each line cut to the terminal's width, so that the lines drawn are the rows to erase.
          const columns = stdout.columns ?? 80;
          const rows = fitted(lines, stdout.rows ?? 24).map((line) => oneRow(line, columns));
          text = `${eraseRowsAbove(drawn)}${rows.join('\n')}\n`;
          drawn = rows.length;
        } else text = `${lines.join('\n')}\n`;
      }
      // The reader left (`| head`): the watch is over, and that is no failure.
      if (!(await writeAll(stdout, text))) return;
      const wait = intervalMs - (performance.now() - started);
      if (stoppedBy === undefined && wait > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    }
  } finally {
    dispose();
  }
  throw new InterruptedError(stoppedBy);
}

/**
 * The table within the terminal's height: rows scrolled off the top could not be erased,
 * and each round would leave a copy above the next. What does not fit is counted instead.
 */
export function fitted(lines: string[], height: number): string[] {
  // One row kept free for the cursor after the table (and the ^C the terminal echoes).
  const room = Math.max(2, height - 1);
  if (lines.length <= room) return lines;
  const kept = lines.slice(0, room - 1);
  return [...kept, `… and ${lines.length - kept.length} more checks (a taller terminal shows them)`];
}
