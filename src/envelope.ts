import { isUtf8 } from 'node:buffer';
import { type FieldTable, FieldValueError, readHeaders } from './broker/fieldTable.js';
import { encodableHeaders, isBase64, MAX_HEADERS_BYTES } from './broker/fieldTableEncode.js';
/**
 * The NDJSON envelope: one message per line, as consume writes it and publish and replay
 * read it. Errors name the line.
 */
import {
  type MessageProperties,
  type OutgoingMessage,
  PROPERTY_KINDS,
  type PropertyKind,
  type ReceivedMessage,
} from './broker/message.js';
import { fieldTableEntries, verbatimHeaders } from './broker/rawFieldTable.js';
import { unsendableText } from './broker/wireText.js';
import { DataError } from './errors.js';
import { JsonTextError, parseJson } from './json.js';

const KNOWN_PROPERTIES: ReadonlySet<string> = new Set(PROPERTY_KINDS.map(([name]) => name));

/** For a person who named a property: every name, in wire order. */
export const PROPERTIES_HINT = `properties: ${PROPERTY_KINDS.map(([name]) => name).join(', ')}`;

/**
 * Undefined when `name` is a property; else what to add to the error (` (did you mean
 * 'messageId'?)`, or nothing). --match and --template refuse such names: a typo would
 * otherwise read as a property that is never set.
 */
export function unknownProperty(name: string): string | undefined {
  if (KNOWN_PROPERTIES.has(name)) return undefined;
  const guess = PROPERTY_KINDS.find(([known]) => known.toLowerCase() === name.toLowerCase())?.[0];
  return guess ? ` (did you mean '${guess}'?)` : '';
}

/** What the command line sets on every message; each field present wins over the input's. */
export interface MessageOverrides {
  exchange?: string;
  routingKey?: string;
  properties: MessageProperties;
  headers: Record<string, unknown>;
}

export interface Envelope {
  exchange: string;
  routingKey: string;
  redelivered: boolean;
  properties: MessageProperties;
  headers?: FieldTable;
  rawHeaders?: string;
  warning?: string;
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  receivedAt: string;
}

export function envelopeFromMessage(message: ReceivedMessage): Envelope {
  const utf8 = isUtf8(message.body);
  const hasHeaders = message.headers !== undefined && Object.keys(message.headers).length > 0;
  // SPEC field order, headers between properties and body; empty headers are left out.
  return {
    exchange: message.exchange,
    routingKey: message.routingKey,
    redelivered: message.redelivered,
    properties: message.properties,
    // Headers warren could not decode whole go as they came: rawHeaders replaces headers.
    ...(message.rawHeaders
      ? { rawHeaders: message.rawHeaders.toString('base64'), warning: message.warning }
      : hasHeaders
        ? { headers: message.headers }
        : {}),
    body: message.body.toString(utf8 ? 'utf8' : 'base64'),
    bodyEncoding: utf8 ? 'utf8' : 'base64',
    receivedAt: message.receivedAt.toISOString(),
  };
}

const ENVELOPE_KEYS = new Set([
  'exchange',
  'routingKey',
  'redelivered',
  'properties',
  'headers',
  'rawHeaders',
  'warning',
  'body',
  'bodyEncoding',
  'receivedAt',
]);

/** An envelope line as recorded: for --match and --dry-run, and ready to publish. */
export interface RecordedMessage {
  message: ReceivedMessage;
  /** The headers in the form the client library encodes (undefined when there are none). */
  encodedHeaders: Record<string, unknown> | undefined;
  /** When it was recorded (ms since the epoch), if the line says. */
  recordedAt: number | undefined;
}

interface ParsedEnvelope extends Omit<ReceivedMessage, 'receivedAt'> {
  encodedHeaders: Record<string, unknown> | undefined;
  receivedAt: unknown;
}

/** Where a line that names no exchange or routing key goes (consume --emit's target). */
export interface EnvelopeDefaults {
  exchange: string;
  routingKey: string;
}

/** Parses and checks one NDJSON envelope line; errors name the line. */
function parseEnvelope(line: string, lineNumber: number, defaults?: EnvelopeDefaults): ParsedEnvelope {
  const fail = (problem: string, cause?: unknown) =>
    new DataError(`line ${lineNumber}: ${problem}`, { cause });
  let parsed: unknown;
  try {
    parsed = parseJson(line, 'line');
  } catch (error) {
    if (!(error instanceof JsonTextError)) throw error;
    const at = error.offset === undefined ? '' : ` at column ${error.offset + 1}`;
    throw fail(`invalid JSON${at}: ${error.problem}`, error);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw fail('expected a JSON object with at least a "body"');
  }
  const record = parsed as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!ENVELOPE_KEYS.has(key)) throw fail(`unknown field "${key}"`);
  }
  if (typeof record['body'] !== 'string') throw fail('"body" must be a string');
  const encoding = record['bodyEncoding'] ?? 'utf8';
  let body: Buffer;
  if (encoding === 'utf8') {
    const problem = unsendableText(record['body']);
    if (problem) throw fail(`"body" ${problem}`);
    body = Buffer.from(record['body'], 'utf8');
  } else if (encoding === 'base64') {
    if (!isBase64(record['body'])) throw fail('"body" is not valid base64');
    body = Buffer.from(record['body'], 'base64');
  } else throw fail(`"bodyEncoding" must be "utf8" or "base64", not ${JSON.stringify(encoding)}`);

  const exchange = optionalString(record, 'exchange', fail) ?? defaults?.exchange ?? '';
  const routingKey = optionalString(record, 'routingKey', fail) ?? defaults?.routingKey ?? '';
  if (Buffer.byteLength(routingKey) > 255) throw fail('"routingKey" is over 255 bytes');
  if (Buffer.byteLength(exchange) > 255) throw fail('"exchange" is over 255 bytes');
  const properties = checkProperties(record['properties'], fail);

  let headers: FieldTable | undefined;
  let encodedHeaders: Record<string, unknown> | undefined;
  const rawHeaders = record['headers'];
  if (rawHeaders !== undefined && rawHeaders !== null) {
    if (typeof rawHeaders !== 'object' || Array.isArray(rawHeaders))
      throw fail('"headers" must be an object');
    try {
      encodedHeaders = encodableHeaders(rawHeaders as Record<string, unknown>);
    } catch (error) {
      if (error instanceof FieldValueError) throw fail(error.message, error);
      throw error;
    }
    headers = rawHeaders as FieldTable;
  }
  let raw: { rawHeaders: Buffer; warning: string | undefined } | undefined;
  if (record['rawHeaders'] !== undefined && record['rawHeaders'] !== null) {
    if (headers) throw fail('give "headers" or "rawHeaders", not both');
    const bytes = rawTable(record['rawHeaders'], fail);
    const read = readHeaders(bytes);
    headers = read.headers;
    encodedHeaders = verbatimHeaders(bytes);
    if (read.warning) raw = { rawHeaders: bytes, warning: read.warning };
  }
  return {
    exchange,
    routingKey,
    redelivered: record['redelivered'] === true,
    properties,
    headers,
    ...raw,
    encodedHeaders,
    body,
    receivedAt: record['receivedAt'],
  };
}

/**
 * The text of an NDJSON line. JSON is UTF-8: bytes that are not would be read as U+FFFD and
 * sent so, silently, so the line is refused instead, naming where the bad bytes start.
 */
export function envelopeText(bytes: Buffer, lineNumber: number): string {
  const text = bytes.toString('utf8');
  // Decoding marks bad bytes with U+FFFD: only a line holding one needs the full check.
  if (!text.includes('\uFFFD') || isUtf8(bytes)) return text;
  // The first U+FFFD that is not a real one (EF BF BD) marks the bytes.
  let offset = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (char === '\uFFFD' && !bytes.subarray(offset, offset + 3).equals(REPLACEMENT_BYTES)) break;
    offset += size;
  }
  throw new DataError(
    `line ${lineNumber}: not valid UTF-8 (byte 0x${(bytes[offset] ?? 0).toString(16).padStart(2, '0')} at byte ${offset + 1}); NDJSON is UTF-8 text, give binary bodies in base64 ("bodyEncoding":"base64")`,
  );
}

const REPLACEMENT_BYTES = Buffer.from('\uFFFD');

/** The receivedAt of a line whose time was not asked for (or not given). */
const UNKNOWN_TIME = new Date(0);

/**
 * Parses one NDJSON envelope line into the message it records; errors name the line.
 * `receivedAt` is read only when `withTime` (publish ignores it, and parsing dates costs):
 * a time that is not one is left out.
 */
export function recordedFromEnvelopeLine(
  line: string,
  lineNumber: number,
  withTime: boolean,
  defaults?: EnvelopeDefaults,
): RecordedMessage {
  const parsed = parseEnvelope(line, lineNumber, defaults);
  let recordedAt: number | undefined;
  if (withTime && typeof parsed.receivedAt === 'string') {
    const time = Date.parse(parsed.receivedAt);
    if (!Number.isNaN(time)) recordedAt = time;
  }
  return {
    message: {
      exchange: parsed.exchange,
      routingKey: parsed.routingKey,
      redelivered: parsed.redelivered,
      properties: parsed.properties,
      headers: parsed.headers,
      ...(parsed.rawHeaders ? { rawHeaders: parsed.rawHeaders, warning: parsed.warning } : {}),
      body: parsed.body,
      receivedAt: recordedAt !== undefined ? new Date(recordedAt) : withTime ? new Date() : UNKNOWN_TIME,
    },
    encodedHeaders: parsed.encodedHeaders,
    recordedAt,
  };
}

/** What a recorded message becomes when published with the command line's overrides. */
/** A copy of recorded properties with those the command line sets in their place. */
export function overriddenProperties(
  recorded: MessageProperties,
  overrides: MessageProperties,
): MessageProperties {
  const properties: Record<string, unknown> = { ...recorded };
  for (const key in overrides) {
    const value = overrides[key as keyof MessageProperties];
    if (value !== undefined) properties[key] = value;
  }
  return properties as MessageProperties;
}

export function outgoingFromRecorded(
  message: Omit<ReceivedMessage, 'receivedAt'>,
  encodedHeaders: Record<string, unknown> | undefined,
  overrides: MessageOverrides,
): OutgoingMessage {
  const properties = overriddenProperties(message.properties, overrides.properties);
  const headers =
    Object.keys(overrides.headers).length > 0 ? { ...encodedHeaders, ...overrides.headers } : encodedHeaders;
  return {
    exchange: overrides.exchange ?? message.exchange,
    routingKey: overrides.routingKey ?? message.routingKey,
    body: message.body,
    properties,
    headers,
  };
}

/** Parses one NDJSON envelope line for publishing; errors name the line. */
export function messageFromEnvelopeLine(
  line: string,
  lineNumber: number,
  overrides: MessageOverrides,
): OutgoingMessage {
  const parsed = parseEnvelope(line, lineNumber);
  return outgoingFromRecorded(parsed, parsed.encodedHeaders, overrides);
}

/** The bytes of a line's "rawHeaders": base64 of a field table that fits in a message. */
function rawTable(value: unknown, fail: (problem: string) => Error): Buffer {
  if (typeof value !== 'string' || !isBase64(value)) throw fail('"rawHeaders" is not base64');
  const bytes = Buffer.from(value, 'base64');
  try {
    Array.from(fieldTableEntries(bytes));
  } catch (error) {
    if (error instanceof FieldValueError)
      throw fail(`"rawHeaders" is not an AMQP field table: ${error.message}`);
    throw error;
  }
  if (bytes.length + 4 > MAX_HEADERS_BYTES)
    throw fail(`"rawHeaders": ${bytes.length + 4} bytes, over the ${MAX_HEADERS_BYTES} a message may carry`);
  return bytes;
}

function optionalString(
  record: Record<string, unknown>,
  key: string,
  fail: (problem: string) => Error,
): string | undefined {
  const value = record[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw fail(`"${key}" must be a string`);
  const problem = unsendableText(value);
  if (problem) throw fail(`"${key}" ${problem}`);
  return value;
}

function checkProperties(value: unknown, fail: (problem: string) => Error): MessageProperties {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw fail('"properties" must be an object');
  const given = value as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!KNOWN_PROPERTIES.has(key)) {
      throw fail(`unknown property "${key}" (headers go in "headers")`);
    }
  }
  const properties: Record<string, unknown> = {};
  for (const [name, kind] of PROPERTY_KINDS) {
    const v = given[name];
    if (v === undefined || v === null) continue;
    const problem = propertyProblem(kind, v);
    if (problem) throw fail(`properties.${name} ${problem}`);
    properties[name] = v;
  }
  return properties as MessageProperties;
}

/** Why a property value cannot go on the wire, or undefined when it can. */
function propertyProblem(kind: PropertyKind, value: unknown): string | undefined {
  switch (kind) {
    case 'shortstr':
      if (typeof value !== 'string') return 'must be a string';
      if (Buffer.byteLength(value) > 255) return 'is over 255 bytes';
      return unsendableText(value);
    case 'octet':
      return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 255
        ? undefined
        : 'must be an integer from 0 to 255';
    case 'deliveryMode':
      // The broker closes the channel on any other value (delivery_mode_unknown).
      return value === 1 || value === 2 ? undefined : 'must be 1 (transient) or 2 (persistent)';
    case 'timestamp':
      return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
        ? undefined
        : 'must be a non-negative integer (seconds since the epoch)';
    case 'expiration':
      return typeof value === 'string' && /^\d{1,10}$/.test(value)
        ? undefined
        : 'must be a string of milliseconds, such as "60000"';
  }
}
