import { BrokerRefusedError } from '../errors.js';
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
