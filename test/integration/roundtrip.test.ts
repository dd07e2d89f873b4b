/**
 * The SPEC's round trip: `consume | publish --input ndjson` reproduces every message byte
 * for byte: body, every property, every header with its AMQP wire type.
 *
 * The originals are published twice with raw amqplib: to Q1 (which warren copies to Q2)
 * and to a control queue Q0 (what the broker delivers for the originals). Q2 must match Q0.
 */

import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKER_URL, connectTestBroker, type TestBroker } from '../helpers/broker.js';
import { publishMany } from '../helpers/bulk.js';
import { ndjson } from '../helpers/cli.js';
import { runWarrenWithFiles } from '../helpers/spawn.js';
import { encodeHeaders, rawCapturingAmqplib, rawHeaderBytes, wireTable } from '../helpers/wire.js';

const N = 200;
const MIB = 1024 * 1024;
const SEED = Number(process.env['WARREN_TEST_SEED'] ?? Date.now() % 2 ** 31);

/** mulberry32: a small seeded generator, so a failure can be replayed with WARREN_TEST_SEED. */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const bytes = (length: number) => {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i += 1) out[i] = int(256);
    return out;
  };
  return { next, int, pick, bytes };
}

const rand = generator(SEED);

const TEXT_POOL = [
  'a',
  'Z',
  ' ',
  '"',
  '\\',
  '\n',
  '\r',
  '\t',
  '\u0000',
  '\u001f',
  'é',
  'ß',
  '€',
  '✓',
  '中',
  '😀',
  '\u2028',
  '\u2029',
  '\ufeff',
  '{',
  '}',
  '\u007f',
];

function randomText(length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += rand.pick(TEXT_POOL);
  return out;
}

function invalidUtf8(length: number): Buffer {
  const body = rand.bytes(Math.max(length, 1));
  body[rand.int(body.length)] = 0xff; // 0xff never occurs in UTF-8
  return body;
}

/** Headers of every field type amqplib can encode, typed through its `{'!': type}` trapdoor. */
function everyHeaderType(i: number): Record<string, unknown> {
  const literalBang = Object.assign(Object.create({ '!': 'a literal bang key' }) as object, {
    value: { '!': 'int64', value: 7 },
  });
  return {
    'x-int8': { '!': 'int8', value: -5 },
    'x-int8-plain': 7,
    'x-uint8': { '!': 'uint8', value: 200 },
    'x-uint8-small': { '!': 'uint8', value: 2 },
    'x-int16': { '!': 'int16', value: 2 },
    'x-int16-min': { '!': 'int16', value: -32768 },
    'x-uint16': { '!': 'uint16', value: 65535 },
    'x-int32': { '!': 'int32', value: 2 },
    'x-int32-min': { '!': 'int32', value: -2147483648 },
    'x-int32-plain': 100000,
    'x-uint32': { '!': 'uint32', value: 4294967295 },
    'x-int64': { '!': 'int64', value: 2 },
    'x-int64-beyond-2^53': { '!': 'int64', value: '9007199254740993' },
    'x-int64-min': { '!': 'int64', value: '-9223372036854775808' },
    'x-int64-max': { '!': 'int64', value: '9223372036854775807' },
    'x-int64-plain': 2 ** 40 + i,
    'x-float': { '!': 'float', value: 1.5 },
    'x-float-inexact': { '!': 'float', value: 0.1 },
    'x-double-3.0': { '!': 'double', value: 3 },
    'x-double-plain': 3.25,
    'x-double-big-fraction': { '!': 'double', value: 2 ** 50 + 0.5 },
    'x-double-negative-zero': { '!': 'double', value: -0 },
    'x-decimal': { '!': 'decimal', value: { places: 2, digits: 12345 } },
    'x-timestamp': { '!': 'timestamp', value: 1795770000 },
    'x-timestamp-beyond-2^53': { '!': 'timestamp', value: '18446744073709551615' },
    'x-bytes': rand.bytes(48),
    'x-bytes-empty': Buffer.alloc(0),
    'x-bool-true': true,
    'x-bool-false': false,
    'x-null': null,
    'x-string': 'héllo wörld ✓ 😀',
    'x-string-empty': '',
    'x-string-looks-typed': '{"!":"int8","value":1}',
    'x-ünïcode-kéy ✓': 'value',
    'x-array': [
      1,
      'two',
      { '!': 'int64', value: 3 },
      [{ '!': 'uint16', value: 4 }, null, true],
      { nested: { '!': 'timestamp', value: 5 } },
      Buffer.from([0, 1, 2, 0xff]),
      { '!': 'decimal', value: { places: 0, digits: 0 } },
      [],
    ],
    'x-table': {
      a: { '!': 'int32', value: 2 },
      b: {
        c: {
          d: [
            { '!': 'float', value: 2.5 },
            { '!': 'int16', value: -1 },
          ],
        },
      },
      empty: {},
      'ü key': 'x',
    },
    'x-table-with-bang-key': literalBang,
  };
}

type Props = amqp.Options.Publish;

function allProperties(i: number, headers: Record<string, unknown> | undefined): Props {
  const props: Props = {
    contentType: `application/x-test-${i}; charset=utf-8`,
    contentEncoding: i % 2 === 0 ? 'gzip' : 'identity',
    deliveryMode: i % 2 === 0 ? 2 : 1,
    priority: rand.int(256),
    correlationId: `corr-ü-${i}-${rand.int(1e9)}`,
    replyTo: `amq.rabbitmq.reply-to.${i}`,
    expiration: String(86_400_000 + i),
    messageId: `msg-${i}-✓`,
    timestamp: 1_700_000_000 + rand.int(1e8),
    type: `type.${i}`,
    appId: 'warren-roundtrip-test',
    userId: 'guest',
  };
  if (headers) props.headers = headers;
  return props;
}

interface Original {
  body: Buffer;
  options: Props;
}

function makeOriginals(): Original[] {
  const originals: Original[] = [];
  for (let i = 0; i < N; i += 1) {
    let body: Buffer;
    switch (i) {
      case 0:
        body = Buffer.alloc(0);
        break;
      case 1:
        body = invalidUtf8(MIB);
        break;
      case 2:
        body = Buffer.from(randomText(400 * 1024), 'utf8'); // ~1 MiB of multi-byte UTF-8
        break;
      case 3:
        // Invalid UTF-8 of every kind: CESU surrogate, overlong, lone continuation, truncated.
        body = Buffer.from([0xed, 0xa0, 0x80, 0xc0, 0xaf, 0x80, 0x41, 0xe2, 0x82]);
        break;
      case 4:
        body = Buffer.from('\ufeff{"json":true}\r\n\u0000\u2028😀\n', 'utf8');
        break;
      case 5:
        body = Buffer.from('\n\n\n');
        break;
      default:
        switch (rand.int(4)) {
          case 0:
            body = invalidUtf8(rand.int(2000));
            break;
          case 1:
            body = Buffer.from(randomText(rand.int(300)), 'utf8');
            break;
          case 2:
            body = Buffer.from(JSON.stringify({ i, text: randomText(20) }), 'utf8');
            break;
          default:
            body = rand.bytes(rand.int(64)); // short random bytes: sometimes valid UTF-8
        }
    }
    let options: Props;
    if (i % 4 === 0) options = allProperties(i, everyHeaderType(i));
    else if (i % 4 === 1) options = {};
    else {
      // A random subset of properties and headers.
      const full = allProperties(i, everyHeaderType(i)) as Record<string, unknown>;
      const subset: Record<string, unknown> = {};
      for (const key of Object.keys(full)) {
        if (key === 'headers') continue;
        if (rand.next() < 0.5) subset[key] = full[key];
      }
      if (rand.next() < 0.7) {
        const all = full['headers'] as Record<string, unknown>;
        const headers: Record<string, unknown> = {};
        for (const key of Object.keys(all)) if (rand.next() < 0.3) headers[key] = all[key];
        if (Object.keys(headers).length > 0) subset['headers'] = headers;
      }
      options = subset as Props;
    }
    originals.push({ body, options });
  }
  return originals;
}

/** Every basic property amqplib decodes, headers aside. */
function propertiesWithoutHeaders(message: amqp.Message): Record<string, unknown> {
  const { headers: _headers, ...rest } = message.properties as unknown as Record<string, unknown>;
  return rest;
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex').slice(0, 16);

let broker: TestBroker;
let reader: amqp.ChannelModel;
let dir: string;

beforeAll(async () => {
  broker = await connectTestBroker();
  reader = await rawCapturingAmqplib().connect(BROKER_URL);
  dir = mkdtempSync(join(tmpdir(), 'warren-roundtrip-'));
});

afterAll(async () => {
  await reader?.close().catch(() => {});
  await broker?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Takes every message from a queue without acking, then closes the channel: they all go back, in order. */
async function peekAll(queue: string): Promise<amqp.GetMessage[]> {
  const channel = await reader.createChannel();
  const messages: amqp.GetMessage[] = [];
  for (;;) {
    const message = await channel.get(queue, { noAck: false });
    if (message === false) break;
    messages.push(message);
  }
  await channel.close();
  return messages;
}

describe(`consume | publish --input ndjson round trip (seed ${SEED})`, () => {
  it('reproduces every body, property and header with its wire type', async () => {
    const originals = makeOriginals();
    const q0 = await broker.queue('roundtrip-control');
    const q1 = await broker.queue('roundtrip-source');
    const q2 = await broker.queue('roundtrip-copy');
    await publishMany(broker.connection, '', q0, originals);
    await publishMany(broker.connection, '', q1, originals);
    expect(await broker.messageCount(q1)).toBe(N);

    // warren consume Q1 --format ndjson --count N > file
    const capture = join(dir, 'capture.ndjson');
    const consumed = await runWarrenWithFiles(['consume', q1, '--format', 'ndjson', '--count', String(N)], {
      stdoutPath: capture,
    });
    expect(consumed.stderr).not.toMatch(/error/i);
    expect(consumed.code).toBe(0);
    const captured = ndjson(readFileSync(capture));
    expect(captured).toHaveLength(N);

    // Each record states its body encoding truthfully.
    for (const [i, original] of originals.entries()) {
      const record = captured[i] as Record<string, unknown>;
      const expectedEncoding = isUtf8(original.body) ? 'utf8' : 'base64';
      expect(record['bodyEncoding'], `record ${i}`).toBe(expectedEncoding);
      const decoded = Buffer.from(record['body'] as string, expectedEncoding);
      expect(decoded.equals(original.body), `record ${i}: body decodes to the original bytes`).toBe(true);
    }

    // warren publish --input ndjson --exchange '' --routing-key Q2 < file
    const published = await runWarrenWithFiles(
      ['publish', '--input', 'ndjson', '--exchange', '', '--routing-key', q2],
      { stdinPath: capture },
    );
    expect(published.stderr).toMatch(new RegExp(`published ${N}, confirmed ${N}, returned 0, nacked 0`));
    expect(published.code).toBe(0);
    expect(published.stdout.length).toBe(0);

    const control = await peekAll(q0);
    const copies = await peekAll(q2);
    expect(control).toHaveLength(N);
    expect(copies).toHaveLength(N);

    // The control queue holds what we meant to send (the test itself is sound).
    const first = control[0] as amqp.GetMessage;
    for (const name of Object.keys(allProperties(0, undefined))) {
      expect(propertiesWithoutHeaders(first)[name], `control property ${name}`).not.toBeUndefined();
    }
    expect(Object.keys(first.properties.headers ?? {}).length).toBeGreaterThan(30);

    // Bodies byte for byte, in order.
    expect(copies.map((m) => sha(m.content))).toEqual(originals.map((o) => sha(o.body)));

    for (let i = 0; i < N; i += 1) {
      const copy = copies[i] as amqp.GetMessage;
      const expected = control[i] as amqp.GetMessage;
      const what = `message ${i} (seed ${SEED})`;
      expect(copy.content.equals(expected.content), `${what}: body`).toBe(true);
      expect(propertiesWithoutHeaders(copy), `${what}: properties`).toEqual(
        propertiesWithoutHeaders(expected),
      );
      // Headers as amqplib decodes them...
      expect(copy.properties.headers, `${what}: headers (amqplib)`).toEqual(expected.properties.headers);
      // ...and, stronger, with every wire type: an int64 2 must not come back as an int8 2.
      const copyRaw = rawHeaderBytes(copy);
      const expectedRaw = rawHeaderBytes(expected);
      expect(copyRaw === undefined, `${what}: headers present`).toBe(expectedRaw === undefined);
      if (copyRaw && expectedRaw) {
        expect(wireTable(copyRaw), `${what}: header wire types`).toEqual(wireTable(expectedRaw));
      }
      // And what the broker delivered for the originals is what amqplib encoded from them.
      const headers = originals[i]?.options.headers as Record<string, unknown> | undefined;
      if (headers && expectedRaw) {
        expect(wireTable(expectedRaw), `${what}: control`).toEqual(wireTable(encodeHeaders(headers)));
      }
    }

    // Consuming the copy with warren again gives the same records as the first capture.
    const again = await runWarrenWithFiles(['consume', q2, '--format', 'ndjson', '--count', String(N)], {
      stdoutPath: join(dir, 'again.ndjson'),
    });
    expect(again.code).toBe(0);
    const recaptured = ndjson(readFileSync(join(dir, 'again.ndjson')));
    expect(recaptured).toHaveLength(N);
    for (let i = 0; i < N; i += 1) {
      const a = captured[i] as Record<string, unknown>;
      const b = recaptured[i] as Record<string, unknown>;
      expect(b['headers'], `record ${i}: headers`).toEqual(a['headers']);
      expect(b['properties'], `record ${i}: properties`).toEqual(a['properties']);
      expect(b['body'], `record ${i}: body`).toBe(a['body']);
      expect(b['bodyEncoding'], `record ${i}: bodyEncoding`).toBe(a['bodyEncoding']);
      expect(b['exchange']).toBe('');
      expect(b['routingKey']).toBe(q2);
    }
    // Checked last, so that a lost ack does not hide the rest of the round trip.
    expect(await broker.messageCount(q1), 'Q1 empty: every captured message was acked').toBe(0);
    expect(await broker.messageCount(q2), 'Q2 empty after the second capture').toBe(0);
  });

  it('types the int64 2 explicitly in the envelope, and a plain int8 2 as a plain number', async () => {
    const q = await broker.queue('roundtrip-typed');
    await broker.publish('', q, 'x', {
      headers: {
        small: 2,
        wide: { '!': 'int64', value: 2 },
        huge: { '!': 'int64', value: '9007199254740993' },
      },
    });
    const result = await runWarrenWithFiles(['consume', q, '--count', '1'], {
      stdoutPath: join(dir, 'typed.ndjson'),
    });
    expect(result.code).toBe(0);
    const [record] = ndjson(readFileSync(join(dir, 'typed.ndjson')));
    const headers = record?.['headers'] as Record<string, unknown>;
    expect(headers['small']).toBe(2);
    expect(headers['wide']).toEqual({ '!': 'int64', value: 2 });
    // Beyond 2^53 a JSON number would lose digits: the value must keep all of them.
    expect(String((headers['huge'] as { value: unknown }).value)).toBe('9007199254740993');
  });
});
