/**
 * warren events' record: an event message (fields in headers, empty body) as plain JSON with
 * camelCase names, the time first, and the plugin's Erlang texts read back.
 */
import { describe, expect, it } from 'vitest';
import type { FieldTable } from '../../src/broker/fieldTable.js';
import type { ReceivedMessage } from '../../src/broker/message.js';
import { eventNdjson, eventPretty } from '../../src/events/format.js';
import { eventRecord } from '../../src/events/record.js';
import { PLAIN } from '../../src/ui/colour.js';

function event(routingKey: string, headers: FieldTable, timestamp?: number): ReceivedMessage {
  return {
    exchange: 'amq.rabbitmq.event',
    routingKey,
    redelivered: false,
    properties: timestamp === undefined ? { deliveryMode: 2 } : { deliveryMode: 2, timestamp },
    headers,
    body: Buffer.alloc(0),
    receivedAt: new Date('2026-12-05T10:00:00.000Z'),
  };
}

describe('eventRecord', () => {
  it('puts event, time, vhost and name first, the other fields camelCased in their order', () => {
    const record = eventRecord(
      event('queue.created', {
        user_who_performed_action: 'guest',
        exclusive: false,
        arguments: ['{<<"x-expires">>,signedint,600000}', '{<<"x-queue-type">>,longstr,<<"quorum">>}'],
        auto_delete: false,
        durable: true,
        name: 'orders',
        vhost: '/',
        timestamp_in_ms: 1796463727572,
      }),
    );
    expect(JSON.stringify(record)).toBe(
      JSON.stringify({
        event: 'queue.created',
        time: '2026-12-05T09:42:07.572Z',
        vhost: '/',
        name: 'orders',
        userWhoPerformedAction: 'guest',
        exclusive: false,
        arguments: { 'x-expires': 600000, 'x-queue-type': 'quorum' },
        autoDelete: false,
        durable: true,
      }),
    );
  });

  it('writes typed integers as numbers (text beyond 2^53) and timestamps as ISO text', () => {
    const record = eventRecord(
      event('consumer.created', {
        prefetch_count: { '!': 'int64', value: 1000 },
        huge: { '!': 'int64', value: '9007199254740993' },
        at: { '!': 'timestamp', value: 1796463727 },
        arguments: [],
      }),
    );
    expect(record).toMatchObject({
      prefetchCount: 1000,
      huge: '9007199254740993',
      at: '2026-12-05T09:42:07.000Z',
      arguments: {},
    });
  });

  it('reads a list of character codes as its text, and Erlang address tuples as addresses', () => {
    const error = [..."user 'guest' - invalid credentials"].map((c) => ({
      '!': 'int64',
      value: c.charCodeAt(0),
    }));
    const record = eventRecord(
      event('user.authentication.failure', {
        error,
        peer_host: '{127,0,0,1}',
        host: '{0,0,0,0,0,0,0,1}',
        protocol: '{0,9,1}',
      }),
    );
    expect(record).toMatchObject({
      error: "user 'guest' - invalid credentials",
      peerHost: '127.0.0.1',
      host: '0:0:0:0:0:0:0:1',
      protocol: '{0,9,1}',
    });
  });

  it('reads printed client properties, nested tables included; keeps text it cannot read', () => {
    const record = eventRecord(
      event('connection.created', {
        client_properties: [
          '{<<"connection_name">>,longstr,<<"warren \\"x\\" tail">>}',
          '{<<"capabilities">>,table,[{<<"basic.nack">>,bool,true},{<<"x">>,void,undefined}]}',
          '{<<"name">>,longstr,<<"caf",195,169>>}',
          '{<<"list">>,array,[{long,1},{longstr,<<"a">>}]}',
        ],
        odd: ['{not a term'],
      }),
    );
    expect(record['clientProperties']).toEqual({
      connection_name: 'warren "x" tail',
      capabilities: { 'basic.nack': true, x: null },
      name: 'café',
      list: [1, 'a'],
    });
    expect(record['odd']).toEqual(['{not a term']);
  });

  it.each([
    ['a UTF-8 binary', '{<<"k">>,longstr,<<"café"/utf8>>}', { k: 'café' }],
    ['an empty binary', '{<<"k">>,longstr,<<>>}', { k: '' }],
    ['a negative and a float', '{<<"k">>,array,[{long,-3},{double,1.5e3}]}', { k: [-3, 1500] }],
    ['a quoted atom', '{<<"k">>,longstr,\'odd atom\'}', { k: 'odd atom' }],
    ['a charlist value', '{<<"k">>,longstr,"text"}', { k: 'text' }],
    ['a table in a table', '{<<"a">>,table,[{<<"b">>,table,[{<<"c">>,long,1}]}]}', { a: { b: { c: 1 } } }],
  ])('reads %s in a printed table', (_what, printed, table) => {
    expect(eventRecord(event('a.b', { arguments: [printed] }))['arguments']).toEqual(table);
  });

  it.each([
    ['a term cut short', '{<<"k">>,long,1'],
    ['text after the term', '{<<"k">>,long,1} and more'],
    ['a tuple that is no entry', '{k,long,1}'],
    ['a byte over 255', '{<<"k">>,longstr,<<300>>}'],
  ])('keeps the list as it came for %s', (_what, printed) => {
    expect(eventRecord(event('a.b', { arguments: [printed] }))['arguments']).toEqual([printed]);
  });

  it('keeps the broker name of a field whose camelCase name is taken, and never loses one', () => {
    const record = eventRecord(event('x.y', { a_b: 1, aB: 2, time: 3, event: 4 }));
    expect(record).toMatchObject({ event: 'x.y', aB: 1, aB_: 2, time_: 3, event_: 4 });
    expect(typeof record.time).toBe('string');
  });

  it('takes the time from the timestamp property, else from when warren received it', () => {
    expect(eventRecord(event('a.b', {}, 1796463727)).time).toBe('2026-12-05T09:42:07.000Z');
    expect(eventRecord(event('a.b', {})).time).toBe('2026-12-05T10:00:00.000Z');
  });

  it('a header named __proto__ is a field, not a prototype', () => {
    const record = eventRecord(event('a.b', JSON.parse('{"__proto__":{"x":1}}') as FieldTable));
    expect(Object.hasOwn(record, '__proto__')).toBe(true);
    expect(eventNdjson(record)).toBe(
      '{"event":"a.b","time":"2026-12-05T10:00:00.000Z","__proto__":{"x":1}}\n',
    );
  });
});

describe('event output', () => {
  it('NDJSON is one line per event', () => {
    const line = eventNdjson(eventRecord(event('queue.deleted', { name: 'q\nx', vhost: '/' })));
    expect(line.endsWith('\n')).toBe(true);
    expect(line.split('\n')).toHaveLength(2);
  });

  it('pretty shows the event and its name, then non-empty fields wrapped, control characters escaped', () => {
    const pretty = eventPretty(PLAIN, { isTTY: true, columns: 40 });
    const text = pretty(
      eventRecord(
        event('queue.created', {
          name: 'or\u001bders',
          vhost: '/',
          owner_pid: '',
          durable: true,
          user_who_performed_action: 'guest',
          timestamp_in_ms: 1796463727572,
        }),
      ),
    );
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.572 {2}queue\.created {2}or\\x1bders$/);
    expect(text).not.toContain('ownerPid');
    expect(text).toContain('  vhost=/  durable=true\n  userWhoPerformedAction=guest\n');
    expect(text.endsWith('\n')).toBe(true);
  });
});
