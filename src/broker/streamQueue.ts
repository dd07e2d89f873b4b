import { BrokerRefusedError, type WarrenError } from '../errors.js';
import { type FieldTable, typedNumber } from './fieldTable.js';

/** The header a stream stamps on every delivery: the message's offset in the stream. */
export const STREAM_OFFSET_HEADER = 'x-stream-offset';

/** The stream offset a delivery carries, or undefined when it came from no stream. */
export function offsetOf(headers: FieldTable | undefined): number | undefined {
  return typedNumber(headers?.[STREAM_OFFSET_HEADER]);
}

/** RabbitMQ refuses a consumer's x-stream-offset (406) on a queue that is not a stream. */
export function refusesStreamOffset(error: unknown): boolean {
  return error instanceof Error && /invalid arg 'x-stream-offset'/.test(error.message);
}

/** A queue read as a stream that is not one; `hint` says what to use instead. */
export function notAStreamQueue(queue: string, hint: string, cause?: unknown): BrokerRefusedError {
  return new BrokerRefusedError(`'${queue}' is not a stream queue: nothing was taken from it`, {
    cause,
    hint,
  });
}

/**
 * RabbitMQ's words when a stream queue is asked to give its messages away: a consumer with
 * a priority (see Session.consume) or with auto-ack (no prefetch), or a basic.get.
 */
const REFUSES_TAKING =
  /of queue type rabbit_stream_queue|consumer prefetch count is not set|basic\.get not supported by stream queues/;

/**
 * A refusal met while taking from `queue`; when it came from a stream, one that says so and
 * what to use instead, rather than the broker's words (which name neither).
 */
export function refusedAsStream(queue: string, refused: WarrenError): WarrenError {
  const text = refused instanceof BrokerRefusedError ? refused.brokerText : undefined;
  if (text === undefined || !REFUSES_TAKING.test(text)) return refused;
  return new BrokerRefusedError(
    `'${queue}' is a stream queue: it keeps its messages for every reader, so nothing can be taken from it`,
    {
      cause: refused,
      hint: `read it in place: warren tail --stream ${queue} --offset first (or re-publish a range: warren replay --from-stream ${queue})`,
    },
  );
}
