/** Deliveries from amqplib as warren's plain data. */
import type * as Amqp from 'amqplib';
import { type FieldTable, RAW_TABLE, readHeaders, typedFromDecoded } from './fieldTable.js';
import { type MessageProperties, PROPERTY_KINDS, type ReceivedMessage } from './message.js';

export interface DeliveredMessage extends ReceivedMessage {
  deliveryTag: number;
}

const PROPERTY_NAMES = PROPERTY_KINDS.map(([name]) => name);

export function receivedFromAmqp(message: Amqp.Message): DeliveredMessage {
  const source = message.properties as unknown as Record<string, unknown>;
  const properties: Record<string, unknown> = {};
  for (const name of PROPERTY_NAMES) {
    const value = source[name];
    if (value !== undefined) properties[name] = value;
  }
  const rawHeaders = message.properties.headers as
    | (Record<string | symbol, unknown> & { [RAW_TABLE]?: Buffer })
    | undefined;
  let headers: FieldTable | undefined;
  let undecoded: { rawHeaders: Buffer; warning: string } | undefined;
  if (rawHeaders) {
    const raw = rawHeaders[RAW_TABLE];
    if (raw) {
      const read = readHeaders(raw);
      headers = read.headers;
      // A copy: the slice shares the memory of the frame it came in.
      if (read.warning) undecoded = { rawHeaders: Buffer.from(raw), warning: read.warning };
    } else headers = typedFromDecoded(rawHeaders) as FieldTable;
  }
  return {
    deliveryTag: message.fields.deliveryTag,
    exchange: message.fields.exchange,
    routingKey: message.fields.routingKey,
    redelivered: message.fields.redelivered,
    properties: properties as MessageProperties,
    headers,
    ...undecoded,
    body: message.content,
    receivedAt: new Date(),
  };
}
