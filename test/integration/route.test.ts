/**
 * `warren route` against the real broker: a random topology (seeded: the seed is printed,
 * ROUTE_SEED=N replays it) of direct, fanout, topic and headers exchanges bound to queues and
 * to each other, with alternate exchanges by argument and by policy; then hundreds of random
 * messages published for real (mandatory, with confirms), and where each landed (or that it
 * came back) compared with what route computes from the management API's snapshot.
 */
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagementApi } from '../../src/api/client.js';
import { apiTarget } from '../../src/api/target.js';
import type { FieldTable, TypedValue } from '../../src/broker/fieldTable.js';
import { encodableFromTyped } from '../../src/broker/fieldTableEncode.js';
import { loadRouting } from '../../src/commands/route/load.js';
import { Router } from '../../src/inventory/routing.js';
import { loadSnapshot } from '../../src/inventory/snapshot.js';
import { BROKER_URL, expiring, uniqueName } from '../helpers/broker.js';
import { ndjson, runWarren } from '../helpers/cli.js';
import { seededRandom } from '../helpers/random.js';

const SEED = Number(process.env['ROUTE_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const MESSAGES = 400;
const AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

const random = seededRandom(SEED);
const client = () =>
  new ManagementApi(
    apiTarget({
      flag: undefined,
      env: {},
      profileApi: undefined,
      broker: { url: BROKER_URL, masked: BROKER_URL, tls: false },
      password: undefined,
      tls: {},
    }),
  );
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
const times = <T>(n: number, make: () => T): T[] => Array.from({ length: n }, make);

/** Keys of 0 to 3 words from a small alphabet, empty words included, so that keys collide. */
const routingKey = () => times(between(0, 3), () => pick(['a', 'b', 'c', ''])).join('.');
const bindingKey = () => times(between(0, 3), () => pick(['a', 'b', 'c', '', '*', '#', '#'])).join('.');
// Alike to the broker: '1' and the byte 0x31; 1, 1.0, the float 1 and the timestamp 1.
const VALUES: TypedValue[] = [
  '1',
  1,
  true,
  'x',
  { '!': 'double', value: 1 },
  { '!': 'bytes', value: 'MQ==' },
  { '!': 'float', value: 1 },
  { '!': 'timestamp', value: 1 },
];
function headersArgs(): Record<string, TypedValue> {
  const args: Record<string, TypedValue> = {};
  const mode = pick(['all', 'any', 'all-with-x', 'any-with-x', undefined]);
  if (mode) args['x-match'] = mode;
  for (const key of times(between(0, 2), () => pick(['h1', 'h2', 'x-h'])))
    args[key] = pick([...VALUES, null]);
  return args;
}
function messageHeaders(keys: () => string): FieldTable {
  const headers: FieldTable = {};
  for (const key of times(between(0, 3), () => pick(['h1', 'h2', 'x-h'])))
    headers[key] = pick([...VALUES, null]);
  if (random() < 0.1) headers['CC'] = times(between(1, 2), keys);
  if (random() < 0.05) headers['BCC'] = [keys()];
  return headers;
}
const encoded = (table: Record<string, TypedValue>) =>
  Object.fromEntries(Object.entries(table).map(([k, v]) => [k, encodableFromTyped(v, k)]));

interface Sent {
  exchange: string;
  routingKey: string;
  headers: FieldTable;
}

describe(`warren route against real publishes (seed ${SEED})`, () => {
  let connection: amqp.ChannelModel;
  let channel: amqp.ConfirmChannel;
  const exchanges: { name: string; type: string; internal: boolean }[] = [];
  const queues: string[] = [];
  let policy: string;
  const sent: Sent[] = [];
  const landed = new Map<number, Set<string>>();
  const returned = new Set<number>();

  beforeAll(async () => {
    console.log(`warren route: random topology seed ${SEED} (ROUTE_SEED=${SEED} replays it)`);
    connection = await amqp.connect(BROKER_URL);
    channel = await connection.createConfirmChannel();
    for (let n = 0; n < 10; n++) {
      const name = uniqueName('route-q');
      await channel.assertQueue(name, expiring({ durable: false }));
      queues.push(name);
    }
    const declare = async (type: string, options: amqp.Options.AssertExchange = {}) => {
      const name = uniqueName(`route-${type}`);
      await channel.assertExchange(name, type, { durable: false, ...options });
      exchanges.push({ name, type, internal: options.internal === true });
      return name;
    };
    const unrouted = await declare('fanout', { internal: true });
    await channel.bindQueue(pick(queues), unrouted, '');
    const byPolicy = await declare('direct');
    await channel.bindQueue(pick(queues), byPolicy, pick(['a', 'b', '']));
    for (const type of ['direct', 'fanout', 'topic', 'headers']) {
      for (let n = 0; n < 3; n++) {
        const alternate =
          random() < 0.4 ? pick([unrouted, unrouted, uniqueName('route-missing')]) : undefined;
        await declare(type, alternate ? { arguments: { 'alternate-exchange': alternate } } : {});
      }
    }
    // A policy gives one exchange its alternate exchange; an argument wins over it on another.
    const sources = exchanges.filter((e) => !e.internal && e.name !== byPolicy);
    policy = uniqueName('route-policy');
    const targets = [pick(sources).name, pick(sources).name].map((n) =>
      n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    );
    await api('PUT', `policies/%2F/${encodeURIComponent(policy)}`, {
      pattern: `^(${targets.join('|')})$`,
      definition: { 'alternate-exchange': byPolicy },
      'apply-to': 'exchanges',
    });
    for (const source of exchanges.filter((e) => e.name !== byPolicy && e.name !== unrouted)) {
      for (let n = between(1, 4); n > 0; n--) {
        const key = source.type === 'topic' ? bindingKey() : routingKey();
        const args = source.type === 'headers' ? encoded(headersArgs()) : {};
        await channel.bindQueue(pick(queues), source.name, key, args);
      }
      if (random() < 0.6) {
        const key = source.type === 'topic' ? bindingKey() : routingKey();
        const args = source.type === 'headers' ? encoded(headersArgs()) : {};
        await channel.bindExchange(pick(exchanges).name, source.name, key, args);
      }
    }
    await publishAll();
  }, 60_000);

  afterAll(async () => {
    await api('DELETE', `policies/%2F/${encodeURIComponent(policy)}`).catch(() => {});
    for (const queue of queues) await channel.deleteQueue(queue).catch(() => {});
    for (const exchange of exchanges) await channel.deleteExchange(exchange.name).catch(() => {});
    await connection.close().catch(() => {});
  });

  async function api(method: string, path: string, body?: unknown): Promise<void> {
    const response = await fetch(`http://127.0.0.1:15672/api/${path}`, {
      method,
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  }

  async function publishAll(): Promise<void> {
    const publishable = exchanges.filter((e) => !e.internal);
    channel.on('return', (message: amqp.Message) => returned.add(Number(message.properties.messageId)));
    const queueKey = () => (random() < 0.7 ? pick(queues) : uniqueName('route-nowhere'));
    for (let tag = 0; tag < MESSAGES; tag++) {
      const toDefault = random() < 0.08;
      const keys = toDefault ? queueKey : routingKey;
      const message: Sent = {
        exchange: toDefault ? '' : pick(publishable).name,
        routingKey: keys(),
        headers: messageHeaders(keys),
      };
      sent.push(message);
      channel.publish(message.exchange, message.routingKey, Buffer.from(String(tag)), {
        mandatory: true,
        messageId: String(tag),
        headers: encoded(message.headers),
      });
    }
    await channel.waitForConfirms();
    for (const queue of queues) {
      for (;;) {
        const message = await channel.get(queue, { noAck: true });
        if (message === false) break;
        const tag = Number(message.content.toString());
        landed.set(tag, (landed.get(tag) ?? new Set()).add(queue));
      }
    }
  }

  const describeMessage = (tag: number) => JSON.stringify({ tag, ...sent[tag] });

  it('computes, for every message, exactly the queues it landed in, and none for those returned', async () => {
    const api = client();
    const snapshot = await loadSnapshot(api, '/', { statistics: false });
    const list = await api.get<{ name: string; definition: Record<string, unknown> }[]>('policies/%2F');
    api.close();
    const router = new Router(snapshot, { policies: new Map(list.map((p) => [p.name, p.definition])) });
    const wrong: string[] = [];
    let routedSomewhere = 0;
    const ways = new Map<string, number>();
    for (const [tag, message] of sent.entries()) {
      const routed = router.route(message).queues;
      const computed = routed.map((q) => q.queue);
      for (const hop of routed.flatMap((q) => q.via)) {
        const way = hop.by === 'binding' ? hop.type : hop.by;
        ways.set(way, (ways.get(way) ?? 0) + 1);
      }
      const actual = [...(landed.get(tag) ?? [])].sort();
      if (actual.length > 0) routedSomewhere++;
      if (JSON.stringify(computed) !== JSON.stringify(actual) || (actual.length === 0) !== returned.has(tag))
        wrong.push(
          `${describeMessage(tag)}: computed ${JSON.stringify(computed)}, landed ${JSON.stringify(actual)}`,
        );
    }
    console.log(
      `seed ${SEED}: ${routedSomewhere} of ${MESSAGES} routed, ${returned.size} returned; steps taken: ${JSON.stringify(Object.fromEntries(ways))}`,
    );
    expect(wrong, `seed ${SEED}`).toEqual([]);
    // The topology is random: make sure it exercised both outcomes.
    expect(routedSomewhere).toBeGreaterThan(MESSAGES / 10);
    expect(returned.size).toBeGreaterThan(0);
  });

  it("route's own reading (the bindings of the exchanges reachable, one request each) gives the same", async () => {
    const api = client();
    const wrong: string[] = [];
    try {
      for (const [tag, message] of sent.entries()) {
        if (tag >= 30) break;
        const { snapshot, policies } = await loadRouting(api, '/', message, (line) => wrong.push(line));
        const computed = new Router(snapshot, { policies }).route(message).queues.map((q) => q.queue);
        const actual = [...(landed.get(tag) ?? [])].sort();
        if (JSON.stringify(computed) !== JSON.stringify(actual))
          wrong.push(
            `${describeMessage(tag)}: computed ${JSON.stringify(computed)}, landed ${JSON.stringify(actual)}`,
          );
      }
    } finally {
      api.close();
    }
    expect(wrong, `seed ${SEED}`).toEqual([]);
  }, 60_000);

  it('the binary says the same for a handful, in NDJSON, with exit 0 when routed and 4 when not', async () => {
    const tags = [...sent.keys()]
      .filter((tag) => Object.keys(sent[tag]?.headers ?? {}).length > 0)
      .slice(0, 3);
    tags.push(...[...returned].slice(0, 2), ...[...landed.keys()].slice(0, 2));
    for (const tag of tags) {
      const message = sent[tag] as Sent;
      const headerArgs = Object.entries(message.headers).flatMap(([k, v]) => [
        '-H',
        `${k}:=${JSON.stringify(v)}`,
      ]);
      const result = await runWarren(['route', message.exchange, message.routingKey, ...headerArgs]);
      const queuesNamed = ndjson(result.stdout)
        .map((record) => record['queue'])
        .sort();
      const actual = [...(landed.get(tag) ?? [])].sort();
      expect(queuesNamed, `${describeMessage(tag)}: ${result.stderr}`).toEqual(actual);
      expect(result.code, result.stderr).toBe(actual.length > 0 ? 0 : 4);
    }
  }, 60_000);
});
