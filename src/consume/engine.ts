import { reconnecting } from '../broker/reconnect.js';
import type { CommandContext } from '../commands/context.js';
import { ExitCode, UnreachableError, WarrenError } from '../errors.js';
import { createFormatter, type Formatter } from '../format/index.js';
import type { ConsumeJob } from './job.js';
import { type EarlyEnd, earlyEndNote, outcome, plural } from './outcome.js';
import { type ConsumeProgress, consumeProgress } from './progress.js';
import { browse, stream } from './readers.js';
import type { RunResult } from './run.js';

/**
 * The consume engine of `consume` and `tail`: takes messages from a queue and writes one
 * record per message. A message is acked only after its record was written; whatever is not
 * written when consuming stops goes back to the queue when the channel closes. A lost
 * connection is taken up again as the reconnect policy allows (job.retries).
 */
export async function runConsume(job: ConsumeJob, context: CommandContext): Promise<void> {
  const format =
    job.formatter ??
    createFormatter({ ...job.output, paint: context.stdoutPaint, screen: context.io.stdout });
  // Records written nowhere would still be acked: refuse before taking anything.
  if (context.io.stdoutClosed?.()) {
    throw new WarrenError(
      'stdout is closed: the messages would be taken and written nowhere',
      ExitCode.failure,
      {
        hint: 'give it somewhere to write: a file (> out.ndjson), a pipe, or > /dev/null to discard on purpose',
      },
    );
  }
  let taken = 0;
  let early: EarlyEnd | undefined;
  const noun = (count: number) => plural(job.noun ?? 'message', count);
  const summary = (count: number) => `${job.verb} ${count} ${noun(count)} from ${job.source.label}`;
  // A second Ctrl-C quits at once: still say how far the run got, and what becomes of the rest.
  const onQuit = (written: number) =>
    context.reporter.info(
      `${summary(taken + written)} (quit at a second Ctrl-C: what the broker has no ack for goes back to the queue, redelivered)`,
    );
  const { stop } = await reconnecting(
    job.retries,
    async (reconnects) => {
      const left = job.count === undefined ? undefined : job.count - taken;
      let result: RunResult;
      try {
        result = await consumeOnce({ ...job, count: left }, { format, onQuit }, context, reconnects);
      } catch (error) {
        // Not connected again (a first connection that fails is --wait-for-broker's matter).
        if (reconnects === 0 || !(error instanceof WarrenError)) throw error;
        result = { taken: 0, stop: { kind: 'failed', error } };
      }
      taken += result.taken;
      const { stop } = result;
      early = result.early;
      const lost = stop.kind === 'failed' && stop.error instanceof UnreachableError ? stop.error : undefined;
      return { stop, progressed: result.taken > 0, lost };
    },
    { warn: (warning) => context.reporter.warn(job.lostNote ? `${warning}: ${job.lostNote}` : warning) },
  );
  // A run that failed before taking anything has nothing to summarise: the error says it all.
  if (taken > 0 || stop.kind !== 'failed') context.reporter.info(summary(taken));
  if (early && job.warnEarlyEnd) context.reporter.warn(earlyEndNote(early, taken));
  const failure = outcome(stop, taken, {
    count: job.count,
    timeoutMs: job.timeoutMs,
    label: job.source.label,
    noun: job.noun ?? 'message',
  });
  if (failure) throw failure;
}

/** One connection's worth of consuming: until something stops it, the connection included. */
async function consumeOnce(
  job: ConsumeJob,
  tools: { format: Formatter; onQuit(written: number): void },
  context: CommandContext,
  reconnects: number,
): Promise<RunResult> {
  const session = await context.connect();
  let progress: ConsumeProgress | undefined;
  try {
    let queue: string;
    try {
      queue = await job.source.open(session);
    } catch (error) {
      // Lost again while setting up: another attempt, if any are left.
      if (reconnects > 0 && session.lost instanceof UnreachableError)
        return { taken: 0, stop: { kind: 'failed', error: session.lost } };
      throw error;
    }
    progress = await consumeProgress(job.source.label, context, job.noun);
    const read = job.source.oneAtATime ? browse : stream;
    return await read({ session, queue, job, tools: { ...tools, progress }, context });
  } finally {
    progress?.stop();
    await session.close();
  }
}
