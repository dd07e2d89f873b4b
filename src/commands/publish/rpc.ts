import { randomUUID } from 'node:crypto';
import { ConfirmTracker } from '../../broker/confirmTracker.js';
import type { ReceivedMessage } from '../../broker/message.js';
import { DIRECT_REPLY_TO, type Session } from '../../broker/session.js';
import type { Format } from '../../choices.js';
import { formatDuration } from '../../duration.js';
import type { MessageOverrides } from '../../envelope.js';
import { InterruptedError, TimeoutError } from '../../errors.js';
import { createFormatter, recordBytes } from '../../format/index.js';
import { watchStopSignals } from '../../ui/signals.js';
import type { CommandContext } from '../context.js';
import { notDelivered } from './report.js';
import { openInput, type PublishOptions, rawMessage, readWhole } from './run.js';

export interface RpcOptions {
  request: PublishOptions;
  /** How long to wait for the reply. */
  timeoutMs: number;
  format: Format;
  template: string | undefined;
  full: boolean;
}

/** One request to send and wait on: what publish --rpc and check rpc share. */
export interface RpcRequest {
  body: Buffer;
  overrides: MessageOverrides;
  mandatory: boolean;
  timeoutMs: number;
}

/**
 * How a request ended: its reply (and how long it took), or why there is none: a
 * TimeoutError (no reply in time), a NotDeliveredError (returned or nacked), the session's
 * loss, or `stop`'s error.
 */
export type RpcOutcome =
  | { reply: ReceivedMessage; elapsedMs: number; correlationId: string }
  | { reply?: undefined; failure: Error; correlationId: string };

/**
 * Publishes a request with RabbitMQ's direct reply-to and a correlation id (a fresh one
 * unless the overrides give one) on a publisher of `session`, and waits for the reply that
 * carries it. `stop` may end the wait early with an error (a signal).
 */
export async function sendRequest(
  session: Session,
  request: RpcRequest,
  context: CommandContext,
  stop?: (end: (error: Error) => void) => () => void,
): Promise<RpcOutcome> {
  const overrides = request.overrides;
  const correlationId = overrides.properties.correlationId ?? randomUUID();
  let started = performance.now();
  let reply: ReceivedMessage | undefined;
  let elapsedMs = 0;
  let failure: Error | undefined;
  let wake = () => {};
  const settled = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const end = (error: Error) => {
    failure ??= error;
    wake();
  };
  const disposeStop = stop?.(end);
  const timer = setTimeout(
    () =>
      end(
        new TimeoutError(
          `no reply within ${formatDuration(request.timeoutMs)} (correlation id ${correlationId})`,
          {
            hint: 'is a handler consuming the request queue? warren consume QUEUE --exec CMD --reply is one',
          },
        ),
      ),
    request.timeoutMs,
  );
  try {
    const tracker = new ConfirmTracker();
    tracker.onSettled = (_entry, _seq, status) => {
      if (status !== 'confirmed') end(notDelivered(tracker, true));
    };
    session.onLost(end);
    const publisher = await session.openPublisher({
      mandatory: request.mandatory,
      tracker,
      onReply: (message) => {
        // Direct reply-to brings only replies to this channel; the id tells which request.
        if (message.properties.correlationId !== correlationId || reply || failure) return;
        reply = message;
        elapsedMs = performance.now() - started;
        wake();
      },
    });
    const message = rawMessage(request.body, {
      ...overrides,
      properties: { ...overrides.properties, replyTo: DIRECT_REPLY_TO, correlationId },
    });
    context.reporter.detail(`request sent with correlation id ${correlationId}`);
    started = performance.now();
    publisher.publish(message, 1);
    await settled;
  } finally {
    clearTimeout(timer);
    disposeStop?.();
  }
  if (reply) return { reply, elapsedMs, correlationId };
  return {
    failure: failure ?? new Error('the request ended with neither a reply nor a failure'),
    correlationId,
  };
}

/**
 * `publish --rpc`: publishes a request with RabbitMQ's direct reply-to and a fresh
 * correlation id, and prints the reply that carries it, as consume prints a message.
 */
export async function rpc(options: RpcOptions, context: CommandContext): Promise<void> {
  const format = createFormatter({ ...options, paint: context.stdoutPaint, screen: context.io.stdout });
  const body = await readWhole(openInput(options.request, context), options.request.file);
  const session = await context.connect();
  let outcome: RpcOutcome;
  try {
    outcome = await sendRequest(
      session,
      {
        body,
        overrides: options.request.overrides,
        mandatory: options.request.mandatory,
        timeoutMs: options.timeoutMs,
      },
      context,
      (end) => watchStopSignals((signal) => end(new InterruptedError(signal))),
    );
  } finally {
    await session.close();
  }
  if (!outcome.reply) throw outcome.failure;
  context.io.stdout.write(recordBytes(format(outcome.reply)));
  context.reporter.info(
    `reply to '${options.request.overrides.routingKey ?? ''}' in ${formatDuration(outcome.elapsedMs)}`,
  );
}
