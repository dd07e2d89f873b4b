import { ConfirmTracker, type SettleStatus } from '../broker/confirmTracker.js';
import { encodableHeaders, verbatimHeaders } from '../broker/fieldTable.js';
import type { OutgoingMessage } from '../broker/message.js';
import { PublishFlow } from '../broker/publishFlow.js';
import { type Consumption, type DeliveredMessage, DIRECT_REPLY_TO, type Session } from '../broker/session.js';
import { formatDuration } from '../duration.js';
import {
  BrokerRefusedError,
  InterruptedError,
  TimeoutError,
  UnreachableError,
  WarrenError,
} from '../errors.js';
import { Commits } from '../exec/commits.js';
import { handlerEnv } from '../exec/handlerEnv.js';
import { type HandlerRun, runHandler } from '../exec/handlerProcess.js';
import { type Decision, decide, type FailurePolicy, RETRY_HEADER, retriesOf } from '../exec/outcome.js';
import { type StopSignal, watchStopSignals } from '../ui/signals.js';
import type { Spinner } from '../ui/spinner.js';
import { humanLine } from '../ui/terminalText.js';
import type { CommandContext } from './context.js';
import { idleTimer, reconnecting, Stopper } from './runControl.js';

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
  /** --pass-url: handlers get WARREN_URL with the password (else none: src/exec/childEnv.ts). */
  passUrl: boolean;
  count: number | undefined;
  /** Idle timeout: stop when nothing arrives (and nothing runs) for this long. */
  timeoutMs: number | undefined;
  /** After a lost connection: reconnection attempts in a row (reset once a message is settled). */
  retries: number;
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
  /** Taken, but not settled when the connection ended: back to the queue, redelivered. */
  unsettled: number;
}

/** One connection's run, as the reconnect loop sees it. */
interface ConnectionRun {
  stop: StopReason;
  progressed: boolean;
  lost: UnreachableError | undefined;
}

/**
 * `consume QUEUE --exec CMD`: runs a handler per message and settles the message by how
 * the handler ended. A message is acked only once its handler succeeded (and its reply was
 * confirmed); one whose handler did not finish goes back to the queue. Settlements are
 * committed in transactions, so that a counted retry (a copy published, the original acked)
 * is done whole or not at all: a lost connection cannot leave both copy and original. After
 * a lost connection the run carries on on a new one, up to --retries times in a row.
 */
export async function exec(options: ExecOptions, context: CommandContext): Promise<void> {
  const started = performance.now();
  const tally: Tally = {
    handled: 0,
    acked: 0,
    requeued: 0,
    retried: 0,
    rejected: 0,
    failed: 0,
    replies: 0,
    unsettled: 0,
  };
  // Warren's own environment, without its password (or with the URL, --pass-url).
  const inherited = context.childEnv(options.passUrl);
  // Ends the whole run (the connection's own end is a ConnectionRun's matter).
  const stopper = new Stopper<StopReason>();
  const running = new Map<number, HandlerRun>();
  let idleWaiters: (() => void)[] = [];
  let connected = false;
  /** What a quit now would leave unsettled besides the running handlers. */
  let unconfirmed = () => 0;
  let status: Spinner | undefined;
  const summary = () => summarise(tally, options, performance.now() - started, context);

  const idle = idleTimer(options.timeoutMs, () => {
    // Not idle while handlers run, nor while reconnecting: a slow handler or a lost
    // connection is not a quiet queue.
    if (running.size > 0 || !connected) idle.touch();
    else stopper.stop({ kind: 'timeout' });
  });
  const bump = (key: keyof Tally) => () => {
    tally[key] += 1;
  };
  const settled = () => {
    tally.handled += 1;
    idle.touch();
    if (options.count !== undefined && tally.handled >= options.count) stopper.stop({ kind: 'count' });
  };
  const handlerEnded = () => {
    idle.touch();
    if (running.size > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const wake of waiters) wake();
  };

  /** One connection's worth of handling, until something ends it. */
  const handleOn = async (session: Session): Promise<StopReason> => {
    const ended = new Stopper<StopReason>();
    void stopper.stopped.then((reason) => ended.stop(reason));
    session.onLost((error) => ended.stop({ kind: 'failed', error }));
    // Once the connection is gone, so are its deliveries: the broker gives them back.
    const gone = () => session.lost !== undefined || ended.reason?.kind === 'failed';
    const tracker = new ConfirmTracker();
    const flow = options.reply
      ? new PublishFlow(session, await session.openPublisher({ mandatory: true, tracker }))
      : undefined;
    let consumption: Consumption | undefined;
    const commits = new Commits(() => (consumption ? consumption.commit() : Promise.resolve()));
    unconfirmed = () => commits.unconfirmed + tracker.inFlight;
    let consumed = () => {};
    const consuming = new Promise<void>((resolve) => {
      consumed = resolve;
    });
    // Taken on earlier connections and settled count; the others come back.
    let taken = tally.handled;

    /** Settles a message in the next commit, and counts it once the broker has it. */
    const commit = (send: () => void, count: () => void) =>
      commits.add(send, () => {
        count();
        settled();
      });
    const ack = (tag: number, count = bump('acked')) => commit(() => consumption?.ack(tag, false), count);
    const reject = (tag: number, requeue: boolean) =>
      commit(() => consumption?.reject(tag, false, requeue), bump(requeue ? 'requeued' : 'rejected'));

    tracker.onSettled = (entry, _seq, status: SettleStatus) => {
      const tag = entry.ref;
      if (tag === undefined) return;
      if (status === 'unconfirmed') {
        tally.unsettled += 1;
        return;
      }
      if (status !== 'confirmed') {
        context.reporter.warn(
          `the reply to '${entry.message.routingKey}' was ${status} (the requester is gone?)`,
        );
      }
      ack(tag, () => {
        tally.acked += 1;
        if (status === 'confirmed') tally.replies += 1;
      });
    };

    /**
     * Publishes the handler's output to the message's reply-to; the message is acked once
     * the broker confirms the reply (tracker.onSettled). A reply that cannot be sent at all
     * is dropped and the request acked, as when a reply comes back unroutable.
     */
    const reply = (message: DeliveredMessage, replyTo: string, stdout: Buffer | undefined) => {
      const tag = message.deliveryTag;
      if (!flow) throw new Error('a reply needs a publisher');
      try {
        const sending = flow.send(
          {
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
          },
          tag,
          tag,
        );
        // A lost connection ends the run through session.lost, and flow.finish settles what
        // the tracker held as unconfirmed (the deliveries go back to the queue).
        sending?.catch(() => {});
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        context.reporter.warn(`${label(message)}: the reply cannot be sent (${why}): dropped, request acked`);
        ack(tag);
      }
    };

    /**
     * Another try that is counted: a copy carrying the count goes to the back of the queue
     * and the original is acked, in one transaction. One whose count cannot be added
     * (headers near 64 KiB) is rejected, as after the last retry, so that it cannot fail for
     * ever uncounted.
     */
    const retry = (message: DeliveredMessage) => {
      const tag = message.deliveryTag;
      const retries = { [RETRY_HEADER]: retriesOf(message.headers) + 1 };
      // The broker routes a CC header's keys too (and keeps it on the delivery): the copy is
      // for this queue alone, not another copy for each queue the CC named.
      const { CC: _cc, BCC: _bcc, ...decoded } = message.headers ?? {};
      let copy: OutgoingMessage;
      try {
        // Checks the headers' encoded size, which the retry count may take over 64 KiB.
        copy = {
          exchange: '',
          routingKey: options.queue,
          body: message.body,
          properties: { ...message.properties },
          // Headers warren could not decode whole go as they came, with the count changed.
          headers: message.rawHeaders
            ? verbatimHeaders(message.rawHeaders, { ...retries, CC: undefined, BCC: undefined })
            : encodableHeaders({ ...decoded, ...retries }),
        };
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        context.reporter.warn(
          `${label(message)}: the retry count cannot be added (${why}): rejected instead`,
        );
        reject(tag, false);
        return;
      }
      commit(() => {
        consumption?.publish(copy);
        consumption?.ack(tag, false);
      }, bump('retried'));
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
      if (gone()) {
        tally.unsettled += 1;
        return;
      }
      switch (decision.action) {
        case 'ack': {
          const replyTo = message.properties.replyTo;
          if (options.reply && replyTo) return reply(message, replyTo, stdout);
          if (options.reply && !replyTo) {
            context.reporter.warn(`${label(message)} has no reply-to: the handler's output was dropped`);
          }
          return ack(tag);
        }
        case 'requeue':
          return reject(tag, true);
        case 'reject':
          return reject(tag, false);
        case 'retry':
          return retry(message);
      }
    };

    const start = (message: DeliveredMessage) => {
      const retries = retriesOf(message.headers);
      const run = runHandler({
        command: options.command,
        body: message.body,
        env: handlerEnv(message, options.queue, retries, inherited),
        timeoutMs: options.execTimeoutMs,
        captureStdout: options.reply,
        log: context.io.stderr,
        // The prefix is warren's, from the message: made safe as warren's own lines are.
        prefix: options.concurrency > 1 ? `[${humanLine(idOf(message))}] ` : '',
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
        handlerEnded();
      });
    };

    consumption = await session.consume(
      options.queue,
      { prefetch: options.concurrency, noAck: false, transactions: true },
      (message) => {
        // Taken after the end (or beyond --count): not acked, so back to the queue at close.
        if (ended.reason || (options.count !== undefined && taken >= options.count)) return;
        taken += 1;
        idle.touch();
        start(message);
      },
      () =>
        ended.stop({
          kind: 'failed',
          error: new BrokerRefusedError(
            `the broker cancelled the consumer on '${options.queue}' (queue deleted?)`,
          ),
        }),
    );
    consumed();
    connected = true;
    idle.touch();
    context.reporter.detail(
      `handling '${options.queue}' with ${options.concurrency} handler${options.concurrency === 1 ? '' : 's'} at once`,
    );
    status = await context.spinner(statusText(options.queue, tally, running.size));
    const ticker = status.active
      ? setInterval(() => status?.update(statusText(options.queue, tally, running.size)), 100)
      : undefined;

    try {
      const reason = await ended.stopped;
      await consumption.cancel();
      if (reason.kind === 'failed') {
        // The broker puts their messages back: stop the handlers, nothing can be acked.
        for (const run of running.values()) run.interrupt();
      }
      if (running.size > 0) {
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
      await Promise.all([...running.values()].map((run) => run.done));
      // Settles the replies in flight: confirmed, or (connection lost) unconfirmed.
      if (flow) await flow.finish().catch(() => {});
      await commits.flush();
      tally.unsettled += commits.unconfirmed;
      unconfirmed = () => 0;
      return ended.reason ?? reason;
    } finally {
      connected = false;
      clearInterval(ticker);
      status.stop();
      status = undefined;
    }
  };

  const once = async (reconnects: number): Promise<ConnectionRun> => {
    if (stopper.reason) return { stop: stopper.reason, progressed: false, lost: undefined };
    let session: Session;
    try {
      // A Ctrl-C while connecting (--wait-for-broker, a reconnection) ends the run at once.
      const connecting = context.connect();
      const first = await Promise.race([
        connecting.then((opened) => ({ opened })),
        stopper.stopped.then((reason) => ({ reason })),
      ]);
      if ('reason' in first) {
        connecting.then(
          (late) => late.close(),
          () => {},
        );
        return { stop: first.reason, progressed: false, lost: undefined };
      }
      session = first.opened;
    } catch (error) {
      // Not connected again (a first connection that fails is --wait-for-broker's matter).
      if (reconnects === 0 || !(error instanceof WarrenError)) throw error;
      const lost = error instanceof UnreachableError ? error : undefined;
      return { stop: { kind: 'failed', error }, progressed: false, lost };
    }
    const handledBefore = tally.handled;
    try {
      const stop = stopper.reason ?? (await handleOn(session));
      const lost = stop.kind === 'failed' && stop.error instanceof UnreachableError ? stop.error : undefined;
      return { stop, progressed: tally.handled > handledBefore, lost };
    } finally {
      for (const run of running.values()) run.interrupt();
      await session.close();
    }
  };

  const disposeSignals = watchStopSignals(
    (signal) => stopper.stop({ kind: 'signal', signal }),
    // Quitting now: a handler left running would work on a message the broker gives to
    // someone else. Their messages go back to the queue with the connection: say how many.
    () => {
      for (const run of running.values()) run.kill();
      tally.unsettled += running.size + unconfirmed();
      status?.stop();
      summary();
    },
  );
  let reason: StopReason;
  try {
    reason = (
      await reconnecting(options.retries, once, {
        warn: (lost, attempt) =>
          context.reporter.warn(`${lost.message}; reconnecting (${attempt} of ${options.retries})`),
        pause: (ms) => Promise.race([delay(ms), stopper.stopped]).then(() => {}),
      })
    ).stop;
  } catch (error) {
    if (tally.handled + tally.unsettled > 0) summary();
    throw error;
  } finally {
    disposeSignals();
    idle.clear();
  }
  if (reason.kind === 'failed') {
    // A run that failed before taking anything has nothing to summarise: the error says it all.
    if (tally.handled + tally.unsettled > 0) summary();
    throw reason.error;
  }
  summary();
  if (reason.kind === 'signal') throw new InterruptedError(reason.signal);
  if (reason.kind === 'timeout' && options.count !== undefined && tally.handled < options.count) {
    throw new TimeoutError(
      `timed out: handled ${tally.handled} of ${options.count} messages from '${options.queue}', then nothing for ${formatDuration(options.timeoutMs ?? 0)}`,
    );
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The status line of a run on a terminal. */
function statusText(queue: string, tally: Tally, inFlight: number): string {
  return `handling '${queue}': ${tally.handled} handled, ${tally.failed} failed, ${tally.retried} retried, ${inFlight} in flight`;
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
  if (tally.unsettled > 0) parts.push(`${tally.unsettled} unsettled`);
  const replies = options.reply ? `, ${tally.replies} ${tally.replies === 1 ? 'reply' : 'replies'}` : '';
  const failed = tally.failed > 0 ? ` (${tally.failed} failed)` : '';
  context.reporter.info(
    `handled ${tally.handled} ${tally.handled === 1 ? 'message' : 'messages'} from '${options.queue}': ${parts.join(', ')}${failed}${replies} in ${formatDuration(elapsedMs)}`,
  );
}
