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

describe('consume --count on a busy queue', () => {
  it('acks every record it wrote: each run takes exactly --count from the queue', async () => {
    const queue = await broker.queue('count-acks');
    const lines = Array.from({ length: 8000 }, (_, i) => `m${i}`).join('\n');
    const published = await runWarren(['publish', '-q', '--routing-key', queue, '--input', 'lines'], {
      stdin: lines,
    });
    expect(published.code).toBe(0);

    // The last acks of a run race the connection close; several runs make a lost one show.
    for (let round = 1; round <= 8; round += 1) {
      const consumed = await runWarren(['consume', '-q', queue, '--count', '1000', '--format', 'body']);
      expect(consumed.code).toBe(0);
      expect(consumed.stdout.toString().split('\n').filter(Boolean)).toHaveLength(1000);
      expect(await broker.messageCount(queue)).toBe(8000 - round * 1000);
    }
  });
});
