import { describe, expect, it } from 'vitest';
import {
  bindingRecord,
  connectionRecord,
  consumerRecord,
  fieldsOf,
  KINDS,
  queueRecord,
  vhostRecord,
} from '../../src/inventory/records.js';

describe('inventory records: the API JSON as camelCase records', () => {
  it('a queue with statistics', () => {
    const item = {
      name: 'orders',
      vhost: '/',
      type: 'quorum',
      durable: true,
      auto_delete: false,
      exclusive: false,
      arguments: { 'x-queue-type': 'quorum' },
      state: 'running',
      messages: 12,
      messages_ready: 10,
      messages_unacknowledged: 2,
      consumers: 1,
      consumer_utilisation: 0.5,
      message_stats: { publish_details: { rate: 3.5 }, deliver_get_details: { rate: 1.25 } },
      memory: 14_000,
      leader: 'rabbit@a',
      idle_since: '2026-12-05 10:01:02',
    };
    expect(queueRecord(item)).toEqual({
      name: 'orders',
      vhost: '/',
      type: 'quorum',
      durable: true,
      autoDelete: false,
      exclusive: false,
      arguments: { 'x-queue-type': 'quorum' },
      state: 'running',
      messages: 12,
      messagesReady: 10,
      messagesUnacknowledged: 2,
      consumers: 1,
      consumerUtilisation: 0.5,
      publishRate: 3.5,
      deliverRate: 1.25,
      memory: 14_000,
      node: 'rabbit@a',
      policy: null,
      idleSince: '2026-12-05T10:01:02.000Z',
    });
  });

  it('what the API has not collected yet is null, never missing; every kind has its fields in order', () => {
    const bare = queueRecord({ name: 'q', vhost: '/' });
    expect(Object.keys(bare)).toEqual(fieldsOf('queues'));
    expect(bare).toMatchObject({ type: 'classic', messages: null, publishRate: null, arguments: {} });
    for (const kind of KINDS) expect(fieldsOf(kind).length).toBeGreaterThan(3);
  });

  it('a binding, a consumer, a connection and a vhost', () => {
    expect(
      bindingRecord({
        source: 'x',
        vhost: '/',
        destination: 'q',
        destination_type: 'queue',
        routing_key: 'a.*',
        arguments: {},
        properties_key: 'a.*',
      }),
    ).toEqual({
      source: 'x',
      vhost: '/',
      destination: 'q',
      destinationType: 'queue',
      routingKey: 'a.*',
      arguments: {},
      propertiesKey: 'a.*',
    });
    expect(
      consumerRecord({
        queue: { name: 'q', vhost: '/' },
        consumer_tag: 'amq.ctag-1',
        channel_details: { connection_name: '127.0.0.1:5 -> 127.0.0.1:5672', name: 'c (1)', user: 'guest' },
        ack_required: true,
        prefetch_count: 10,
        exclusive: false,
        active: true,
        arguments: {},
      }),
    ).toMatchObject({ queue: 'q', consumerTag: 'amq.ctag-1', prefetchCount: 10, ackRequired: true });
    expect(
      connectionRecord({
        name: 'n',
        vhost: '/',
        user: 'guest',
        client_properties: { connection_name: 'warren consume' },
        connected_at: 0,
        ssl: false,
      }),
    ).toMatchObject({ clientName: 'warren consume', connectedAt: '1970-01-01T00:00:00.000Z', tls: false });
    expect(vhostRecord({ name: '/', default_queue_type: 'undefined', tags: [] })).toMatchObject({
      defaultQueueType: null,
      tags: [],
    });
  });
});
