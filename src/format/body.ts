import type { ReceivedMessage } from '../broker/envelope.js';

const NEWLINE = Buffer.from('\n');

/** The body's bytes as they are, each followed by a newline. */
export function formatBody(message: ReceivedMessage): Buffer {
  return Buffer.concat([message.body, NEWLINE]);
}
