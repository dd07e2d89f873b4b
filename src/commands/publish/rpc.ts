import { randomUUID } from 'node:crypto';
import { ConfirmTracker } from '../../broker/confirmTracker.js';
import type { ReceivedMessage } from '../../broker/message.js';
import { DIRECT_REPLY_TO } from '../../broker/session.js';
import type { Format } from '../../choices.js';
import { formatDuration } from '../../duration.js';
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

/**
 * `publish --rpc`: publishes a request with RabbitMQ's direct reply-to and a fresh
 * correlation id, and prints the reply that carries it, as consume prints a message.
 */
export async function rpc(options: RpcOptions, context: CommandContext): Promise<void> {
  const format = createFormatter({ ...options, paint: context.stdoutPaint, screen: context.io.stdout });
  const body = await readWhole(openInput(options.request, context), options.request.file);
  const overrides = options.request.overrides;
  const correlationId = overrides.properties.correlationId ?? randomUUID();
  const session = await context.connect();
  const started = performance.now();
  let reply: ReceivedMessage | undefined;
  let failure: Error | undefined;
  let wake = () => {};
  const settled = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const disposeSignals = watchStopSignals((signal) => {
    failure ??= new InterruptedError(signal);
    wake();
  });
  const timer = setTimeout(() => {
    failure ??= new TimeoutError(
      `no reply within ${formatDuration(options.timeoutMs)} (correlation id ${correlationId})`,
      { hint: 'is a handler consuming the request queue? warren consume QUEUE --exec CMD --reply is one' },
    );
    wake();
  }, options.timeoutMs);
  try {
    const tracker = new ConfirmTracker();
    tracker.onSettled = (_entry, _seq, status) => {
      if (status !== 'confirmed') {
        failure ??= notDelivered(tracker, true);
        wake();
      }
    };
    session.onLost((error) => {
      failure ??= error;
      wake();
    });
    const publisher = await session.openPublisher({
      mandatory: options.request.mandatory,
      tracker,
      onReply: (message) => {
        // Direct reply-to brings only replies to this channel; the id tells which request.
        if (message.properties.correlationId !== correlationId || reply) return;
        reply = message;
        wake();
      },
    });
    const request = rawMessage(body, {
      ...overrides,
      properties: { ...overrides.properties, replyTo: DIRECT_REPLY_TO, correlationId },
    });
    context.reporter.detail(`request sent with correlation id ${correlationId}`);
    publisher.publish(request, 1);
    await settled;
  } finally {
    clearTimeout(timer);
    disposeSignals();
    await session.close();
  }
  if (reply) {
    context.io.stdout.write(recordBytes(format(reply)));
    context.reporter.info(
      `reply to '${overrides.routingKey ?? ''}' in ${formatDuration(performance.now() - started)}`,
    );
    return;
  }
  throw failure ?? new Error('the request ended with neither a reply nor a failure');
}
