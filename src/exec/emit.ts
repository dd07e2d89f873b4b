import { createHash } from 'node:crypto';
import { FieldValueError } from '../broker/fieldTable.js';
import { encodableHeaders } from '../broker/fieldTableEncode.js';
import type { MessageProperties, OutgoingMessage } from '../broker/message.js';
import { verbatimHeaders, verbatimTableOf } from '../broker/rawFieldTable.js';
import type { DeliveredMessage } from '../broker/session.js';
import { type EnvelopeDefaults, envelopeText, recordedFromEnvelopeLine } from '../envelope.js';
import { DataError } from '../errors.js';

/** The header an emitted event names its cause in: the input's message id (or body hash). */
export const CAUSATION_HEADER = 'x-warren-causation-id';

/**
 * Where and how a handler's events go (`consume --emit EXCHANGE[:KEY]`, `--emit-format`):
 * `raw`, the handler's whole stdout is one event's body, sent to the exchange and key;
 * `ndjson`, each line is an envelope, and the exchange and key are its defaults.
 */
export interface EmitTarget extends EnvelopeDefaults {
  format: 'raw' | 'ndjson';
}

/** A handler's output that cannot be sent as events: the handler failed, with this reason. */
export class EmitError extends Error {}

/** The events a handler's stdout holds (none for an empty raw output). Throws EmitError. */
export function emitsFromOutput(
  stdout: Buffer,
  target: EmitTarget,
  input: DeliveredMessage,
): OutgoingMessage[] {
  if (target.format === 'raw') {
    if (stdout.length === 0) return [];
    return [stamped({ ...target, body: stdout, properties: { deliveryMode: 2 }, headers: undefined }, input)];
  }
  const emits: OutgoingMessage[] = [];
  let start = 0;
  let lineNumber = 0;
  while (start < stdout.length) {
    let end = stdout.indexOf(0x0a, start);
    if (end === -1) end = stdout.length;
    lineNumber += 1;
    const bytes = stdout.subarray(start, end);
    start = end + 1;
    if (bytes.length === 0 || (bytes.length === 1 && bytes[0] === 0x0d)) continue;
    emits.push(emitFromLine(bytes, lineNumber, target, input));
  }
  return emits;
}

/** The events of a pipe handler's answer: envelope objects. Throws EmitError. */
export function emitsFromEnvelopes(
  records: unknown[],
  target: EmitTarget,
  input: DeliveredMessage,
): OutgoingMessage[] {
  return records.map((record, index) =>
    emitFromLine(Buffer.from(JSON.stringify(record)), index + 1, target, input, 'emit'),
  );
}

function emitFromLine(
  bytes: Buffer,
  lineNumber: number,
  defaults: EnvelopeDefaults,
  input: DeliveredMessage,
  where = 'output line',
): OutgoingMessage {
  try {
    const text = envelopeText(bytes, lineNumber);
    const { message, encodedHeaders } = recordedFromEnvelopeLine(text, lineNumber, false, defaults);
    const properties = { ...message.properties };
    // Events are kept across a broker restart unless the line says otherwise, as publish does.
    if (properties.deliveryMode === undefined) properties.deliveryMode = 2;
    const table = verbatimTableOf(encodedHeaders);
    return stamped(
      {
        exchange: message.exchange,
        routingKey: message.routingKey,
        body: message.body,
        properties,
        headers: table ? encodedHeaders : (message.headers as Record<string, unknown> | undefined),
      },
      input,
    );
  } catch (error) {
    if (error instanceof EmitError) throw error;
    if (error instanceof DataError || error instanceof FieldValueError) {
      // The envelope's errors name "line N"; an answer's emit is counted from 1 as well.
      const why = error.message.replace(/^line \d+: /, '');
      throw new EmitError(`its ${where} ${lineNumber} is not an event: ${why}`);
    }
    throw error;
  }
}

/**
 * An emitted event with its cause: the input's message id as its correlation id (unless it
 * sets one), and the causation header. `headers` here are the typed envelope form, or
 * verbatim ones (verbatimHeaders) as they came. Throws EmitError when the header does not
 * fit.
 */
function stamped(
  event: Omit<OutgoingMessage, 'properties'> & { properties: MessageProperties },
  input: DeliveredMessage,
): OutgoingMessage {
  const cause = causeOf(input);
  const properties = { ...event.properties };
  const inputId = input.properties.messageId ?? input.properties.correlationId;
  if (properties.correlationId === undefined && inputId !== undefined) properties.correlationId = inputId;
  let headers: Record<string, unknown>;
  try {
    const table = verbatimTableOf(event.headers);
    headers = table
      ? verbatimHeaders(table, { [CAUSATION_HEADER]: cause })
      : encodableHeaders({ ...event.headers, [CAUSATION_HEADER]: cause });
  } catch (error) {
    if (error instanceof FieldValueError)
      throw new EmitError(`its event's headers cannot take the causation header: ${error.message}`);
    throw error;
  }
  return { ...event, properties, headers, mandatory: true };
}

/**
 * What names the input: its message id, else its body's SHA-256, which a redelivered input
 * shares, so that a consumer can tell duplicates apart either way (and --pipe knows a
 * message it suspects when it comes back: src/exec/pipeHandler.ts).
 */
export function causeOf(input: DeliveredMessage): string {
  return input.properties.messageId ?? `sha256:${createHash('sha256').update(input.body).digest('hex')}`;
}
