/**
 * `warren route` over a stand-in management API (a local HTTP server answering as the real
 * one does), for what the shared broker cannot show: a plugin's exchange type, policies the
 * user may not read, the lines on a terminal.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../helpers/fakeIo.js';

const exchange = (name: string, type: string, extra: Record<string, unknown> = {}) => ({
  name,
  vhost: '/',
  type,
  durable: true,
  auto_delete: false,
  internal: false,
  arguments: {},
  ...extra,
});
const binding = (source: string, destination: string, routingKey: string, toExchange = false) => ({
  source,
  vhost: '/',
  destination,
  destination_type: toExchange ? 'exchange' : 'queue',
  routing_key: routingKey,
  arguments: {},
  properties_key: routingKey,
});

const EXCHANGES = [
  exchange('', 'direct'),
  exchange('orders', 'topic', { arguments: { 'alternate-exchange': 'gone' } }),
  exchange('hash', 'x-consistent-hash'),
  exchange('audit', 'fanout', { policy: 'ae' }),
  exchange('unrouted', 'fanout'),
];
const BINDINGS: Record<string, unknown[]> = {
  orders: [binding('orders', 'orders.created', 'order.created'), binding('orders', 'hash', 'order.#', true)],
  hash: [binding('hash', 'shard-1', '10')],
  audit: [],
  unrouted: [binding('unrouted', 'lost', '')],
};

describe('warren route over a stand-in API', () => {
  let server: Server;
  let api: string;
  let policiesStatus = 200;

  beforeAll(async () => {
    server = createServer((request, response) => {
      const path = new URL(request.url ?? '/', 'http://x').pathname;
      const reply = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      const source = /^\/api\/exchanges\/%2F\/([^/]+)\/bindings\/source$/.exec(path);
      if (path === '/api/vhosts/%2F') return reply(200, { name: '/' });
      if (path === '/api/exchanges/%2F')
        return reply(200, { items: EXCHANGES, page: 1, page_count: 1, total_count: EXCHANGES.length });
      if (path === '/api/policies/%2F')
        return policiesStatus === 200
          ? reply(200, [{ name: 'ae', definition: { 'alternate-exchange': 'unrouted' } }])
          : reply(policiesStatus, { error: 'not_authorised', reason: 'Not management user' });
      if (source) return reply(200, BINDINGS[decodeURIComponent(source[1] as string)] ?? []);
      return reply(404, { error: 'Object Not Found', reason: 'Not Found' });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const route = (args: string[], tty = false) =>
    runMain(['route', '--api', api, '--no-color', ...args], { tty });

  it('an exchange of a type it cannot compute: the other queues printed, then one line naming it, exit 1', async () => {
    const { code, stdout, stderr } = await route(['orders', 'order.created']);
    expect(code).toBe(1);
    expect(
      stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line).queue),
    ).toEqual(['orders.created']);
    expect(stderr).toContain(
      "error: cannot compute routing through exchange 'hash' of type 'x-consistent-hash': warren knows direct, fanout, topic and headers exchanges; the queues listed are those reached otherwise",
    );
  });

  it('on a terminal: a line per queue with the way; a missing alternate exchange is warned about', async () => {
    const { code, stdout, stderr } = await route(['orders', 'invoice.sent'], true);
    expect(code).toBe(4);
    expect(stdout).toBe('');
    expect(stderr).toContain("warning: the alternate exchange 'gone' of 'orders' does not exist");
    const audit = await route(['audit', 'k'], true);
    expect(audit.code, audit.stderr).toBe(0);
    expect(audit.stdout).toBe('lost  via audit [alternate exchange] → unrouted [fanout]\n');
  });

  it('policies the user may not read: a warning, and the alternate exchange by policy not followed', async () => {
    policiesStatus = 401;
    try {
      const { code, stderr } = await route(['audit', 'k']);
      expect(code).toBe(4);
      expect(stderr).toContain("warning: cannot read the policies of vhost '/'");
    } finally {
      policiesStatus = 200;
    }
  });
});
