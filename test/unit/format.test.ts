import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { PROPERTY_KINDS, type ReceivedMessage } from '../../src/broker/message.js';
import { formatBody } from '../../src/format/body.js';
import { createFormatter } from '../../src/format/index.js';
import { formatNdjson } from '../../src/format/ndjson.js';
import { createPrettyFormatter } from '../../src/format/pretty.js';
import { compileTemplate } from '../../src/format/template.js';
import { PLAIN, paintFromChalk } from '../../src/ui/colour.js';
import { usageError } from '../helpers/usageError.js';

const plain = PLAIN;
const coloured = paintFromChalk(new Chalk({ level: 1 }));
const ESC = '\u001b';

function message(overrides: Partial<ReceivedMessage> = {}): ReceivedMessage {
  return {
    exchange: 'orders',
    routingKey: 'order.created',
    redelivered: false,
    properties: { contentType: 'application/json', messageId: 'm-1' },
    headers: { 'x-id': 'abc', 'x-count': { '!': 'int64', value: 7 } },
    body: Buffer.from('{"id":42,"tags":["a","b"],"ok":true}'),
    receivedAt: new Date('2026-11-27T09:00:00.123Z'),
    ...overrides,
  };
}

function templated(template: string, m: ReceivedMessage = message()): string {
  return compileTemplate(template)(m);
}

describe('ndjson format', () => {
  it('is exactly one JSON line per message, newline-terminated', () => {
    const out = formatNdjson(message({ body: Buffer.from('line one\nline two\n') }));
    expect(out.endsWith('\n')).toBe(true);
    expect(out.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(out)).toMatchObject({
      exchange: 'orders',
      routingKey: 'order.created',
      body: 'line one\nline two\n',
      bodyEncoding: 'utf8',
      headers: { 'x-id': 'abc', 'x-count': { '!': 'int64', value: 7 } },
    });
  });

  it('writes a binary body as base64, never as a Buffer dump', () => {
    const out = formatNdjson(message({ body: Buffer.from([0xff, 0x00, 0x01]) }));
    const record = JSON.parse(out) as { body: unknown; bodyEncoding: unknown };
    expect(record).toMatchObject({ body: '/wAB', bodyEncoding: 'base64' });
    expect(out).not.toContain('"type":"Buffer"');
  });
});

describe('body format', () => {
  it('is the body bytes unchanged followed by a newline', () => {
    const body = Buffer.from([0x00, 0xff, 0x0a, 0x41]);
    const out = Buffer.concat(formatBody(message({ body })));
    expect(Buffer.isBuffer(out)).toBe(true);
    expect(out).toEqual(Buffer.concat([body, Buffer.from('\n')]));
  });

  it('an empty body is a bare newline', () => {
    expect(Buffer.concat(formatBody(message({ body: Buffer.alloc(0) })))).toEqual(Buffer.from('\n'));
  });
});

describe('createFormatter', () => {
  it('--template wins over --format', () => {
    const format = createFormatter({ format: 'ndjson', template: '{routingKey}', paint: plain });
    expect(format(message())).toBe('order.created\n');
  });

  it('picks the formatter named by --format', () => {
    expect(createFormatter({ format: 'ndjson', paint: plain })(message())).toBe(formatNdjson(message()));
    expect(createFormatter({ format: 'body', paint: plain })(message())).toEqual(formatBody(message()));
    expect(createFormatter({ format: 'pretty', paint: plain })(message())).toContain('order.created');
  });
});

describe('template format', () => {
  it('fills direct fields', () => {
    expect(templated('{exchange} {routingKey} {redelivered} {bodySize} {bodyEncoding} {receivedAt}')).toBe(
      'orders order.created false 36 utf8 2026-11-27T09:00:00.123Z\n',
    );
  });

  it('fills {headers.x-id} and {properties.messageId}', () => {
    expect(templated('{headers.x-id}|{properties.messageId}|{properties.contentType}')).toBe(
      'abc|m-1|application/json\n',
    );
  });

  it('prints the value of a typed header, not its typed form', () => {
    expect(templated('{headers.x-count}')).toBe('7\n');
    expect(
      templated(
        '{headers.ts} {headers.big}',
        message({
          headers: {
            ts: { '!': 'timestamp', value: 1795770000 },
            big: { '!': 'int64', value: '9007199254740993' },
          },
        }),
      ),
    ).toBe('1795770000 9007199254740993\n');
  });

  it('prints an absent header or property as nothing', () => {
    expect(templated('[{headers.missing}][{properties.replyTo}]')).toBe('[][]\n');
    expect(templated('[{headers.x}]', message({ headers: undefined }))).toBe('[]\n');
  });

  it("does not find JavaScript's own names on a message that lacks them", () => {
    const names = ['constructor', 'toString', '__proto__', 'hasOwnProperty'];
    for (const name of names) {
      expect(templated(`[{headers.${name}}]`)).toBe('[]\n');
      expect(usageError(() => compileTemplate(`{properties.${name}}`)).exitCode).toBe(2);
    }
    expect(usageError(() => compileTemplate('{constructor}')).message).toMatch(/unknown placeholder/);
  });

  it('takes every property amqplib names, and no other (a typo would print nothing)', () => {
    for (const [name] of PROPERTY_KINDS) expect(() => compileTemplate(`{properties.${name}}`)).not.toThrow();
    const error = usageError(() => compileTemplate('{routingKey} {properties.nope}'));
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('--template: unknown placeholder {properties.nope}');
    expect(error.hint).toContain('properties: contentType, contentEncoding, deliveryMode');
    const typo = usageError(() => compileTemplate('{properties.messageid}'));
    expect(typo.message).toBe(
      "--template: unknown placeholder {properties.messageid} (did you mean 'messageId'?)",
    );
  });

  it('takes any header name: headers are free-form', () => {
    expect(templated('[{headers.nope}][{headers.a.b}]', message({ headers: { 'a.b': 1 } }))).toBe('[][1]\n');
  });

  it('prints the body as text, or base64 when it is not UTF-8', () => {
    expect(templated('{body}', message({ body: Buffer.from('héllo') }))).toBe('héllo\n');
    expect(templated('{body}', message({ body: Buffer.from([0xff, 0xfe]) }))).toBe('//4=\n');
  });

  it('turns \\t, \\n, \\\\ and \\{ into a tab, a newline, a backslash and a brace', () => {
    expect(templated('{routingKey}\\t{headers.x-id}\\n')).toBe('order.created\tabc\n\n');
    expect(templated('a\\\\b \\{routingKey}')).toBe('a\\b {routingKey}\n');
  });

  it('keeps text that is not a placeholder as it is', () => {
    expect(templated('id=} \\q {routingKey}!')).toBe('id=} \\q order.created!\n');
  });

  it.each(['{nope}', '{headers}x{nope.x}', '{properties.}', '{}', '{ routingKey}'])(
    'an unknown placeholder in %s is a usage error (exit 2)',
    (template) => {
      const error = usageError(() => compileTemplate(template));
      expect(error.exitCode).toBe(2);
      expect(error.message).toMatch(/^--template: unknown placeholder \{/);
    },
  );

  it('names the unknown placeholder and lists the known ones', () => {
    const error = usageError(() => compileTemplate('{routingkey}'));
    expect(error.message).toContain('{routingkey}');
    expect(error.hint).toContain('{routingKey}');
  });

  it('an unclosed brace is a usage error naming its position', () => {
    const error = usageError(() => compileTemplate('ab {routingKey'));
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/position 4/);
  });

  it('unwraps a typed header value one level only: a typed table prints as its table', () => {
    const headers = { t: { '!': 'table', value: { '!': 'lit', value: 1 } } };
    expect(templated('{headers.t}', message({ headers }))).toBe('{"!":"lit","value":1}\n');
  });
});

describe('pretty format, colour level 0', () => {
  const pretty = createPrettyFormatter({ paint: plain });

  it('is readable and has no ANSI escapes', () => {
    const out = pretty(message());
    expect(out).not.toContain(ESC);
    expect(out).toContain('orders → order.created');
    expect(out).toContain('36 B');
    expect(out).toContain('contentType: application/json');
    expect(out).toContain('messageId: m-1');
    expect(out).toContain('x-id: abc');
    expect(out).toContain('x-count: 7 (int64)');
    expect(out.endsWith('\n\n')).toBe(true);
  });

  it('pretty-prints a JSON body', () => {
    const out = pretty(message());
    expect(out).toContain(JSON.stringify({ id: 42, tags: ['a', 'b'], ok: true }, null, 2));
  });

  it('shows a text body that only looks like JSON as it is', () => {
    const out = pretty(message({ body: Buffer.from('{not json') }));
    expect(out).toContain('\n{not json\n');
  });

  it('shows a binary body as a hex dump, not raw bytes', () => {
    const body = Buffer.from([0x00, 0x01, 0xff, 0x41, 0x1b, 0x07]);
    const out = pretty(message({ body }));
    expect(out).toContain('binary, 6 bytes');
    expect(out).toContain('00000000  00 01 ff 41 1b 07');
    expect(out).toContain('...A..');
    expect(out).not.toContain('\u0000');
    expect(out).not.toContain(ESC);
    expect(out).not.toContain('\ufffd');
  });

  it('summarises a long binary body after the shown bytes', () => {
    const body = Buffer.alloc(300, 0xff);
    const out = createPrettyFormatter({ paint: plain, hexBytes: 32 })(message({ body }));
    expect(out).toContain('00000010  ff');
    expect(out).not.toContain('00000020  ff');
    expect(out).toContain('… 268 more bytes');
  });

  it('marks the default exchange, redelivery and an empty body', () => {
    const out = pretty(message({ exchange: '', redelivered: true, body: Buffer.alloc(0) }));
    expect(out).toContain('(default) → order.created');
    expect(out).toContain('redelivered');
    expect(out).toContain('(empty body)');
  });

  it('shows a timestamp header as a date', () => {
    const out = pretty(message({ headers: { at: { '!': 'timestamp', value: 1795770000 } } }));
    expect(out).toContain('at: 2026-11-27T09:00:00Z (timestamp)');
  });

  it('does not pass terminal control sequences from the message through to the terminal', () => {
    const hostile = `${ESC}]0;owned${'\u0007'}${ESC}[2J`;
    const out = pretty(
      message({
        routingKey: `rk${hostile}`,
        headers: { h: `v${hostile}` },
        body: Buffer.from(`text${hostile}`),
      }),
    );
    expect(out).not.toContain(ESC);
    expect(out).not.toContain('\u0007');
  });
});

describe('pretty format, colour level 1', () => {
  it('colours the output with ANSI escapes', () => {
    const out = createPrettyFormatter({ paint: coloured })(message());
    expect(out).toContain(`${ESC}[`);
    // The JSON body is still all there once the colour is taken out.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing ANSI colour codes
    const stripped = out.replace(/\u001b\[[0-9;]*m/g, '');
    expect(stripped).toBe(createPrettyFormatter({ paint: plain })(message()));
  });
});
