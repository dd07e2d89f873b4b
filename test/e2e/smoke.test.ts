import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, type TestBroker } from '../helpers/broker.js';
import { ndjson, runWarren } from '../helpers/cli.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await connectTestBroker();
});
afterAll(async () => {
  await broker.cleanup();
});

describe('publish then consume', () => {
  it('moves a message through a queue and leaves it empty', async () => {
    const queue = await broker.queue('smoke');
    const published = await runWarren(['publish', '--routing-key', queue, '{"id":42}']);
    expect(published.code).toBe(0);
    expect(published.stdout.length).toBe(0);
    expect(published.stderr).toMatch(/published 1, confirmed 1, returned 0, nacked 0/);

    const consumed = await runWarren(['consume', queue, '--count', '1']);
    expect(consumed.code).toBe(0);
    const [record] = ndjson(consumed.stdout);
    expect(record).toMatchObject({
      exchange: '',
      routingKey: queue,
      body: '{"id":42}',
      bodyEncoding: 'utf8',
    });
    expect(await broker.messageCount(queue)).toBe(0);
  });
});
