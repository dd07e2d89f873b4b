/** Messages as the broker session takes and hands them out: plain data. */
import type { FieldTable } from './fieldTable.js';

/** The AMQP basic properties warren reads and writes, in amqplib's camelCase names. */
export interface MessageProperties {
  contentType?: string;
  contentEncoding?: string;
  deliveryMode?: number;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  expiration?: string;
  messageId?: string;
  timestamp?: number;
  type?: string;
  userId?: string;
  appId?: string;
  clusterId?: string;
}

export type PropertyKind = 'shortstr' | 'octet' | 'deliveryMode' | 'timestamp' | 'expiration';

/** Every property in wire order, with the kind of value it holds. */
export const PROPERTY_KINDS: ReadonlyArray<[keyof MessageProperties, PropertyKind]> = [
  ['contentType', 'shortstr'],
  ['contentEncoding', 'shortstr'],
  ['deliveryMode', 'deliveryMode'],
  ['priority', 'octet'],
  ['correlationId', 'shortstr'],
  ['replyTo', 'shortstr'],
  ['expiration', 'expiration'],
  ['messageId', 'shortstr'],
  ['timestamp', 'timestamp'],
  ['type', 'shortstr'],
  ['userId', 'shortstr'],
  ['appId', 'shortstr'],
  ['clusterId', 'shortstr'],
];

/** A message as it came from the broker, as plain data. */
export interface ReceivedMessage {
  exchange: string;
  routingKey: string;
  redelivered: boolean;
  properties: MessageProperties;
  headers: FieldTable | undefined;
  /**
   * The headers' field table as it came, when warren could not decode it whole (`headers`
   * then holds what it could); published again as it is.
   */
  rawHeaders?: Buffer | undefined;
  /** Why the headers are raw. */
  warning?: string | undefined;
  body: Buffer;
  receivedAt: Date;
}

/** A message ready to publish: headers already in the form the client library encodes. */
export interface OutgoingMessage {
  exchange: string;
  routingKey: string;
  body: Buffer;
  properties: MessageProperties;
  headers: Record<string, unknown> | undefined;
  /** Overrides the publisher's mandatory flag for this message. */
  mandatory?: boolean;
}
