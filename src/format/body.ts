import type { ReceivedMessage } from '../broker/message.js';

const NEWLINE = Buffer.from('\n');

/**
 * The body's bytes as they are, followed by a newline: two pieces, so that the body is
 * copied once, into the batch written to stdout, not first into a record of its own.
 */
export function formatBody(message: ReceivedMessage): Buffer[] {
  return [message.body, NEWLINE];
}
