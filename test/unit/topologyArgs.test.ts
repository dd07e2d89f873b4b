import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DataError, UsageError } from '../../src/errors.js';
import { parseArgs } from '../../src/program.js';
import { parseTopology, queueArguments } from '../../src/topology/spec.js';
import type { Io } from '../../src/ui/io.js';
import { global } from '../helpers/globals.js';

const io: Io = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough(), env: {} };

describe('declare, delete and purge: argv reaches the command as these options', () => {
  const cases: { argv: string[]; expected: unknown }[] = [
    {
      argv: [
        'declare',
        'exchange',
        'orders',
        '--type',
        'topic',
        '--alternate-exchange',
        'ae',
        '--arg',
        'x-n:=5',
      ],
      expected: {
        command: 'declare',
        global: global(),
        options: {
          kind: 'exchange',
          spec: {
            name: 'orders',
            type: 'topic',
            durable: true,
            autoDelete: false,
            internal: false,
            arguments: { 'x-n': 5, 'alternate-exchange': 'ae' },
          },
          passive: false,
          json: false,
        },
      },
    },
    {
      argv: [
        'declare',
        'queue',
        'q',
        '--type',
        'quorum',
        '--message-ttl',
        '30s',
        '--dead-letter-exchange',
        'dlx',
        '--delivery-limit',
        '3',
        '--single-active-consumer',
        '--no-durable',
        '--json',
      ],
      expected: {
        command: 'declare',
        global: global(),
        options: {
          kind: 'queue',
          spec: {
            name: 'q',
            type: 'quorum',
            durable: false,
            exclusive: false,
            autoDelete: false,
            arguments: {
              'x-queue-type': 'quorum',
              'x-dead-letter-exchange': 'dlx',
              'x-message-ttl': 30000,
              'x-delivery-limit': 3,
              'x-single-active-consumer': true,
            },
          },
          passive: false,
          json: true,
        },
      },
    },
    {
      // --key after `binding` is the binding key; the TLS --key before the command stays TLS.
      argv: ['--key', 'client.key', 'declare', 'binding', '--source', 'ex', '--queue', 'q', '--key', 'a.*'],
      expected: {
        command: 'declare',
        global: global({ key: 'client.key' }),
        options: {
          kind: 'binding',
          spec: { source: 'ex', destination: { queue: 'q' }, key: 'a.*', arguments: {} },
          json: false,
        },
      },
    },
    {
      argv: ['delete', 'binding', '--source', 'ex', '--exchange', 'audit', '--key=#', '--arg', 'x-match=all'],
      expected: {
        command: 'delete',
        global: global(),
        options: {
          kind: 'binding',
          spec: {
            source: 'ex',
            destination: { exchange: 'audit' },
            key: '#',
            arguments: { 'x-match': 'all' },
          },
          json: false,
        },
      },
    },
    {
      argv: ['delete', 'queue', 'q', '--if-empty'],
      expected: {
        command: 'delete',
        global: global(),
        options: { kind: 'queue', name: 'q', ifUnused: false, ifEmpty: true, json: false },
      },
    },
    {
      argv: ['--wait-for-broker', '30s', 'declare', '--file', 't.json', '--check'],
      expected: {
        command: 'declare',
        global: global({ waitForBrokerMs: 30000 }),
        options: { kind: 'file', file: 't.json', check: true, json: false },
      },
    },
    {
      argv: ['purge', 'q', '--json'],
      expected: { command: 'purge', global: global(), options: { queue: 'q', json: true } },
    },
  ];
  it.each(cases)('$argv', async ({ argv, expected }) => {
    expect(await parseArgs(argv, io)).toEqual(expected);
  });

  it('a mistyped entity after declare names the choices', async () => {
    await expect(parseArgs(['declare', 'exchnage', 'x'], io)).rejects.toThrow(
      "declare: 'exchnage' is not one of exchange, queue, binding",
    );
  });

  it.each([
    [['declare']],
    [['declare', 'binding', '--source', 'ex']],
    [['declare', 'binding', '--source', 'ex', '--queue', 'q', '--exchange', 'x']],
    [['declare', 'queue', 'q', '--max-priority', '0']],
    [['declare', 'queue', 'q', '--type', 'nope']],
    [['declare', 'queue', 'q', '--max-age', '7days']],
    [['declare', 'queue', 'q', '--max-age', '7D']],
  ])('%j is a usage error', async (argv) => {
    await expect(parseArgs(argv, io)).rejects.toBeInstanceOf(UsageError);
  });
});

describe('topology files', () => {
  it('map named queue options to x-arguments, with defaults filled in', () => {
    const topology = parseTopology(
      JSON.stringify({
        exchanges: [{ name: 'e' }],
        queues: [
          {
            name: 'q',
            messageTtl: '1m',
            expires: 5000,
            overflow: 'reject-publish',
            arguments: { 'x-n': { '!': 'int64', value: 2 } },
          },
        ],
        bindings: [{ source: 'e', queue: 'q' }],
      }),
      't.json',
    );
    expect(topology.exchanges).toEqual([
      { name: 'e', type: 'direct', durable: true, autoDelete: false, internal: false, arguments: {} },
    ]);
    expect(topology.queues[0]?.arguments).toEqual({
      'x-message-ttl': 60000,
      'x-expires': 5000,
      'x-overflow': 'reject-publish',
      'x-n': { '!': 'int64', value: '2' },
    });
    expect(topology.bindings).toEqual([{ source: 'e', destination: { queue: 'q' }, key: '', arguments: {} }]);
  });

  it.each([
    ['{', /t\.json: invalid JSON/],
    ['[]', /\(top level\): must be an object/],
    ['{"queues":[{"name":"q","messageTl":5}]}', /queues\[0\]\.messageTl: unknown key/],
    ['{"queues":[{"name":"q","type":"lazy"}]}', /queues\[0\]\.type: 'lazy' is not a queue type/],
    ['{"queues":[{"name":"q","messageTtl":"5"}]}', /queues\[0\]\.messageTtl: '5' is not a duration/],
    ['{"queues":[{"durable":true}]}', /queues\[0\]\.name: is required/],
    ['{"queues":[{"name":"q","maxAge":"7D"}]}', /queues\[0\]\.maxAge: applies to streams only/],
    ['{"queues":[{"name":"q","expires":0}]}', /queues\[0\]\.expires: must be more than 0/],
    [
      '{"bindings":[{"source":"e","queue":"q","exchange":"x"}]}',
      /bindings\[0\]: needs exactly one of "queue" or "exchange"/,
    ],
    [
      '{"exchanges":[{"name":"e","arguments":{"x":{"!":"int8","value":999}}}]}',
      /exchanges\[0\]\.arguments\.x: int8 value 999/,
    ],
  ])('%s is bad input (exit 65) naming where', (text, message) => {
    let error: unknown;
    try {
      parseTopology(text, 't.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).exitCode).toBe(65);
    expect((error as DataError).message).toMatch(message);
  });

  it('sends x-queue-type only when a type is given (else the vhost default applies)', () => {
    expect(queueArguments(undefined, {}, {})).toEqual({});
    expect(queueArguments('classic', {}, {})).toEqual({ 'x-queue-type': 'classic' });
    expect(queueArguments('stream', { maxAge: '7D' }, {})).toEqual({
      'x-queue-type': 'stream',
      'x-max-age': '7D',
    });
  });
});
