import type { Browser, Consumption, Session } from '../broker/session.js';
import { refusesStreamOffset, STREAM_OFFSET_HEADER } from '../broker/streamQueue.js';
import type { CommandContext } from '../commands/context.js';
import { consumerCancelled } from './cancelled.js';
import type { ConsumeJob } from './job.js';
import { ConsumeRun, type RunResult, type RunTools } from './run.js';

/** What a reader works with: the connection, the queue it reads, and the run's job and tools. */
export interface Reading {
  session: Session;
  queue: string;
  job: ConsumeJob;
  tools: RunTools;
  context: CommandContext;
}

/** Reads `queue` with a consumer: records are acked once written (or, with --ack-mode none, by the broker). */
export async function stream({ session, queue, job, tools, context }: Reading): Promise<RunResult> {
  let consumption: Consumption | undefined;
  const run = new ConsumeRun(session, job, tools, context, (upToTag) => {
    if (job.ackMode === 'ack') consumption?.ack(upToTag, true);
    else if (job.ackMode === 'reject') consumption?.reject(upToTag, true, false);
  });
  const streamed = job.source.stream;
  try {
    const prefetch = job.count === undefined ? job.prefetch : Math.min(job.prefetch, job.count);
    // A stream stamps x-stream-offset on each message: the first delivery tells a queue
    // that took the offset argument without being one (from it nothing is acked, so it all stays).
    let checked = false;
    consumption = await session.consume(
      queue,
      {
        // RabbitMQ refuses x-stream-offset on other queue types before delivering anything,
        // so a whole window is safe; and a consumer's prefetch cannot be raised later.
        prefetch,
        noAck: job.ackMode === 'none',
        arguments: streamed?.arguments,
      },
      (message) => {
        if (run.stopper.reason) return;
        if (streamed && !checked) {
          if (message.headers?.[STREAM_OFFSET_HEADER] === undefined) {
            run.stopper.stop({ kind: 'failed', error: streamed.notAStream() });
            return;
          }
          checked = true;
        }
        if (job.match && !job.match(message)) {
          // A stream wants its deliveries acked (they are credit, not removal).
          if (job.ackMode === 'ack') run.sink.push('', message.deliveryTag, false);
          return;
        }
        run.take(message);
      },
      () => run.stopper.stop({ kind: 'failed', error: consumerCancelled(queue) }),
    );
    job.source.onReady?.();
    const reason = await run.stopper.stopped;
    if (reason.kind !== 'failed') await consumption.cancel();
    await run.sink.settled();
    return run.result(reason);
  } catch (error) {
    // The consumer could not start (no such queue, …): nothing was taken.
    if (streamed && refusesStreamOffset(error)) return run.failed(streamed.notAStream(error));
    return run.failed(error);
  } finally {
    run.dispose();
  }
}

/**
 * One message at a time with basic.get. Peek (`--ack-mode requeue`) sees each message once
 * and leaves the queue as it was; `--ack-mode none --count N` takes exactly N.
 */
export async function browse({ session, queue, job, tools, context }: Reading): Promise<RunResult> {
  // Nothing to acknowledge: peeked messages go back when the channel closes.
  const run = new ConsumeRun(session, job, tools, context, () => {});
  let browser: Browser | undefined;
  try {
    browser = await session.openBrowser(queue, { noAck: job.ackMode === 'none' });
    while (!run.stopper.reason) {
      // A get answers at once (a message or empty), and with --ack-mode none a message it
      // brings is already gone from the queue: always wait for it and write it.
      const message = await browser.next();
      if (message) run.take(message);
      // Empty: done, unless a --count still waits for more (until --timeout).
      else if (job.count === undefined) run.stopper.stop({ kind: 'drained' });
      else await Promise.race([delay(100), run.stopper.stopped]);
    }
    await run.sink.settled();
    return run.result(run.stopper.reason ?? { kind: 'drained' });
  } catch (error) {
    return run.failed(error);
  } finally {
    run.dispose();
    await browser?.release();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
