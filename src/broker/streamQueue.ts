import { BrokerError } from './brokerError.js';
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

/**
 * RabbitMQ's words when a stream queue is asked to give its messages away: a consumer with
 * a priority (see Session.consume) or with auto-ack (no prefetch), or a basic.get.
 */
const REFUSES_TAKING =
  /of queue type rabbit_stream_queue|consumer prefetch count is not set|basic\.get not supported by stream queues/;

/**
 * A refusal met while taking from `queue`; when it came from a stream, an 'is-stream' error
 * that says so, rather than the broker's words (which name neither).
 */
export function refusedAsStream(queue: string, refused: BrokerError): BrokerError {
  if (refused.brokerText === undefined || !REFUSES_TAKING.test(refused.brokerText)) return refused;
  return new BrokerError('is-stream', { cause: refused.cause, entity: { kind: 'queue', name: queue } });
}
