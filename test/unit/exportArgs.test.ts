import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/program.js';
import { fakeIo } from '../helpers/fakeIo.js';
import { global } from '../helpers/globals.js';
import { describeUsageErrors } from '../helpers/usageError.js';

describe('export: argv reaches the command as these options', () => {
  it.each([
    {
      argv: ['export'],
      options: { match: undefined, vhost: undefined, output: undefined, includeAutoDelete: false },
    },
    {
      argv: ['export', '^orders\\.', '--vhost', 'staging', '-o', 'out.json', '--include-auto-delete'],
      options: { match: /^orders\./, vhost: 'staging', output: 'out.json', includeAutoDelete: true },
    },
  ])('$argv', async ({ argv, options }) => {
    expect(await parseArgs(argv, fakeIo().io)).toEqual({ command: 'export', global: global(), options });
  });
});

describeUsageErrors('export: usage errors', [
  {
    name: 'a REGEX that is none',
    argv: ['export', 'orders.('],
    mentions: /^REGEX 'orders\.\(' is not a JavaScript regular expression \(Unterminated group\)$/,
  },
  { name: 'two REGEXes', argv: ['export', 'a', 'b'], mentions: /too many arguments|unexpected/i },
]);
