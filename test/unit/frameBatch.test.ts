import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FrameBatch, type ProtocolDefinitions } from '../../src/broker/frameBatch.js';
import { seededRandom } from '../helpers/random.js';

// amqplib's own definitions and connection: what a message looks like on the wire when
// amqplib writes it itself (Connection.sendMessage), to compare warren's batches against.
const require = createRequire(import.meta.url);
const lib = join(dirname(require.resolve('amqplib')), 'lib');
const defs = require(join(lib, 'defs.js')) as ProtocolDefinitions;
const { Connection } = require(join(lib, 'connection.js')) as {
  Connection: { prototype: { sendMessage: (...args: unknown[]) => boolean } };
};

const FRAME_MAX = 4096;
const CHANNEL = 3;

/** The bytes amqplib writes for one message on CHANNEL. */
function amqplibBytes(fields: object, body: Buffer): Buffer {
  const written: Buffer[] = [];
  const fakeConnection = {
    frameMax: FRAME_MAX,
    channels: { [CHANNEL]: { buffer: { write: (b: Buffer) => written.push(Buffer.from(b)) } } },
    sendContent(this: unknown, channel: number, content: Buffer) {
      return (Connection.prototype as unknown as Record<string, (...a: unknown[]) => boolean>)[
        'sendContent'
      ]!.call(this, channel, content);
    },
  };
  Connection.prototype.sendMessage.call(
    fakeConnection,
    CHANNEL,
    defs.BasicPublish,
    fields,
    defs.BasicProperties,
    fields,
    body,
  );
  return Buffer.concat(written);
}

function fieldsFor(n: number, random: () => number) {
  const some = <T>(value: T): T | undefined => (random() < 0.5 ? value : undefined);
  return {
    exchange: some(`ex.${n}`) ?? '',
    routingKey: `key.${n}`,
    mandatory: random() < 0.5,
    immediate: false,
    ticket: undefined,
    contentType: some('application/json'),
    contentEncoding: some('gzip'),
    headers: random() < 0.5 ? { 'x-n': n, 'x-s': 'text' } : Object.create(null),
    deliveryMode: some(2),
    priority: some(n % 10),
    correlationId: some(`c-${n}`),
    replyTo: some('amq.rabbitmq.reply-to'),
    expiration: some('60000'),
    messageId: some(`m-${n}`),
    timestamp: some(1_700_000_000 + n),
    type: some('order.created'),
    userId: some('guest'),
    appId: some('warren'),
    clusterId: undefined,
  };
}

function collect(): { sink: { write(frames: Buffer): void }; writes: Buffer[] } {
  const writes: Buffer[] = [];
  return { sink: { write: (frames) => writes.push(Buffer.from(frames)) }, writes };
}

describe('FrameBatch', () => {
  it('writes exactly the bytes amqplib would, message after message, for random messages', async () => {
    const random = seededRandom(8);
    const { sink, writes } = collect();
    const batch = new FrameBatch(sink, CHANNEL, FRAME_MAX, defs);
    const expected: Buffer[] = [];
    for (let n = 0; n < 300; n += 1) {
      const size = [0, 1, 100, 2047, FRAME_MAX - 8][n % 5]!;
      const body = Buffer.alloc(size, n % 256);
      const fields = fieldsFor(n, random);
      expect(batch.add(fields, body)).toBe(true);
      expected.push(amqplibBytes(fields, body));
    }
    await Promise.resolve();
    expect(Buffer.concat(writes).equals(Buffer.concat(expected))).toBe(true);
  });

  it('writes once per turn while small, and at once when a batch reaches 64 KiB', async () => {
    const { sink, writes } = collect();
    const batch = new FrameBatch(sink, CHANNEL, 128 * 1024, defs);
    const fields = fieldsFor(1, () => 0.9);
    batch.add(fields, Buffer.alloc(100));
    batch.add(fields, Buffer.alloc(100));
    expect(writes).toHaveLength(0);
    await Promise.resolve();
    expect(writes).toHaveLength(1);
    for (let i = 0; i < 700; i += 1) batch.add(fields, Buffer.alloc(100));
    // 700 messages of ~150 bytes: at least one 64 KiB batch went before the turn ended.
    expect(writes.length).toBeGreaterThan(1);
    const before = writes.length;
    await Promise.resolve();
    expect(writes.length).toBe(before + 1);
    expect(Buffer.concat(writes.slice(1)).length).toBe(700 * amqplibBytes(fields, Buffer.alloc(100)).length);
  });

  it('refuses a body that needs more than one frame, after writing what came before it', () => {
    const { sink, writes } = collect();
    const batch = new FrameBatch(sink, CHANNEL, FRAME_MAX, defs);
    const fields = fieldsFor(2, () => 0.1);
    expect(batch.add(fields, Buffer.alloc(10))).toBe(true);
    expect(batch.add(fields, Buffer.alloc(FRAME_MAX - 7))).toBe(false);
    expect(writes).toHaveLength(1);
    expect(writes[0]!.equals(amqplibBytes(fields, Buffer.alloc(10)))).toBe(true);
  });

  it('never changes bytes it has handed over', async () => {
    const { sink, writes } = collect();
    const handed: Buffer[] = [];
    const batch = new FrameBatch(
      {
        write: (frames) => {
          handed.push(frames);
          sink.write(frames);
        },
      },
      CHANNEL,
      FRAME_MAX,
      defs,
    );
    const fields = fieldsFor(3, () => 0.3);
    for (let turn = 0; turn < 5; turn += 1) {
      batch.add(fields, Buffer.alloc(200, turn));
      await Promise.resolve();
    }
    handed.forEach((frames, i) => {
      expect(frames.equals(writes[i]!)).toBe(true);
    });
  });
});
