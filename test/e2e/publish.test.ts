/**
 * `warren publish` end to end: bytes in, messages (checked with amqplib) out, and the exit
 * codes, summary and error lines the SPEC promises.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKER_URL, connectTestBroker, type TestBroker } from '../helpers/broker.js';
import { takeAllFast } from '../helpers/bulk.js';
import { type RunResult, runWarren } from '../helpers/cli.js';
import { hasStackTrace, runShell, runWarrenWithFiles } from '../helpers/spawn.js';
import { rawCapturingAmqplib, rawHeaderBytes, type WireTable, wireTable } from '../helpers/wire.js';

const DEAD_URL = 'amqp://guest:guest@127.0.0.1:1/';
const GOOD_URL = BROKER_URL;
const SUMMARY = /published (\d+), confirmed (\d+), returned (\d+), nacked (\d+)/;

let broker: TestBroker;
let reader: amqp.ChannelModel;
let readChannel: amqp.Channel;
let dir: string;

beforeAll(async () => {
  broker = await connectTestBroker();
  reader = await rawCapturingAmqplib().connect(BROKER_URL);
  readChannel = await reader.createChannel();
  dir = mkdtempSync(join(tmpdir(), 'warren-publish-'));
});

afterAll(async () => {
  await reader?.close().catch(() => {});
  await broker?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every message now in the queue, taken in order (headers keep their raw bytes). */
async function takeAll(queue: string): Promise<amqp.GetMessage[]> {
  const messages: amqp.GetMessage[] = [];
  for (;;) {
    const message = await readChannel.get(queue, { noAck: true });
    if (message === false) return messages;
    messages.push(message);
  }
}

function summary(result: RunResult): number[] {
  const match = SUMMARY.exec(result.stderr);
  if (!match) throw new Error(`no summary on stderr: ${result.stderr}`);
  return match.slice(1, 5).map(Number);
}

/** The lines of stderr that report an error (as opposed to hints and summaries). */
function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => /^error\b/i.test(line));
}

/** The numbers listed after "line"/"lines" in an error line: `lines 2, 4` gives [2, 4]. */
function namedLines(line: string): number[] {
  const list = /\blines?\s*:?\s*(\d+(?:\s*,\s*\d+)*)/.exec(line)?.[1];
  if (!list) throw new Error(`no line numbers named in: ${line}`);
  return list.split(',').map((n) => Number(n.trim()));
}

function expectCleanSuccess(result: RunResult, count: number): void {
  expect(result.stderr).not.toMatch(/error/i);
  expect(result.code).toBe(0);
  expect(result.stdout.length).toBe(0);
  expect(summary(result)).toEqual([count, count, 0, 0]);
}

function expectOneErrorLine(result: RunResult): string {
  expect(hasStackTrace(result.stderr), result.stderr).toBe(false);
  const lines = errorLines(result.stderr);
  expect(lines, result.stderr).toHaveLength(1);
  return lines[0] as string;
}

describe('where the body comes from', () => {
  it('takes the body from the argument, as UTF-8, persistent by default', async () => {
    const q = await broker.queue('pub-arg');
    const result = await runWarren(['publish', '--routing-key', q, 'héllo ✓ {"id":42}']);
    expectCleanSuccess(result, 1);
    const [message, extra] = await takeAll(q);
    expect(extra).toBeUndefined();
    expect(message?.content).toEqual(Buffer.from('héllo ✓ {"id":42}', 'utf8'));
    expect(message?.properties.deliveryMode).toBe(2);
    expect(message?.fields.exchange).toBe('');
    expect(message?.fields.routingKey).toBe(q);
  });

  it('takes the body from --file, byte for byte', async () => {
    const q = await broker.queue('pub-file');
    const body = Buffer.concat([
      Buffer.from([0, 0xff, 0xfe, 0x0a, 0x0d]),
      Buffer.alloc(300_000, 0x41),
      Buffer.from('\r\n'),
    ]);
    const path = join(dir, 'body.bin');
    writeFileSync(path, body);
    const result = await runWarren(['publish', '-k', q, '--file', path]);
    expectCleanSuccess(result, 1);
    const messages = await takeAll(q);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.content.equals(body)).toBe(true);
  });

  it('takes the whole of stdin as one binary message', async () => {
    const q = await broker.queue('pub-stdin');
    const body = Buffer.from([0x00, 0x0a, 0xc3, 0x28, 0x0d, 0x0a, 0x0a, 0xff, 0x0d]);
    const result = await runWarren(['publish', '-k', q], { stdin: body });
    expectCleanSuccess(result, 1);
    const messages = await takeAll(q);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.content.equals(body)).toBe(true);
  });

  it('refuses a missing --file with a usage error and publishes nothing', async () => {
    const q = await broker.queue('pub-nofile');
    const result = await runWarren(['publish', '-k', q, '--file', join(dir, 'does-not-exist')]);
    expect(result.code).toBe(2);
    expect(expectOneErrorLine(result)).toContain('does-not-exist');
    expect(await broker.messageCount(q)).toBe(0);
  });
});

describe('--input lines', () => {
  it('publishes one message per line, in order', async () => {
    const q = await broker.queue('pub-lines-order');
    const lines = Array.from({ length: 500 }, (_, i) => `line-${i + 1}`);
    const result = await runWarren(['publish', '-k', q, '--input', 'lines'], {
      stdin: `${lines.join('\n')}\n`,
    });
    expectCleanSuccess(result, 500);
    const messages = await takeAll(q);
    expect(messages.map((m) => m.content.toString())).toEqual(lines);
  });

  it('keeps up with 20000 lines: every one confirmed and in the queue, in order', async () => {
    const q = await broker.queue('pub-lines-many');
    const count = 20_000;
    const input = `${Array.from({ length: count }, (_, i) => String(i + 1)).join('\n')}\n`;
    const result = await runWarren(['publish', '-k', q, '--input', 'lines'], { stdin: input });
    expectCleanSuccess(result, count);
    const bodies = (await takeAllFast(broker.connection, q)).map((m) => Number(m.content.toString()));
    expect(await broker.messageCount(q)).toBe(0);
    expect(bodies).toHaveLength(count);
    expect(bodies.every((n, i) => n === i + 1)).toBe(true);
  });

  it('is binary-safe, drops a trailing \\r, skips empty lines and keeps a last line without newline', async () => {
    const q = await broker.queue('pub-lines-binary');
    const input = Buffer.concat([
      Buffer.from([0x00, 0xff, 0xc3, 0x28, 0x0a]), // binary line
      Buffer.from('\n'), // empty line: skipped
      Buffer.from('windows\r\n'), // trailing \r dropped
      Buffer.from('\r\n'), // empty once the \r is dropped: skipped
      Buffer.from('mid\rdle\r\r\n'), // only the last \r is dropped
      Buffer.from('  spaces kept  \n'),
      Buffer.from('last without newline'),
    ]);
    const path = join(dir, 'lines.bin');
    writeFileSync(path, input);
    const result = await runWarren(['publish', '-k', q, '--input', 'lines', '--file', path]);
    expectCleanSuccess(result, 5);
    const bodies = (await takeAll(q)).map((m) => m.content);
    expect(bodies).toEqual([
      Buffer.from([0x00, 0xff, 0xc3, 0x28]),
      Buffer.from('windows'),
      Buffer.from('mid\rdle\r'),
      Buffer.from('  spaces kept  '),
      Buffer.from('last without newline'),
    ]);
  });

  it('reads lines from stdin when stdin is a file (as with < file)', async () => {
    const q = await broker.queue('pub-lines-redirect');
    const path = join(dir, 'redirect.txt');
    writeFileSync(path, 'one\ntwo\nthree\n');
    const result = await runWarrenWithFiles(['publish', '-k', q, '--input', 'lines'], { stdinPath: path });
    expectCleanSuccess(result, 3);
    expect((await takeAll(q)).map((m) => m.content.toString())).toEqual(['one', 'two', 'three']);
  });
});

describe('--input ndjson', () => {
  it('publishes each envelope with its body encoding, properties and headers', async () => {
    const q = await broker.queue('pub-ndjson');
    const lines = [
      { body: 'plain' },
      { body: Buffer.from([0, 1, 0xff]).toString('base64'), bodyEncoding: 'base64' },
      {
        routingKey: 'ignored-because-of-flag',
        properties: { messageId: 'm-3', contentType: 'application/json', timestamp: 1795770000 },
        headers: { 'x-tenant': 'acme', 'x-attempt': 2, 'x-wide': { '!': 'int64', value: 2 } },
        body: '{"id":3}',
        bodyEncoding: 'utf8',
      },
    ];
    const input = `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;
    const result = await runWarren(['publish', '-k', q, '--input', 'ndjson'], { stdin: input });
    expectCleanSuccess(result, 3);
    const messages = await takeAll(q);
    expect(messages.map((m) => m.content)).toEqual([
      Buffer.from('plain'),
      Buffer.from([0, 1, 0xff]),
      Buffer.from('{"id":3}'),
    ]);
    const third = messages[2] as amqp.GetMessage;
    expect(third.properties).toMatchObject({
      messageId: 'm-3',
      contentType: 'application/json',
      timestamp: 1795770000,
    });
    const raw = rawHeaderBytes(third);
    expect(raw).toBeDefined();
    expect(wireTable(raw as Buffer)).toEqual({
      'x-tenant': { tag: 'S', value: 'acme' },
      'x-attempt': { tag: 'b', hex: '02' },
      'x-wide': { tag: 'l', hex: '0000000000000002' },
    });
  });

  it('routes by the envelope when no flag overrides it, and flags override envelope fields', async () => {
    const q = await broker.queue('pub-ndjson-route');
    const line = JSON.stringify({
      exchange: '',
      routingKey: q,
      properties: { messageId: 'from-line', appId: 'from-line' },
      headers: { 'x-source': 'line', 'x-kept': 'yes' },
      body: 'b',
    });
    const result = await runWarren(
      ['publish', '--input', 'ndjson', '--message-id', 'from-flag', '-H', 'x-source=flag'],
      { stdin: `${line}\n` },
    );
    expectCleanSuccess(result, 1);
    const [message] = await takeAll(q);
    expect(message?.properties.messageId).toBe('from-flag');
    expect(message?.properties.appId).toBe('from-line');
    expect(message?.properties.headers).toEqual({ 'x-source': 'flag', 'x-kept': 'yes' });
  });

  it('stops at a malformed line 3 of 5 with exit 65, after publishing and counting lines 1-2', async () => {
    const q = await broker.queue('pub-ndjson-bad');
    const input = ['{"body":"1"}', '{"body":"2"}', '{"body": 3', '{"body":"4"}', '{"body":"5"}'].join('\n');
    const result = await runWarren(['publish', '-k', q, '--input', 'ndjson'], { stdin: `${input}\n` });
    expect(result.code).toBe(65);
    expect(result.stdout.length).toBe(0);
    expect(expectOneErrorLine(result)).toMatch(/line 3\b/);
    expect(summary(result)).toEqual([2, 2, 0, 0]);
    expect((await takeAll(q)).map((m) => m.content.toString())).toEqual(['1', '2']);
  });

  it('names the line of bad base64 and of a bad typed header value (exit 65)', async () => {
    const q = await broker.queue('pub-ndjson-badvalues');
    const badBase64 = await runWarren(['publish', '-k', q, '--input', 'ndjson'], {
      stdin: '{"body":"ok"}\n{"body":"%%%","bodyEncoding":"base64"}\n',
    });
    expect(badBase64.code).toBe(65);
    expect(expectOneErrorLine(badBase64)).toMatch(/line 2\b/);
    const badHeader = await runWarren(['publish', '-k', q, '--input', 'ndjson'], {
      stdin: '{"body":"ok"}\n{"body":"ok"}\n{"body":"x","headers":{"n":{"!":"int8","value":300}}}\n',
    });
    expect(badHeader.code).toBe(65);
    expect(expectOneErrorLine(badHeader)).toMatch(/line 3\b/);
    expect(await broker.messageCount(q)).toBe(3);
  });

  it('with --skip-invalid warns about line 3, publishes the other 4 and exits 0', async () => {
    const q = await broker.queue('pub-ndjson-skip');
    const input = ['{"body":"1"}', '{"body":"2"}', 'not json at all', '{"body":"4"}', '{"body":"5"}'].join(
      '\n',
    );
    const result = await runWarren(['publish', '-k', q, '--input', 'ndjson', '--skip-invalid'], {
      stdin: `${input}\n`,
    });
    expect(result.code).toBe(0);
    expect(result.stdout.length).toBe(0);
    const warnings = result.stderr.split('\n').filter((line) => /warn/i.test(line));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/line 3\b/);
    expect(summary(result)).toEqual([4, 4, 0, 0]);
    expect((await takeAll(q)).map((m) => m.content.toString())).toEqual(['1', '2', '4', '5']);
  });
});

describe('text that UTF-8 cannot carry is refused, never sent altered', () => {
  /** warren as a shell runs it, so that an argument can hold any bytes. */
  const WARREN = `"${process.execPath}" bin/warren.js`;

  it('a lone surrogate in an unroutable routing key: exit 65 naming line and field (was "confirmed 1", exit 0)', async () => {
    const result = await runWarren(['publish', '--input', 'ndjson'], {
      stdin: '{"body":"b","routingKey":"no-such-queue\\ud800"}\n',
    });
    expect(result.code, result.stderr).toBe(65);
    expect(expectOneErrorLine(result)).toMatch(/line 1: "routingKey" holds a lone surrogate \(\\ud800/);
    expect(summary(result)).toEqual([0, 0, 0, 0]);
  });

  it('--skip-invalid skips such a line, naming it, and publishes the rest', async () => {
    const q = await broker.queue('pub-surrogate-skip');
    const input = ['{"body":"1"}', '{"body":"2","headers":{"h":["\\udc00"]}}', '{"body":"3"}'].join('\n');
    const result = await runWarren(['publish', '-k', q, '--input', 'ndjson', '--skip-invalid'], {
      stdin: `${input}\n`,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(errorLines(result.stderr)).toEqual([]);
    expect(result.stderr).toMatch(/warning: line 2: headers\.h\[0\] holds a lone surrogate .*\(skipped\)/);
    expect((await takeAll(q)).map((m) => m.content.toString())).toEqual(['1', '3']);
  });

  it('an NDJSON line with bytes that are not UTF-8: exit 65 naming the line and the byte', async () => {
    const q = await broker.queue('pub-not-utf8');
    const result = await runShell(
      `printf '{"body":"1"}\\n{"body":"o\\377k"}\\n' | ${WARREN} publish -k ${q} --input ndjson`,
    );
    expect(result.code, result.stderr).toBe(65);
    expect(expectOneErrorLine(result)).toMatch(/line 2: not valid UTF-8 \(byte 0xff at byte 11\)/);
    expect((await takeAll(q)).map((m) => m.content.toString())).toEqual(['1']);
  });

  it.each([
    ['-k', `-k "$(printf 'q\\355\\240\\200')" x`, /--routing-key is not valid UTF-8 as given/],
    ['--routing-key=', `--routing-key="$(printf 'q\\377')" x`, /--routing-key is not valid UTF-8 as given/],
    ['-e', `-e "$(printf 'x\\377')" x`, /--exchange is not valid UTF-8 as given/],
    ['-H', `-H "$(printf 'k=v\\377')" x`, /--header "k=v\uFFFD": the value is not valid UTF-8 as given/],
    ['a property', `--message-id "$(printf '\\377')" x`, /--message-id is not valid UTF-8 as given/],
    ['BODY', `"$(printf 'body\\377')"`, /the BODY argument is not valid UTF-8 as given/],
  ])(
    'an argument whose bytes are not UTF-8 (%s) is exit 2 naming it, nothing sent',
    async (_what, args, says) => {
      const q = await broker.queue('pub-arg-bytes');
      const result = await runShell(`${WARREN} publish -k ${q} ${args}`);
      expect(result.code, result.stderr).toBe(2);
      expect(expectOneErrorLine(result)).toMatch(says);
      expect(await broker.messageCount(q)).toBe(0);
    },
  );

  it('a U+FFFD that was typed as such (valid UTF-8) is sent as it is', async () => {
    const q = await broker.queue('pub-typed-fffd');
    const result = await runShell(
      `${WARREN} publish -k ${q} --message-id "$(printf '\\357\\277\\275')" "$(printf 'b\\357\\277\\275')"`,
    );
    expectCleanSuccess(result, 1);
    const [message] = await takeAll(q);
    expect(message?.properties.messageId).toBe('\uFFFD');
    expect(message?.content.toString()).toBe('b\uFFFD');
  });
});

describe('properties and headers from flags', () => {
  it('puts every property flag on the message', async () => {
    const q = await broker.queue('pub-props');
    const result = await runWarren([
      'publish',
      '-k',
      q,
      '--content-type',
      'application/json',
      '--content-encoding',
      'gzip',
      '--transient',
      '--priority',
      '7',
      '--expiration',
      '30s',
      '--message-id',
      'm-1',
      '--correlation-id',
      'c-1',
      '--reply-to',
      'replies',
      '--type',
      'order.created',
      '--app-id',
      'billing',
      '--timestamp',
      '1795770000',
      'body',
    ]);
    expectCleanSuccess(result, 1);
    const [message] = await takeAll(q);
    expect(message?.properties).toMatchObject({
      contentType: 'application/json',
      contentEncoding: 'gzip',
      deliveryMode: 1,
      priority: 7,
      expiration: '30000',
      messageId: 'm-1',
      correlationId: 'c-1',
      replyTo: 'replies',
      type: 'order.created',
      appId: 'billing',
      timestamp: 1795770000,
    });
  });

  it('accepts --persistent, an ISO 8601 --timestamp and --timestamp now', async () => {
    const q = await broker.queue('pub-props2');
    const iso = await runWarren([
      'publish',
      '-k',
      q,
      '--persistent',
      '--timestamp',
      '2026-11-27T09:00:00Z',
      'a',
    ]);
    expectCleanSuccess(iso, 1);
    const before = Math.floor(Date.now() / 1000);
    const now = await runWarren(['publish', '-k', q, '--timestamp', 'now', 'b']);
    const after = Math.ceil(Date.now() / 1000);
    expectCleanSuccess(now, 1);
    const [first, second] = await takeAll(q);
    expect(first?.properties.deliveryMode).toBe(2);
    expect(first?.properties.timestamp).toBe(1795770000);
    expect(second?.properties.timestamp).toBeGreaterThanOrEqual(before);
    expect(second?.properties.timestamp).toBeLessThanOrEqual(after);
  });

  it('sends -H k=v as strings and -H k:=JSON with its type', async () => {
    const q = await broker.queue('pub-headers');
    const result = await runWarren([
      'publish',
      '-k',
      q,
      '-H',
      'x-string=7',
      '-H',
      'x-equals=a=b',
      '-H',
      'x-empty=',
      '-H',
      'x-number:=7',
      '-H',
      'x-double:=1.5',
      '-H',
      'x-bool:=true',
      '-H',
      'x-null:=null',
      '-H',
      'x-array:=[1,"two"]',
      '-H',
      'x-table:={"a":{"b":false}}',
      '-H',
      'x-int64:={"!":"int64","value":2}',
      '-H',
      'x-ts:={"!":"timestamp","value":1795770000}',
      '-H',
      'x-bytes:={"!":"bytes","value":"AAH/"}',
      '-H',
      'x-decimal:={"!":"decimal","value":{"places":2,"digits":1234}}',
      'body',
    ]);
    expectCleanSuccess(result, 1);
    const [message] = await takeAll(q);
    const raw = rawHeaderBytes(message as amqp.GetMessage);
    expect(raw).toBeDefined();
    const expected: WireTable = {
      'x-string': { tag: 'S', value: '7' },
      'x-equals': { tag: 'S', value: 'a=b' },
      'x-empty': { tag: 'S', value: '' },
      'x-number': { tag: 'b', hex: '07' },
      'x-double': { tag: 'd', hex: Buffer.from([0x3f, 0xf8, 0, 0, 0, 0, 0, 0]).toString('hex') },
      'x-bool': { tag: 't', value: true },
      'x-null': { tag: 'V' },
      'x-array': {
        tag: 'A',
        items: [
          { tag: 'b', hex: '01' },
          { tag: 'S', value: 'two' },
        ],
      },
      'x-table': { tag: 'F', table: { a: { tag: 'F', table: { b: { tag: 't', value: false } } } } },
      'x-int64': { tag: 'l', hex: '0000000000000002' },
      'x-ts': { tag: 'T', hex: (1795770000).toString(16).padStart(16, '0') },
      'x-bytes': { tag: 'x', hex: '0001ff' },
      'x-decimal': { tag: 'D', hex: `02${(1234).toString(16).padStart(8, '0')}` },
    };
    expect(wireTable(raw as Buffer)).toEqual(expected);
  });

  it('rejects a bad -H value, a bad --priority and contradicting flags as usage errors (exit 2)', async () => {
    const q = await broker.queue('pub-badflags');
    for (const args of [
      ['-H', 'x:=not-json'],
      ['-H', 'novalue'],
      ['--priority', '300'],
      ['--priority', 'high'],
      ['--expiration', 'soon'],
      ['--persistent', '--transient'],
    ]) {
      const result = await runWarren(['publish', '-k', q, ...args, 'body']);
      expect(result.code, args.join(' ')).toBe(2);
      expectOneErrorLine(result);
      expect(result.stdout.length).toBe(0);
    }
    expect(await broker.messageCount(q)).toBe(0);
  });
});

describe('delivery: mandatory, returns and refusals', () => {
  it('exits 4 when the single message is unroutable, 0 with --no-mandatory', async () => {
    const nowhere = `warren-test.no-such-queue.${process.pid}.${Date.now()}`;
    const returned = await runWarren(['publish', '-k', nowhere, 'lost']);
    expect(returned.code).toBe(4);
    expect(returned.stdout.length).toBe(0);
    expect(summary(returned)).toEqual([1, 0, 1, 0]);
    expectOneErrorLine(returned);

    const dropped = await runWarren(['publish', '--no-mandatory', '-k', nowhere, 'dropped']);
    expect(dropped.code).toBe(0);
    expect(summary(dropped)).toEqual([1, 1, 0, 0]);
  });

  it('names the returned line numbers of multi-line input (exit 4); the routable ones arrive', async () => {
    const q = await broker.queue('pub-returns');
    const nowhere = `warren-test.no-such-queue.${process.pid}.${Date.now()}`;
    const input = [q, nowhere, q, nowhere, q]
      .map((routingKey, i) => JSON.stringify({ routingKey, body: `m${i + 1}` }))
      .join('\n');
    const result = await runWarren(['publish', '--input', 'ndjson'], { stdin: `${input}\n` });
    expect(result.code).toBe(4);
    expect(result.stdout.length).toBe(0);
    expect(summary(result)).toEqual([5, 3, 2, 0]);
    expect(namedLines(expectOneErrorLine(result))).toEqual([2, 4]);
    expect((await takeAll(q)).map((m) => m.content.toString())).toEqual(['m1', 'm3', 'm5']);
  });

  it('numbers returned --input lines by file line, counting skipped empty lines', async () => {
    const nowhere = `warren-test.no-such-queue.${process.pid}.${Date.now()}`;
    const result = await runWarren(['publish', '-k', nowhere, '--input', 'lines'], { stdin: 'a\n\nb\r\nc' });
    expect(result.code).toBe(4);
    expect(summary(result)).toEqual([3, 0, 3, 0]);
    expect(namedLines(expectOneErrorLine(result))).toEqual([1, 3, 4]);
  });

  it('exits 4 naming the nacked lines when the queue refuses them (reject-publish overflow)', async () => {
    const q = await broker.queue('pub-nacks', {
      arguments: { 'x-max-length': 2, 'x-overflow': 'reject-publish' },
    });
    const result = await runWarren(['publish', '-k', q, '--input', 'lines'], { stdin: 'a\nb\nc\nd\ne\n' });
    expect(result.code).toBe(4);
    expect(result.stdout.length).toBe(0);
    expect(summary(result)).toEqual([5, 2, 0, 3]);
    const line = expectOneErrorLine(result);
    expect(line).toMatch(/nack/i);
    expect(namedLines(line)).toEqual([3, 4, 5]);
    expect((await takeAll(q)).map((m) => m.content.toString())).toEqual(['a', 'b']);
  });

  it('exits 5 for an exchange that does not exist, naming it', async () => {
    const exchange = `warren-test.no-such-exchange.${process.pid}.${Date.now()}`;
    const result = await runWarren(['publish', '-e', exchange, '-k', 'x', 'body']);
    expect(result.code).toBe(5);
    expect(result.stdout.length).toBe(0);
    expect(expectOneErrorLine(result)).toContain(exchange);
    // Was "published 1, …, unconfirmed 1": a message the broker refused is not published.
    expect(summary(result)).toEqual([0, 0, 0, 0]);
    expect(result.stderr).toMatch(/, refused 1 in /);
    expect(result.stderr).toContain(`or declare it: warren declare exchange ${exchange} --type TYPE`);
  });

  it('a refusal in the middle of many lines names the refused line, counted apart from those published', async () => {
    const q = await broker.queue('pub-refused-line');
    const exchange = `warren-test.no-such-exchange.${process.pid}.${Date.now()}`;
    const lines = ['{"body":"1"}', '{"body":"2"}', `{"body":"3","exchange":"${exchange}"}`, '{"body":"4"}'];
    const result = await runWarren(['publish', '-k', q, '--input', 'ndjson'], {
      stdin: `${lines.join('\n')}\n`,
    });
    expect(result.code, result.stderr).toBe(5);
    expect(expectOneErrorLine(result)).toMatch(/the broker refused line 3: NOT_FOUND - no exchange/);
    // Lines 1-2 were routed before line 3 (their confirms may be lost with the channel);
    // line 4 was discarded with the channel, or never sent.
    expect(result.stderr).toMatch(
      /published 2, confirmed [0-2], returned 0, nacked 0, refused 1(, discarded 1)?(, unconfirmed [12])? in /,
    );
    expect((await takeAll(q)).map((m) => m.content.toString())).toEqual(['1', '2']);
  });

  it('publishes through a named exchange with its routing key', async () => {
    const exchange = await broker.exchange('pub-direct', 'direct');
    const q = await broker.queue('pub-direct-q');
    await broker.channel.bindQueue(q, exchange, 'order.created');
    const result = await runWarren(['publish', '-e', exchange, '-k', 'order.created', 'body']);
    expectCleanSuccess(result, 1);
    const [message] = await takeAll(q);
    expect(message?.fields.exchange).toBe(exchange);
    expect(message?.fields.routingKey).toBe('order.created');
  });
});

describe('output and usage errors', () => {
  it('-q silences the summary and leaves stdout and stderr empty', async () => {
    const q = await broker.queue('pub-quiet');
    const quiet = await runWarren(['-q', 'publish', '-k', q, 'a']);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout.length).toBe(0);
    expect(quiet.stderr).toBe('');
    const quietAfter = await runWarren(['publish', '-q', '-k', q, 'b']);
    expect(quietAfter.code).toBe(0);
    expect(quietAfter.stderr).toBe('');
    expect(await broker.messageCount(q)).toBe(2);
  });

  it('-q still reports a failure', async () => {
    const nowhere = `warren-test.no-such-queue.${process.pid}.${Date.now()}`;
    const result = await runWarren(['-q', 'publish', '-k', nowhere, 'x']);
    expect(result.code).toBe(4);
    expectOneErrorLine(result);
  });

  it('an unknown flag is exit 2 with a suggestion, no stack trace, nothing published', async () => {
    const q = await broker.queue('pub-typo');
    const result = await runWarren(['publish', '--routing-ky', q, 'x']);
    expect(result.code).toBe(2);
    expect(result.stdout.length).toBe(0);
    expect(expectOneErrorLine(result)).toContain('--routing-ky');
    expect(result.stderr).toContain('--routing-key');
    expect(result.stderr.trim().split('\n').length).toBeLessThanOrEqual(3);
    expect(await broker.messageCount(q)).toBe(0);
  });

  it('a bad --priority names the flag and the value', async () => {
    const result = await runWarren(['publish', '-k', 'x', '--priority', '256', 'x']);
    expect(result.code).toBe(2);
    const line = expectOneErrorLine(result);
    expect(line).toContain('--priority');
    expect(line).toContain('256');
  });
});

describe('connecting', () => {
  it('exits 69 when nothing listens at the URL', async () => {
    const result = await runWarren(['publish', '--url', DEAD_URL, '-k', 'x', 'body']);
    expect(result.code).toBe(69);
    expect(result.stdout.length).toBe(0);
    expect(expectOneErrorLine(result)).toContain('127.0.0.1:1');
  });

  it('exits 69 on a wrong password and never prints it, even with --verbose', async () => {
    for (const password of ['s3cr3t-pw', 'p%40ss-s3cr3t']) {
      const url = `amqp://guest:${password}@127.0.0.1:5672/`;
      for (const verbose of [[], ['--verbose']]) {
        const result = await runWarren([...verbose, 'publish', '--url', url, '-k', 'x', 'body']);
        expect(result.code).toBe(69);
        expectOneErrorLine(result);
        expect(result.stderr).not.toContain('s3cr3t');
        expect(result.stderr).not.toContain(decodeURIComponent(password));
      }
    }
  });

  it('never prints a password given through WARREN_URL', async () => {
    const result = await runWarren(['-v', 'publish', '-k', 'x', 'body'], {
      env: { WARREN_URL: 'amqp://guest:s3cr3t-pw@127.0.0.1:5672/' },
    });
    expect(result.code).toBe(69);
    expect(result.stderr).not.toContain('s3cr3t-pw');
  });

  it('exits 69 for an unknown vhost, naming it and saying the vhost is the problem', async () => {
    const vhost = `warren-test-missing-vh-${process.pid}`;
    const result = await runWarren([
      'publish',
      '--url',
      `amqp://guest:guest@127.0.0.1:5672/${vhost}`,
      '-k',
      'x',
      'body',
    ]);
    expect(result.code).toBe(69);
    const line = expectOneErrorLine(result);
    expect(line).toContain(vhost);
    expect(line.replace(vhost, '')).toMatch(/vhost|virtual host/i);
  });

  it('tries a URL list in order: a dead first entry, then a good one (comma-separated or repeated)', async () => {
    const q = await broker.queue('pub-urllist');
    const comma = await runWarren(['publish', '--url', `${DEAD_URL},${GOOD_URL}`, '-k', q, 'one'], {
      env: { WARREN_URL: undefined },
    });
    expectCleanSuccess(comma, 1);
    const repeated = await runWarren(['publish', '--url', DEAD_URL, '--url', GOOD_URL, '-k', q, 'two'], {
      env: { WARREN_URL: undefined },
    });
    expectCleanSuccess(repeated, 1);
    expect((await takeAll(q)).map((m) => m.content.toString())).toEqual(['one', 'two']);
  });

  it('exits 69 naming every URL when all of a list are dead', async () => {
    const result = await runWarren([
      'publish',
      '--url',
      `${DEAD_URL},amqp://guest:guest@127.0.0.1:2/`,
      '-k',
      'x',
      'y',
    ]);
    expect(result.code).toBe(69);
    const line = expectOneErrorLine(result);
    expect(line).toContain('127.0.0.1:1');
    expect(line).toContain('127.0.0.1:2');
  });

  it('takes --url over WARREN_URL, WARREN_URL over AMQP_URL, and AMQP_URL when alone', async () => {
    const q = await broker.queue('pub-precedence');
    const cases: { name: string; args: string[]; env: Record<string, string | undefined>; code: number }[] = [
      {
        name: 'WARREN_URL good, AMQP_URL dead',
        args: [],
        env: { WARREN_URL: GOOD_URL, AMQP_URL: DEAD_URL },
        code: 0,
      },
      {
        name: 'WARREN_URL dead, AMQP_URL good',
        args: [],
        env: { WARREN_URL: DEAD_URL, AMQP_URL: GOOD_URL },
        code: 69,
      },
      { name: 'AMQP_URL good alone', args: [], env: { WARREN_URL: undefined, AMQP_URL: GOOD_URL }, code: 0 },
      { name: 'AMQP_URL dead alone', args: [], env: { WARREN_URL: undefined, AMQP_URL: DEAD_URL }, code: 69 },
      {
        name: '--url good, WARREN_URL dead',
        args: ['--url', GOOD_URL],
        env: { WARREN_URL: DEAD_URL },
        code: 0,
      },
      {
        name: '--url dead, WARREN_URL good',
        args: ['--url', DEAD_URL],
        env: { WARREN_URL: GOOD_URL },
        code: 69,
      },
    ];
    let delivered = 0;
    for (const c of cases) {
      const result = await runWarren(['publish', ...c.args, '-k', q, `case: ${c.name}`], { env: c.env });
      expect(result.code, `${c.name}: ${result.stderr}`).toBe(c.code);
      if (c.code === 0) delivered += 1;
      else expect(result.stderr, c.name).toContain('127.0.0.1:1');
    }
    expect((await takeAll(q)).map((m) => m.content.toString())).toEqual(
      cases.filter((c) => c.code === 0).map((c) => `case: ${c.name}`),
    );
    expect(delivered).toBe(3);
  });
});
