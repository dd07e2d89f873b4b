/**
 * A TCP proxy in front of the test broker that cuts a connection when its client sends a
 * given AMQP method: so a test can lose warren's connection at an exact step (while it sets
 * up its consumer, say), which a cut from outside (rabbitmqctl) hits only by chance.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { BROKER_URL } from './broker.js';

/** An AMQP method, by class and method id: basic.consume is [60, 20], tx.commit [90, 20]. */
export type Method = readonly [classId: number, methodId: number];

export interface CuttingProxy {
  /** The broker URL through the proxy. */
  url: string;
  /** How many connections the proxy has taken so far. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * `cuts[n]`: the n-th connection (from 0) is cut, both ways, as soon as its client sends
 * that method (before it reaches the broker); connections beyond the list pass untouched.
 * `delayMs`: each connection reaches the broker only that long after it was accepted (a far
 * or busy broker, slow to answer the protocol header).
 */
export async function cuttingProxy(
  cuts: (Method | undefined)[],
  { delayMs = 0 }: { delayMs?: number } = {},
): Promise<CuttingProxy> {
  const broker = new URL(BROKER_URL);
  const sockets = new Set<Socket>();
  let count = 0;
  const server: Server = createServer((client) => {
    client.pause();
    sockets.add(client);
    client.on('error', () => {});
    if (delayMs > 0) setTimeout(() => pass(client), delayMs);
    else pass(client);
  });
  const pass = (client: Socket) => {
    if (client.destroyed) return;
    const cut = cuts[count];
    count += 1;
    const upstream = connect(Number(broker.port || 5672), broker.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.pipe(client);
    if (!cut) {
      client.pipe(upstream);
      return;
    }
    const frames = methodReader();
    client.on('data', (chunk: Buffer) => {
      if (frames(chunk).some(([classId, methodId]) => classId === cut[0] && methodId === cut[1])) {
        client.destroy();
        upstream.destroy();
      } else upstream.write(chunk);
    });
    client.resume();
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  const url = new URL(BROKER_URL);
  url.hostname = '127.0.0.1';
  url.port = String(address.port);
  return {
    url: url.toString(),
    connections: () => count,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Reads a client's byte stream (protocol header, then frames): the methods each chunk completes. */
function methodReader(): (chunk: Buffer) => [number, number][] {
  let buffered = Buffer.alloc(0);
  let headerSkipped = false;
  return (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (!headerSkipped) {
      if (buffered.length < 8) return [];
      buffered = buffered.subarray(8); // "AMQP" 0 0 9 1
      headerSkipped = true;
    }
    const methods: [number, number][] = [];
    // A frame: type (1), channel (2), size (4), payload, 0xCE.
    while (buffered.length >= 7) {
      const size = buffered.readUInt32BE(3);
      if (buffered.length < 7 + size + 1) break;
      if (buffered[0] === 1 && size >= 4) methods.push([buffered.readUInt16BE(7), buffered.readUInt16BE(9)]);
      buffered = buffered.subarray(7 + size + 1);
    }
    return methods;
  };
}
