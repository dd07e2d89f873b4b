/** `warren info`'s command line: argv to options, and the lines that are usage errors. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/program.js';
import type { Io } from '../../src/ui/io.js';
import { global } from '../helpers/globals.js';
import { describeUsageErrors } from '../helpers/usageError.js';

const pipe: Io = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough(), env: {} };
const terminal: Io = { ...pipe, stdout: Object.assign(new PassThrough(), { isTTY: true }) };

const defaults = {
  name: undefined,
  kind: undefined,
  vhost: undefined,
  defaultExchange: false,
  all: false,
  consumers: true,
  statistics: false,
  format: 'ndjson',
};

describe('warren info: argv reaches the command as these options', () => {
  it.each([
    { argv: ['info'], io: pipe, options: defaults },
    { argv: ['info'], io: terminal, options: { ...defaults, format: 'pretty' } },
    {
      argv: ['info', 'orders', '--queue'],
      io: pipe,
      options: { ...defaults, name: 'orders', kind: 'queue' },
    },
    {
      argv: ['info', '--exchange', 'orders'],
      io: pipe,
      options: { ...defaults, name: 'orders', kind: 'exchange' },
    },
    {
      argv: [
        'info',
        '--vhost',
        'staging',
        '--default-exchange',
        '--all',
        '--no-consumers',
        '--stats',
        '--format',
        'dot',
      ],
      io: terminal,
      options: {
        ...defaults,
        vhost: 'staging',
        defaultExchange: true,
        all: true,
        consumers: false,
        statistics: true,
        format: 'dot',
      },
    },
  ])('$argv', async ({ argv, io, options }) => {
    expect(await parseArgs(argv, io)).toEqual({ command: 'info', global: global(), options });
  });
});

describeUsageErrors('warren info: usage errors', [
  {
    name: '--exchange without a name',
    argv: ['info', '--exchange'],
    mentions: /--exchange goes with a NAME/,
  },
  { name: '--exchange and --queue', argv: ['info', 'x', '--exchange', '--queue'], mentions: /--queue/ },
  { name: 'a format info does not have', argv: ['info', '--format', 'body'], mentions: /body/ },
]);
