/**
 * What a handler's end does to its message (`decide`), how many tries a message already
 * had (`retriesOf`), and the environment a handler runs in (`handlerEnv`).
 */
import { describe, expect, it } from 'vitest';
import type { FieldTable } from '../../src/broker/fieldTable.js';
import type { ReceivedMessage } from '../../src/broker/message.js';
import { HANDLER_VARIABLES, handlerEnv } from '../../src/exec/handlerEnv.js';
import {
  type Action,
  decide,
  type FailurePolicy,
  HANDLER_EXIT,
  type HandlerExit,
  RETRY_HEADER,
  retriesOf,
} from '../../src/exec/outcome.js';

// ---------------------------------------------------------------------------------------
// decide, without --max-retries.

const exited = (code: number): HandlerExit => ({ kind: 'exited', code });

const WITHOUT_MAX: {
  name: string;
  exit: HandlerExit;
  onFailure: FailurePolicy;
  action: Action;
  reason: string;
  failed: boolean;
}[] = [
  {
    name: 'exit 0, requeue policy',
    exit: exited(0),
    onFailure: 'requeue',
    action: 'ack',
    reason: 'exit 0',
    failed: false,
  },
  {
    name: 'exit 0, reject policy',
    exit: exited(0),
    onFailure: 'reject',
    action: 'ack',
    reason: 'exit 0',
    failed: false,
  },
  {
    name: 'exit 1, requeue policy',
    exit: exited(1),
    onFailure: 'requeue',
    action: 'requeue',
    reason: 'exit 1',
    failed: true,
  },
  {
    name: 'exit 1, reject policy',
    exit: exited(1),
    onFailure: 'reject',
    action: 'reject',
    reason: 'exit 1',
    failed: true,
  },
  {
    name: 'exit 2, requeue policy',
    exit: exited(2),
    onFailure: 'requeue',
    action: 'requeue',
    reason: 'exit 2',
    failed: true,
  },
  {
    name: 'exit 127 (command not found), reject policy',
    exit: exited(127),
    onFailure: 'reject',
    action: 'reject',
    reason: 'exit 127',
    failed: true,
  },
  {
    name: 'exit 65, requeue policy: rejected anyway',
    exit: exited(65),
    onFailure: 'requeue',
    action: 'reject',
    reason: 'exit 65',
    failed: true,
  },
  {
    name: 'exit 65, reject policy',
    exit: exited(65),
    onFailure: 'reject',
    action: 'reject',
    reason: 'exit 65',
    failed: true,
  },
  {
    name: 'exit 75, reject policy: requeued anyway',
    exit: exited(75),
    onFailure: 'reject',
    action: 'requeue',
    reason: 'exit 75',
    failed: true,
  },
  {
    name: 'exit 75, requeue policy',
    exit: exited(75),
    onFailure: 'requeue',
    action: 'requeue',
    reason: 'exit 75',
    failed: true,
  },
  {
    name: 'killed by SIGKILL, requeue policy',
    exit: { kind: 'killed', signal: 'SIGKILL' },
    onFailure: 'requeue',
    action: 'requeue',
    reason: 'killed by SIGKILL',
    failed: true,
  },
  {
    name: 'killed by SIGSEGV, reject policy',
    exit: { kind: 'killed', signal: 'SIGSEGV' },
    onFailure: 'reject',
    action: 'reject',
    reason: 'killed by SIGSEGV',
    failed: true,
  },
  {
    name: 'timed out, requeue policy',
    exit: { kind: 'timedOut' },
    onFailure: 'requeue',
    action: 'requeue',
    reason: 'timed out',
    failed: true,
  },
  {
    name: 'timed out, reject policy',
    exit: { kind: 'timedOut' },
    onFailure: 'reject',
    action: 'reject',
    reason: 'timed out',
    failed: true,
  },
  {
    name: 'wrote more than a message holds, requeue policy',
    exit: { kind: 'tooMuchOutput', limitBytes: 128 * 1024 * 1024 },
    onFailure: 'requeue',
    action: 'requeue',
    reason: 'wrote over 128 MiB on stdout, more than a message may hold: killed',
    failed: true,
  },
  {
    name: 'succeeded, but an event was returned, reject policy',
    exit: { kind: 'emitFailed', why: "an event to 'x' with key 'k' was returned" },
    onFailure: 'reject',
    action: 'reject',
    reason: "succeeded, but an event to 'x' with key 'k' was returned",
    failed: true,
  },
  {
    name: 'did not start, requeue policy',
    exit: { kind: 'notStarted', error: 'spawn /bin/sh ENOENT' },
    onFailure: 'requeue',
    action: 'requeue',
    reason: 'did not start: spawn /bin/sh ENOENT',
    failed: true,
  },
  {
    name: 'did not start because of the message itself: rejected whatever the policy',
    exit: { kind: 'notStarted', error: 'E2BIG (too large)', unfit: true },
    onFailure: 'requeue',
    action: 'reject',
    reason: 'did not start: E2BIG (too large)',
    failed: true,
  },
  {
    name: 'did not start, reject policy',
    exit: { kind: 'notStarted', error: 'EMFILE' },
    onFailure: 'reject',
    action: 'reject',
    reason: 'did not start: EMFILE',
    failed: true,
  },
  {
    name: 'interrupted by the shutdown, requeue policy: requeued, not failed',
    exit: { kind: 'interrupted' },
    onFailure: 'requeue',
    action: 'requeue',
    reason: 'stopped by the shutdown',
    failed: false,
  },
  {
    name: 'interrupted by the shutdown, reject policy: requeued, not failed',
    exit: { kind: 'interrupted' },
    onFailure: 'reject',
    action: 'requeue',
    reason: 'stopped by the shutdown',
    failed: false,
  },
];

describe('decide: every way a handler ends, without --max-retries', () => {
  it.each(WITHOUT_MAX)('$name → $action', ({ exit, onFailure, action, reason, failed }) => {
    expect(decide(exit, { onFailure, maxRetries: undefined, retries: 0 })).toEqual({
      action,
      reason,
      failed,
    });
  });

  it('without --max-retries the count of earlier tries changes nothing', () => {
    for (const retries of [0, 1, 50]) {
      expect(decide(exited(1), { onFailure: 'requeue', maxRetries: undefined, retries }).action).toBe(
        'requeue',
      );
      expect(decide(exited(75), { onFailure: 'reject', maxRetries: undefined, retries }).action).toBe(
        'requeue',
      );
    }
  });

  it('the special exit codes are 65 (reject) and 75 (requeue)', () => {
    expect(HANDLER_EXIT).toEqual({ reject: 65, requeue: 75 });
  });
});

// ---------------------------------------------------------------------------------------
// decide, with --max-retries.

const WITH_MAX: {
  name: string;
  exit: HandlerExit;
  onFailure: FailurePolicy;
  maxRetries: number;
  retries: number;
  action: Action;
  reason: string;
  failed: boolean;
}[] = [
  {
    name: 'exit 1, 0 of 3 retries: a counted retry',
    exit: exited(1),
    onFailure: 'requeue',
    maxRetries: 3,
    retries: 0,
    action: 'retry',
    reason: 'exit 1',
    failed: true,
  },
  {
    name: 'exit 1, 2 of 3 retries: still a retry',
    exit: exited(1),
    onFailure: 'requeue',
    maxRetries: 3,
    retries: 2,
    action: 'retry',
    reason: 'exit 1',
    failed: true,
  },
  {
    name: 'exit 1, 3 of 3 retries: gives up',
    exit: exited(1),
    onFailure: 'requeue',
    maxRetries: 3,
    retries: 3,
    action: 'reject',
    reason: 'exit 1; gave up after 3 retries',
    failed: true,
  },
  {
    name: 'exit 1, 7 retries, more than the 3 allowed: gives up',
    exit: exited(1),
    onFailure: 'requeue',
    maxRetries: 3,
    retries: 7,
    action: 'reject',
    reason: 'exit 1; gave up after 7 retries',
    failed: true,
  },
  {
    name: 'exit 1, 1 of 1 retry: gives up, singular',
    exit: exited(1),
    onFailure: 'requeue',
    maxRetries: 1,
    retries: 1,
    action: 'reject',
    reason: 'exit 1; gave up after 1 retry',
    failed: true,
  },
  {
    name: '--max-retries 0: rejected at the first failure',
    exit: exited(1),
    onFailure: 'requeue',
    maxRetries: 0,
    retries: 0,
    action: 'reject',
    reason: 'exit 1; gave up after 0 retries',
    failed: true,
  },
  {
    name: 'exit 1, reject policy: rejected, no retry and no giving up',
    exit: exited(1),
    onFailure: 'reject',
    maxRetries: 3,
    retries: 0,
    action: 'reject',
    reason: 'exit 1',
    failed: true,
  },
  {
    name: 'exit 65 with retries left: rejected at once',
    exit: exited(65),
    onFailure: 'requeue',
    maxRetries: 3,
    retries: 0,
    action: 'reject',
    reason: 'exit 65',
    failed: true,
  },
  {
    name: 'exit 75, reject policy, retries left: a counted retry',
    exit: exited(75),
    onFailure: 'reject',
    maxRetries: 3,
    retries: 1,
    action: 'retry',
    reason: 'exit 75',
    failed: true,
  },
  {
    name: 'exit 75 with the retries used up: rejected',
    exit: exited(75),
    onFailure: 'requeue',
    maxRetries: 2,
    retries: 2,
    action: 'reject',
    reason: 'exit 75; gave up after 2 retries',
    failed: true,
  },
  {
    name: 'exit 75, reject policy, retries used up: rejected',
    exit: exited(75),
    onFailure: 'reject',
    maxRetries: 0,
    retries: 0,
    action: 'reject',
    reason: 'exit 75; gave up after 0 retries',
    failed: true,
  },
  {
    name: 'timed out with retries left: a retry',
    exit: { kind: 'timedOut' },
    onFailure: 'requeue',
    maxRetries: 5,
    retries: 4,
    action: 'retry',
    reason: 'timed out',
    failed: true,
  },
  {
    name: 'killed with the retries used up: rejected',
    exit: { kind: 'killed', signal: 'SIGKILL' },
    onFailure: 'requeue',
    maxRetries: 5,
    retries: 5,
    action: 'reject',
    reason: 'killed by SIGKILL; gave up after 5 retries',
    failed: true,
  },
  {
    name: 'did not start with retries left: a retry',
    exit: { kind: 'notStarted', error: 'EAGAIN' },
    onFailure: 'requeue',
    maxRetries: 2,
    retries: 0,
    action: 'retry',
    reason: 'did not start: EAGAIN',
    failed: true,
  },
  {
    name: 'exit 0 with the retries used up: acked',
    exit: exited(0),
    onFailure: 'requeue',
    maxRetries: 1,
    retries: 9,
    action: 'ack',
    reason: 'exit 0',
    failed: false,
  },
  {
    name: 'interrupted with the retries used up: requeued uncounted, not failed',
    exit: { kind: 'interrupted' },
    onFailure: 'requeue',
    maxRetries: 0,
    retries: 3,
    action: 'requeue',
    reason: 'stopped by the shutdown',
    failed: false,
  },
];

describe('decide: with --max-retries', () => {
  it.each(WITH_MAX)('$name → $action', ({ exit, onFailure, maxRetries, retries, action, reason, failed }) => {
    expect(decide(exit, { onFailure, maxRetries, retries })).toEqual({ action, reason, failed });
  });

  it('retries while retries < max, then rejects once retries >= max', () => {
    const max = 4;
    const actions = Array.from(
      { length: 7 },
      (_, retries) => decide(exited(3), { onFailure: 'requeue', maxRetries: max, retries }).action,
    );
    expect(actions).toEqual(['retry', 'retry', 'retry', 'retry', 'reject', 'reject', 'reject']);
  });
});

// ---------------------------------------------------------------------------------------
// decide, with --retry-delay: another try is always counted (it waits in a retry queue).

const DELAYED: {
  name: string;
  exit: HandlerExit;
  onFailure: FailurePolicy;
  maxRetries: number | undefined;
  retries: number;
  action: Action;
  failed: boolean;
}[] = [
  {
    name: 'exit 3, requeue policy, no --max-retries: a counted retry, not a requeue',
    exit: exited(3),
    onFailure: 'requeue',
    maxRetries: undefined,
    retries: 40,
    action: 'retry',
    failed: true,
  },
  {
    name: 'exit 75, reject policy, no --max-retries: a counted retry',
    exit: exited(HANDLER_EXIT.requeue),
    onFailure: 'reject',
    maxRetries: undefined,
    retries: 0,
    action: 'retry',
    failed: true,
  },
  {
    name: 'exit 3, reject policy: rejected, not retried',
    exit: exited(3),
    onFailure: 'reject',
    maxRetries: undefined,
    retries: 0,
    action: 'reject',
    failed: true,
  },
  {
    name: 'exit 3 with the retries used up: rejected',
    exit: exited(3),
    onFailure: 'requeue',
    maxRetries: 2,
    retries: 2,
    action: 'reject',
    failed: true,
  },
  {
    name: 'interrupted by the shutdown: requeued uncounted, not failed',
    exit: { kind: 'interrupted' },
    onFailure: 'requeue',
    maxRetries: undefined,
    retries: 0,
    action: 'requeue',
    failed: false,
  },
];

describe('decide: with --retry-delay', () => {
  it.each(DELAYED)('$name → $action', ({ exit, onFailure, maxRetries, retries, action, failed }) => {
    expect(decide(exit, { onFailure, maxRetries, retries, delayed: true })).toMatchObject({ action, failed });
  });
});

// ---------------------------------------------------------------------------------------
// retriesOf.

const RETRIES: { name: string; headers: FieldTable | undefined; retries: number }[] = [
  { name: 'no headers', headers: undefined, retries: 0 },
  { name: 'empty headers', headers: {}, retries: 0 },
  { name: 'other headers only', headers: { 'x-tenant': 'acme', 'x-attempt': 9 }, retries: 0 },
  { name: 'x-delivery-count, plain number', headers: { 'x-delivery-count': 2 }, retries: 2 },
  {
    name: 'x-delivery-count, typed int64',
    headers: { 'x-delivery-count': { '!': 'int64', value: 3 } },
    retries: 3,
  },
  {
    name: 'x-delivery-count, typed int64 with a string value',
    headers: { 'x-delivery-count': { '!': 'int64', value: '12' } },
    retries: 12,
  },
  {
    name: 'x-delivery-count, typed int32',
    headers: { 'x-delivery-count': { '!': 'int32', value: 4 } },
    retries: 4,
  },
  { name: 'x-delivery-count, a numeric string', headers: { 'x-delivery-count': '5' }, retries: 5 },
  { name: 'x-warren-retries, plain number', headers: { [RETRY_HEADER]: 1 }, retries: 1 },
  {
    name: 'x-warren-retries, typed int64',
    headers: { 'x-warren-retries': { '!': 'int64', value: 3 } },
    retries: 3,
  },
  {
    name: 'x-warren-retries, typed int32',
    headers: { 'x-warren-retries': { '!': 'int32', value: 6 } },
    retries: 6,
  },
  { name: 'x-warren-retries, a numeric string', headers: { 'x-warren-retries': '7' }, retries: 7 },
  {
    name: 'both: the larger (x-delivery-count)',
    headers: { 'x-delivery-count': { '!': 'int64', value: 8 }, 'x-warren-retries': 2 },
    retries: 8,
  },
  {
    name: 'both: the larger (x-warren-retries)',
    headers: { 'x-delivery-count': 1, 'x-warren-retries': { '!': 'int32', value: 4 } },
    retries: 4,
  },
  { name: 'zero', headers: { 'x-delivery-count': 0, 'x-warren-retries': '0' }, retries: 0 },
  { name: 'a non-numeric string counts as 0', headers: { 'x-warren-retries': 'three' }, retries: 0 },
  {
    name: 'a typed value that is not a number counts as 0',
    headers: { 'x-warren-retries': { '!': 'int64', value: 'x' } },
    retries: 0,
  },
  { name: 'a boolean counts as 0', headers: { 'x-warren-retries': true }, retries: 0 },
];

describe('retriesOf', () => {
  it.each(RETRIES)('$name → $retries', ({ headers, retries }) => {
    expect(retriesOf(headers)).toBe(retries);
  });

  it('counts in x-warren-retries', () => {
    expect(RETRY_HEADER).toBe('x-warren-retries');
  });
});

// ---------------------------------------------------------------------------------------
// handlerEnv.

const FULL: ReceivedMessage = {
  exchange: 'orders',
  routingKey: 'order.created',
  redelivered: true,
  properties: {
    contentType: 'application/json',
    contentEncoding: 'gzip',
    deliveryMode: 2,
    priority: 0,
    correlationId: 'c-1',
    replyTo: 'amq.rabbitmq.reply-to.abc',
    expiration: '30000',
    messageId: 'm-1',
    timestamp: 1795770000,
    type: 'order',
    userId: 'guest',
    appId: 'shop',
  },
  headers: {
    'x-tenant': 'acme',
    'x-n': { '!': 'int64', value: 5 },
    'x-ok': true,
    'x-list': [1, 'a'],
  },
  body: Buffer.from('{"id":42}'),
  receivedAt: new Date('2026-11-27T09:00:00Z'),
};

const BARE: ReceivedMessage = {
  exchange: '',
  routingKey: 'q',
  redelivered: false,
  properties: {},
  headers: undefined,
  body: Buffer.alloc(0),
  receivedAt: new Date('2026-11-27T09:00:00Z'),
};

describe('handlerEnv', () => {
  it('sets every variable for a full message, and keeps the inherited environment', () => {
    const env = handlerEnv(FULL, 'orders.created', 2, { PATH: '/usr/bin:/bin', HOME: '/root' });
    expect(env).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/root',
      WARREN_QUEUE: 'orders.created',
      WARREN_EXCHANGE: 'orders',
      WARREN_ROUTING_KEY: 'order.created',
      WARREN_REDELIVERED: 'true',
      WARREN_RETRIES: '2',
      WARREN_MESSAGE_ID: 'm-1',
      WARREN_CORRELATION_ID: 'c-1',
      WARREN_REPLY_TO: 'amq.rabbitmq.reply-to.abc',
      WARREN_CONTENT_TYPE: 'application/json',
      WARREN_CONTENT_ENCODING: 'gzip',
      WARREN_TYPE: 'order',
      WARREN_APP_ID: 'shop',
      WARREN_USER_ID: 'guest',
      WARREN_TIMESTAMP: '1795770000',
      WARREN_PRIORITY: '0',
      WARREN_EXPIRATION: '30000',
      WARREN_DELIVERY_MODE: '2',
      WARREN_HEADERS: '{"x-tenant":"acme","x-n":{"!":"int64","value":5},"x-ok":true,"x-list":[1,"a"]}',
      WARREN_PROPERTIES: JSON.stringify(FULL.properties),
    });
    // Every variable warren names is set for a full message (raw headers only come with a poison one).
    for (const name of HANDLER_VARIABLES)
      if (name !== 'WARREN_HEADERS_RAW') expect(env[name], name).toBeTypeOf('string');
    expect(JSON.parse(env['WARREN_PROPERTIES'] as string)).toEqual(FULL.properties);
  });

  it('headers warren could not decode whole come raw in WARREN_HEADERS_RAW, beside those it could', () => {
    const raw = Buffer.from('0161530000000178', 'hex');
    const env = handlerEnv({ ...FULL, headers: { a: 'x' }, rawHeaders: raw, warning: 'w' }, 'q', 0, {});
    expect(env['WARREN_HEADERS_RAW']).toBe(raw.toString('base64'));
    expect(env['WARREN_HEADERS']).toBe('{"a":"x"}');
  });

  it('headers come in the typed form', () => {
    const env = handlerEnv(FULL, 'q', 0, {});
    expect(JSON.parse(env['WARREN_HEADERS'] as string)).toEqual(FULL.headers);
  });

  it('leaves a property the message lacks unset (not empty); no headers is {}', () => {
    const env = handlerEnv(BARE, 'q', 0, {});
    expect(env).toEqual({
      WARREN_QUEUE: 'q',
      WARREN_EXCHANGE: '',
      WARREN_ROUTING_KEY: 'q',
      WARREN_REDELIVERED: 'false',
      WARREN_RETRIES: '0',
      WARREN_HEADERS: '{}',
      WARREN_PROPERTIES: '{}',
    });
    for (const name of [
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
    ]) {
      expect(Object.hasOwn(env, name), name).toBe(false);
    }
  });

  it('removes inherited WARREN_* variables of its own names, keeps every other variable', () => {
    const inherited: NodeJS.ProcessEnv = {
      PATH: '/usr/local/bin:/usr/bin',
      WARREN_URL: 'amqp://guest:guest@broker:5672/',
      WARREN_TEST_SETTING: 'kept',
      AMQP_URL: 'amqp://other/',
      WARREN_MESSAGE_ID: 'stale-id',
      WARREN_REPLY_TO: 'stale-reply',
      WARREN_QUEUE: 'stale-queue',
      WARREN_HEADERS: '{"stale":true}',
      WARREN_PRIORITY: '9',
    };
    const copy = { ...inherited };
    const env = handlerEnv(BARE, 'q', 1, inherited);
    expect(env['PATH']).toBe('/usr/local/bin:/usr/bin');
    expect(env['WARREN_URL']).toBe('amqp://guest:guest@broker:5672/');
    expect(env['WARREN_TEST_SETTING']).toBe('kept');
    expect(env['AMQP_URL']).toBe('amqp://other/');
    expect(env['WARREN_QUEUE']).toBe('q');
    expect(env['WARREN_HEADERS']).toBe('{}');
    expect(env['WARREN_RETRIES']).toBe('1');
    for (const name of ['WARREN_MESSAGE_ID', 'WARREN_REPLY_TO', 'WARREN_PRIORITY']) {
      expect(Object.hasOwn(env, name), name).toBe(false);
    }
    // The inherited environment itself is left as it was.
    expect(inherited).toEqual(copy);
  });

  it('booleans are the words true and false', () => {
    expect(handlerEnv({ ...BARE, redelivered: true }, 'q', 0, {})['WARREN_REDELIVERED']).toBe('true');
    expect(handlerEnv({ ...BARE, redelivered: false }, 'q', 0, {})['WARREN_REDELIVERED']).toBe('false');
    const headers = JSON.parse(
      handlerEnv({ ...BARE, headers: { a: true, b: false } }, 'q', 0, {})['WARREN_HEADERS'] as string,
    );
    expect(headers).toEqual({ a: true, b: false });
  });

  it('an empty string property is set (it is present), not left out', () => {
    const env = handlerEnv({ ...BARE, properties: { correlationId: '' } }, 'q', 0, {});
    expect(env['WARREN_CORRELATION_ID']).toBe('');
  });
});
