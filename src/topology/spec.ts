/**
 * Exchanges, queues and bindings as plain data, from command-line flags or a topology file.
 * Named queue options (messageTtl, deadLetterExchange…) become RabbitMQ's x-arguments here,
 * so the broker session only ever sees names, flags and an arguments table.
 */

import type { BindingSpec, ExchangeSpec, QueueSpec } from '../broker/declarations.js';
import { FieldValueError, setField } from '../broker/fieldTable.js';
import { encodableFromTyped } from '../broker/fieldTableEncode.js';
import { unsendableText } from '../broker/wireText.js';
import { parseDuration } from '../duration.js';
import { DataError, UsageError } from '../errors.js';
import { JsonTextError, lineAndColumn, parseJson } from '../json.js';

export type { BindingSpec, ExchangeSpec, QueueSpec } from '../broker/declarations.js';

export interface Topology {
  exchanges: ExchangeSpec[];
  queues: QueueSpec[];
  bindings: BindingSpec[];
}

export const QUEUE_TYPES = ['classic', 'quorum', 'stream'] as const;
export const OVERFLOW_MODES = ['drop-head', 'reject-publish', 'reject-publish-dlx'] as const;

/** The named queue options and the x-argument each one sets. */
export const QUEUE_ARGUMENTS = {
  deadLetterExchange: 'x-dead-letter-exchange',
  deadLetterRoutingKey: 'x-dead-letter-routing-key',
  messageTtl: 'x-message-ttl',
  expires: 'x-expires',
  maxLength: 'x-max-length',
  maxLengthBytes: 'x-max-length-bytes',
  overflow: 'x-overflow',
  maxPriority: 'x-max-priority',
  deliveryLimit: 'x-delivery-limit',
  singleActiveConsumer: 'x-single-active-consumer',
  maxAge: 'x-max-age',
} as const;

export type QueueOptionName = keyof typeof QUEUE_ARGUMENTS;
export type QueueOptions = Partial<Record<QueueOptionName, string | number | boolean>>;

/** The arguments table of a queue: its named options, its type, then any raw arguments. */
export function queueArguments(
  type: string | undefined,
  options: QueueOptions,
  raw: Record<string, unknown>,
): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  if (type !== undefined) args['x-queue-type'] = type;
  for (const [name, argument] of Object.entries(QUEUE_ARGUMENTS)) {
    const value = options[name as QueueOptionName];
    if (value !== undefined) args[argument] = value;
  }
  for (const [key, value] of Object.entries(raw)) setField(args, key, value);
  return args;
}

// ---------------------------------------------------------------------------------------
// Topology files.

export type Fail = (path: string, problem: string) => Error;

const dataFail: Fail = (path, problem) => new DataError(`${path}: ${problem}`);

export function expectObject(value: unknown, path: string, fail: Fail): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw fail(path, 'must be an object');
  return value as Record<string, unknown>;
}

export function checkKeys(
  record: Record<string, unknown>,
  allowed: readonly string[],
  path: string,
  fail: Fail,
): void {
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) throw fail(`${path}.${key}`, `unknown key (known: ${allowed.join(', ')})`);
  }
}

export function stringField(
  record: Record<string, unknown>,
  key: string,
  path: string,
  fail: Fail,
  fallback?: string,
): string {
  const value = record[key];
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string')
    throw fail(`${path}.${key}`, fallback === undefined ? 'is required, a string' : 'must be a string');
  if (Buffer.byteLength(value) > 255) throw fail(`${path}.${key}`, 'is over 255 bytes');
  const unsendable = unsendableText(value);
  if (unsendable) throw fail(`${path}.${key}`, unsendable);
  return value;
}

export function booleanField(
  record: Record<string, unknown>,
  key: string,
  path: string,
  fail: Fail,
  fallback: boolean,
): boolean {
  const value = record[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw fail(`${path}.${key}`, 'must be true or false');
  return value;
}

function argumentsField(record: Record<string, unknown>, path: string, fail: Fail): Record<string, unknown> {
  const value = record['arguments'];
  if (value === undefined) return {};
  const table = expectObject(value, `${path}.arguments`, fail);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(table)) {
    try {
      setField(out, key, encodableFromTyped(table[key], `${path}.arguments.${key}`));
    } catch (error) {
      if (error instanceof FieldValueError)
        throw fail(`${path}.arguments.${key}`, error.message.replace(/^[^:]*: /, ''));
      throw error;
    }
  }
  return out;
}

export function wholeNumber(
  value: unknown,
  path: string,
  fail: Fail,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw fail(path, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

export function milliseconds(value: unknown, path: string, fail: Fail): number {
  if (typeof value === 'number') return wholeNumber(value, path, fail);
  if (typeof value === 'string') {
    try {
      return parseDuration(value);
    } catch {
      throw fail(path, `'${value}' is not a duration (500ms, 10s, 5m, 1h) or a number of milliseconds`);
    }
  }
  throw fail(path, 'must be a duration such as "30s", or a number of milliseconds');
}

const EXCHANGE_KEYS = ['name', 'type', 'durable', 'autoDelete', 'internal', 'alternateExchange', 'arguments'];
const QUEUE_KEYS = [
  'name',
  'type',
  'durable',
  'exclusive',
  'autoDelete',
  'arguments',
  ...Object.keys(QUEUE_ARGUMENTS),
];
const BINDING_KEYS = ['source', 'queue', 'exchange', 'key', 'arguments'];

export function exchangeFromFile(value: unknown, path: string, fail: Fail = dataFail): ExchangeSpec {
  const record = expectObject(value, path, fail);
  checkKeys(record, EXCHANGE_KEYS, path, fail);
  const args = argumentsField(record, path, fail);
  if (record['alternateExchange'] !== undefined) {
    args['alternate-exchange'] = stringField(record, 'alternateExchange', path, fail);
  }
  return {
    name: stringField(record, 'name', path, fail),
    type: stringField(record, 'type', path, fail, 'direct'),
    durable: booleanField(record, 'durable', path, fail, true),
    autoDelete: booleanField(record, 'autoDelete', path, fail, false),
    internal: booleanField(record, 'internal', path, fail, false),
    arguments: args,
  };
}

export function queueFromFile(value: unknown, path: string, fail: Fail = dataFail): QueueSpec {
  const record = expectObject(value, path, fail);
  checkKeys(record, QUEUE_KEYS, path, fail);
  const type = record['type'] === undefined ? undefined : stringField(record, 'type', path, fail);
  if (type !== undefined && !(QUEUE_TYPES as readonly string[]).includes(type)) {
    throw fail(`${path}.type`, `'${type}' is not a queue type (${QUEUE_TYPES.join(', ')})`);
  }
  const options: QueueOptions = {};
  const at = (key: string) => `${path}.${key}`;
  if (record['deadLetterExchange'] !== undefined)
    options.deadLetterExchange = stringField(record, 'deadLetterExchange', path, fail);
  if (record['deadLetterRoutingKey'] !== undefined)
    options.deadLetterRoutingKey = stringField(record, 'deadLetterRoutingKey', path, fail);
  if (record['messageTtl'] !== undefined)
    options.messageTtl = milliseconds(record['messageTtl'], at('messageTtl'), fail);
  if (record['expires'] !== undefined) {
    options.expires = milliseconds(record['expires'], at('expires'), fail);
    if (options.expires === 0) throw fail(at('expires'), 'must be more than 0');
  }
  if (record['maxLength'] !== undefined)
    options.maxLength = wholeNumber(record['maxLength'], at('maxLength'), fail);
  if (record['maxLengthBytes'] !== undefined)
    options.maxLengthBytes = wholeNumber(record['maxLengthBytes'], at('maxLengthBytes'), fail);
  if (record['overflow'] !== undefined) {
    const overflow = stringField(record, 'overflow', path, fail);
    if (!(OVERFLOW_MODES as readonly string[]).includes(overflow)) {
      throw fail(at('overflow'), `'${overflow}' is not one of ${OVERFLOW_MODES.join(', ')}`);
    }
    options.overflow = overflow;
  }
  if (record['maxPriority'] !== undefined)
    options.maxPriority = wholeNumber(record['maxPriority'], at('maxPriority'), fail, 1, 255);
  if (record['deliveryLimit'] !== undefined)
    options.deliveryLimit = wholeNumber(record['deliveryLimit'], at('deliveryLimit'), fail);
  if (record['singleActiveConsumer'] !== undefined) {
    options.singleActiveConsumer = booleanField(record, 'singleActiveConsumer', path, fail, false);
  }
  if (record['maxAge'] !== undefined) {
    if (type !== 'stream') throw fail(at('maxAge'), 'applies to streams only (type "stream")');
    options.maxAge = maxAge(stringField(record, 'maxAge', path, fail), at('maxAge'), fail);
  }
  return {
    name: stringField(record, 'name', path, fail),
    type,
    durable: booleanField(record, 'durable', path, fail, true),
    exclusive: booleanField(record, 'exclusive', path, fail, false),
    autoDelete: booleanField(record, 'autoDelete', path, fail, false),
    arguments: queueArguments(type, options, argumentsField(record, path, fail)),
  };
}

/** RabbitMQ's stream retention: a number and one of Y, M, D, h, m, s. */
export function maxAge(
  value: string,
  path: string,
  fail: Fail = (p, problem) => new UsageError(`${p}: ${problem}`),
): string {
  if (!/^\d+(Y|M|D|h|m|s)$/.test(value))
    throw fail(path, `'${value}' is not an age such as 7D, 12h, 30m (units Y M D h m s)`);
  return value;
}

export function bindingFromFile(value: unknown, path: string, fail: Fail = dataFail): BindingSpec {
  const record = expectObject(value, path, fail);
  checkKeys(record, BINDING_KEYS, path, fail);
  const hasQueue = record['queue'] !== undefined;
  const hasExchange = record['exchange'] !== undefined;
  if (hasQueue === hasExchange) throw fail(path, 'needs exactly one of "queue" or "exchange"');
  return {
    source: stringField(record, 'source', path, fail),
    destination: hasQueue
      ? { queue: stringField(record, 'queue', path, fail) }
      : { exchange: stringField(record, 'exchange', path, fail) },
    key: stringField(record, 'key', path, fail, ''),
    arguments: argumentsField(record, path, fail),
  };
}

/** A JSON file's text as a value; text that is not JSON is an error naming the line (exit 65). */
export function parseJsonFile(text: string, file: string): unknown {
  try {
    return parseJson(text);
  } catch (error) {
    if (!(error instanceof JsonTextError)) throw error;
    const at = error.offset === undefined ? '' : ` at ${lineAndColumn(text, error.offset)}`;
    throw new DataError(`${file}: invalid JSON${at}: ${error.problem}`, { cause: error });
  }
}

/** Parses a topology file's text; errors name the JSON path (exit 65). */
export function parseTopology(text: string, file: string): Topology {
  const parsed = parseJsonFile(text, file);
  const fail: Fail = (path, problem) => new DataError(`${file}: ${path}: ${problem}`);
  const root = expectObject(parsed, '(top level)', fail);
  checkKeys(root, ['$schema', 'exchanges', 'queues', 'bindings'], '(top level)', fail);
  const list = (key: string): unknown[] => {
    const value = root[key];
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw fail(key, 'must be an array');
    return value;
  };
  return {
    exchanges: list('exchanges').map((e, i) => exchangeFromFile(e, `exchanges[${i}]`, fail)),
    queues: list('queues').map((q, i) => queueFromFile(q, `queues[${i}]`, fail)),
    bindings: list('bindings').map((b, i) => bindingFromFile(b, `bindings[${i}]`, fail)),
  };
}
