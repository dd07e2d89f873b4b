import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ReplayOptions } from '../../src/commands/replay/run.js';
import {
  type MessageOverrides,
  messageFromEnvelopeLine,
  outgoingFromRecorded,
  recordedFromEnvelopeLine,
} from '../../src/envelope.js';
import { DataError, type UsageError } from '../../src/errors.js';
import type { GlobalOptions } from '../../src/globalOptions.js';
import { type ParsedCommand, parseArgs } from '../../src/program.js';
import { fakeIo } from '../helpers/fakeIo.js';
import { global } from '../helpers/globals.js';
import { known } from '../helpers/parsed.js';
import { describeUsageErrors } from '../helpers/usageError.js';

afterEach(() => {
  vi.useRealTimers();
});

// ---------------------------------------------------------------------------------------
// Expected parse results.

function replay(
  options: Partial<Omit<ReplayOptions, 'overrides'>> & { overrides?: Partial<MessageOverrides> } = {},
  globals: Partial<GlobalOptions> = {},
): ParsedCommand {
  const { overrides, ...rest } = options;
  return {
    command: 'replay',
    global: global(globals),
    options: {
      source: { kind: 'file', path: 'capture.ndjson' },
      overrides: { exchange: undefined, routingKey: undefined, properties: {}, headers: {}, ...overrides },
      typedHeaders: {},
      timing: 'none',
      speed: 1,
      rate: undefined,
      matches: [],
      count: undefined,
      dryRun: false,
      output: { format: 'ndjson', template: undefined, full: false },
      receipts: false,
      mandatory: true,
      skipInvalid: false,
      ...rest,
    },
  };
}

function stream(
  queue: string,
  range: { start?: unknown; startText?: string; until?: unknown; untilText?: string } = {},
): ReplayOptions['source'] {
  return {
    kind: 'stream',
    queue,
    range: {
      start: 'first',
      startText: 'first',
      until: undefined,
      untilText: undefined,
      ...range,
    } as Extract<ReplayOptions['source'], { kind: 'stream' }>['range'],
  };
}

const SECONDS_11H = Date.parse('2026-11-27T11:00:00Z') / 1000;
const SECONDS_9H = Date.parse('2026-11-27T09:00:00Z') / 1000;

const PARSES: { name: string; argv: string[]; stdinTty?: boolean; expected: ParsedCommand }[] = [
  {
    name: 'a file, every default',
    argv: ['replay', 'capture.ndjson'],
    expected: replay(),
  },
  {
    name: "'-' is stdin, even when stdin is a terminal",
    argv: ['replay', '-'],
    stdinTty: true,
    expected: replay({ source: { kind: 'file', path: '-' } }),
  },
  {
    name: "no FILE, stdin not a terminal: the file '-'",
    argv: ['replay'],
    expected: replay({ source: { kind: 'file', path: '-' } }),
  },
  {
    name: '--from-queue',
    argv: ['replay', '--from-queue', 'orders.dlq'],
    expected: replay({ source: { kind: 'queue', queue: 'orders.dlq' } }),
  },
  {
    name: '--from-queue with stdin a terminal needs no FILE',
    argv: ['replay', '--from-queue', 'orders.dlq'],
    stdinTty: true,
    expected: replay({ source: { kind: 'queue', queue: 'orders.dlq' } }),
  },
  {
    name: '--from-stream starts at first by default, no end',
    argv: ['replay', '--from-stream', 'orders.log'],
    expected: replay({ source: stream('orders.log') }),
  },
  {
    name: '--from-stream --offset N --until N',
    argv: ['replay', '--from-stream', 'orders.log', '--offset', '42', '--until', '1500'],
    expected: replay({
      source: stream('orders.log', {
        start: { '!': 'int64', value: '42' },
        startText: '42',
        until: { offset: 1500 },
        untilText: '1500',
      }),
    }),
  },
  {
    name: '--from-stream --offset last --until 0',
    argv: ['replay', '--from-stream', 's', '--offset', 'last', '--until', '0'],
    expected: replay({
      source: stream('s', { start: 'last', startText: 'last', until: { offset: 0 }, untilText: '0' }),
    }),
  },
  {
    name: '--from-stream --offset and --until as times',
    argv: [
      'replay',
      '--from-stream',
      's',
      '--offset',
      '2026-11-27T09:00:00Z',
      '--until',
      '2026-11-27T11:00:00Z',
    ],
    expected: replay({
      source: stream('s', {
        start: { '!': 'timestamp', value: SECONDS_9H },
        startText: '2026-11-27T09:00:00Z',
        until: { time: { '!': 'timestamp', value: SECONDS_11H } },
        untilText: '2026-11-27T11:00:00Z',
      }),
    }),
  },
  {
    name: '--exchange',
    argv: ['replay', 'capture.ndjson', '--exchange', 'orders-v2'],
    expected: replay({ overrides: { exchange: 'orders-v2' } }),
  },
  {
    name: '--to-exchange is the same as --exchange',
    argv: ['replay', 'capture.ndjson', '--to-exchange', 'orders-v2'],
    expected: replay({ overrides: { exchange: 'orders-v2' } }),
  },
  {
    name: '--exchange and --to-exchange naming the same exchange',
    argv: ['replay', 'capture.ndjson', '-e', 'x', '--to-exchange', 'x'],
    expected: replay({ overrides: { exchange: 'x' } }),
  },
  {
    name: "-e '' -k q: the default exchange, to a queue",
    argv: ['replay', 'capture.ndjson', '-e', '', '-k', 'orders-test'],
    expected: replay({ overrides: { exchange: '', routingKey: 'orders-test' } }),
  },
  {
    name: '--routing-key, long',
    argv: ['replay', 'capture.ndjson', '--routing-key', 'order.created'],
    expected: replay({ overrides: { routingKey: 'order.created' } }),
  },
  {
    name: '-H plain and typed: typed form for --dry-run, encoded form for publishing',
    argv: [
      'replay',
      'capture.ndjson',
      '-H',
      'x-tenant=acme',
      '-H',
      'x-n:={"!":"int64","value":5}',
      '-H',
      'x-ok:=true',
      '-H',
      'x-b:={"!":"bytes","value":"AQ=="}',
    ],
    expected: replay({
      typedHeaders: {
        'x-tenant': 'acme',
        'x-n': { '!': 'int64', value: 5 },
        'x-ok': true,
        'x-b': { '!': 'bytes', value: 'AQ==' },
      },
      overrides: {
        headers: {
          'x-tenant': 'acme',
          'x-n': { '!': 'int64', value: '5' },
          'x-ok': true,
          'x-b': Buffer.from([1]),
        },
      },
    }),
  },
  {
    name: '--timing original --speed 2',
    argv: ['replay', 'capture.ndjson', '--timing', 'original', '--speed', '2'],
    expected: replay({ timing: 'original', speed: 2 }),
  },
  {
    name: '--timing original --speed 0.5',
    argv: ['replay', 'capture.ndjson', '--timing', 'original', '--speed', '0.5'],
    expected: replay({ timing: 'original', speed: 0.5 }),
  },
  {
    name: '--timing original from stdin, no FILE',
    argv: ['replay', '--timing', 'original'],
    expected: replay({ source: { kind: 'file', path: '-' }, timing: 'original' }),
  },
  {
    name: '--timing none, said outright',
    argv: ['replay', 'capture.ndjson', '--timing', 'none'],
    expected: replay(),
  },
  {
    name: '--rate 100',
    argv: ['replay', 'capture.ndjson', '--rate', '100'],
    expected: replay({ rate: 100 }),
  },
  {
    name: '--rate 100/s',
    argv: ['replay', 'capture.ndjson', '--rate', '100/s'],
    expected: replay({ rate: 100 }),
  },
  {
    name: '--rate 30/m is 0.5 a second',
    argv: ['replay', 'capture.ndjson', '--rate', '30/m'],
    expected: replay({ rate: 0.5 }),
  },
  {
    name: '--rate 7200/h is 2 a second',
    argv: ['replay', 'capture.ndjson', '--rate', '7200/h'],
    expected: replay({ rate: 2 }),
  },
  {
    name: '--rate 2.5',
    argv: ['replay', 'capture.ndjson', '--rate', '2.5'],
    expected: replay({ rate: 2.5 }),
  },
  {
    name: '--rate with --timing original',
    argv: ['replay', 'capture.ndjson', '--timing', 'original', '--rate', '10/s'],
    expected: replay({ timing: 'original', rate: 10 }),
  },
  {
    name: '--match is repeatable, in order',
    argv: ['replay', 'capture.ndjson', '--match', 'headers.x-tenant=acme', '--match', 'body.id=42'],
    expected: replay({ matches: ['headers.x-tenant=acme', 'body.id=42'] }),
  },
  {
    name: '-n',
    argv: ['replay', 'capture.ndjson', '-n', '10'],
    expected: replay({ count: 10 }),
  },
  {
    name: '--count',
    argv: ['replay', '--from-queue', 'dlq', '--count', '1'],
    expected: replay({ source: { kind: 'queue', queue: 'dlq' }, count: 1 }),
  },
  {
    name: '--dry-run',
    argv: ['replay', 'capture.ndjson', '--dry-run'],
    expected: replay({ dryRun: true }),
  },
  {
    name: '--dry-run on a queue',
    argv: ['replay', '--from-queue', 'orders.dlq', '--dry-run'],
    expected: replay({ source: { kind: 'queue', queue: 'orders.dlq' }, dryRun: true }),
  },
  {
    name: '--receipts',
    argv: ['replay', 'capture.ndjson', '--receipts'],
    expected: replay({ receipts: true }),
  },
  {
    name: '--no-mandatory',
    argv: ['replay', 'capture.ndjson', '--no-mandatory'],
    expected: replay({ mandatory: false }),
  },
  {
    name: '--skip-invalid',
    argv: ['replay', 'capture.ndjson', '--skip-invalid'],
    expected: replay({ skipInvalid: true }),
  },
  {
    name: 'everything at once, with global options around',
    argv: [
      '--url',
      'amqp://a',
      'replay',
      '-q',
      'capture.ndjson',
      '--to-exchange',
      'orders-v2',
      '-k',
      'k',
      '-H',
      'a=1',
      '--timing',
      'original',
      '--speed',
      '4',
      '--rate',
      '30/m',
      '--match',
      'routingKey=k',
      '-n',
      '5',
      '--receipts',
      '--no-mandatory',
      '--skip-invalid',
      '--key',
      'client.key',
    ],
    expected: replay(
      {
        overrides: { exchange: 'orders-v2', routingKey: 'k', headers: { a: '1' } },
        typedHeaders: { a: '1' },
        timing: 'original',
        speed: 4,
        rate: 0.5,
        matches: ['routingKey=k'],
        count: 5,
        receipts: true,
        mandatory: false,
        skipInvalid: true,
      },
      { urls: ['amqp://a'], quiet: true, key: 'client.key' },
    ),
  },
];

describe('replay: argv → {command, global, options}', () => {
  it.each(PARSES)('$name', async ({ argv, stdinTty, expected }) => {
    expect(await parseArgs(argv, fakeIo({ stdinTty }).io)).toEqual(expected);
  });

  it('--offset and --until as durations ago are times before now', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-27T12:00:00Z'));
    const now = Date.parse('2026-11-27T12:00:00Z') / 1000;
    expect(
      await parseArgs(['replay', '--from-stream', 's', '--offset', '1h', '--until', '10m'], fakeIo().io),
    ).toEqual(
      replay({
        source: stream('s', {
          start: { '!': 'timestamp', value: now - 3600 },
          startText: '1h',
          until: { time: { '!': 'timestamp', value: now - 600 } },
          untilText: '10m',
        }),
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------
// Usage errors.

const USAGE_ERRORS: { name: string; argv: string[]; stdinTty?: boolean; mentions: RegExp }[] = [
  {
    name: 'nothing to replay (stdin a terminal)',
    argv: ['replay'],
    stdinTty: true,
    mentions: /say what to replay/,
  },
  {
    name: 'a FILE and --from-queue',
    argv: ['replay', 'capture.ndjson', '--from-queue', 'q'],
    mentions: /replay one source/,
  },
  {
    name: '--from-queue and --from-stream',
    argv: ['replay', '--from-queue', 'q', '--from-stream', 's'],
    mentions: /replay one source/,
  },
  {
    name: "'-' and --from-stream",
    argv: ['replay', '-', '--from-stream', 's'],
    mentions: /replay one source/,
  },
  {
    name: 'two FILEs',
    argv: ['replay', 'a.ndjson', 'b.ndjson'],
    mentions: /too many arguments/,
  },
  {
    name: '--offset without --from-stream',
    argv: ['replay', 'capture.ndjson', '--offset', 'first'],
    mentions: /--offset goes with --from-stream/,
  },
  {
    name: '--offset with --from-queue',
    argv: ['replay', '--from-queue', 'q', '--offset', '5'],
    mentions: /--offset goes with --from-stream/,
  },
  {
    name: '--until without --from-stream',
    argv: ['replay', 'capture.ndjson', '--until', '100'],
    mentions: /--until goes with --from-stream/,
  },
  {
    name: '--until first',
    argv: ['replay', '--from-stream', 's', '--until', 'first'],
    mentions: /--until: 'first' is not an offset or a time/,
  },
  {
    name: '--until last',
    argv: ['replay', '--from-stream', 's', '--until', 'last'],
    mentions: /--until: 'last'/,
  },
  {
    name: '--until next',
    argv: ['replay', '--from-stream', 's', '--until', 'next'],
    mentions: /--until: 'next'/,
  },
  {
    name: '--until soon (not a time): the error names --until',
    argv: ['replay', '--from-stream', 's', '--until', 'soon'],
    mentions: /^--until: 'soon'/,
  },
  {
    name: '--offset soon',
    argv: ['replay', '--from-stream', 's', '--offset', 'soon'],
    mentions: /--offset: 'soon'/,
  },
  {
    name: '--timing original with --from-queue',
    argv: ['replay', '--from-queue', 'q', '--timing', 'original'],
    mentions: /--timing original needs recorded times/,
  },
  {
    name: '--timing original with --from-stream',
    argv: ['replay', '--from-stream', 's', '--timing', 'original'],
    mentions: /--timing original needs recorded times/,
  },
  {
    name: '--speed without --timing',
    argv: ['replay', 'capture.ndjson', '--speed', '2'],
    mentions: /--speed goes with --timing original/,
  },
  {
    name: '--speed with --timing none',
    argv: ['replay', 'capture.ndjson', '--timing', 'none', '--speed', '2'],
    mentions: /--speed goes with --timing original/,
  },
  {
    name: '--speed 0',
    argv: ['replay', 'capture.ndjson', '--timing', 'original', '--speed', '0'],
    mentions: /expected a number above 0, got '0'/,
  },
  {
    name: '--speed -1',
    argv: ['replay', 'capture.ndjson', '--timing', 'original', '--speed', '-1'],
    mentions: /'-1'/,
  },
  {
    name: '--speed fast',
    argv: ['replay', 'capture.ndjson', '--timing', 'original', '--speed', 'fast'],
    mentions: /'fast'/,
  },
  {
    name: '--rate 0',
    argv: ['replay', 'capture.ndjson', '--rate', '0'],
    mentions: /'0' is not a rate/,
  },
  {
    name: '--rate 0/s',
    argv: ['replay', 'capture.ndjson', '--rate', '0/s'],
    mentions: /'0\/s' is not a rate/,
  },
  {
    name: '--rate abc',
    argv: ['replay', 'capture.ndjson', '--rate', 'abc'],
    mentions: /'abc' is not a rate/,
  },
  {
    name: '--rate 5/d',
    argv: ['replay', 'capture.ndjson', '--rate', '5/d'],
    mentions: /'5\/d' is not a rate/,
  },
  {
    name: '--rate -5',
    argv: ['replay', 'capture.ndjson', '--rate', '-5'],
    mentions: /'-5' is not a rate/,
  },
  {
    name: '--dry-run with --receipts',
    argv: ['replay', 'capture.ndjson', '--dry-run', '--receipts'],
    mentions: /--receipts does not go with --dry-run: it publishes nothing/,
  },
  {
    name: '--skip-invalid with --from-queue',
    argv: ['replay', '--from-queue', 'q', '--skip-invalid'],
    mentions: /--skip-invalid goes with a FILE/,
  },
  {
    name: '--skip-invalid with --from-stream',
    argv: ['replay', '--from-stream', 's', '--skip-invalid'],
    mentions: /--skip-invalid goes with a FILE/,
  },
  {
    name: '--exchange a --to-exchange b',
    argv: ['replay', 'capture.ndjson', '--exchange', 'a', '--to-exchange', 'b'],
    mentions: /--exchange and --to-exchange name different exchanges/,
  },
  {
    name: "--exchange '' --to-exchange b",
    argv: ['replay', 'capture.ndjson', '--exchange', '', '--to-exchange', 'b'],
    mentions: /--exchange and --to-exchange name different exchanges/,
  },
  {
    name: '--timing fast',
    argv: ['replay', 'capture.ndjson', '--timing', 'fast'],
    mentions: /fast/,
  },
  {
    name: '-n 0',
    argv: ['replay', 'capture.ndjson', '-n', '0'],
    mentions: /0/,
  },
  {
    name: '-H without a value',
    argv: ['replay', 'capture.ndjson', '-H', 'novalue'],
    mentions: /novalue/,
  },
  {
    name: '-H key:=not-json',
    argv: ['replay', 'capture.ndjson', '-H', 'n:=nope'],
    mentions: /not JSON/,
  },
  {
    name: '--routing-key over 255 bytes',
    argv: ['replay', 'capture.ndjson', '-k', 'k'.repeat(256)],
    mentions: /255 bytes/,
  },
];

describeUsageErrors('replay: usage errors', USAGE_ERRORS);

describe('replay: usage errors', () => {
  it("nothing to replay: the hint points at 'warren replay --help'", async () => {
    const error = await parseArgs(['replay'], fakeIo({ stdinTty: true }).io).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as UsageError).hint).toBe("see 'warren replay --help'");
  });
});

// ---------------------------------------------------------------------------------------
// What replay publishes: a recorded line, with the overrides the command line gives.

describe('recordedFromEnvelopeLine', () => {
  const FULL = {
    exchange: 'orders',
    routingKey: 'order.created',
    redelivered: true,
    properties: { contentType: 'application/json', priority: 3, messageId: 'm-1' },
    headers: {
      'x-tenant': 'acme',
      'x-n': { '!': 'int64', value: 2 },
      'x-ts': { '!': 'timestamp', value: 1795770000 },
      'x-b': { '!': 'bytes', value: 'AQ==' },
    },
    body: 'AP8=',
    bodyEncoding: 'base64',
    receivedAt: '2026-11-27T09:00:00.123Z',
  };

  it('reads the message, with receivedAt as recordedAt in ms since the epoch', () => {
    const recorded = recordedFromEnvelopeLine(JSON.stringify(FULL), 3, true);
    const at = Date.parse('2026-11-27T09:00:00.123Z');
    expect(recorded.recordedAt).toBe(at);
    expect(recorded.message).toEqual({
      exchange: 'orders',
      routingKey: 'order.created',
      redelivered: true,
      properties: { contentType: 'application/json', priority: 3, messageId: 'm-1' },
      headers: FULL.headers,
      body: Buffer.from([0x00, 0xff]),
      receivedAt: new Date(at),
    });
  });

  it('keeps typed headers as given in message.headers, and encodes them in encodedHeaders', () => {
    const recorded = recordedFromEnvelopeLine(JSON.stringify(FULL), 3, true);
    // As recorded (the int64 value stays the number 2): what --match and --dry-run see.
    expect(recorded.message.headers).toEqual({
      'x-tenant': 'acme',
      'x-n': { '!': 'int64', value: 2 },
      'x-ts': { '!': 'timestamp', value: 1795770000 },
      'x-b': { '!': 'bytes', value: 'AQ==' },
    });
    // As the client library encodes them.
    expect(recorded.encodedHeaders).toEqual({
      'x-tenant': 'acme',
      'x-n': { '!': 'int64', value: '2' },
      'x-ts': { '!': 'timestamp', value: '1795770000' },
      'x-b': Buffer.from([1]),
    });
  });

  it('a line without headers: both undefined', () => {
    const recorded = recordedFromEnvelopeLine('{"body":"x","receivedAt":"2026-11-27T09:00:00Z"}', 1, true);
    expect(recorded.message.headers).toBeUndefined();
    expect(recorded.encodedHeaders).toBeUndefined();
    expect(recorded.message).toMatchObject({
      exchange: '',
      routingKey: '',
      redelivered: false,
      properties: {},
    });
  });

  it('without withTime (publish): receivedAt is not read, and the message time is the epoch', () => {
    const recorded = recordedFromEnvelopeLine(JSON.stringify(FULL), 3, false);
    expect(recorded.recordedAt).toBeUndefined();
    expect(recorded.message.receivedAt).toEqual(new Date(0));
    // The rest is read all the same.
    expect(recorded.message.headers).toEqual(FULL.headers);
    expect(recorded.encodedHeaders).toMatchObject({ 'x-n': { '!': 'int64', value: '2' } });
  });

  it.each([
    ['missing', '{"body":"x"}'],
    ['null', '{"body":"x","receivedAt":null}'],
    ['not a time', '{"body":"x","receivedAt":"yesterday"}'],
    ['empty', '{"body":"x","receivedAt":""}'],
    ['a number', '{"body":"x","receivedAt":1795770000000}'],
    ['an object', '{"body":"x","receivedAt":{"at":1}}'],
  ])('receivedAt %s: recordedAt undefined, no error', (_name, line) => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-01T00:00:00Z'));
    const recorded = recordedFromEnvelopeLine(line, 1, true);
    expect(recorded.recordedAt).toBeUndefined();
    expect(recorded.message.body).toEqual(Buffer.from('x'));
    // The message still carries a time (now), as a delivery would.
    expect(recorded.message.receivedAt).toEqual(new Date('2026-12-01T00:00:00Z'));
  });

  it.each([
    ['invalid JSON', '{"body":', /^line 9: invalid JSON/],
    [
      'an unknown field',
      '{"body":"x","recievedAt":"2026-11-27T09:00:00Z"}',
      /^line 9: unknown field "recievedAt"/,
    ],
    ['bad base64', '{"body":"not base64!","bodyEncoding":"base64"}', /^line 9: "body" is not valid base64/],
    [
      'a bad typed header',
      '{"body":"x","headers":{"n":{"!":"int8","value":999}}}',
      /^line 9: headers\.n: int8/,
    ],
    ['no body', '{"receivedAt":"2026-11-27T09:00:00Z"}', /^line 9: "body" must be a string/],
  ])('%s is a DataError (65) naming the line', (_name, line, problem) => {
    let error: unknown;
    try {
      recordedFromEnvelopeLine(line, 9, true);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).exitCode).toBe(65);
    expect((error as DataError).message).toMatch(problem);
  });
});

describe('outgoingFromRecorded', () => {
  const LINE = JSON.stringify({
    exchange: 'orders',
    routingKey: 'order.created',
    properties: { contentType: 'application/json', priority: 1 },
    headers: { 'x-tenant': 'acme', 'x-n': { '!': 'int64', value: 2 } },
    body: '{"id":42}',
    receivedAt: '2026-11-27T09:00:00Z',
  });
  const NONE: MessageOverrides = { properties: {}, headers: {} };

  it('without overrides: where it was recorded going, with its encoded headers', () => {
    const { message, encodedHeaders } = recordedFromEnvelopeLine(LINE, 1, true);
    expect(outgoingFromRecorded(message, encodedHeaders, NONE)).toEqual({
      exchange: 'orders',
      routingKey: 'order.created',
      body: Buffer.from('{"id":42}'),
      properties: { contentType: 'application/json', priority: 1 },
      headers: { 'x-tenant': 'acme', 'x-n': { '!': 'int64', value: '2' } },
    });
  });

  it('applies exchange, routing key, header and property overrides', () => {
    const { message, encodedHeaders } = recordedFromEnvelopeLine(LINE, 1, true);
    const outgoing = outgoingFromRecorded(message, encodedHeaders, {
      exchange: '',
      routingKey: 'orders-test',
      properties: { priority: 7, messageId: undefined },
      headers: { 'x-tenant': 'globex', 'x-replayed': true },
    });
    expect(outgoing).toEqual({
      exchange: '',
      routingKey: 'orders-test',
      body: Buffer.from('{"id":42}'),
      properties: { contentType: 'application/json', priority: 7 },
      headers: { 'x-tenant': 'globex', 'x-n': { '!': 'int64', value: '2' }, 'x-replayed': true },
    });
  });

  it('header overrides apply to a message recorded without headers', () => {
    const { message, encodedHeaders } = recordedFromEnvelopeLine('{"body":"x"}', 1, true);
    expect(
      outgoingFromRecorded(message, encodedHeaders, { properties: {}, headers: { h: 'v' } }).headers,
    ).toEqual({
      h: 'v',
    });
  });

  it('leaves the recorded message untouched, even when the outgoing one is changed afterwards', () => {
    const recorded = recordedFromEnvelopeLine(LINE, 1, true);
    const { message, encodedHeaders } = recorded;
    const propertiesBefore = structuredClone(message.properties);
    const headersBefore = structuredClone(message.headers);
    const encodedBefore = structuredClone(encodedHeaders);
    Object.freeze(message.properties);
    Object.freeze(message.headers);
    Object.freeze(encodedHeaders);

    const overrides: MessageOverrides = {
      exchange: 'x',
      routingKey: 'k',
      properties: { priority: 9 },
      headers: { 'x-tenant': 'globex' },
    };
    const outgoing = outgoingFromRecorded(message, encodedHeaders, overrides);
    // The session's publish makes the properties object its publish options.
    const options = outgoing.properties as Record<string, unknown>;
    options['headers'] = outgoing.headers;
    options['mandatory'] = true;

    expect(message.properties).toEqual(propertiesBefore);
    expect(message.properties).not.toBe(outgoing.properties);
    expect(message.headers).toEqual(headersBefore);
    expect(encodedHeaders).toEqual(encodedBefore);
    expect(message.exchange).toBe('orders');
    expect(message.routingKey).toBe('order.created');
    expect(overrides).toEqual({
      exchange: 'x',
      routingKey: 'k',
      properties: { priority: 9 },
      headers: { 'x-tenant': 'globex' },
    });
  });

  it('publishing the same recorded message twice gives two independent property objects', () => {
    const { message, encodedHeaders } = recordedFromEnvelopeLine(LINE, 1, true);
    const first = outgoingFromRecorded(message, encodedHeaders, NONE);
    (first.properties as Record<string, unknown>)['mandatory'] = true;
    const second = outgoingFromRecorded(message, encodedHeaders, NONE);
    expect(second.properties).toEqual({ contentType: 'application/json', priority: 1 });
  });

  it('is what messageFromEnvelopeLine gives for the same line (publish --input ndjson)', () => {
    const overrides: MessageOverrides = {
      exchange: 'audit',
      routingKey: undefined,
      properties: { contentType: 'text/plain' },
      headers: { a: 1 },
    };
    const { message, encodedHeaders } = recordedFromEnvelopeLine(LINE, 4, true);
    expect(outgoingFromRecorded(message, encodedHeaders, overrides)).toEqual(
      messageFromEnvelopeLine(LINE, 4, overrides),
    );
  });

  it('the overrides parsed from a replay command line apply to a recorded line', async () => {
    const parsed = known(
      await parseArgs(
        ['replay', 'capture.ndjson', '-e', '', '-k', 'orders-test', '-H', 'x-n:={"!":"int64","value":5}'],
        fakeIo().io,
      ),
    );
    if (parsed?.command !== 'replay') throw new Error('not a replay');
    const { message, encodedHeaders } = recordedFromEnvelopeLine(LINE, 1, true);
    expect(outgoingFromRecorded(message, encodedHeaders, parsed.options.overrides)).toMatchObject({
      exchange: '',
      routingKey: 'orders-test',
      headers: { 'x-tenant': 'acme', 'x-n': { '!': 'int64', value: '5' } },
    });
  });
});
