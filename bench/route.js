/**
 * The `route` scenario of `npm run bench`: a topology of a few hundred bindings (topic,
 * direct, fanout and headers exchanges, exchange-to-exchange bindings, an alternate
 * exchange) declared on the broker, then 10,000 random messages routed by the pure function
 * (src/inventory/routing.ts, bundled for the bench) over one snapshot of the API, and one
 * `warren route` process for comparison (start-up, API reads and all).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { build } from 'esbuild';

const KEYS = 10_000;
const EXCHANGES = { topic: 8, direct: 4, fanout: 2, headers: 4 };
const QUEUES = 100;
const BINDINGS_PER_EXCHANGE = 20;
const WORDS = ['order', 'invoice', 'eu', 'us', 'created', 'paid', 'shipped', 'v1', 'v2'];

/** The routing code, the API client and the tests' seeded generator, from the sources, as one module. */
async function loadRouting(root, tmp) {
  const outfile = join(tmp, 'routing.mjs');
  await build({
    stdin: {
      contents: [
        "export { Router } from './src/inventory/routing.ts';",
        "export { loadSnapshot } from './src/inventory/snapshot.ts';",
        "export { ManagementApi } from './src/api/client.ts';",
        "export { apiTarget } from './src/api/target.ts';",
        "export { seededRandom } from './test/helpers/random.ts';",
      ].join('\n'),
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'silent',
  });
  return import(outfile);
}

export async function routeScenario({ channel, tmp, root, warren, brokerUrl, runChild }) {
  const { Router, loadSnapshot, ManagementApi, apiTarget, seededRandom } = await loadRouting(root, tmp);
  const random = seededRandom(16);
  const pick = (items) => items[Math.floor(random() * items.length)];
  const key = (wild) =>
    Array.from({ length: 1 + Math.floor(random() * 4) }, () =>
      wild && random() < 0.25 ? pick(['*', '#']) : pick(WORDS),
    ).join('.');
  const name = (role) => `warren-bench.route-${role}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const queues = [];
  const exchanges = [];
  try {
    for (let n = 0; n < QUEUES; n++) {
      queues.push(name('q'));
      await channel.assertQueue(queues.at(-1), { durable: false, arguments: { 'x-expires': 15 * 60_000 } });
    }
    const unrouted = name('unrouted');
    await channel.assertExchange(unrouted, 'fanout', { durable: false, internal: true });
    exchanges.push({ name: unrouted, type: 'fanout' });
    await channel.bindQueue(pick(queues), unrouted, '');
    for (const [type, count] of Object.entries(EXCHANGES)) {
      for (let n = 0; n < count; n++) {
        const exchange = { name: name(type), type };
        await channel.assertExchange(exchange.name, type, {
          durable: false,
          arguments: random() < 0.5 ? { 'alternate-exchange': unrouted } : {},
        });
        exchanges.push(exchange);
      }
    }
    let bindings = 1;
    for (const source of exchanges.slice(1)) {
      for (let n = 0; n < BINDINGS_PER_EXCHANGE; n++, bindings++) {
        const args =
          source.type === 'headers' ? { 'x-match': pick(['all', 'any']), [pick(WORDS)]: pick(WORDS) } : {};
        const bindingKey = source.type === 'topic' ? key(true) : key(false);
        if (n < 2) await channel.bindExchange(pick(exchanges.slice(1)).name, source.name, bindingKey, args);
        else await channel.bindQueue(pick(queues), source.name, bindingKey, args);
      }
    }
    const api = new ManagementApi(
      apiTarget({
        flag: undefined,
        env: process.env,
        profileApi: undefined,
        broker: { url: brokerUrl, masked: brokerUrl, tls: false },
        password: undefined,
        tls: {},
      }),
    );
    let started = performance.now();
    const snapshot = await loadSnapshot(api, '/', { statistics: false, queues: false });
    const loadMs = performance.now() - started;
    api.close();
    const sources = exchanges.slice(1);
    const messages = Array.from({ length: KEYS }, () => ({
      exchange: pick(sources).name,
      routingKey: key(false),
      headers: { [pick(WORDS)]: pick(WORDS), [pick(WORDS)]: pick(WORDS) },
    }));
    started = performance.now();
    const router = new Router(snapshot);
    let reached = 0;
    for (const message of messages) reached += router.route(message).queues.length;
    const routeMs = performance.now() - started;
    // A message that reaches a queue, so that warren route exits 0.
    const routed = messages.find((m) => router.route(m).queues.length > 0) ?? messages[0];
    const runs = [];
    for (let n = 0; n < 3; n++) {
      const argv = [warren, 'route', '-q', routed.exchange, routed.routingKey];
      for (const [k, v] of Object.entries(routed.headers)) argv.push('-H', `${k}=${v}`);
      runs.push(await runChild('warren route', argv, { tmp }));
    }
    const one = runs.reduce((a, b) => (a.ms <= b.ms ? a : b));
    const perKeyUs = (routeMs * 1000) / KEYS;
    return [
      `route: ${exchanges.length} exchanges, ${QUEUES} queues, ${bindings} bindings declared; ${snapshot.bindings.length} bindings in the vhost's snapshot`,
      `  snapshot read from the API: ${loadMs.toFixed(0)} ms`,
      `  ${KEYS.toLocaleString('en-US')} messages routed by the pure function: ${routeMs.toFixed(0)} ms (${perKeyUs.toFixed(1)} µs a message, ${Math.round(KEYS / (routeMs / 1000)).toLocaleString('en-US')} a second), ${reached} queue hits`,
      `  one warren route process (start-up, API reads, one message), best of 3: ${one.ms.toFixed(0)} ms, CPU ${one.cpuMs === undefined ? 'n/a' : `${one.cpuMs.toFixed(0)} ms`}, RSS ${one.rssKb === undefined ? 'n/a' : `${(one.rssKb / 1024).toFixed(0)} MB`}`,
      `  so a process per key would take ~${((one.ms * KEYS) / 1000 / 60).toFixed(0)} min for the ${KEYS.toLocaleString('en-US')} keys the function routes in ${(routeMs / 1000).toFixed(2)} s`,
    ];
  } finally {
    for (const queue of queues) await channel.deleteQueue(queue).catch(() => {});
    for (const exchange of exchanges) await channel.deleteExchange(exchange.name).catch(() => {});
  }
}
