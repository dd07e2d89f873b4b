import { describe, expect, it } from 'vitest';
import { encodableHeaders } from '../../src/broker/fieldTableEncode.js';
import type { ReceivedMessage } from '../../src/broker/message.js';
import {
  envelopeFromMessage,
  envelopeText,
  type MessageOverrides,
  messageFromEnvelopeLine,
} from '../../src/envelope.js';
import { DataError } from '../../src/errors.js';

const NO_OVERRIDES: MessageOverrides = { properties: {}, headers: {} };

function dataError(line: string, lineNumber = 7): DataError {
  try {
    messageFromEnvelopeLine(line, lineNumber, NO_OVERRIDES);
  } catch (error) {
    if (error instanceof DataError) return error;
    throw error;
  }
  throw new Error(`no error for ${line}`);
}

function received(overrides: Partial<ReceivedMessage> = {}): ReceivedMessage {
  return {
    exchange: 'orders',
    routingKey: 'order.created',
    redelivered: false,
    properties: { contentType: 'application/json', deliveryMode: 2, messageId: 'm-1', timestamp: 1795770000 },
    headers: { 'x-tenant': 'acme', 'x-attempt': 2 },
    body: Buffer.from('{"id":42}'),
    receivedAt: new Date('2026-11-27T09:00:00.123Z'),
    ...overrides,
  };
}

describe('messageFromEnvelopeLine: a valid line', () => {
  it('needs only a body; exchange and routing key default to the empty string', () => {
    expect(messageFromEnvelopeLine('{"body":"hi"}', 1, NO_OVERRIDES)).toEqual({
      exchange: '',
      routingKey: '',
      body: Buffer.from('hi'),
      properties: {},
      headers: undefined,
    });
  });

  it('reads a full envelope: base64 body, properties, typed headers', () => {
    const line = JSON.stringify({
      exchange: 'orders',
      routingKey: 'order.created',
      redelivered: true,
      properties: { contentType: 'application/octet-stream', priority: 9, expiration: '60000', timestamp: 5 },
      headers: { 'x-tenant': 'acme', n: { '!': 'int64', value: 2 }, null: null },
      body: 'AP8=',
      bodyEncoding: 'base64',
      receivedAt: '2026-11-27T09:00:00.123Z',
    });
    const message = messageFromEnvelopeLine(line, 1, NO_OVERRIDES);
    expect(message).toEqual({
      exchange: 'orders',
      routingKey: 'order.created',
      body: Buffer.from([0x00, 0xff]),
      properties: { contentType: 'application/octet-stream', priority: 9, expiration: '60000', timestamp: 5 },
      headers: { 'x-tenant': 'acme', n: { '!': 'int64', value: '2' }, null: null },
    });
  });

  it('treats null exchange, routingKey, properties, headers and bodyEncoding as absent', () => {
    const line =
      '{"exchange":null,"routingKey":null,"properties":null,"headers":null,"bodyEncoding":null,"body":"x"}';
    expect(messageFromEnvelopeLine(line, 1, NO_OVERRIDES)).toEqual({
      exchange: '',
      routingKey: '',
      body: Buffer.from('x'),
      properties: {},
      headers: undefined,
    });
  });

  it('keeps an empty body as zero bytes in both encodings', () => {
    expect(messageFromEnvelopeLine('{"body":""}', 1, NO_OVERRIDES).body).toEqual(Buffer.alloc(0));
    expect(messageFromEnvelopeLine('{"body":"","bodyEncoding":"base64"}', 1, NO_OVERRIDES).body).toEqual(
      Buffer.alloc(0),
    );
  });
});

describe('messageFromEnvelopeLine: flags override the envelope', () => {
  const line = JSON.stringify({
    exchange: 'orders',
    routingKey: 'order.created',
    properties: { priority: 1, messageId: 'm-1' },
    headers: { a: '1', b: '2' },
    body: 'x',
  });

  it('a flag value wins, an unset flag leaves the envelope value', () => {
    const message = messageFromEnvelopeLine(line, 1, {
      exchange: 'audit',
      routingKey: undefined,
      properties: { priority: 5, contentType: 'text/plain', messageId: undefined },
      headers: { b: 'flag', c: 3 },
    });
    expect(message.exchange).toBe('audit');
    expect(message.routingKey).toBe('order.created');
    expect(message.properties).toEqual({ priority: 5, messageId: 'm-1', contentType: 'text/plain' });
    expect(message.headers).toEqual({ a: '1', b: 'flag', c: 3 });
  });

  it("--exchange '' sends to the default exchange even when the envelope names one", () => {
    const message = messageFromEnvelopeLine(line, 1, {
      exchange: '',
      routingKey: 'q',
      properties: {},
      headers: {},
    });
    expect(message.exchange).toBe('');
    expect(message.routingKey).toBe('q');
  });

  it('flag headers apply to a line without headers', () => {
    const message = messageFromEnvelopeLine('{"body":"x"}', 1, { properties: {}, headers: { h: 'v' } });
    expect(message.headers).toEqual({ h: 'v' });
  });
});

describe('messageFromEnvelopeLine: malformed lines are DataError 65 naming the line', () => {
  const cases: [string, string, RegExp][] = [
    ['invalid JSON', '{"body":', /invalid JSON/],
    ['not an object (array)', '["body"]', /JSON object/],
    ['not an object (string)', '"body"', /JSON object/],
    ['not an object (null)', 'null', /JSON object/],
    ['missing body', '{"exchange":"x"}', /"body" must be a string/],
    ['non-string body', '{"body":42}', /"body" must be a string/],
    ['body as an object', '{"body":{"id":1}}', /"body" must be a string/],
    [
      'unknown bodyEncoding',
      '{"body":"x","bodyEncoding":"hex"}',
      /"bodyEncoding" must be "utf8" or "base64"/,
    ],
    ['bad base64 body', '{"body":"not base64!","bodyEncoding":"base64"}', /not valid base64/],
    ['base64 body with bad length', '{"body":"AAA","bodyEncoding":"base64"}', /not valid base64/],
    ['non-string exchange', '{"body":"x","exchange":1}', /"exchange" must be a string/],
    ['non-string routingKey', '{"body":"x","routingKey":["a"]}', /"routingKey" must be a string/],
    [
      'routingKey over 255 bytes',
      JSON.stringify({ body: 'x', routingKey: 'k'.repeat(256) }),
      /over 255 bytes/,
    ],
    ['properties not an object', '{"body":"x","properties":[1]}', /"properties" must be an object/],
    ['unknown property', '{"body":"x","properties":{"x-tenant":"acme"}}', /unknown property "x-tenant"/],
    ['headers inside properties', '{"body":"x","properties":{"headers":{}}}', /unknown property "headers"/],
    [
      'wrong-typed property',
      '{"body":"x","properties":{"contentType":5}}',
      /properties\.contentType must be a string/,
    ],
    [
      'priority 256',
      '{"body":"x","properties":{"priority":256}}',
      /properties\.priority must be an integer from 0 to 255/,
    ],
    ['priority negative', '{"body":"x","properties":{"priority":-1}}', /properties\.priority/],
    ['deliveryMode fractional', '{"body":"x","properties":{"deliveryMode":1.5}}', /properties\.deliveryMode/],
    [
      'expiration not digits',
      '{"body":"x","properties":{"expiration":"10s"}}',
      /properties\.expiration must be a string of milliseconds/,
    ],
    ['expiration as a number', '{"body":"x","properties":{"expiration":60000}}', /properties\.expiration/],
    ['timestamp negative', '{"body":"x","properties":{"timestamp":-1}}', /properties\.timestamp/],
    [
      'timestamp as ISO text',
      '{"body":"x","properties":{"timestamp":"2026-01-01"}}',
      /properties\.timestamp/,
    ],
    [
      'messageId over 255 bytes',
      JSON.stringify({ body: 'x', properties: { messageId: 'é'.repeat(128) } }),
      /properties\.messageId is over 255 bytes/,
    ],
    ['headers not an object (array)', '{"body":"x","headers":[1]}', /"headers" must be an object/],
    ['headers not an object (string)', '{"body":"x","headers":"a=b"}', /"headers" must be an object/],
    [
      'bad typed header',
      '{"body":"x","headers":{"n":{"!":"int8","value":999}}}',
      /headers\.n: int8 value 999/,
    ],
    [
      'unknown typed header type',
      '{"body":"x","headers":{"n":{"!":"int7","value":1}}}',
      /headers\.n: unknown type "int7"/,
    ],
    [
      'bad bytes header',
      '{"body":"x","headers":{"b":{"!":"bytes","value":"%%%"}}}',
      /headers\.b: bytes value/,
    ],
    ['unknown top-level field', '{"body":"x","routing_key":"k"}', /unknown field "routing_key"/],
  ];

  it.each(cases)('%s', (_name, line, problem) => {
    const error = dataError(line, 7);
    expect(error.exitCode).toBe(65);
    expect(error.message.startsWith('line 7: ')).toBe(true);
    expect(error.message).toMatch(problem);
  });

  it('names the line number it was given', () => {
    expect(dataError('{', 12345).message).toMatch(/^line 12345: invalid JSON/);
  });
});

describe('text UTF-8 cannot carry is DataError 65 naming the line and the field', () => {
  it.each([
    ['{"body":"x","routingKey":"q\\ud800"}', '"routingKey" holds a lone surrogate (\\ud800 at character 2)'],
    ['{"body":"x","exchange":"\\udfffe"}', '"exchange" holds a lone surrogate (\\udfff at character 1)'],
    ['{"body":"a\\ud800"}', '"body" holds a lone surrogate (\\ud800 at character 2)'],
    ['{"body":"x","properties":{"appId":"\\ud800"}}', 'properties.appId holds a lone surrogate'],
    ['{"body":"x","headers":{"a":{"b":["\\ud800"]}}}', 'headers.a.b[0] holds a lone surrogate'],
    ['{"body":"x","headers":{"\\ud800":1}}', 'headers: key "\\ud800" holds a lone surrogate'],
    [
      '{"body":"x","headers":{"t":{"!":"table","value":{"k\\udc00":1}}}}',
      'headers.t: key "k\\udc00" holds a lone surrogate',
    ],
  ])('%s', (line, says) => {
    const error = dataError(line, 4);
    expect(error.exitCode).toBe(65);
    expect(error.message).toContain(`line 4: ${says}`);
  });

  it('accepts a surrogate pair (an emoji) and a U+FFFD written as such', () => {
    const message = messageFromEnvelopeLine(
      '{"body":"\\ud83d\\ude00","routingKey":"\\ufffd","headers":{"\\ud83d\\ude00":"\\ufffd"}}',
      1,
      NO_OVERRIDES,
    );
    expect(message.body.toString()).toBe('\u{1F600}');
    expect(message.routingKey).toBe('\uFFFD');
  });

  it('envelopeText refuses bytes that are not UTF-8, naming the first bad byte past real U+FFFDs', () => {
    const bytes = Buffer.concat([
      Buffer.from('{"body":"\uFFFD'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ]);
    expect(() => envelopeText(bytes, 9)).toThrow(/^line 9: not valid UTF-8 \(byte 0xc3 at byte 13\)/);
    expect(envelopeText(Buffer.from('{"body":"é\uFFFD"}'), 9)).toBe('{"body":"é\uFFFD"}');
  });
});

describe('envelopeFromMessage', () => {
  it('writes the fields in the order of the SPEC example', () => {
    const json = JSON.stringify(envelopeFromMessage(received()));
    expect(json).toBe(
      '{"exchange":"orders","routingKey":"order.created","redelivered":false,' +
        '"properties":{"contentType":"application/json","deliveryMode":2,"messageId":"m-1","timestamp":1795770000},' +
        '"headers":{"x-tenant":"acme","x-attempt":2},' +
        '"body":"{\\"id\\":42}","bodyEncoding":"utf8","receivedAt":"2026-11-27T09:00:00.123Z"}',
    );
  });

  it('omits headers when there are none or the table is empty', () => {
    for (const headers of [undefined, {}]) {
      const envelope = envelopeFromMessage(received({ headers }));
      expect(Object.keys(envelope)).toEqual([
        'exchange',
        'routingKey',
        'redelivered',
        'properties',
        'body',
        'bodyEncoding',
        'receivedAt',
      ]);
    }
  });

  it('a UTF-8 body is written as text', () => {
    const envelope = envelopeFromMessage(received({ body: Buffer.from('héllo ✓ 😀\n\u0000') }));
    expect(envelope.bodyEncoding).toBe('utf8');
    expect(envelope.body).toBe('héllo ✓ 😀\n\u0000');
  });

  it('an empty body is an empty utf8 string', () => {
    const envelope = envelopeFromMessage(received({ body: Buffer.alloc(0) }));
    expect(envelope).toMatchObject({ body: '', bodyEncoding: 'utf8' });
  });

  it.each([
    ['a byte that is never UTF-8', [0xff, 0xfe]],
    ['an overlong encoding', [0xc0, 0x80]],
    ['a truncated multi-byte sequence', [0x41, 0xe2, 0x82]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
  ])('a body with %s is written as base64', (_name, bytes) => {
    const body = Buffer.from(bytes);
    const envelope = envelopeFromMessage(received({ body }));
    expect(envelope.bodyEncoding).toBe('base64');
    expect(Buffer.from(envelope.body, 'base64')).toEqual(body);
  });

  it('reads back through messageFromEnvelopeLine as the same message', () => {
    const message = received({
      body: Buffer.from([0, 1, 2, 0xff, 0x0a]),
      headers: { 'x-ts': { '!': 'timestamp', value: 5 }, 'x-b': { '!': 'bytes', value: 'AQ==' }, n: 7 },
      properties: { contentType: 'x/y', priority: 3, expiration: '1000', correlationId: 'c' },
    });
    const line = JSON.stringify(envelopeFromMessage(message));
    const back = messageFromEnvelopeLine(line, 1, NO_OVERRIDES);
    expect(back.body).toEqual(message.body);
    expect(back.exchange).toBe(message.exchange);
    expect(back.routingKey).toBe(message.routingKey);
    expect(back.properties).toEqual(message.properties);
    expect(back.headers).toEqual(encodableHeaders(message.headers ?? {}));
  });
});
