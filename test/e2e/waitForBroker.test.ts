/**
 * `--wait-for-broker DURATION` end to end: warren keeps trying while nothing listens, gives
 * up with exit 69 when the time is out, connects once a broker appears, and does not wait
 * at all for a broker that refused the login (it will not change its mind).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, type TestBroker } from '../helpers/broker.js';
import { runWarren } from '../helpers/cli.js';
import { hasStackTrace } from '../helpers/spawn.js';

const DEAD_URL = 'amqp://guest:guest@127.0.0.1:1/';
const WRONG_PASSWORD_URL = 'amqp://guest:not-the-password@127.0.0.1:5672/';

let broker: TestBroker;

beforeAll(async () => {
  broker = await connectTestBroker();
});

afterAll(async () => {
  await broker?.cleanup();
});

/** A port nothing listens on right now (the OS picks it, then it is given back). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A TCP proxy to the real broker; records how many connections it took. */
interface Proxy {
  server: Server;
  sockets: Set<Socket>;
  accepted: number;
}

const proxies: Proxy[] = [];
const timers: NodeJS.Timeout[] = [];

afterEach(async () => {
  for (const timer of timers) clearTimeout(timer);
  timers.length = 0;
  for (const proxy of proxies) {
    for (const socket of proxy.sockets) socket.destroy();
    await new Promise<void>((resolve) => proxy.server.close(() => resolve()));
  }
  proxies.length = 0;
});

describe('--wait-for-broker', () => {
  it('nothing listening: retries until the time is out, then exit 69 naming the attempts', async () => {
    const result = await runWarren(['--wait-for-broker', '1s', 'publish', '--url', DEAD_URL, '-k', 'q', 'x']);
    expect(result.code, result.stderr).toBe(69);
    expect(result.stdout.toString()).toBe('');
    expect(hasStackTrace(result.stderr)).toBe(false);
    const errors = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/connection refused/);
    expect(errors[0]).toMatch(/after \d+ attempts/);
    // The password is never shown.
    expect(result.stderr).not.toContain('guest:guest@');
  });

  it('without it, one attempt: exit 69 and no attempts count', async () => {
    const result = await runWarren(['publish', '--url', DEAD_URL, '-k', 'q', 'x']);
    expect(result.code, result.stderr).toBe(69);
    expect(result.stderr).toMatch(/connection refused/);
    expect(result.stderr).not.toMatch(/attempts/);
  });

  it('a broker that appears late (~700 ms in): warren connects, exit 0, and the message arrives', async () => {
    const queue = await broker.queue('wait-late');
    const port = await freePort();
    const proxy: Proxy = { server: createServer(), sockets: new Set(), accepted: 0 };
    proxies.push(proxy);
    proxy.server.on('connection', (client) => {
      proxy.accepted += 1;
      proxy.sockets.add(client);
      const upstream = createConnection(5672, '127.0.0.1');
      proxy.sockets.add(upstream);
      client.pipe(upstream).pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end);
      upstream.on('error', end);
      client.on('close', end);
      upstream.on('close', end);
    });
    timers.push(setTimeout(() => proxy.server.listen(port, '127.0.0.1'), 700));

    const result = await runWarren([
      '--wait-for-broker',
      '10s',
      'publish',
      '--url',
      `amqp://guest:guest@127.0.0.1:${port}/`,
      '-k',
      queue,
      'arrived late',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/confirmed 1/);
    expect(proxy.accepted).toBeGreaterThanOrEqual(1);
    const messages = await broker.drain(queue);
    expect(messages.map((m) => m.content.toString())).toEqual(['arrived late']);
  });

  it('a refused login is not retried: exit 69 at once, no attempts count', async () => {
    const result = await runWarren([
      '--wait-for-broker',
      '5s',
      'publish',
      '--url',
      WRONG_PASSWORD_URL,
      '-k',
      'q',
      'x',
    ]);
    expect(result.code, result.stderr).toBe(69);
    expect(result.stderr).toMatch(/login refused/);
    expect(result.stderr).not.toMatch(/attempts/);
    expect(result.stderr).not.toContain('not-the-password');
  });

  it('a bad duration is a usage error (exit 2)', async () => {
    const result = await runWarren(['--wait-for-broker', 'soon', 'publish', '-k', 'q', 'x']);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('--wait-for-broker');
  });
});
