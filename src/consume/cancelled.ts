import { BrokerRefusedError } from '../errors.js';

/**
 * The broker ended a consumer by itself (basic.cancel), most often because its queue was
 * deleted: the one wording for consume, tail, consume --exec and replay.
 */
export function consumerCancelled(queue: string): BrokerRefusedError {
  return new BrokerRefusedError(`the broker cancelled the consumer on '${queue}' (queue deleted?)`);
}
