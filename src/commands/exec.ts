import { ConfirmTracker, type SettleStatus } from '../broker/confirmTracker.js';
import type { OutgoingMessage } from '../broker/envelope.js';
import { encodableHeaders } from '../broker/fieldTable.js';
import { PublishFlow } from '../broker/publishFlow.js';
import { type Consumption, type DeliveredMessage, DIRECT_REPLY_TO } from '../broker/session.js';
import { formatDuration } from '../duration.js';
import { BrokerRefusedError, InterruptedError, TimeoutError, type WarrenError } from '../errors.js';
import { handlerEnv } from '../exec/handlerEnv.js';
import { type HandlerRun, runHandler } from '../exec/handlerProcess.js';
import { type Decision, decide, type FailurePolicy, RETRY_HEADER, retriesOf } from '../exec/outcome.js';
import { type StopSignal, watchStopSignals } from '../ui/signals.js';
import type { CommandContext } from './context.js';
import { idleTimer, Stopper } from './runControl.js';

export interface ExecOptions {
  queue: string;
  /** The handler: a shell command run once per message, body on stdin. */
  command: string;
  onFailure: FailurePolicy;
  /** Handlers running at once; the prefetch follows. */
  concurrency: number;
  /** --exec-timeout: a handler running longer is killed and its message failed. */
  execTimeoutMs: number | undefined;
  maxRetries: number | undefined;
  /** Publish the handler's stdout to the message's replyTo, with its correlationId. */
  reply: boolean;
  /** On SIGINT/SIGTERM, how long running handlers may take to finish. */
  graceMs: number;
  count: number | undefined;
  /** Idle timeout: stop when nothing arrives (and nothing runs) for this long. */
  timeoutMs: number | undefined;
}

type StopReason =
  | { kind: 'count' }
  | { kind: 'timeout' }
  | { kind: 'signal'; signal: StopSignal }
  | { kind: 'failed'; error: WarrenError };

interface Tally {
  handled: number;
  acked: number;
  requeued: number;
  retried: number;
  rejected: number;
  failed: number;
  replies: number;
}

/** What is published for a message before it is acked: a counted retry, or a reply. */
type FollowUp = 'retry' | 'reply';

/**
 * `consume QUEUE --exec CMD`: runs a handler per message and settles the message by how
 * the handler ended. A message is acked only once its handler succeeded (and its reply or
 * counted retry was confirmed); one whose handler did not finish goes back to the queue.
 */
export async function exec(options: ExecOptions, context: CommandContext): Promise<void> {
  const session = await context.connect();
  const stopper = new Stopper<StopReason>();
  const tally: Tally = { handled: 0, acked: 0, requeued: 0, retried: 0, rejected: 0, failed: 0, replies: 0 };
  const running = new Map<number, HandlerRun>();
  let idleWaiters: (() => void)[] = [];
  const started = performance.now();
  try {
    const tracker = new ConfirmTracker();
    const publishes = options.reply || options.maxRetries !== undefined;
    const flow = publishes
      ? new PublishFlow(session, await session.openPublisher({ mandatory: true, tracker }))
      : undefined;
    const followUps = new Map<number, FollowUp>();
    let consumption: Consumption | undefined;
    let consumed = () => {};
    const consuming = new Promise<void>((resolve) => {
      consumed = resolve;
    });
    let taken = 0;

    const idle = idleTimer(options.timeoutMs, () => {
      // Not idle while handlers run: a slow handler is not a quiet queue.
      if (running.size > 0) idle.touch();
      else stopper.stop({ kind: 'timeout' });
    });
    const settled = () => {
      tally.handled += 1;
      idle.touch();
      if (running.size === 0) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const wake of waiters) wake();
      }
      if (options.count !== undefined && tally.handled >= options.count) stopper.stop({ kind: 'count' });
    };

    tracker.onSettled = (entry, _seq, status: SettleStatus) => {
      const tag = entry.ref;
      if (tag === undefined) return;
      const kind = followUps.get(tag);
      followUps.delete(tag);
      if (status === 'unconfirmed') {
        // The connection is gone: so is the delivery, which the broker gives back.
        tally.requeued += 1;
      } else if (kind === 'reply') {
        if (status !== 'confirmed') {
          context.reporter.warn(
            `the reply to '${entry.message.routingKey}' was ${status} (the requester is gone?)`,
          );
        } else tally.replies += 1;
        consumption?.ack(tag, false);
        tally.acked += 1;
      } else if (status === 'confirmed') {
        consumption?.ack(tag, false);
        tally.retried += 1;
      } else {
        // The counted copy did not make it: the original goes back instead, uncounted.
        consumption?.reject(tag, false, true);
        tally.requeued += 1;
      }
      settled();
    };

    /**
     * Publishes a reply or a counted retry for a delivery, which is settled once the broker
     * confirms it (tracker.onSettled). One that cannot be sent at all settles the delivery at
     * once: a reply is dropped and the request acked, as when a reply comes back unroutable;
     * a retry whose count cannot be added (headers near 64 KiB) is rejected, as after the
     * last retry, so that it cannot fail for ever uncounted.
     */
    const followUp = (kind: FollowUp, message: DeliveredMessage, build: () => OutgoingMessage) => {
      const tag = message.deliveryTag;
      if (!flow) throw new Error('a reply or a counted retry needs a publisher');
      let sending: Promise<void> | undefined;
      try {
        sending = flow.send(build(), tag, tag);
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        if (kind === 'reply') {
          context.reporter.warn(
            `${label(message)}: the reply cannot be sent (${why}): dropped, request acked`,
          );
          consumption?.ack(tag, false);
          tally.acked += 1;
        } else {
          context.reporter.warn(
            `${label(message)}: the retry count cannot be added (${why}): rejected instead`,
          );
          consumption?.reject(tag, false, false);
          tally.rejected += 1;
        }
        settled();
        return;
      }
      followUps.set(tag, kind);
      // A lost connection ends the run through session.lost, and the tracker settles what it
      // held as unconfirmed (the deliveries go back to the queue): nothing to do here.
      sending?.catch(() => {});
    };

    const finish = (message: DeliveredMessage, decision: Decision, stdout: Buffer | undefined) => {
      const tag = message.deliveryTag;
      if (decision.failed) {
        tally.failed += 1;
        const outcome = { ack: 'acked', requeue: 'requeued', retry: 'retried', reject: 'rejected' }[
          decision.action
        ];
        context.reporter.warn(`${label(message)}: handler ${decision.reason}: ${outcome}`);
      }
      if (session.lost) return settled();
      switch (decision.action) {
        case 'ack': {
          const replyTo = message.properties.replyTo;
          if (options.reply && replyTo) {
            followUp('reply', message, () => ({
              exchange: '',
              routingKey: replyTo,
              body: stdout ?? Buffer.alloc(0),
              properties:
                message.properties.correlationId === undefined
                  ? {}
                  : { correlationId: message.properties.correlationId },
              headers: undefined,
              // RabbitMQ returns a mandatory reply to direct reply-to as unroutable even
              // as it delivers it (3.10): a reply there goes without the flag.
              mandatory: !replyTo.startsWith(`${DIRECT_REPLY_TO}.`),
            }));
            return;
          }
          if (options.reply && !replyTo) {
            context.reporter.warn(`${label(message)} has no reply-to: the handler's output was dropped`);
          }
          consumption?.ack(tag, false);
          tally.acked += 1;
          break;
        }
        case 'requeue':
          consumption?.reject(tag, false, true);
          tally.requeued += 1;
          break;
        case 'reject':
          consumption?.reject(tag, false, false);
          tally.rejected += 1;
          break;
        case 'retry': {
          const headers = { ...(message.headers ?? {}), [RETRY_HEADER]: retriesOf(message.headers) + 1 };
          followUp('retry', message, () => ({
            exchange: '',
            routingKey: options.queue,
            body: message.body,
            properties: { ...message.properties },
            headers: encodableHeaders(headers),
          }));
          return;
        }
      }
      settled();
    };

    const start = (message: DeliveredMessage) => {
      const retries = retriesOf(message.headers);
      const run = runHandler({
        command: options.command,
        body: message.body,
        env: handlerEnv(message, options.queue, retries, context.io.env),
        timeoutMs: options.execTimeoutMs,
        captureStdout: options.reply,
        log: context.io.stderr,
        prefix: options.concurrency > 1 ? `[${idOf(message)}] ` : '',
      });
      running.set(message.deliveryTag, run);
      // A handler that could not start is done at once, maybe before the consumer is in
      // place to settle its message: wait for it.
      void Promise.all([run.done, consuming]).then(([{ exit, stdout }]) => {
        running.delete(message.deliveryTag);
        const decision = decide(exit, {
          onFailure: options.onFailure,
          maxRetries: options.maxRetries,
          retries,
        });
        finish(message, decision, stdout);
      });
    };

    const disposeSignals = watchStopSignals(
      (signal) => stopper.stop({ kind: 'signal', signal }),
      // Quitting now: a handler left running would work on a message the broker gives
      // to someone else.
      () => {
        for (const run of running.values()) run.kill();
      },
    );
    session.onLost((error) => stopper.stop({ kind: 'failed', error }));
    try {
      consumption = await session.consume(
        options.queue,
        { prefetch: options.concurrency, noAck: false },
        (message) => {
          // Taken after the end (or beyond --count): not acked, so back to the queue at close.
          if (stopper.reason || (options.count !== undefined && taken >= options.count)) return;
          taken += 1;
          idle.touch();
          start(message);
        },
        () =>
          stopper.stop({
            kind: 'failed',
            error: new BrokerRefusedError(
              `the broker cancelled the consumer on '${options.queue}' (queue deleted?)`,
            ),
          }),
      );
      consumed();
      context.reporter.detail(
        `handling '${options.queue}' with ${options.concurrency} handler${options.concurrency === 1 ? '' : 's'} at once`,
      );
    } catch (error) {
      disposeSignals();
      idle.clear();
      throw error;
    }

    const reason = await stopper.stopped;
    await consumption.cancel();
    idle.clear();
    if (reason.kind === 'failed') {
      // The broker puts their messages back: stop the handlers, nothing can be acked.
      for (const run of running.values()) run.interrupt();
    } else if (running.size > 0) {
      const finished = new Promise<void>((resolve) => idleWaiters.push(resolve));
      if (reason.kind === 'signal') {
        context.reporter.info(
          `stopping: waiting up to ${formatDuration(options.graceMs)} for ${running.size} running handler${running.size === 1 ? '' : 's'} (Ctrl-C again stops them and quits now)`,
        );
        const grace = setTimeout(() => {
          for (const run of running.values()) run.interrupt();
        }, options.graceMs);
        await finished;
        clearTimeout(grace);
      } else await finished;
    }
    disposeSignals();
    await Promise.all([...running.values()].map((run) => run.done));
    if (flow && !session.lost) await flow.finish().catch(() => {});
    if (reason.kind === 'failed') throw reason.error;
    if (reason.kind === 'signal') {
      summarise(tally, options, performance.now() - started, context);
      throw new InterruptedError(reason.signal);
    }
    if (reason.kind === 'timeout' && options.count !== undefined && tally.handled < options.count) {
      summarise(tally, options, performance.now() - started, context);
      throw new TimeoutError(
        `timed out: handled ${tally.handled} of ${options.count} messages from '${options.queue}', then nothing for ${formatDuration(options.timeoutMs ?? 0)}`,
      );
    }
    summarise(tally, options, performance.now() - started, context);
  } finally {
    for (const run of running.values()) run.interrupt();
    await session.close();
  }
}

/** How the log names a message: its message id, else its delivery tag. */
function idOf(message: DeliveredMessage): string {
  return message.properties.messageId ?? `#${message.deliveryTag}`;
}

function label(message: DeliveredMessage): string {
  return `message ${idOf(message)}`;
}

function summarise(tally: Tally, options: ExecOptions, elapsedMs: number, context: CommandContext): void {
  const parts = [`${tally.acked} acked`];
  if (tally.requeued > 0) parts.push(`${tally.requeued} requeued`);
  if (tally.retried > 0) parts.push(`${tally.retried} retried`);
  if (tally.rejected > 0) parts.push(`${tally.rejected} rejected`);
  const replies = options.reply ? `, ${tally.replies} ${tally.replies === 1 ? 'reply' : 'replies'}` : '';
  const failed = tally.failed > 0 ? ` (${tally.failed} failed)` : '';
  context.reporter.info(
    `handled ${tally.handled} ${tally.handled === 1 ? 'message' : 'messages'} from '${options.queue}': ${parts.join(', ')}${failed}${replies} in ${formatDuration(elapsedMs)}`,
  );
}
