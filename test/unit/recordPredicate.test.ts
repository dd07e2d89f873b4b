import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { compileRecordPredicate } from '../../src/match/recordPredicate.js';
import { usageError } from '../helpers/usageError.js';

// `--match` over plain records, as `warren ls queues` prints them (src/match/recordPredicate.ts).

const QUEUE = {
  name: 'orders.created',
  vhost: '/',
  type: 'quorum',
  durable: true,
  autoDelete: false,
  arguments: {
    'x-queue-type': 'quorum',
    'x-max-length': 5000,
    'x-dead-letter-exchange': 'dlx',
    'a.b': 'dotted',
  },
  state: 'running',
  messages: 1500,
  messagesReady: 1200,
  messagesUnacknowledged: 300,
  consumers: 0,
  publishRate: 12.5,
  deliverRate: null,
  memory: 143360,
  policy: '',
  nodes: ['rabbit@a', 'rabbit@b'],
};
const FIELDS = Object.keys(QUEUE);

function check(expr: string, expected: boolean, record: object = QUEUE, known?: string[]): void {
  expect(compileRecordPredicate([expr], known)(record), expr).toBe(expected);
}

describe('compileRecordPredicate: the fields of a record', () => {
  it.each<[string, boolean]>([
    ['messages>1000', true],
    ['messages>1500', false],
    ['messages>=1500', true],
    ['messages<=1499', false],
    ['messagesReady<2000', true],
    ['consumers=0', true],
    ['consumers!=0', false],
    ['consumers<1', true],
    ['consumers>0', false],
    ['name~^orders\\.', true],
    ['name~^audit\\.', false],
    ['name!~^audit\\.', true],
    ['name=orders.created', true],
    ['vhost=/', true],
    ['durable=true', true],
    ['autoDelete=false', true],
    ['durable>0', false],
    ['state=running', true],
    ['arguments."x-queue-type"=quorum', true],
    ['arguments.x-queue-type=quorum', true],
    ['arguments.x-max-length>1000', true],
    ['arguments.x-max-length<=5000', true],
    ['arguments.x-max-length=5000', true],
    ['arguments.x-dead-letter-exchange', true],
    ['!arguments.x-expires', true],
    ['arguments.x-expires', false],
    ['!arguments.x-max-length', false],
    ['arguments.x-expires!=1', true],
    ['arguments.x-expires<1', false],
    ['arguments.x-expires>=1', false],
    ['arguments."a.b"=dotted', true],
    ['arguments.a.b', false],
    [
      'arguments={"x-queue-type":"quorum","x-max-length":5000,"x-dead-letter-exchange":"dlx","a.b":"dotted"}',
      true,
    ],
    ['publishRate>10', true],
    ['publishRate<=12.5', true],
    ['deliverRate', true],
    ['!deliverRate', false],
    ['deliverRate=null', true],
    ['deliverRate>=0', false],
    ['deliverRate<0', false],
    ['policy=', true],
    ['policy<1', false],
    ['nodes[1]=rabbit@b', true],
    ['nodes.0~^rabbit@', true],
    ['nodes[2]', false],
    ['nodes>0', false],
    ['nodes=["rabbit@a","rabbit@b"]', true],
    ['name.x', false],
    ['missing', false],
    ['!missing', true],
    ['missing!=x', true],
    ['"name"=orders.created', true],
    ['"messages">1000', true],
  ])('%s is %s', (expr, expected) => check(expr, expected));

  it('reads numbers given as text, and refuses text that is no decimal number', () => {
    const record = { a: '12', b: ' 12', c: 'NaN', d: 'Infinity', e: '-1.5e2', f: '0x1f', g: '', 'x-y': 3 };
    check('a>11', true, record);
    check('a<=12', true, record);
    check('b>0', false, record);
    check('c<1', false, record);
    check('c>=1', false, record);
    check('d>0', false, record);
    check('e<-149', true, record);
    check('e>=-150', true, record);
    check('f>0', false, record);
    check('g<1', false, record);
    check('x-y>2', true, record);
  });

  it('ANDs the expressions; none matches every record', () => {
    const idle = compileRecordPredicate(['messages>1000', 'consumers=0', 'arguments."x-queue-type"=quorum']);
    expect(idle(QUEUE)).toBe(true);
    expect(idle({ ...QUEUE, consumers: 2 })).toBe(false);
    expect(idle({ ...QUEUE, messages: 3 })).toBe(false);
    expect(compileRecordPredicate([])(QUEUE)).toBe(true);
    expect(compileRecordPredicate([])({})).toBe(true);
  });

  it('keeps keys that look like prototype properties as data', () => {
    check('constructor', false, {});
    check('!toString', true, {});
    check('__proto__.x=1', true, JSON.parse('{"__proto__":{"x":1}}'));
  });
});

describe('compileRecordPredicate: known fields', () => {
  it('accepts a first step that is known, whatever follows', () => {
    check('arguments.x-anything', false, QUEUE, FIELDS);
    check('messages>1', true, QUEUE, FIELDS);
    check('!arguments.x-expires', true, QUEUE, FIELDS);
    check('"name"~orders', true, QUEUE, FIELDS);
  });

  it.each<[string, string]>([
    ['messagez>1', "unknown field 'messagez'"],
    ['Messages>1', "unknown field 'Messages' (did you mean 'messages'?)"],
    ['!expires', "unknown field 'expires'"],
    ['"x-queue-type"=quorum', "unknown field 'x-queue-type'"],
  ])('refuses an unknown first step, listing the known ones: %s', (expr, problem) => {
    const error = usageError(() => compileRecordPredicate(['consumers=0', expr], FIELDS));
    expect(error.message).toBe(`--match '${expr}': ${problem}`);
    expect(error.hint).toBe(`fields: ${FIELDS.join(', ')}`);
  });

  it('accepts any first step when no field names are given', () => {
    check('anything=x', false);
  });
});

describe('compileRecordPredicate: malformed expressions are usage errors naming them', () => {
  it.each<[string, string]>([
    ['', 'empty expression'],
    ['a<=b', "'b' is not a number: '<=' compares with a finite decimal number, such as 100, -1.5 or 2e3"],
    ['a<b', "'b' is not a number"],
    ['a>=', "expected a number after '>='"],
    ['a<NaN', "'NaN' is not a number"],
    ['a>Infinity', "'Infinity' is not a number"],
    ['a<1e400', "'1e400' is too large a number"],
    ['a=<b', "'=<' is not an operator: did you mean '<='?"],
    ['a=>1', "'=>' is not an operator: did you mean '>='?"],
    ['a==b', "'==' is not an operator"],
    ['a < 1', 'unexpected space at position 2'],
    ['!a>1', "'!' before a field means 'absent' and takes no operator"],
    ['>1', "operator '>' without a field before it"],
    ['!', "expected a field after '!'"],
    ['.a=1', "unexpected '.' at position 1"],
    ['[0]=1', "unexpected '[' at position 1"],
    ['a..b', "expected a name after '.' at position 2"],
    ['a[x]', 'expected an array index such as [0] at position 2'],
    ['"a=1', 'the quote at position 1 is never closed'],
    ['a~(', 'invalid regular expression: Unterminated group'],
  ])('%j: %s', (expr, problem) => {
    const error = usageError(() => compileRecordPredicate([expr]));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.exitCode).toBe(2);
    expect(error.message.startsWith(`--match '${expr}': ${problem}`), error.message).toBe(true);
  });
});

describe('compileRecordPredicate: fuzz', () => {
  const token = fc.constantFrom(
    'messages',
    'name',
    'arguments',
    'x-max-length',
    '"x-queue-type"',
    'a',
    '.',
    '[0]',
    '"',
    '!',
    '=',
    '~',
    '<',
    '>',
    '<=',
    '>=',
    '!=',
    '!~',
    '=<',
    '1000',
    '-1.5',
    '1e3',
    'NaN',
    ' ',
    '(',
    '^',
    'quorum',
  );
  const expression = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.array(token, { maxLength: 8 }).map((t) => t.join('')),
  );
  const record = fc.oneof(
    fc.constant(QUEUE),
    fc.dictionary(
      fc.constantFrom('messages', 'name', 'arguments', 'a', '__proto__'),
      fc.jsonValue({ maxDepth: 3 }),
    ),
  );

  it('an expression compiles or is a UsageError naming it; a compiled one gives a boolean on any record', () => {
    fc.assert(
      fc.property(expression, fc.array(record, { maxLength: 3 }), (expr, records) => {
        let predicate: (record: object) => boolean;
        try {
          predicate = compileRecordPredicate([expr]);
        } catch (error) {
          expect(error).toBeInstanceOf(UsageError);
          expect((error as UsageError).message.startsWith(`--match '${expr}': `)).toBe(true);
          return;
        }
        for (const r of records) expect(typeof predicate(r)).toBe('boolean');
      }),
      { seed: 0x5eed_2026, numRuns: 3000 },
    );
  });

  it('a < b and a >= b are never both true', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('messages', 'a', 'arguments.x-max-length'),
        fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
        record,
        (field, bound, r) => {
          const below = compileRecordPredicate([`${field}<${bound}`])(r);
          const atLeast = compileRecordPredicate([`${field}>=${bound}`])(r);
          expect(below && atLeast).toBe(false);
        },
      ),
      { seed: 0x5eed_2026, numRuns: 2000 },
    );
  });
});
