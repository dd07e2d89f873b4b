/** `warren route` as users see it: stdout records or lines, stderr's one line, the exit code. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, type TestBroker, uniqueName } from '../helpers/broker.js';
import { ndjson, runWarren } from '../helpers/cli.js';

const AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

describe('warren route', () => {
  let broker: TestBroker;
  let orders: string;
  let audit: string;
  let created: string;
  let log: string;
  let internal: string;

  beforeAll(async () => {
    broker = await connectTestBroker();
    orders = await broker.exchange('route-orders', 'topic');
    audit = await broker.exchange('route-audit', 'fanout');
    internal = uniqueName('route-internal');
    await broker.channel.assertExchange(internal, 'fanout', { durable: false, internal: true });
    created = await broker.queue('route-created');
    log = await broker.queue('route-log');
    await broker.channel.bindQueue(created, orders, 'order.created');
    await broker.channel.bindExchange(audit, orders, 'order.#');
    await broker.channel.bindQueue(log, audit, '');
    await broker.channel.bindQueue(log, internal, '');
  });
  afterAll(async () => {
    await broker.channel.deleteExchange(internal).catch(() => {});
    await broker.cleanup();
  });

  it('in a pipe: one NDJSON record per queue with its way, the summary on stderr, exit 0', async () => {
    const result = await runWarren(['route', orders, 'order.created']);
    expect(result.code, result.stderr).toBe(0);
    expect(ndjson(result.stdout)).toEqual(
      [
        {
          queue: created,
          vhost: '/',
          via: [
            { exchange: orders, type: 'topic', by: 'binding', routingKey: 'order.created', arguments: {} },
          ],
        },
        {
          queue: log,
          vhost: '/',
          via: [
            { exchange: orders, type: 'topic', by: 'binding', routingKey: 'order.#', arguments: {} },
            { exchange: audit, type: 'fanout', by: 'binding', routingKey: '', arguments: {} },
          ],
        },
      ].sort((a, b) => (a.queue < b.queue ? -1 : 1)),
    );
    expect(result.stderr).toBe(`exchange '${orders}' routes key 'order.created' to 2 queues\n`);
  });

  it('--format pretty: a line per queue with the way, -q: no summary', async () => {
    const result = await runWarren(['route', orders, 'order.shipped', '--format', 'pretty', '-q']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.toString()).toBe(`${log}  via ${orders} ['order.#'] → ${audit} [fanout]\n`);
    expect(result.stderr).toBe('');
  });

  it('no queue reached: nothing on stdout, one line (and a hint) on stderr, exit 4', async () => {
    const result = await runWarren(['route', orders, 'invoice.sent']);
    expect(result.code).toBe(4);
    expect(result.stdout.length).toBe(0);
    expect(result.stderr.split('\n')[0]).toBe(
      `error: exchange '${orders}' routes key 'invoice.sent' to no queue: a mandatory publish would be returned, any other dropped`,
    );
  });

  it('the default exchange reaches the queue named by the key', async () => {
    const result = await runWarren(['route', '', created]);
    expect(result.code, result.stderr).toBe(0);
    expect(ndjson(result.stdout).map((record) => record['queue'])).toEqual([created]);
  });

  it('an internal exchange: routed, with a warning that clients cannot publish to it', async () => {
    const result = await runWarren(['route', internal, 'any']);
    expect(result.code, result.stderr).toBe(0);
    expect(ndjson(result.stdout).map((record) => record['queue'])).toEqual([log]);
    expect(result.stderr).toContain(
      `warning: exchange '${internal}' is internal: a client cannot publish to it`,
    );
  });

  it('an alternate exchange set by a policy is followed when the bindings match nothing', async () => {
    const policy = uniqueName('route-policy');
    const path = `http://127.0.0.1:15672/api/policies/%2F/${encodeURIComponent(policy)}`;
    const headers = { authorization: AUTH, 'content-type': 'application/json' };
    const pattern = `^${orders.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
    const definition = { 'alternate-exchange': internal };
    const put = await fetch(path, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ pattern, definition, 'apply-to': 'exchanges' }),
    });
    expect(put.ok).toBe(true);
    try {
      const result = await runWarren(['route', orders, 'invoice.sent', '--format', 'pretty']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.toString()).toBe(
        `${log}  via ${orders} [alternate exchange] → ${internal} [fanout]\n`,
      );
    } finally {
      await fetch(path, { method: 'DELETE', headers });
    }
  });

  it('a missing exchange is exit 5 naming it; a missing vhost exit 5 naming it; a bad -H exit 2', async () => {
    const missing = await runWarren(['route', 'warren-test.route-nope', 'k']);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain("error: exchange 'warren-test.route-nope' does not exist in vhost '/'");
    const vhost = await runWarren(['route', orders, 'k', '--vhost', 'warren-test-no-such-vhost']);
    expect(vhost.code).toBe(5);
    expect(vhost.stderr).toContain("vhost 'warren-test-no-such-vhost' does not exist");
    const header = await runWarren(['route', orders, 'k', '-H', 'n:=nope']);
    expect(header.code).toBe(2);
    expect(header.stderr).toContain("--header 'n:=nope'");
  });
});
