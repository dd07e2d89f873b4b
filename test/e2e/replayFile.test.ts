/**
 * `warren replay FILE` (and stdin) end to end: captures from `warren consume` go back onto
 * the bus byte for byte, where they were recorded or where the flags say; --dry-run,
 * --receipts, --match, --count, pacing (--timing original, --speed, --rate), Ctrl-C, bad
 * input and usage errors, each checked by what a user sees and what is left in the queues.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKER_URL, connectTestBroker, eventually, type TestBroker, uniqueName } from '../helpers/broker.js';
import { collect, ndjson, type RunResult, runWarren, startWarren } from '../helpers/cli.js';
import { hasStackTrace } from '../helpers/spawn.js';
import { rawCapturingAmqplib, rawHeaderBytes, wireTable } from '../helpers/wire.js';

const DEAD_URL = 'amqp://guest:guest@127.0.0.1:1/';
const SUMMARY = /published (\d+), confirmed (\d+), returned (\d+), nacked (\d+)/;
/** How early a Node timer may fire by the clock of another process (its ms rounding). */
const TIMER_SLACK_MS = 2;

let broker: TestBroker;
let reader: amqp.ChannelModel;
let readChannel: amqp.Channel;
let dir: string;
let files = 0;

beforeAll(async () => {
  broker = await connectTestBroker();
  reader = await rawCapturingAmqplib().connect(BROKER_URL);
  readChannel = await reader.createChannel();
  dir = mkdtempSync(join(tmpdir(), 'warren-replay-'));
});

afterAll(async () => {
  await reader?.close().catch(() => {});
  await broker?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------
// helpers

/** Writes a capture file: objects become JSON lines, strings are written as they are. */
function captureFile(lines: (Record<string, unknown> | string)[], trailingNewline = true): string {
  files += 1;
  const path = join(dir, `capture-${files}.ndjson`);
  const text = lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n');
  writeFileSync(path, trailingNewline ? `${text}\n` : text);
  return path;
}

/** Every message now in the queue, taken in order (headers keep their raw wire bytes). */
async function takeAll(queue: string): Promise<amqp.GetMessage[]> {
  const messages: amqp.GetMessage[] = [];
  for (;;) {
    const message = await readChannel.get(queue, { noAck: true });
    if (message === false) return messages;
    messages.push(message);
  }
}

async function bodies(queue: string): Promise<string[]> {
  return (await takeAll(queue)).map((m) => m.content.toString());
}

function summary(result: RunResult): number[] {
  const match = SUMMARY.exec(result.stderr);
  if (!match) throw new Error(`no summary on stderr: ${result.stderr}`);
  return match.slice(1, 5).map(Number);
}

function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => /^error\b/i.test(line));
}

function warningLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => /warn/i.test(line));
}

function expectOneErrorLine(result: RunResult): string {
  expect(hasStackTrace(result.stderr), result.stderr).toBe(false);
  const lines = errorLines(result.stderr);
  expect(lines, result.stderr).toHaveLength(1);
  return lines[0] as string;
}

function expectCleanSuccess(result: RunResult, count: number): void {
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).not.toMatch(/error/i);
  expect(result.stdout.length).toBe(0);
  expect(summary(result)).toEqual([count, count, 0, 0]);
}

/** An envelope without the fields that belong to one delivery rather than to the message. */
function withoutDelivery(envelope: Record<string, unknown>): Record<string, unknown> {
  const { receivedAt: _r, routingKey: _k, redelivered: _d, ...rest } = envelope;
  return rest;
}

/** A message's properties as amqplib decoded them, without the headers (compared as bytes). */
function propertiesOf(message: amqp.Message): Record<string, unknown> {
  const { headers: _h, ...rest } = message.properties as unknown as Record<string, unknown>;
  return rest;
}

/** Records when each message arrives at a consumer in this process. */
async function arrivals(queue: string): Promise<{
  times: number[];
  bodies: string[];
  stop: () => Promise<void>;
}> {
  const channel = await broker.connection.createChannel();
  const times: number[] = [];
  const seen: string[] = [];
  const { consumerTag } = await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      times.push(performance.now());
      seen.push(message.content.toString());
    },
    { noAck: true },
  );
  return {
    times,
    bodies: seen,
    stop: async () => {
      await channel.cancel(consumerTag).catch(() => {});
      await channel.close().catch(() => {});
    },
  };
}

/** Capture lines (routed to `queue`) whose receivedAt lie `offsets` ms after a fixed moment. */
function timedLines(queue: string, offsets: number[]): Record<string, unknown>[] {
  const base = Date.parse('2026-03-01T12:00:00.000Z');
  return offsets.map((offset, i) => ({
    exchange: '',
    routingKey: queue,
    redelivered: false,
    properties: {},
    body: `t${i + 1}`,
    bodyEncoding: 'utf8',
    receivedAt: new Date(base + offset).toISOString(),
  }));
}

// ---------------------------------------------------------------------------------------

describe('round trip', () => {
  it('replays a consume capture byte for byte: bodies, every property and typed headers', async () => {
    const a = await broker.queue('rp-rt-a');
    const control = await broker.queue('rp-rt-control');
    const b = await broker.queue('rp-rt-b');
    const b2 = await broker.queue('rp-rt-b2');
    const originals: { body: Buffer; options: amqp.Options.Publish }[] = [
      {
        body: Buffer.from([0x00, 0xff, 0xfe, 0xc3, 0x28, 0x0a, 0x0d, 0x80]),
        options: {
          contentType: 'application/octet-stream',
          contentEncoding: 'gzip',
          persistent: true,
          priority: 7,
          correlationId: 'corr-1',
          replyTo: 'replies',
          expiration: '600000',
          messageId: 'm-binary',
          timestamp: 1795770000,
          type: 'order.created',
          userId: 'guest',
          appId: 'billing',
          headers: {
            'x-string': 'acme',
            'x-empty': '',
            'x-int8': 2,
            'x-negative': -5,
            'x-int16': { '!': 'int16', value: 2 },
            'x-int32': { '!': 'int32', value: 70000 },
            'x-int64': { '!': 'int64', value: 2 },
            'x-int64-big': { '!': 'int64', value: '9007199254740993' },
            'x-timestamp': { '!': 'timestamp', value: 1795770000 },
            'x-decimal': { '!': 'decimal', value: { places: 2, digits: 1234 } },
            'x-bytes': Buffer.from([0x00, 0x01, 0xff]),
            'x-float': { '!': 'float', value: 1.5 },
            'x-double': { '!': 'double', value: 2 },
            'x-double-plain': 1.25,
            'x-true': true,
            'x-false': false,
            'x-null': null,
            'x-array': [1, 'two', { '!': 'int64', value: 3 }, [true]],
            'x-table': { a: { b: false, n: { '!': 'int64', value: 9 } }, s: 'nested' },
            'x.ünï.dots': 'unicode key',
          },
        },
      },
      { body: Buffer.alloc(0), options: { messageId: 'm-empty', deliveryMode: 1 } },
      {
        body: Buffer.from('{"id":3,"name":"ünïcödé ✓","text":"a\\nb"}', 'utf8'),
        options: {
          contentType: 'application/json',
          contentEncoding: 'utf-8',
          messageId: 'm-json',
          headers: { 'x-tenant': 'acme', 'x-attempt': { '!': 'int64', value: 1 } },
        },
      },
      { body: Buffer.from('line one\nline two\r\n', 'utf8'), options: { type: 'text' } },
    ];
    const n = originals.length;
    for (const { body, options } of originals) {
      await broker.publish('', a, body, options);
      await broker.publish('', control, body, options);
    }

    const consumed = await runWarren(['consume', a, '--format', 'ndjson', '--count', String(n)]);
    expect(consumed.code, consumed.stderr).toBe(0);
    const captured = ndjson(consumed.stdout);
    expect(captured).toHaveLength(n);
    const path = join(dir, 'roundtrip.ndjson');
    writeFileSync(path, consumed.stdout);

    const replayed = await runWarren(['replay', path, '--exchange', '', '--routing-key', b]);
    expectCleanSuccess(replayed, n);

    const expected = await takeAll(control);
    const actual = await takeAll(b);
    expect(actual).toHaveLength(n);
    for (let i = 0; i < n; i += 1) {
      const want = expected[i] as amqp.GetMessage;
      const got = actual[i] as amqp.GetMessage;
      expect(got.content.equals(want.content), `message ${i + 1}: body bytes`).toBe(true);
      expect(propertiesOf(got), `message ${i + 1}: properties`).toEqual(propertiesOf(want));
      const wantHeaders = rawHeaderBytes(want);
      const gotHeaders = rawHeaderBytes(got);
      // The client library always sends a headers table: an absent one may come back empty.
      if (wantHeaders === undefined || wantHeaders.length === 0) {
        expect(gotHeaders === undefined || gotHeaders.length === 0, `message ${i + 1}: no headers`).toBe(
          true,
        );
      } else {
        expect(gotHeaders?.toString('hex'), `message ${i + 1}: header bytes`).toBe(
          wantHeaders.toString('hex'),
        );
      }
      expect(got.fields.exchange).toBe('');
      expect(got.fields.routingKey).toBe(b);
    }
    // Spot-check what the byte comparison means: the wide and exotic types kept their tags.
    const wire = wireTable(rawHeaderBytes(actual[0] as amqp.GetMessage) as Buffer);
    expect(wire['x-int64']).toEqual({ tag: 'l', hex: '0000000000000002' });
    expect(wire['x-int64-big']).toEqual({ tag: 'l', hex: 9007199254740993n.toString(16).padStart(16, '0') });
    expect(wire['x-float']).toMatchObject({ tag: 'f' });
    expect(wire['x-double']).toMatchObject({ tag: 'd' });
    expect(wire['x-decimal']).toMatchObject({ tag: 'D' });
    expect(wire['x-timestamp']).toMatchObject({ tag: 'T' });

    // And the same capture, replayed and consumed again, prints the same envelopes.
    const again = await runWarren(['replay', path, '--exchange', '', '--routing-key', b2]);
    expectCleanSuccess(again, n);
    const reconsumed = await runWarren(['consume', b2, '--format', 'ndjson', '--count', String(n)]);
    expect(reconsumed.code, reconsumed.stderr).toBe(0);
    expect(ndjson(reconsumed.stdout).map(withoutDelivery)).toEqual(captured.map(withoutDelivery));
    for (const q of [a, control, b, b2]) expect(await broker.messageCount(q)).toBe(0);
  });

  it('without overrides sends each message to its recorded exchange and routing key', async () => {
    const exchange = await broker.exchange('rp-origin', 'direct');
    const q1 = await broker.queue('rp-origin-k1');
    const q2 = await broker.queue('rp-origin-k2');
    const q3 = await broker.queue('rp-origin-default');
    await broker.channel.bindQueue(q1, exchange, 'k1');
    await broker.channel.bindQueue(q2, exchange, 'k2');
    const path = captureFile([
      { exchange, routingKey: 'k1', redelivered: true, properties: {}, body: 'one', bodyEncoding: 'utf8' },
      { exchange: '', routingKey: q3, properties: { messageId: 'three' }, body: 'three' },
      { exchange, routingKey: 'k2', body: 'two', receivedAt: '2026-03-01T12:00:00.000Z' },
      { exchange, routingKey: 'k1', body: 'four' },
    ]);
    const result = await runWarren(['replay', path]);
    expectCleanSuccess(result, 4);
    const first = await takeAll(q1);
    expect(first.map((m) => m.content.toString())).toEqual(['one', 'four']);
    expect(first.map((m) => [m.fields.exchange, m.fields.routingKey, m.fields.redelivered])).toEqual([
      [exchange, 'k1', false],
      [exchange, 'k1', false],
    ]);
    const second = await takeAll(q2);
    expect(second.map((m) => [m.fields.exchange, m.fields.routingKey, m.content.toString()])).toEqual([
      [exchange, 'k2', 'two'],
    ]);
    const third = await takeAll(q3);
    expect(third.map((m) => [m.fields.exchange, m.fields.routingKey, m.content.toString()])).toEqual([
      ['', q3, 'three'],
    ]);
    expect(third[0]?.properties.messageId).toBe('three');
  });
});

describe('--dry-run', () => {
  const lines = (queue: string) => [
    {
      exchange: 'orig-exchange',
      routingKey: 'orig.key',
      redelivered: false,
      properties: { messageId: 'd-1', contentType: 'application/json' },
      headers: { 'x-tenant': 'acme', 'x-kept': { '!': 'int64', value: 7 } },
      body: '{"id":1}',
      bodyEncoding: 'utf8',
      receivedAt: '2026-03-01T12:00:00.000Z',
    },
    {
      exchange: '',
      routingKey: queue,
      redelivered: false,
      properties: { messageId: 'd-2' },
      body: Buffer.from([0xff, 0x00]).toString('base64'),
      bodyEncoding: 'base64',
      receivedAt: '2026-03-01T12:00:01.000Z',
    },
    {
      exchange: 'orig-exchange',
      routingKey: 'orig.other',
      redelivered: false,
      properties: {},
      body: '',
      bodyEncoding: 'utf8',
      receivedAt: '2026-03-01T12:00:02.000Z',
    },
  ];

  it('prints each envelope with its destination after the overrides, and publishes nothing', async () => {
    const q = await broker.queue('rp-dry');
    const input = lines(q);
    const path = captureFile(input);
    const result = await runWarren([
      'replay',
      path,
      '--dry-run',
      '--exchange',
      '',
      '--routing-key',
      q,
      '-H',
      'x-tenant=globex',
      '-H',
      'x-new:={"!":"int64","value":2}',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.stderr).toMatch(/dry run/i);
    expect(result.stderr).toMatch(/\b3 messages\b/);
    expect(result.stderr).not.toMatch(SUMMARY);
    const printed = ndjson(result.stdout);
    expect(printed).toHaveLength(3);
    for (const [i, envelope] of printed.entries()) {
      const original = input[i] as Record<string, unknown>;
      expect(envelope['exchange']).toBe('');
      expect(envelope['routingKey']).toBe(q);
      expect(envelope['body']).toBe(original['body']);
      expect(envelope['bodyEncoding']).toBe(original['bodyEncoding']);
      expect(envelope['properties']).toEqual(original['properties']);
      expect(envelope['headers']).toEqual({
        ...(original['headers'] as Record<string, unknown> | undefined),
        'x-tenant': 'globex',
        'x-new': { '!': 'int64', value: 2 },
      });
    }
    expect(await broker.messageCount(q)).toBe(0);
  });

  it('without overrides prints the recorded destinations; needs no broker at all', async () => {
    const q = await broker.queue('rp-dry-nobroker');
    const input = lines(q);
    const path = captureFile(input);
    const result = await runWarren(['replay', path, '--dry-run', '--url', DEAD_URL]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/dry run/i);
    expect(result.stderr).not.toMatch(/error/i);
    const printed = ndjson(result.stdout);
    expect(printed.map((e) => [e['exchange'], e['routingKey'], e['body']])).toEqual(
      input.map((e) => [e.exchange, e.routingKey, e.body]),
    );
    expect(printed[0]?.['headers']).toEqual(input[0]?.headers);
    expect(await broker.messageCount(q)).toBe(0);
  });
});

describe('--receipts', () => {
  it('prints seq, line and status per message; an unroutable one is returned with 312 and exit 4', async () => {
    const q = await broker.queue('rp-receipts');
    const nowhere = uniqueName('rp-no-such-queue');
    const path = captureFile([
      { routingKey: q, body: '1' },
      '', // an empty line: skipped, but counted in the line numbers
      { routingKey: q, body: '3' },
      { routingKey: nowhere, body: '4' },
      { routingKey: q, body: '5' },
    ]);
    const result = await runWarren(['replay', path, '--receipts']);
    expect(result.code, result.stderr).toBe(4);
    // Receipts come as the broker settles: an unroutable message may be confirmed (as
    // returned) before earlier routed ones, so they are compared in seq order.
    const receipts = ndjson(result.stdout).sort((x, y) => (x['seq'] as number) - (y['seq'] as number));
    expect(receipts).toEqual([
      { seq: 1, line: 1, status: 'confirmed' },
      { seq: 2, line: 3, status: 'confirmed' },
      { seq: 3, line: 4, status: 'returned', replyCode: 312 },
      { seq: 4, line: 5, status: 'confirmed' },
    ]);
    const line = expectOneErrorLine(result);
    expect(line).toMatch(/1 of 4 messages not delivered/);
    expect(line).toMatch(/312/);
    expect(line).toMatch(/\bline 4\b/);
    expect(summary(result)).toEqual([4, 3, 1, 0]);
    expect(await bodies(q)).toEqual(['1', '3', '5']);
  });

  it('all confirmed: one receipt per message and exit 0', async () => {
    const q = await broker.queue('rp-receipts-ok');
    const path = captureFile([1, 2, 3].map((i) => ({ body: `r${i}` })));
    const result = await runWarren(['replay', path, '-k', q, '--receipts']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.toString()).toBe(
      [1, 2, 3].map((i) => `{"seq":${i},"line":${i},"status":"confirmed"}\n`).join(''),
    );
    expect(summary(result)).toEqual([3, 3, 0, 0]);
    expect(await bodies(q)).toEqual(['r1', 'r2', 'r3']);
  });
});

describe('--match and --count', () => {
  const input = (q: string) =>
    captureFile([
      { routingKey: q, headers: { 'x-tenant': 'acme' }, body: '{"id":1}' },
      { routingKey: q, headers: { 'x-tenant': 'globex' }, body: '{"id":2}' },
      { routingKey: q, headers: { 'x-tenant': 'acme' }, body: '{"id":2,"n":"b"}' },
      { routingKey: q, body: 'not json' },
      { routingKey: q, headers: { 'x-tenant': 'acme' }, body: '{"id":3}' },
    ]);

  it('--match selects by body and header; the summary counts those not matching', async () => {
    const q = await broker.queue('rp-match');
    const path = input(q);

    const byBody = await runWarren(['replay', path, '--match', 'body.id=2']);
    expect(byBody.code, byBody.stderr).toBe(0);
    expect(summary(byBody)).toEqual([2, 2, 0, 0]);
    expect(byBody.stderr).toMatch(/\b3 not matching\b/);
    expect(await bodies(q)).toEqual(['{"id":2}', '{"id":2,"n":"b"}']);

    const byHeader = await runWarren(['replay', path, '--match', 'headers.x-tenant=acme']);
    expect(byHeader.code, byHeader.stderr).toBe(0);
    expect(summary(byHeader)).toEqual([3, 3, 0, 0]);
    expect(byHeader.stderr).toMatch(/\b2 not matching\b/);
    expect(await bodies(q)).toEqual(['{"id":1}', '{"id":2,"n":"b"}', '{"id":3}']);

    const both = await runWarren([
      'replay',
      path,
      '--match',
      'body.id=2',
      '--match',
      'headers.x-tenant=acme',
    ]);
    expect(both.code, both.stderr).toBe(0);
    expect(summary(both)).toEqual([1, 1, 0, 0]);
    expect(both.stderr).toMatch(/\b4 not matching\b/);
    expect(await bodies(q)).toEqual(['{"id":2,"n":"b"}']);
  });

  it('--count N stops after N published (matching ones, with --match)', async () => {
    const q = await broker.queue('rp-count');
    const path = input(q);

    const firstTwo = await runWarren(['replay', path, '--count', '2']);
    expectCleanSuccess(firstTwo, 2);
    expect(await bodies(q)).toEqual(['{"id":1}', '{"id":2}']);

    const matching = await runWarren(['replay', path, '--match', 'headers.x-tenant=acme', '-n', '2']);
    expect(matching.code, matching.stderr).toBe(0);
    expect(summary(matching)).toEqual([2, 2, 0, 0]);
    expect(matching.stderr).toMatch(/\b1 not matching\b/);
    expect(await bodies(q)).toEqual(['{"id":1}', '{"id":2,"n":"b"}']);
  });

  it('--dry-run with --match prints only the matching envelopes', async () => {
    const q = await broker.queue('rp-match-dry');
    const result = await runWarren(['replay', input(q), '--dry-run', '--match', 'body.id=2']);
    expect(result.code, result.stderr).toBe(0);
    expect(ndjson(result.stdout).map((e) => e['body'])).toEqual(['{"id":2}', '{"id":2,"n":"b"}']);
    expect(result.stderr).toMatch(/dry run/i);
    expect(result.stderr).toMatch(/\b3 not matching\b/);
    expect(await broker.messageCount(q)).toBe(0);
  });
});

describe('destinations and headers from flags', () => {
  it('-H overrides a recorded header and adds typed ones; the others are kept as they were', async () => {
    const q = await broker.queue('rp-headers');
    const path = captureFile([
      {
        routingKey: q,
        headers: { 'x-tenant': 'acme', 'x-kept': { '!': 'int64', value: 7 }, 'x-flag': false },
        body: 'h1',
      },
      { routingKey: q, body: 'h2' },
    ]);
    const result = await runWarren([
      'replay',
      path,
      '-H',
      'x-tenant=globex',
      '-H',
      'x-new:={"!":"int64","value":2}',
      '--header',
      'x-flag:=true',
    ]);
    expectCleanSuccess(result, 2);
    const [first, second] = await takeAll(q);
    expect(wireTable(rawHeaderBytes(first as amqp.GetMessage) as Buffer)).toEqual({
      'x-tenant': { tag: 'S', value: 'globex' },
      'x-kept': { tag: 'l', hex: '0000000000000007' },
      'x-flag': { tag: 't', value: true },
      'x-new': { tag: 'l', hex: '0000000000000002' },
    });
    expect(wireTable(rawHeaderBytes(second as amqp.GetMessage) as Buffer)).toEqual({
      'x-tenant': { tag: 'S', value: 'globex' },
      'x-new': { tag: 'l', hex: '0000000000000002' },
      'x-flag': { tag: 't', value: true },
    });
  });

  it('--exchange and --to-exchange are the same flag; naming two different exchanges is exit 2', async () => {
    const exchange = await broker.exchange('rp-to-exchange', 'direct');
    const q = await broker.queue('rp-to-exchange-q');
    await broker.channel.bindQueue(q, exchange, 'rk');
    const path = captureFile([{ exchange: 'recorded-elsewhere', routingKey: 'rk', body: 'e' }]);

    for (const flags of [
      ['--exchange', exchange],
      ['-e', exchange],
      ['--to-exchange', exchange],
      ['--exchange', exchange, '--to-exchange', exchange],
    ]) {
      const result = await runWarren(['replay', path, ...flags]);
      expectCleanSuccess(result, 1);
      const messages = await takeAll(q);
      expect(messages.map((m) => [m.fields.exchange, m.fields.routingKey, m.content.toString()])).toEqual([
        [exchange, 'rk', 'e'],
      ]);
    }

    const conflict = await runWarren(['replay', path, '--exchange', exchange, '--to-exchange', 'amq.direct']);
    expect(conflict.code).toBe(2);
    expect(conflict.stdout.length).toBe(0);
    expect(expectOneErrorLine(conflict)).toMatch(/--exchange.*--to-exchange|--to-exchange.*--exchange/);
    expect(await broker.messageCount(q)).toBe(0);
  });
});

describe('input', () => {
  const fiveWithBadThird = (q: string) =>
    captureFile([
      { routingKey: q, body: '1' },
      { routingKey: q, body: '2' },
      '{"routingKey": "x", "body": 3',
      { routingKey: q, body: '4' },
      { routingKey: q, body: '5' },
    ]);

  it('a malformed line 3 stops the replay with exit 65 naming it; lines 1-2 are confirmed and queued', async () => {
    const q = await broker.queue('rp-bad-line');
    const result = await runWarren(['replay', fiveWithBadThird(q), '--receipts']);
    expect(result.code, result.stderr).toBe(65);
    expect(expectOneErrorLine(result)).toMatch(/\bline 3\b/);
    expect(ndjson(result.stdout)).toEqual([
      { seq: 1, line: 1, status: 'confirmed' },
      { seq: 2, line: 2, status: 'confirmed' },
    ]);
    expect(summary(result)).toEqual([2, 2, 0, 0]);
    expect(await bodies(q)).toEqual(['1', '2']);
  });

  it('names the line of a bad typed header value (exit 65)', async () => {
    const q = await broker.queue('rp-bad-header');
    const path = captureFile([
      { routingKey: q, body: '1' },
      { routingKey: q, body: '2', headers: { n: { '!': 'int8', value: 300 } } },
    ]);
    const result = await runWarren(['replay', path]);
    expect(result.code, result.stderr).toBe(65);
    expect(expectOneErrorLine(result)).toMatch(/\bline 2\b/);
    expect(await bodies(q)).toEqual(['1']);
  });

  it('--skip-invalid warns about line 3 and replays the rest (exit 0)', async () => {
    const q = await broker.queue('rp-skip-invalid');
    const result = await runWarren(['replay', fiveWithBadThird(q), '--skip-invalid']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.length).toBe(0);
    expect(errorLines(result.stderr)).toEqual([]);
    const warnings = warningLines(result.stderr);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/\bline 3\b/);
    expect(summary(result)).toEqual([4, 4, 0, 0]);
    expect(result.stderr).toMatch(/skipped 1 invalid/);
    expect(await bodies(q)).toEqual(['1', '2', '4', '5']);
  });

  it('text UTF-8 cannot carry (a lone surrogate, bytes not UTF-8) is exit 65 naming line and field, never sent altered', async () => {
    // Was: the routing key went out with U+FFFD, the broker returned it, and the receipt
    // said "confirmed", exit 0.
    const q = await broker.queue('rp-surrogate');
    const lines = [
      `{"routingKey":"${q}","body":"1"}`,
      `{"routingKey":"${q}\\ud800","body":"2"}`,
      `{"routingKey":"${q}","body":"3","headers":{"a":[{"k":"\\udfff"}]}}`,
      `{"routingKey":"${q}","body":"4"}`,
    ];
    const stopped = await runWarren(['replay', captureFile(lines), '--receipts']);
    expect(stopped.code, stopped.stderr).toBe(65);
    expect(expectOneErrorLine(stopped)).toMatch(/line 2: "routingKey" holds a lone surrogate \(\\ud800/);
    expect(ndjson(stopped.stdout)).toEqual([{ seq: 1, line: 1, status: 'confirmed' }]);
    expect(await bodies(q)).toEqual(['1']);

    const skipped = await runWarren(['replay', captureFile(lines), '--receipts', '--skip-invalid']);
    expect(skipped.code, skipped.stderr).toBe(0);
    const warnings = warningLines(skipped.stderr);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/line 2: "routingKey" holds a lone surrogate/);
    expect(warnings[1]).toMatch(/line 3: headers\.a\[0\]\.k holds a lone surrogate \(\\udfff/);
    expect(ndjson(skipped.stdout).map((r) => [r['line'], r['status']])).toEqual([
      [1, 'confirmed'],
      [4, 'confirmed'],
    ]);
    expect(await bodies(q)).toEqual(['1', '4']);

    const bytes = captureFile([`{"routingKey":"${q}","body":"1"}`]);
    writeFileSync(
      bytes,
      Buffer.concat([
        Buffer.from(`{"routingKey":"${q}","body":"o`),
        Buffer.from([0xff]),
        Buffer.from('k"}\n'),
      ]),
      { flag: 'a' },
    );
    const notUtf8 = await runWarren(['replay', bytes]);
    expect(notUtf8.code, notUtf8.stderr).toBe(65);
    expect(expectOneErrorLine(notUtf8)).toMatch(/line 2: not valid UTF-8 \(byte 0xff at byte \d+\)/);
    expect(await bodies(q)).toEqual(['1']);
  });

  it('a missing file is exit 2 naming it, before connecting', async () => {
    const missing = join(dir, 'no-such-capture.ndjson');
    const result = await runWarren(['replay', missing, '--url', DEAD_URL]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout.length).toBe(0);
    const line = expectOneErrorLine(result);
    expect(line).toContain('no-such-capture.ndjson');
    expect(line).not.toContain('127.0.0.1:1');
  });

  it('reads stdin for - and when no FILE is given and stdin is a pipe; a last line needs no newline', async () => {
    const q = await broker.queue('rp-stdin');
    const text = `${JSON.stringify({ body: 'a' })}\n\n${JSON.stringify({ body: 'b' })}`;
    const dash = await runWarren(['replay', '-', '-k', q], { stdin: text });
    expectCleanSuccess(dash, 2);
    expect(await bodies(q)).toEqual(['a', 'b']);
    const piped = await runWarren(['replay', '-k', q, '--receipts'], { stdin: text });
    expect(piped.code, piped.stderr).toBe(0);
    expect(ndjson(piped.stdout)).toEqual([
      { seq: 1, line: 1, status: 'confirmed' },
      { seq: 2, line: 3, status: 'confirmed' },
    ]);
    expect(await bodies(q)).toEqual(['a', 'b']);
  });
});

describe('pacing', () => {
  const offsets = [0, 150, 400, 450, 900];

  /**
   * Replays `lines` from stdin with `flags`, giving warren the first line only once it is
   * ready to publish, and returns when each message arrived, in ms after that moment. Paced
   * from its first message, message i cannot arrive sooner than its due time after it
   * however busy the machine is; how close to it it comes is a timing, for the bench, and
   * only logged here. (The pacer's arithmetic is proved exactly in unit/replayPacer.)
   */
  async function paced(q: string, lines: Record<string, unknown>[], flags: string[]): Promise<number[]> {
    const consumer = await arrivals(q);
    try {
      const child = startWarren(['replay', '-', '-v', ...flags], { stdin: 'open' });
      const done = collect(child);
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      await eventually(async () => /publisher confirms on/.test(stderr), 20_000);
      const released = performance.now();
      const [first, ...rest] = lines.map((line) => `${JSON.stringify(line)}\n`);
      child.stdin?.write(first as string);
      child.stdin?.end(rest.join(''));
      const result = await done;
      expectCleanSuccess(result, lines.length);
      await eventually(async () => consumer.times.length === lines.length);
      expect(consumer.bodies).toEqual(lines.map((line) => line['body']));
      const after = consumer.times.map((t) => t - released);
      console.log(
        `replay ${flags.join(' ')}: arrivals ${after.map((t) => t.toFixed(1)).join(', ')} ms after the first line`,
      );
      return after;
    } finally {
      await consumer.stop();
    }
  }

  /** Each arrival no sooner than its due time (less a timer's millisecond of rounding). */
  function expectNoSooner(after: number[], due: number[]) {
    for (const [i, at] of after.entries()) {
      expect(at, `message ${i + 1}, due ${due[i]} ms after the first`).toBeGreaterThanOrEqual(
        (due[i] as number) - TIMER_SLACK_MS,
      );
    }
  }

  it('--timing original holds each message back to its recorded time after the first', async () => {
    const q = await broker.queue('rp-timing');
    const after = await paced(q, timedLines(q, offsets), ['--timing', 'original']);
    expectNoSooner(after, offsets);
  });

  it('--timing original --speed 2 holds each message back to half its recorded time', async () => {
    const q = await broker.queue('rp-timing-speed');
    const after = await paced(q, timedLines(q, offsets), ['--timing', 'original', '--speed', '2']);
    expectNoSooner(
      after,
      offsets.map((offset) => offset / 2),
    );
  });

  it('--timing original with a line lacking receivedAt is exit 65 naming it', async () => {
    const q = await broker.queue('rp-timing-missing');
    const [first, second, third] = timedLines(q, [0, 10, 20]);
    const { receivedAt: _gone, ...withoutTime } = second as Record<string, unknown>;
    const path = captureFile([
      first as Record<string, unknown>,
      withoutTime,
      third as Record<string, unknown>,
    ]);
    const result = await runWarren(['replay', path, '--timing', 'original']);
    expect(result.code, result.stderr).toBe(65);
    const line = expectOneErrorLine(result);
    expect(line).toMatch(/\bline 2\b/);
    expect(line).toMatch(/receivedAt/);
    expect(summary(result)).toEqual([1, 1, 0, 0]);
    expect(await bodies(q)).toEqual(['t1']);
  });

  it('--rate 20/s sends 10 messages 50 ms apart at the least', async () => {
    const q = await broker.queue('rp-rate');
    const lines = Array.from({ length: 10 }, (_, i) => ({ routingKey: q, body: `r${i + 1}` }));
    const after = await paced(q, lines, ['--rate', '20/s']);
    expectNoSooner(
      after,
      lines.map((_, i) => i * 50),
    );
  });
});

describe('Ctrl-C', () => {
  it('SIGINT mid-replay: exit 130, the summary counts exactly what is in the queue', async () => {
    const q = await broker.queue('rp-sigint');
    const path = captureFile(Array.from({ length: 500 }, (_, i) => ({ routingKey: q, body: `s${i + 1}` })));
    const child = startWarren(['replay', path, '--rate', '5/s', '--receipts']);
    const done = collect(child);
    // At 5/s the fifth message goes at ~800 ms: interrupt about a second in.
    await eventually(async () => (await broker.messageCount(q)) >= 5, 10_000);
    child.kill('SIGINT');
    const result = await done;
    expect(result.code, result.stderr).toBe(130);
    expect(hasStackTrace(result.stderr)).toBe(false);
    const [published, confirmed, returned, nacked] = summary(result);
    expect(published).toBeGreaterThanOrEqual(5);
    expect(published, 'stopped long before the last of 500 at 5/s').toBeLessThan(500);
    expect(confirmed).toBe(published);
    expect([returned, nacked]).toEqual([0, 0]);
    const receipts = ndjson(result.stdout);
    expect(receipts).toHaveLength(published as number);
    expect(receipts.every((r) => r['status'] === 'confirmed')).toBe(true);
    const left = await bodies(q);
    expect(left).toEqual(Array.from({ length: published as number }, (_, i) => `s${i + 1}`));
  });
});

describe('usage errors', () => {
  it('each is exit 2 with one clear error line, and nothing is published or taken', async () => {
    const q = await broker.queue('rp-usage');
    const dlq = await broker.queue('rp-usage-dlq');
    await broker.publish('', dlq, 'dead letter');
    const path = captureFile([{ routingKey: q, body: 'u' }]);
    const cases: { args: string[]; says: RegExp }[] = [
      { args: [path, '--from-queue', dlq], says: /one source/ },
      { args: [path, '--from-stream', dlq], says: /one source/ },
      { args: [path, '--offset', 'first'], says: /--offset.*--from-stream/ },
      { args: [path, '--until', '10'], says: /--until.*--from-stream/ },
      { args: ['--from-queue', dlq, '--timing', 'original'], says: /--timing original/ },
      { args: [path, '--speed', '2'], says: /--speed.*--timing original/ },
      { args: [path, '--dry-run', '--receipts'], says: /--dry-run|--receipts/ },
      { args: [path, '--rate', 'abc'], says: /--rate.*abc/ },
      { args: [path, '--rate', '0'], says: /--rate/ },
      { args: [path, '--timing', 'original', '--speed', '0'], says: /--speed/ },
      { args: [path, '--timing', 'sometimes'], says: /--timing/ },
      { args: [path, '--exchange', 'a', '--to-exchange', 'b'], says: /--to-exchange/ },
      { args: [path, '-H', 'novalue'], says: /novalue/ },
      { args: [path, '--count', '0'], says: /--count|-n/ },
      { args: ['--from-queue', dlq, '--skip-invalid'], says: /--skip-invalid/ },
    ];
    const results = await Promise.all(cases.map((c) => runWarren(['replay', ...c.args])));
    for (const [i, result] of results.entries()) {
      const { args, says } = cases[i] as (typeof cases)[number];
      const label = `warren replay ${args.join(' ')}`;
      expect(result.code, `${label}: ${result.stderr}`).toBe(2);
      expect(result.stdout.length, label).toBe(0);
      expect(hasStackTrace(result.stderr), label).toBe(false);
      const lines = errorLines(result.stderr);
      expect(lines, `${label}: ${result.stderr}`).toHaveLength(1);
      expect(lines[0], label).toMatch(says);
    }
    expect(await broker.messageCount(q)).toBe(0);
    expect(await broker.messageCount(dlq)).toBe(1);
  });
});
