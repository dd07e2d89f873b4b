/** `warren bench`: the run, a line per second on stderr, the summary, --json, --csv, --assert. */
import { writeFileSync } from 'node:fs';
import { type Assertion, assertionFailure, formatMicroseconds } from '../../bench/assertions.js';
import { type BenchOptions, BenchRun, type BenchSecond } from '../../bench/engine.js';
import { type LatencySummary, SHOWN_FIGURES } from '../../bench/histogram.js';
import type { BenchSummary } from '../../bench/summary.js';
import { ExitCode, InterruptedError, WarrenError } from '../../errors.js';
import { readBodyFile } from '../../input/inputFile.js';
import { type StopSignal, watchStopSignals } from '../../ui/signals.js';
import type { CommandContext } from '../context.js';

export interface BenchCommandOptions {
  /** The engine's options but its payload, which is read from `bodyFile`. */
  engine: Omit<BenchOptions, 'payload'>;
  bodyFile: string | undefined;
  json: boolean;
  csv: string | undefined;
  assertions: Assertion[];
}

export const CSV_HEADER = 'second,published,confirmed,consumed,p50_us,p99_us,unconfirmed,depth';

export async function bench(options: BenchCommandOptions, context: CommandContext): Promise<void> {
  const payload = options.bodyFile === undefined ? undefined : readBodyFile('--body-file', options.bodyFile);
  // The file is made before the run, so that a path it cannot write is said at once.
  if (options.csv !== undefined) writeCsv(options.csv, []);
  const spinner = await context.spinner('bench: connecting');
  const rows: BenchSecond[] = [];
  const run = new BenchRun(
    { ...options.engine, payload },
    {
      connect: (role) => context.connect(undefined, role),
      detail: (line) => context.reporter.detail(line),
      onSecond: (row) => {
        rows.push(row);
        if (spinner.active) spinner.update(`bench: ${secondLine(row)}`);
        else context.reporter.info(secondLine(row));
      },
    },
  );
  let stoppedBy: StopSignal | undefined;
  const unwatch = watchStopSignals((signal) => {
    stoppedBy = signal;
    run.stop();
  });
  let summary: BenchSummary;
  try {
    summary = await run.run();
  } finally {
    unwatch();
    spinner.stop();
  }
  if (options.csv !== undefined) writeCsv(options.csv, rows);
  for (const line of summaryLines(summary)) context.reporter.info(line);
  if (options.json) {
    context.io.stdout.write(`${JSON.stringify({ ...summary, queues: run.queues, seconds: rows.length })}\n`);
  }
  if (run.failure) throw run.failure;
  if (stoppedBy) throw new InterruptedError(stoppedBy);
  if (summary.failed > 0) {
    context.reporter.warn(
      `${summary.failed} message${summary.failed === 1 ? ' was' : 's were'} returned or nacked by the broker`,
    );
  }
  const failure = assertionFailure(options.assertions, summary, (line) => context.reporter.warn(line));
  if (failure) throw failure;
}

function secondLine(row: BenchSecond): string {
  return (
    `${row.second}s: published ${row.published}/s, confirmed ${row.confirmed}/s, consumed ${row.consumed}/s, ` +
    `p50 ${formatMicroseconds(row.p50)}, p99 ${formatMicroseconds(row.p99)}, ` +
    `unconfirmed ${row.unconfirmed}, depth ${row.depth}`
  );
}

function latencyLine(name: string, latency: LatencySummary): string {
  if (latency.count === 0) return `${name}: none measured`;
  const parts = SHOWN_FIGURES.map(([shown, key]) => `${shown} ${formatMicroseconds(latency[key])}`);
  return `${name}: ${parts.join(', ')}`;
}

/** The summary for people, on stderr. */
export function summaryLines(summary: BenchSummary): string[] {
  const rate = (n: number) => Math.round(n).toLocaleString('en-US');
  return [
    `${summary.durationS.toFixed(2)}s: published ${summary.published}, confirmed ${summary.confirmed}, failed ${summary.failed}, consumed ${summary.consumed}`,
    `rates: publish ${rate(summary.rates.publish)}/s, confirm ${rate(summary.rates.confirm)}/s (over ${summary.publishS.toFixed(2)}s), ` +
      `consume ${rate(summary.rates.consume)}/s, ${rate(summary.rates.bytes)} bytes/s (over ${summary.consumeS.toFixed(2)}s)`,
    latencyLine('latency (end to end)', summary.latency),
    latencyLine('confirm latency', summary.confirmLatency),
  ];
}

function writeCsv(path: string, rows: BenchSecond[]): void {
  const lines = rows.map((r) =>
    [r.second, r.published, r.confirmed, r.consumed, r.p50, r.p99, r.unconfirmed, r.depth].join(','),
  );
  try {
    writeFileSync(path, `${[CSV_HEADER, ...lines].join('\n')}\n`);
  } catch (error) {
    throw new WarrenError(`--csv: cannot write '${path}': ${(error as Error).message}`, ExitCode.failure);
  }
}
