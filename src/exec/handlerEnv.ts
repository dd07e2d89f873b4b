import type { ReceivedMessage } from '../broker/message.js';

/** Every variable warren sets for a handler; inherited ones by these names are removed. */
export const HANDLER_VARIABLES = [
  'WARREN_QUEUE',
  'WARREN_EXCHANGE',
  'WARREN_ROUTING_KEY',
  'WARREN_REDELIVERED',
  'WARREN_RETRIES',
  'WARREN_MESSAGE_ID',
  'WARREN_CORRELATION_ID',
  'WARREN_REPLY_TO',
  'WARREN_CONTENT_TYPE',
  'WARREN_CONTENT_ENCODING',
  'WARREN_TYPE',
  'WARREN_APP_ID',
  'WARREN_USER_ID',
  'WARREN_TIMESTAMP',
  'WARREN_PRIORITY',
  'WARREN_EXPIRATION',
  'WARREN_DELIVERY_MODE',
  'WARREN_HEADERS',
  'WARREN_HEADERS_RAW',
  'WARREN_PROPERTIES',
] as const;

/**
 * The environment a handler runs in: warren's own, plus the message's envelope. A property
 * the message does not have is not set (not set to ''). Headers and properties come as JSON
 * too, headers in the envelope's typed form.
 */
export function handlerEnv(
  message: ReceivedMessage,
  queue: string,
  retries: number,
  inherited: NodeJS.ProcessEnv,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...inherited };
  for (const name of HANDLER_VARIABLES) delete env[name];
  const p = message.properties;
  const set = (name: (typeof HANDLER_VARIABLES)[number], value: string | number | undefined) => {
    if (value !== undefined) env[name] = String(value);
  };
  set('WARREN_QUEUE', queue);
  set('WARREN_EXCHANGE', message.exchange);
  set('WARREN_ROUTING_KEY', message.routingKey);
  set('WARREN_REDELIVERED', message.redelivered ? 'true' : 'false');
  set('WARREN_RETRIES', retries);
  set('WARREN_MESSAGE_ID', p.messageId);
  set('WARREN_CORRELATION_ID', p.correlationId);
  set('WARREN_REPLY_TO', p.replyTo);
  set('WARREN_CONTENT_TYPE', p.contentType);
  set('WARREN_CONTENT_ENCODING', p.contentEncoding);
  set('WARREN_TYPE', p.type);
  set('WARREN_APP_ID', p.appId);
  set('WARREN_USER_ID', p.userId);
  set('WARREN_TIMESTAMP', p.timestamp);
  set('WARREN_PRIORITY', p.priority);
  set('WARREN_EXPIRATION', p.expiration);
  set('WARREN_DELIVERY_MODE', p.deliveryMode);
  set('WARREN_HEADERS', JSON.stringify(message.headers ?? {}));
  // Headers warren could not decode whole: WARREN_HEADERS has those it could.
  set('WARREN_HEADERS_RAW', message.rawHeaders?.toString('base64'));
  set('WARREN_PROPERTIES', JSON.stringify(p));
  return env;
}
