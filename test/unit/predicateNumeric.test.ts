import { describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../../src/broker/message.js';
import { compileMatch, compileMatches } from '../../src/match/predicate.js';
import { usageError } from '../helpers/usageError.js';

// `--match` numeric comparisons: < <= > >= (src/match/expression.ts).

function message(overrides: Partial<ReceivedMessage> = {}): ReceivedMessage {
  return {
    exchange: 'orders',
    routingKey: '42',
    redelivered: false,
    properties: {
      deliveryMode: 2,
      priority: 5,
      timestamp: 1795770000,
      expiration: '60000',
      messageId: 'm-1',
    },
    headers: {
      retries: 4,
      text12: '12',
      padded: ' 12',
      hex: '0x10',
      inf: 'Infinity',
      nan: 'NaN',
      word: 'many',
      flag: true,
      void: null,
      n64: { '!': 'int64', value: 5 },
      big: { '!': 'int64', value: '9007199254740993' },
      dec: { '!': 'decimal', value: { places: 2, digits: 12345 } },
      dnan: { '!': 'double', value: 'NaN' },
      ts: { '!': 'timestamp', value: 1795770000 },
      list: [1, 2],
      'a<b': 7,
    },
    body: Buffer.from(
      JSON.stringify({
        amount: 150,
        neg: -2.5,
        tiny: 1e-7,
        huge: 1e21,
        sText: '99.5',
        sExp: '2e3',
        sLead: '007',
        sPlus: '+3',
        sDot: '.5',
        sTrail: '5.',
        sInf: 'Infinity',
        sEmpty: '',
        flag: true,
        nothing: null,
        list: [3],
        obj: { n: 1 },
      }),
    ),
    receivedAt: new Date(0),
    ...overrides,
  };
}

const M = message();

function check(expr: string, m: ReceivedMessage, expected: boolean): void {
  expect(compileMatch(expr)(m), expr).toBe(expected);
  expect(compileMatches([expr])(m), expr).toBe(expected);
}

describe('compileMatch: < <= > >= compare numbers', () => {
  it.each<[string, boolean]>([
    ['body.amount>=100', true],
    ['body.amount>=150', true],
    ['body.amount>150', false],
    ['body.amount<=150', true],
    ['body.amount<150', false],
    ['body.amount<1000', true],
    ['body.amount>1.5e2', false],
    ['body.amount>=1.5E+2', true],
    ['body.amount<+151', true],
    ['body.amount>.5', true],
    ['body.amount<151.', true],
    ['body.amount>00149', true],
    ['body.neg<0', true],
    ['body.neg<-2.5', false],
    ['body.neg<=-2.5', true],
    ['body.neg>-3', true],
    ['body.tiny>0', true],
    ['body.tiny<1e-6', true],
    ['body.huge>1e20', true],
    ['body.huge>=1000000000000000000000', true],
  ])('a JSON number: %s is %s', (expr, expected) => check(expr, M, expected));

  it.each<[string, boolean]>([
    ['body.sText>99', true],
    ['body.sText<99.5', false],
    ['body.sExp=2e3', true],
    ['body.sExp>=2000', true],
    ['body.sLead=007', true],
    ['body.sLead>6', true],
    ['body.sPlus>2', true],
    ['body.sDot<1', true],
    ['body.sTrail>=5', true],
    ['headers.text12>11', true],
    ['headers.text12<=12', true],
    ['properties.expiration>=60000', true],
    ['routingKey>41', true],
    ['routingKey>=43', false],
  ])('text that is a decimal number: %s is %s', (expr, expected) => check(expr, M, expected));

  it.each<string>([
    'body.sInf>0',
    'body.sInf<0',
    'body.sEmpty<1',
    'body.sEmpty>=0',
    'body.flag>0',
    'body.flag<1',
    'body.nothing<1',
    'body.nothing>=0',
    'body.list>0',
    'body.list<1',
    'body.obj>0',
    'body.missing<1',
    'body.missing>=1',
    'headers.padded<13',
    'headers.padded>=12',
    'headers.hex>0',
    'headers.inf>0',
    'headers.nan<1',
    'headers.nan>=1',
    'headers.word>0',
    'headers.flag>0',
    'headers.void>=0',
    'headers.list>0',
    'headers.missing<1',
    'headers.dnan<1',
    'headers.dnan>=1',
    'properties.messageId>0',
    'properties.correlationId>=0',
    'redelivered<1',
    'redelivered>=0',
    'exchange>0',
    'exchange<=0',
  ])(
    'is false when the field is not a number (absent, not decimal text, boolean, null, object): %s',
    (expr) => check(expr, M, false),
  );

  it('is false on a body that is not JSON, for body.PATH', () => {
    for (const body of ['amount=150', '', '{"amount":150']) {
      check('body.amount>=0', message({ body: Buffer.from(body) }), false);
      check('body.amount<0', message({ body: Buffer.from(body) }), false);
    }
    check('body.x<1', message({ body: Buffer.from([0xff, 0xfe]) }), false);
  });

  it('reads the whole body when it is a number as text', () => {
    check('body>=100', message({ body: Buffer.from('150') }), true);
    check('body<100', message({ body: Buffer.from('150') }), false);
    check('body>0', message({ body: Buffer.from('150\n') }), false);
  });

  it('compares bodySize and numeric properties', () => {
    const bodySize = M.body.length;
    check(`bodySize<=${bodySize}`, M, true);
    check(`bodySize<${bodySize}`, M, false);
    check('bodySize<1024', M, true);
    check('bodySize>=0', message({ body: Buffer.alloc(0) }), true);
    check('bodySize>0', message({ body: Buffer.alloc(0) }), false);
    check('properties.priority>3', M, true);
    check('properties.deliveryMode>=2', M, true);
    check('properties.timestamp<1795770001', M, true);
  });

  it('compares headers: plain numbers, typed values by their value, a decimal as its number', () => {
    check('headers.retries>3', M, true);
    check('headers.retries>4', M, false);
    check('headers.n64>=5', M, true);
    check('headers.n64>5', M, false);
    check('headers.ts>1795769999', M, true);
    check('headers.dec>123.44', M, true);
    check('headers.dec<=123.45', M, true);
    check('headers.dec>123.45', M, false);
    check('headers.big>9007199254740991', M, true);
    check('headers."list"[1]>1', M, true);
    check('headers."a<b">6', M, true);
  });

  it('has no negation: < and >= are both false on a value that is no number', () => {
    check('headers.word<1', M, false);
    check('headers.word>=1', M, false);
    check('!headers.word', M, false);
  });

  it('ANDs with the other operators', () => {
    expect(compileMatches(['body.amount>=100', 'body.amount<200', 'exchange=orders'])(M)).toBe(true);
    expect(compileMatches(['body.amount>=100', 'body.amount<150'])(M)).toBe(false);
  });
});

describe('compileMatch: how operators are read', () => {
  const m = message({
    headers: { a: '<b', 'a=': 1, 'a<': 5, x: '=<1' },
    body: Buffer.from('{"a":5,"b":"<=3"}'),
  });

  it('reads <= and >= before < and >', () => {
    check('body.a<=5', m, true);
    check('body.a<5', m, false);
    check('body.a>=5', m, true);
    check('body.a>5', m, false);
  });

  it('ends a name at < and >: a header name with them is quoted', () => {
    check('headers."a<"<=5', m, true);
    check('headers."a="<2', m, true);
    check('headers."a<"', m, true);
  });

  it('matches a text value that starts with < or > with a regex', () => {
    check('headers.a~^<b$', m, true);
    check('body.b~^<=3$', m, true);
    check('headers.x~^=<1$', m, true);
    check('headers.a!~^>', m, true);
  });
});

describe('compileMatch: a malformed numeric comparison is a usage error naming it', () => {
  it.each<[string, string]>([
    ['a<=b', "unknown field 'a'"],
    [
      'body.a<=b',
      "'b' is not a number: '<=' compares with a finite decimal number, such as 100, -1.5 or 2e3",
    ],
    ['body.a<b', "'b' is not a number: '<' compares with a finite decimal number"],
    ['body.a>', "expected a number after '>', such as 100, -1.5 or 2e3"],
    ['body.a>=', "expected a number after '>='"],
    ['body.a<NaN', "'NaN' is not a number"],
    ['body.a<Infinity', "'Infinity' is not a number"],
    ['body.a>-Infinity', "'-Infinity' is not a number"],
    ['body.a<1e999', "'1e999' is too large a number"],
    ['body.a>-1e999', "'-1e999' is too large a number"],
    ['body.a<0x10', "'0x10' is not a number"],
    ['body.a<1_000', "'1_000' is not a number"],
    ['body.a<1,5', "'1,5' is not a number"],
    ['body.a<1e', "'1e' is not a number"],
    ['body.a<.', "'.' is not a number"],
    ['body.a<-', "'-' is not a number"],
    ['body.a<--1', "'--1' is not a number"],
    ['body.a<<5', "'<5' is not a number"],
    ['body.a<>5', "'>5' is not a number"],
    ['body.a<==5', "'=5' is not a number"],
    ['body.a>~5', "'~5' is not a number"],
    ['body.a< 5', 'unexpected space at position 8: write no spaces around the operator'],
    ['body.a<5 ', 'unexpected space at position 9'],
    ['body.a <5', 'unexpected space at position 7'],
    [
      'body.a=<5',
      "'=<' is not an operator: did you mean '<='? (to match a value that starts with '<', use ~^<…)",
    ],
    [
      'body.a=>5',
      "'=>' is not an operator: did you mean '>='? (to match a value that starts with '>', use ~^>…)",
    ],
    ['body.a!=<5', "'!=<' is not an operator: use =, !=, ~, !~, <, <=, > or >="],
    ['body.a!=>5', "'!=>' is not an operator"],
    ['body.a!<5', "'!' at position 7 must be followed by '=' or '~'"],
    ['!body.a<5', "'!' before a field means 'absent' and takes no operator"],
    ['<5', "operator '<' without a field before it"],
    ['>=5', "operator '>=' without a field before it"],
    ['!<5', "unexpected '<' at position 2"],
    ['bodySize.x<5', "'bodySize' has no subfields ('bodySize.x')"],
    ['headers.a<b=1', "'b=1' is not a number"],
  ])('%j: %s', (expr, problem) => {
    const error = usageError(() => compileMatch(expr));
    expect(error.exitCode).toBe(2);
    expect(error.message.startsWith(`--match '${expr}': ${problem}`), error.message).toBe(true);
  });
});
