import type { ReceivedMessage } from '../broker/message.js';
import { envelopeFromMessage } from '../envelope.js';

/** One NDJSON envelope per message (SPEC "The NDJSON envelope"). */
export function formatNdjson(message: ReceivedMessage): string {
  return `${JSON.stringify(envelopeFromMessage(message))}\n`;
}
