/**
 * The management API client against a small HTTP server that answers as RabbitMQ's API does
 * when a list changes under it: what a real broker does only under a race.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ManagementApi } from '../../src/api/client.js';
import { apiTarget } from '../../src/api/target.js';

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

/** An API whose answer to each request is `answer(page, n)`: n counts the requests. */
async function fakeApi(answer: (page: number, n: number) => [number, unknown]): Promise<ManagementApi> {
  let n = 0;
  server = createServer((request, response) => {
    const page = Number(new URL(request.url ?? '/', 'http://x').searchParams.get('page'));
    const [status, body] = answer(page, ++n);
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return new ManagementApi(
    apiTarget({
      flag: `http://127.0.0.1:${port}`,
      env: {},
      profileApi: undefined,
      broker: { url: 'amqp://127.0.0.1', masked: 'amqp://127.0.0.1', tls: false },
      password: undefined,
      tls: {},
    }),
  );
}

const page = (items: string[], page: number, pageCount: number) => ({ items, page, page_count: pageCount });

async function read(api: ManagementApi): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const item of api.items<string>('queues/%2F', {}, 2)) out.push(item);
  } finally {
    api.close();
  }
  return out;
}

describe('the management API client, when the list changes while it is read', () => {
  it('a page past the end of a list that shrank ends the list: no error', async () => {
    const api = await fakeApi((p) =>
      p === 1
        ? [200, page(['a', 'b'], 1, 3)]
        : [400, { error: 'page_out_of_range', reason: 'Page out of range, page: 2 page size: 2, len: 2' }],
    );
    expect(await read(api)).toEqual(['a', 'b']);
  });

  it('a first page out of range, or another bad request, is still an error (exit 2)', async () => {
    const api = await fakeApi(() => [
      400,
      { error: 'bad_request', reason: 'Pagination parameters are invalid' },
    ]);
    await expect(read(api)).rejects.toMatchObject({ exitCode: 2 });
  });

  it('a 500 (a queue gone while it was listed) is asked again, and the list goes on', async () => {
    const api = await fakeApi((p, n) =>
      n === 2 ? [500, { error: 'internal' }] : [200, page([`q${p}`], p, 2)],
    );
    expect(await read(api)).toEqual(['q1', 'q2']);
  });
});
