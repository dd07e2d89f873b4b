import { afterEach, describe, expect, it, vi } from 'vitest';
import { type FieldTable, setField, type TypedValue } from '../../src/broker/fieldTable.js';
import type { ReceivedMessage } from '../../src/broker/message.js';
import { UsageError } from '../../src/errors.js';
import { compileMatch, compileMatches } from '../../src/match/predicate.js';
import { seededRandom } from '../helpers/random.js';
import { usageError } from '../helpers/usageError.js';

const BODY = {
  order: { id: 42, sku: 'A1', tags: ['x', 'y'] },
  sid: '42',
  items: [
    { sku: 'A1', qty: 2 },
    { sku: 'B2', qty: 1.5 },
  ],
  flag: false,
  nothing: null,
  'a.b': 'dotted',
  '': 'empty',
  nested: [[1, 2], [3]],
  '!': 'bang',
  big: 1e21,
};

function headers(): FieldTable {
  const table: FieldTable = {
    'x-tenant': 'acme',
    'x-attempt': 2,
    'x-trace-id': 'abc',
    'x.dotted.name': 'd',
    'x-void': null,
    'x-flag': true,
    'x-n': { '!': 'int64', value: 5 },
    'x-big': { '!': 'int64', value: '9007199254740993' },
    'x-ts': { '!': 'timestamp', value: 1795770000 },
    'x-bytes': { '!': 'bytes', value: 'AAEC' },
    'x-dec': { '!': 'decimal', value: { places: 2, digits: 12345 } },
    'x-nan': { '!': 'double', value: 'NaN' },
    'x-float': { '!': 'float', value: 1.5 },
    'x-list': ['a', 1, { '!': 'uint8', value: 200 }],
    'x-table': { a: { b: 'deep' }, n: 1 },
    'x-bang': { '!': 'table', value: { '!': 'lit', k: 'v' } },
    'x-death': [
      {
        count: { '!': 'int64', value: 1 },
        queue: 'orders',
        reason: 'rejected',
        time: { '!': 'timestamp', value: 1795770000 },
        'routing-keys': ['order.created'],
      },
    ],
    'a=b': 'eq',
    'has space': 'sp',
    'quo"te': 'q',
    'back\\slash': 'bs',
    'x!y': 'bang-name',
    '': 'empty-name',
  };
  setField(table, '__proto__', 'proto');
  return table;
}

function message(overrides: Partial<ReceivedMessage> = {}): ReceivedMessage {
  return {
    exchange: 'orders',
    routingKey: 'order.created',
    redelivered: false,
    properties: {
      contentType: 'application/json',
      deliveryMode: 2,
      messageId: 'm-1',
      timestamp: 1795770000,
      expiration: '60000',
    },
    headers: headers(),
    body: Buffer.from(JSON.stringify(BODY)),
    receivedAt: new Date('2026-11-27T09:00:00.123Z'),
    ...overrides,
  };
}

const M = message();
const bodySize = M.body.length;

function check(expr: string, m: ReceivedMessage, expected: boolean): void {
  expect(compileMatch(expr)(m), expr).toBe(expected);
  expect(compileMatches([expr])(m), expr).toBe(expected);
}

describe('compileMatch: envelope fields', () => {
  it.each<[string, boolean]>([
    ['exchange=orders', true],
    ['exchange=audit', false],
    ['exchange=Orders', false],
    ['exchange!=audit', true],
    ['exchange!=orders', false],
    ['exchange~^ord', true],
    ['exchange~^rders', false],
    ['exchange!~^ord', false],
    ['exchange!~^audit$', true],
    ['exchange=', false],
    ['routingKey=order.created', true],
    ['routingKey=order', false],
    ['routingKey~^order\\.', true],
    ['routingKey~created', true],
    ['routingKey~^order\\.updated$', false],
    ['routingKey!~created$', false],
    ['routingKey~^order\\.(created|updated)$', true],
    ['routingKey~', true],
    ['redelivered=false', true],
    ['redelivered=true', false],
    ['redelivered!=true', true],
    ['redelivered~^f', true],
    [`bodySize=${bodySize}`, true],
    ['bodySize=0', false],
    ['bodySize!=0', true],
    ['bodySize~^\\d{3}$', true],
    [`body=${JSON.stringify(BODY)}`, true],
    ['body~"sku":"A1"', true],
    ['body~"sku":"C3"', false],
    ['body!~"sku":"C3"', true],
    ['body=', false],
  ])('%s is %s', (expr, expected) => check(expr, M, expected));

  it('compares the default exchange as the empty string', () => {
    check('exchange=', message({ exchange: '' }), true);
    check('exchange!=', message({ exchange: '' }), false);
    check('exchange~^$', message({ exchange: '' }), true);
  });

  it('reads the redelivered flag', () => {
    check('redelivered=true', message({ redelivered: true }), true);
    check('redelivered!=false', message({ redelivered: true }), true);
  });

  it('takes the value as written: spaces, = and ~ inside it, and a value of only spaces', () => {
    const m = message({ routingKey: 'a = b ~ c' });
    check('routingKey=a = b ~ c', m, true);
    check('routingKey~ = b ', m, true);
    check('routingKey= ', message({ routingKey: ' ' }), true);
    check('routingKey=a', message({ routingKey: 'a ' }), false);
  });

  it('matches regular expressions anywhere in the text, case-sensitively, with JavaScript syntax', () => {
    check('routingKey~der\\.cr', M, true);
    check('routingKey~ORDER', M, false);
    check('routingKey~[Oo]rder', M, true);
    check('routingKey~^(?<kind>order)\\.(?!updated)', M, true);
    check('routingKey~\\bcreated\\b', M, true);
  });
});

describe('compileMatch: properties', () => {
  it.each<[string, boolean]>([
    ['properties.messageId=m-1', true],
    ['properties.messageId=m-2', false],
    ['properties.messageId!=m-1', false],
    ['properties.messageId!=m-2', true],
    ['properties.messageId~^m-\\d+$', true],
    ['properties.messageId!~^m-', false],
    ['properties.deliveryMode=2', true],
    ['properties.timestamp=1795770000', true],
    ['properties.expiration=60000', true],
    ['properties.contentType~json$', true],
    ['properties.messageId', true],
    ['!properties.messageId', false],
    ['properties.correlationId', false],
    ['!properties.correlationId', true],
    ['properties.correlationId=', false],
    ['properties.correlationId!=x', true],
    ['properties.correlationId~', false],
    ['properties.correlationId!~.', true],
  ])('%s is %s', (expr, expected) => check(expr, M, expected));

  it('takes an undefined property as absent', () => {
    const m = message({ properties: { messageId: undefined } });
    check('properties.messageId', m, false);
    check('!properties.messageId', m, true);
  });

  it('accepts every property name warren knows', () => {
    const all = {
      contentType: 'a',
      contentEncoding: 'b',
      deliveryMode: 1,
      priority: 9,
      correlationId: 'c',
      replyTo: 'd',
      expiration: '5',
      messageId: 'e',
      timestamp: 6,
      type: 'f',
      userId: 'g',
      appId: 'h',
      clusterId: 'i',
    };
    const m = message({ properties: all });
    for (const [name, value] of Object.entries(all)) {
      check(`properties.${name}=${value}`, m, true);
      check(`properties.${name}`, m, true);
    }
  });
});

describe('compileMatch: headers', () => {
  it.each<[string, boolean]>([
    ['headers.x-tenant=acme', true],
    ['headers.x-tenant=acm', false],
    ['headers.x-tenant!=acme', false],
    ['headers.x-tenant~^ac', true],
    ['headers.x-tenant!~^test', true],
    ['headers.x-tenant~^test', false],
    ['headers.x-attempt=2', true],
    ['headers.x-attempt=2.0', false],
    ['headers.x-trace-id', true],
    ['!headers.x-trace-id', false],
    ['headers.x-missing', false],
    ['!headers.x-missing', true],
    ['headers.x-missing=', false],
    ['headers.x-missing!=acme', true],
    ['headers.x-missing!~^test', true],
    ['headers.x-missing~', false],
    ['headers.X-Tenant=acme', false],
    ['headers.x-void', true],
    ['!headers.x-void', false],
    ['headers.x-void=null', true],
    ['headers.x-flag=true', true],
    ['headers.x.dotted.name=d', true],
    ['headers.x.dotted', false],
    ['headers.__proto__=proto', true],
    ['headers.constructor', false],
    ['!headers.toString', true],
    ['headers.hasOwnProperty=x', false],
  ])('%s is %s', (expr, expected) => check(expr, M, expected));

  it.each<[string, boolean]>([
    ['headers.x-n=5', true],
    ['headers.x-n!=5', false],
    ['headers.x-n~^5$', true],
    ['headers.x-n={"!":"int64","value":5}', false],
    ['headers.x-big=9007199254740993', true],
    ['headers.x-ts=1795770000', true],
    ['headers.x-bytes=AAEC', true],
    ['headers.x-dec={"places":2,"digits":12345}', true],
    ['headers.x-nan=NaN', true],
    ['headers.x-float=1.5', true],
    ['headers.x-list=["a",1,{"!":"uint8","value":200}]', true],
    ['headers.x-table={"a":{"b":"deep"},"n":1}', true],
    ['headers.x-bang={"!":"lit","k":"v"}', true],
  ])('a typed value compares by its value: %s is %s', (expr, expected) => check(expr, M, expected));

  it.each<[string, boolean]>([
    ['headers."x-tenant"=acme', true],
    ['headers."x.dotted.name"=d', true],
    ['headers."a=b"=eq', true],
    ['headers."has space"=sp', true],
    ['headers."quo\\"te"=q', true],
    ['headers."back\\\\slash"=bs', true],
    ['headers."x!y"=bang-name', true],
    ['headers.""=empty-name', true],
    ['headers."__proto__"=proto', true],
    ['headers."x-list"', true],
    ['headers."x-list"[0]=a', true],
    ['headers."x-list".0=a', true],
    ['headers."x-list"[2]=200', true],
    ['headers."x-list"[3]', false],
    ['!headers."x-list"[3]', true],
    ['headers."x-list".first', false],
    ['headers."x-table".a.b=deep', true],
    ['headers."x-table".a={"b":"deep"}', true],
    ['headers."x-table"."a".b=deep', true],
    ['headers."x-table".n=1', true],
    ['headers."x-table".a.c', false],
    ['headers."x-bang".k=v', true],
    ['headers."x-bang"."!"=lit', true],
    ['headers."x-n".value', false],
    ['headers."x-death"[0].queue=orders', true],
    ['headers."x-death"[0].count=1', true],
    ['headers."x-death"[0].time=1795770000', true],
    ['headers."x-death".0.routing-keys.0=order.created', true],
    ['headers."x-death"[0].routing-keys[0]~^order\\.', true],
    ['headers."x-death"[1]', false],
    ['headers."x-death"[1].queue!=orders', true],
    ['headers."x-missing".a', false],
    ['!headers."x-missing".a', true],
    ['headers."x-tenant".a', false],
    ['headers."x-void".a', false],
    ['headers."x-table".constructor', false],
  ])('a quoted name, then a path into the value: %s is %s', (expr, expected) => check(expr, M, expected));

  it('sees no header at all when the message has none', () => {
    for (const m of [message({ headers: undefined }), message({ headers: {} })]) {
      check('headers.x-tenant', m, false);
      check('!headers.x-tenant', m, true);
      check('headers.x-tenant=acme', m, false);
      check('headers.x-tenant!=acme', m, true);
      check('headers."x-death"[0].queue!=orders', m, true);
    }
  });

  it('takes a plain number header and a typed one alike', () => {
    check('headers.n=5', message({ headers: { n: 5 } }), true);
    check('headers.n=5', message({ headers: { n: { '!': 'int64', value: 5 } } }), true);
    check('headers.n=5', message({ headers: { n: { '!': 'uint8', value: 5 } } }), true);
    check('headers.n=5', message({ headers: { n: '5' } }), true);
  });
});

describe('compileMatch: JSON body fields', () => {
  it.each<[string, boolean]>([
    ['body.order.id=42', true],
    ['body.order.id=42.0', false],
    ['body.order.id!=42', false],
    ['body.order.id!=43', true],
    ['body.order.id~^4', true],
    ['body.sid=42', true],
    ['body.order.sku=A1', true],
    ['body.order', true],
    ['body.order={"id":42,"sku":"A1","tags":["x","y"]}', true],
    ['body.order.tags=["x","y"]', true],
    ['body.order.tags.1=y', true],
    ['body.order.tags[1]=y', true],
    ['body.order.tags[2]', false],
    ['!body.order.tags[2]', true],
    ['body.items[1].qty=1.5', true],
    ['body.items.1.sku=B2', true],
    ['body.items[0]', true],
    ['body.items[0].sku~^A', true],
    ['body.items.x', false],
    ['body.items.01', false],
    ['body.items.length', false],
    ['body.flag=false', true],
    ['body.flag', true],
    ['body.nothing=null', true],
    ['body.nothing', true],
    ['!body.nothing', false],
    ['body.missing', false],
    ['!body.missing', true],
    ['body.missing=', false],
    ['body.missing!=1', true],
    ['body.missing!~.', true],
    ['body."a.b"=dotted', true],
    ['body.a.b', false],
    ['body.""=empty', true],
    ['body."!"=bang', true],
    ['body.nested[0][1]=2', true],
    ['body.nested.1.0=3', true],
    ['body.nested[1][1]', false],
    ['body.order.id.x', false],
    ['body.order.sku.0', false],
    ['body.constructor', false],
    ['body.order.toString', false],
    ['!body.__proto__', true],
    ['body.big=1e+21', true],
  ])('%s is %s', (expr, expected) => check(expr, M, expected));

  it('reads a JSON array body and a JSON scalar body', () => {
    const array = message({ body: Buffer.from('[{"id":1},{"id":2}]') });
    check('body[0].id=1', array, true);
    check('body.1.id=2', array, true);
    check('body[2]', array, false);
    check('!body[2]', array, true);
    const scalar = message({ body: Buffer.from('42') });
    check('body=42', scalar, true);
    check('body.x', scalar, false);
    check('!body.x', scalar, true);
    check('body[0]', scalar, false);
    const text = message({ body: Buffer.from('"hi"') });
    check('body.0', text, false);
    check('body="hi"', text, true);
  });

  it('reads a JSON body that starts with a byte order mark or white space', () => {
    check('body.a=1', message({ body: Buffer.from('\ufeff{"a":1}') }), true);
    check('body.a=1', message({ body: Buffer.from(' \n{"a":1}\n') }), true);
  });

  it('keeps JSON object keys that look like prototype properties as data', () => {
    const m = message({ body: Buffer.from('{"__proto__":{"x":1},"constructor":"c"}') });
    check('body.__proto__.x=1', m, true);
    check('body.constructor=c', m, true);
  });

  it('reads numbers as JavaScript does: the shortest form, precision lost beyond 2^53', () => {
    const m = message({ body: Buffer.from('{"a":1.50,"b":1E3,"c":12345678901234567890}') });
    check('body.a=1.5', m, true);
    check('body.a=1.50', m, false);
    check('body.b=1000', m, true);
    check('body.c=12345678901234567000', m, true);
    check('body~"c":12345678901234567890', m, true);
  });
});

describe('compileMatch: bodies that are not JSON', () => {
  const text = message({ body: Buffer.from('hello world') });
  const empty = message({ body: Buffer.alloc(0) });
  const binary = message({ body: Buffer.from([0xff, 0x00, 0x01, 0xfe]) });
  const latin1Json = message({ body: Buffer.from('{"a":"é"}', 'latin1') });
  const truncated = message({ body: Buffer.from('{"a":1') });

  it.each<[string, ReceivedMessage, string, boolean]>([
    ['text', text, 'body=hello world', true],
    ['text', text, 'body~^hello', true],
    ['text', text, 'bodySize=11', true],
    ['empty', empty, 'body=', true],
    ['empty', empty, 'bodySize=0', true],
    ['empty', empty, 'body~^$', true],
    ['binary', binary, 'body=/wAB/g==', true],
    ['binary', binary, 'body~^/wAB', true],
    ['binary', binary, 'bodySize=4', true],
    ['binary', binary, 'body!~\\xff', true],
  ])('%s body: %s is %s', (_kind, m, expr, expected) => check(expr, m, expected));

  it.each([
    ['text', text],
    ['empty', empty],
    ['binary', binary],
    ['Latin-1 JSON', latin1Json],
    ['truncated JSON', truncated],
  ])('every body.PATH condition is false on a %s body, negated ones too', (_kind, m) => {
    for (const expr of [
      'body.a',
      '!body.a',
      'body.a=1',
      'body.a!=1',
      'body.a~',
      'body.a!~x',
      'body[0]',
      '!body[0]',
      'body."a"!=é',
    ]) {
      check(expr, m, false);
    }
  });

  it('still tests the other fields of such a message', () => {
    expect(compileMatches(['routingKey=order.created', 'body~world'])(text)).toBe(true);
    expect(compileMatches(['routingKey=order.created', '!body.a'])(text)).toBe(false);
  });
});

describe('compileMatches', () => {
  it('matches every message when given no expressions', () => {
    expect(compileMatches([])(M)).toBe(true);
  });

  it('ANDs the expressions', () => {
    expect(compileMatches(['routingKey~^order\\.', 'headers.x-tenant=acme', 'body.order.id=42'])(M)).toBe(
      true,
    );
    expect(compileMatches(['routingKey~^order\\.', 'headers.x-tenant=other', 'body.order.id=42'])(M)).toBe(
      false,
    );
    expect(compileMatches(['headers.x-tenant=acme', 'headers.x-tenant!=acme'])(M)).toBe(false);
  });

  it('names the expression that is malformed', () => {
    const error = usageError(() => compileMatches(['routingKey=a', 'routingKey~(', 'exchange=b']));
    expect(error.message).toMatch(/^--match 'routingKey~\(': invalid regular expression: /);
  });

  it('gives the same answer every time (no regex state between messages)', () => {
    const matches = compileMatches(['routingKey~order', 'body~sku']);
    for (let i = 0; i < 5; i += 1) expect(matches(M)).toBe(true);
  });

  it('does not change the message', () => {
    const m = message();
    const before = structuredClone({ ...m, body: [...m.body] });
    compileMatches(['body.order.id=42', 'headers."x-death"[0].queue=orders', 'properties.type'])(m);
    expect({ ...m, body: [...m.body] }).toEqual(before);
  });
});

describe('compileMatches: the body is parsed lazily, at most once per message', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('parses the body once for several body.PATH conditions', () => {
    const matches = compileMatches([
      'body.order.id=42',
      'body.sid=42',
      '!body.missing',
      'body.items[1].qty~5$',
    ]);
    const parse = vi.spyOn(JSON, 'parse');
    expect(matches(M)).toBe(true);
    expect(parse).toHaveBeenCalledTimes(1);
    expect(matches(M)).toBe(true);
    expect(parse).toHaveBeenCalledTimes(2);
  });

  it('parses a body that is not JSON once too', () => {
    const matches = compileMatches(['!body.a', '!body.b']);
    const parse = vi.spyOn(JSON, 'parse');
    expect(matches(message({ body: Buffer.from('{"a":') }))).toBe(false);
    expect(parse).toHaveBeenCalledTimes(1);
  });

  it('does not parse the body when no condition needs it, or an earlier one already failed', () => {
    const parse = vi.spyOn(JSON, 'parse');
    expect(compileMatches(['routingKey=order.created', 'body~sku', 'bodySize~\\d'])(M)).toBe(true);
    expect(compileMatches(['routingKey=nope', 'body.order.id=42'])(M)).toBe(false);
    expect(parse).not.toHaveBeenCalled();
  });

  it('does not parse a binary body at all', () => {
    const parse = vi.spyOn(JSON, 'parse');
    expect(compileMatch('!body.a')(message({ body: Buffer.from([0xff, 0xfe]) }))).toBe(false);
    expect(parse).not.toHaveBeenCalled();
  });
});

describe('compileMatch: malformed expressions are usage errors', () => {
  it.each<[string, string]>([
    ['', 'empty expression'],
    ['   ', 'empty expression'],
    ['foo.bar=1', "unknown field 'foo'"],
    ['foo', "unknown field 'foo'"],
    ['routingkey=x', "unknown field 'routingkey' (did you mean 'routingKey'?)"],
    ['Headers.x=1', "unknown field 'Headers' (did you mean 'headers'?)"],
    ['receivedAt=x', "unknown field 'receivedAt'"],
    ['=x', "operator '=' without a field before it"],
    ['!=x', "operator '!=' without a field before it"],
    ['~x', "operator '~' without a field before it"],
    ['!~x', "operator '!~' without a field before it"],
    ['=', "operator '=' without a field before it"],
    ['!', "expected a field after '!'"],
    ['!!headers.x', "unexpected '!' at position 2"],
    ['routingKey~(', 'invalid regular expression: Unterminated group'],
    ['routingKey~[', 'invalid regular expression: Unterminated character class'],
    ['body.a!~*', 'invalid regular expression: Nothing to repeat'],
    ['routingKey~a{2,1}', 'invalid regular expression: numbers out of order in {} quantifier'],
    ['routingKey', "'routingKey' is always present: compare it instead, as in routingKey~^order\\."],
    ['exchange', "'exchange' is always present: compare it instead, as in exchange=orders"],
    ['!redelivered', "'redelivered' is always present: compare it instead, as in redelivered=true"],
    ['bodySize', "'bodySize' is always present"],
    ['body', "'body' is always present: compare it instead, as in body~error"],
    ['!body', "'body' is always present"],
    ['!headers.x=1', "'!' before a field means 'absent' and takes no operator"],
    ['!body.a~x', "'!' before a field means 'absent' and takes no operator"],
    [
      'routingKey==x',
      "'==' is not an operator: use =, !=, ~, !~, <, <=, > or >= (to match a value that starts with '='",
    ],
    [
      'routingKey=~x',
      "'=~' is not an operator: use =, !=, ~, !~, <, <=, > or >= (to match a value that starts with '~', use ~^~…)",
    ],
    ['routingKey!==x', "'!==' is not an operator"],
    ['routingKey!=~x', "'!=~' is not an operator"],
    ['routingKey = x', 'unexpected space at position 11: write no spaces around the operator'],
    [' routingKey=x', 'unexpected space at position 1'],
    ['headers.x-tenant =acme', 'unexpected space at position 17'],
    ['headers.x tenant=acme', 'unexpected space at position 10'],
    ['body.a b=1', 'unexpected space at position 7'],
    ['properties.messageId =x', 'unexpected space at position 21'],
    ['headers.x"y=1', `unexpected '"' at position 10: quote a whole name`],
    ['"routingKey"=x', `unexpected '"' at position 1`],
    ['body.a"b"=1', `unexpected '"' at position 7`],
    ['headers."a"b=1', "unexpected 'b' at position 12"],
    ['body.a]=1', "unexpected ']' at position 7"],
    ['headers=x', "expected '.' and a header name after 'headers'"],
    ['headers', "expected '.' and a header name after 'headers'"],
    ['headers[0]', "expected '.' and a header name after 'headers'"],
    ['headers.=x', "expected a header name after 'headers.'"],
    ['headers.', "expected a header name after 'headers.'"],
    ['headers."x=1', 'the quote at position 9 is never closed'],
    ['headers."x\\"', 'the quote at position 9 is never closed'],
    ['body."a=1', 'the quote at position 6 is never closed'],
    ['headers.x!y=1', "'!' at position 10 must be followed by '=' or '~'"],
    ['routingKey!x', "'!' at position 11 must be followed by '=' or '~'"],
    ['properties=x', "expected '.' and a property name after 'properties'"],
    ['properties.=x', "expected a property name after 'properties.'"],
    ['properties.messageID=x', "unknown property 'messageID' (did you mean 'messageId'?)"],
    ['properties.headers', "unknown property 'headers'"],
    ['properties.constructor', "unknown property 'constructor'"],
    ['properties.messageId.x=1', "'properties.messageId' has no subfields ('properties.messageId.x')"],
    ['exchange.name=x', "'exchange' has no subfields ('exchange.name')"],
    ['bodySize[0]=1', "'bodySize' has no subfields ('bodySize[0]')"],
    ['body.=1', "expected a name after '.' at position 5"],
    ['body..a=1', "expected a name after '.' at position 5"],
    ['body.a.', "expected a name after '.' at position 7"],
    ['body.a[x]=1', 'expected an array index such as [0] at position 7'],
    ['body.a[01]=1', 'expected an array index such as [0] at position 7'],
    ['body.a[-1]=1', 'expected an array index such as [0] at position 7'],
    ['body.a[]=1', 'expected an array index such as [0] at position 7'],
    ['body.a[0=1', 'expected an array index such as [0] at position 7'],
  ])('%j: %s', (expr, problem) => {
    const error = usageError(() => compileMatch(expr));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.exitCode).toBe(2);
    expect(error.message.startsWith(`--match '${expr}': ${problem}`), error.message).toBe(true);
  });

  it('hints at the fields and at the property names', () => {
    expect(usageError(() => compileMatch('foo=1')).hint).toBe(
      'fields: exchange, routingKey, redelivered, bodySize, body, body.PATH, properties.NAME, headers.NAME',
    );
    expect(usageError(() => compileMatch('properties.foo=1')).hint).toMatch(
      /^properties: contentType, contentEncoding, .*, clusterId$/,
    );
    expect(usageError(() => compileMatch('routingKey~(')).hint).toBe("see 'warren --help'");
  });
});

// ---------------------------------------------------------------------------------------
// Fuzz: random expressions must compile or be a UsageError; compiled predicates never throw.

const random = seededRandom;

type Rng = () => number;
const int = (rng: Rng, n: number) => Math.floor(rng() * n);
const pick = <T>(rng: Rng, items: readonly T[]): T => items[int(rng, items.length)] as T;

const TOKENS = [
  'exchange',
  'routingKey',
  'redelivered',
  'bodySize',
  'body',
  'properties',
  'headers',
  'messageId',
  'x-tenant',
  'a',
  'order',
  'id',
  '__proto__',
  'constructor',
  '.',
  '.',
  '[',
  ']',
  '[0]',
  '[1]',
  '0',
  '42',
  '"',
  '\\',
  '=',
  '!',
  '~',
  '!=',
  '!~',
  '<',
  '>=',
  '-1.5',
  '(',
  ')',
  '*',
  '+',
  '?',
  '{',
  '}',
  '^',
  '$',
  '|',
  ' ',
  'é',
  '\u0000',
  '\ud800',
  '\n',
];

function randomString(rng: Rng, length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += String.fromCharCode(int(rng, rng() < 0.8 ? 128 : 0x3000));
  return out;
}

function randomExpression(rng: Rng): string {
  const roll = rng();
  if (roll < 0.15) return randomString(rng, int(rng, 12));
  if (roll < 0.6) {
    let out = '';
    const n = 1 + int(rng, 8);
    for (let i = 0; i < n; i += 1) out += pick(rng, TOKENS);
    return out;
  }
  // Mostly well-formed: a path, maybe an operator and a value.
  const path = pick(rng, [
    'exchange',
    'routingKey',
    'redelivered',
    'bodySize',
    'body',
    'body.a',
    'body.a.b',
    'body[0]',
    'body.a[1].b',
    'body."a.b"',
    'body.order.id',
    'properties.messageId',
    'properties.timestamp',
    'properties.correlationId',
    'headers.x-tenant',
    'headers.n',
    'headers."t".a',
    'headers."l"[0]',
    'headers."x-death"[0].queue',
  ]);
  const prefix = rng() < 0.1 ? '!' : '';
  if (rng() < 0.2) return prefix + path;
  const op = pick(rng, ['=', '!=', '~', '!~', '<', '<=', '>', '>=']);
  const value =
    rng() < 0.5
      ? pick(rng, ['', '1', '42', '-1.5', '1e3', 'acme', 'x', 'null', 'true', '^a', '.*', '(', '['])
      : '';
  let tail = '';
  const n = int(rng, 4);
  for (let i = 0; i < n; i += 1) tail += pick(rng, TOKENS);
  return prefix + path + op + value + tail;
}

function randomJson(rng: Rng, depth: number): unknown {
  const roll = int(rng, depth > 3 ? 5 : 8);
  switch (roll) {
    case 0:
      return null;
    case 1:
      return rng() < 0.5;
    case 2:
      return pick(rng, [0, 1, 42, -1.5, 1e21, 2 ** 53 + 2]);
    case 3:
    case 4:
      return pick(rng, ['', 'a', 'acme', '42', 'é', randomString(rng, 4)]);
    case 5:
    case 6: {
      const object: Record<string, unknown> = {};
      const n = int(rng, 4);
      for (let i = 0; i < n; i += 1) {
        setField(
          object,
          pick(rng, ['a', 'b', 'id', '0', '!', '__proto__', 'a.b', '']),
          randomJson(rng, depth + 1),
        );
      }
      return object;
    }
    default:
      return Array.from({ length: int(rng, 4) }, () => randomJson(rng, depth + 1));
  }
}

function randomHeaderValue(rng: Rng, depth: number): TypedValue {
  const roll = int(rng, depth > 2 ? 4 : 7);
  switch (roll) {
    case 0:
      return pick(rng, ['acme', '', '5', 'orders']);
    case 1:
      return pick(rng, [null, true, false, 5, -2, 1.5]);
    case 2:
      return pick<TypedValue>(rng, [
        { '!': 'int64', value: 5 },
        { '!': 'int64', value: '9007199254740993' },
        { '!': 'uint8', value: 200 },
        { '!': 'double', value: 'NaN' },
        { '!': 'decimal', value: { places: 2, digits: 12345 } },
        { '!': 'bytes', value: 'AAEC' },
        { '!': 'timestamp', value: 1795770000 },
      ]);
    case 3:
      return { '!': 'table', value: { '!': 'x', a: randomHeaderValue(rng, depth + 1) } };
    case 4:
    case 5: {
      const table: FieldTable = {};
      for (let i = int(rng, 3); i > 0; i -= 1) {
        setField(table, pick(rng, ['a', 'b', 'queue', '__proto__']), randomHeaderValue(rng, depth + 1));
      }
      return table;
    }
    default:
      return Array.from({ length: int(rng, 3) }, () => randomHeaderValue(rng, depth + 1));
  }
}

function randomMessage(rng: Rng): ReceivedMessage {
  let headers: FieldTable | undefined;
  if (rng() < 0.8) {
    headers = {};
    for (let i = int(rng, 5); i > 0; i -= 1) {
      setField(
        headers,
        pick(rng, ['x-tenant', 'n', 't', 'l', 'x-death', '__proto__', 'a.b', '']),
        randomHeaderValue(rng, 0),
      );
    }
  }
  let body: Buffer;
  const roll = rng();
  if (roll < 0.5) body = Buffer.from(JSON.stringify(randomJson(rng, 0)) ?? '');
  else if (roll < 0.65) body = Buffer.from(randomString(rng, int(rng, 20)));
  else if (roll < 0.8) body = Buffer.from(Array.from({ length: int(rng, 20) }, () => int(rng, 256)));
  else if (roll < 0.9) body = Buffer.from(`\ufeff${JSON.stringify(randomJson(rng, 0))}`);
  else body = Buffer.alloc(0);
  const properties: ReceivedMessage['properties'] = {};
  if (rng() < 0.5) properties.messageId = pick(rng, ['m-1', '', '42']);
  if (rng() < 0.5) properties.timestamp = 1795770000;
  if (rng() < 0.3) properties.correlationId = undefined;
  return {
    exchange: pick(rng, ['', 'orders', 'audit']),
    routingKey: pick(rng, ['', 'a', 'order.created', randomString(rng, 5)]),
    redelivered: rng() < 0.5,
    properties,
    headers,
    body,
    receivedAt: new Date(0),
  };
}

describe('compileMatch: fuzz', () => {
  it.each([1, 2, 3, 20260101])(
    'seed %i: only UsageError from compiling, never an error from matching',
    (seed) => {
      const rng = random(seed);
      const messages = Array.from({ length: 40 }, () => randomMessage(rng));
      const compiled: [string, (m: ReceivedMessage) => boolean][] = [];
      let rejected = 0;
      for (let i = 0; i < 3000; i += 1) {
        const expr = randomExpression(rng);
        let predicate: ((m: ReceivedMessage) => boolean) | undefined;
        try {
          predicate = compileMatch(expr);
        } catch (error) {
          if (!(error instanceof UsageError))
            throw new Error(`seed ${seed}: ${JSON.stringify(expr)} threw ${error}`);
          expect(error.message.startsWith(`--match '${expr}': `)).toBe(true);
          rejected += 1;
          continue;
        }
        compiled.push([expr, predicate]);
        for (const m of messages) {
          let result: unknown;
          try {
            result = predicate(m);
          } catch (error) {
            throw new Error(`seed ${seed}: ${JSON.stringify(expr)} threw ${error} on a message`);
          }
          expect(typeof result).toBe('boolean');
        }
      }
      // Both outcomes are exercised.
      expect(compiled.length).toBeGreaterThan(300);
      expect(rejected).toBeGreaterThan(300);

      // Several expressions are their AND; != and !~ are the opposite of = and ~ unless a
      // body.PATH meets a body that is not JSON.
      for (let i = 0; i < 500; i += 1) {
        const [a, pa] = pick(rng, compiled);
        const [b, pb] = pick(rng, compiled);
        const both = compileMatches([a, b]);
        for (const m of messages.slice(0, 10)) expect(both(m), `${a} && ${b}`).toBe(pa(m) && pb(m));
      }
      for (const [expr, predicate] of compiled) {
        const op = /^([^!=~<>]+)(=|~)(?![=~<>])/.exec(expr);
        if (!op || op[1]?.includes('"')) continue;
        const negated = `${op[1]}!${op[2]}${expr.slice(op[0].length)}`;
        const opposite = compileMatch(negated);
        for (const m of messages) {
          const a = predicate(m);
          const b = opposite(m);
          if (a === b) {
            expect(a, `${expr} and ${negated} both true`).toBe(false);
            expect(expr.startsWith('body'), `${expr} and ${negated} both false`).toBe(true);
          }
        }
      }
    },
  );
});
