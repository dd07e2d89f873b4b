/**
 * `warren ls` without a broker: its command line as options, the usage errors it refuses,
 * the table fitted to a terminal, the units it shows, and the API field each record field
 * sorts by.
 */
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { cut, humanBytes, humanRate, type TableColumn, TableWriter } from '../../src/format/table.js';
import { API_COLUMNS, apiSortField, DEFAULT_COLUMNS, sortableFields } from '../../src/inventory/listing.js';
import { fieldsOf, KIND_SOURCES, KINDS } from '../../src/inventory/records.js';
import { parseArgs } from '../../src/program.js';
import { PLAIN } from '../../src/ui/colour.js';
import type { Io } from '../../src/ui/io.js';
import { global } from '../helpers/globals.js';
import { describeUsageErrors } from '../helpers/usageError.js';

const io = (tty = false): Io => ({
  stdin: new PassThrough(),
  stdout: Object.assign(new PassThrough(), tty ? { isTTY: true } : {}),
  stderr: new PassThrough(),
  env: {},
});

const options = (overrides: Record<string, unknown>) => ({
  kind: 'queues',
  patterns: [],
  matches: [],
  sort: undefined,
  reverse: false,
  columns: undefined,
  vhost: undefined,
  allVhosts: false,
  format: 'ndjson',
  ...overrides,
});

describe('ls: argv reaches the command as these options', () => {
  const cases: { argv: string[]; expected: Record<string, unknown>; tty?: boolean }[] = [
    { argv: ['ls', 'queues'], expected: {} },
    { argv: ['ls', 'queues'], expected: { format: 'table' }, tty: true },
    {
      argv: ['ls', 'exchanges', '^orders\\.', 'audit', '--format', 'table', '--vhost', 'shop'],
      expected: { kind: 'exchanges', patterns: ['^orders\\.', 'audit'], format: 'table', vhost: 'shop' },
    },
    {
      argv: [
        'ls',
        'queues',
        '--match',
        'messages>1',
        '--match',
        'consumers=0',
        '--sort',
        'messages',
        '--reverse',
      ],
      expected: { matches: ['messages>1', 'consumers=0'], sort: 'messages', reverse: true },
    },
    {
      argv: ['ls', 'consumers', '--columns', 'queue, prefetchCount', '--all-vhosts'],
      expected: { kind: 'consumers', columns: ['queue', 'prefetchCount'], allVhosts: true },
    },
  ];
  it.each(cases)('$argv', async ({ argv, expected, tty }) => {
    expect(await parseArgs(argv, io(tty))).toEqual({
      command: 'ls',
      global: global(),
      options: options(expected),
    });
  });
});

describeUsageErrors('ls usage errors', [
  {
    name: 'a bad regex, named',
    argv: ['ls', 'queues', 'ok', '(orders'],
    mentions: /REGEX '\(orders' is not a valid regular expression: Unterminated group/,
  },
  { name: 'an unknown kind', argv: ['ls', 'queue'], mentions: /queue/ },
  {
    name: 'an unknown column, listing the fields',
    argv: ['ls', 'queues', '--columns', 'name,depth'],
    mentions: /--columns: queues have no field 'depth'; fields: name, vhost, type/,
  },
  {
    name: 'an unknown --sort field',
    argv: ['ls', 'exchanges', '--sort', 'messages'],
    mentions: /--sort: exchanges have no field 'messages'/,
  },
  {
    name: '--sort by an object, naming the fields it can sort by',
    argv: ['ls', 'queues', '--sort', 'arguments'],
    mentions:
      /--sort: the API cannot order queues by 'arguments' \(not a single value\); by: name, vhost, type/,
  },
  {
    name: '--vhost with --all-vhosts',
    argv: ['ls', 'queues', '--vhost', 'a', '--all-vhosts'],
    mentions: /--vhost does not go with --all-vhosts/,
  },
  { name: 'a format of messages', argv: ['ls', 'queues', '--format', 'pretty'], mentions: /pretty/ },
]);

describe('the record fields and the API', () => {
  it.each(KINDS)('every field of %s sorts by an API field, but objects and lists', (kind) => {
    const objects = ['arguments', 'tags'];
    for (const field of fieldsOf(kind)) {
      expect(apiSortField(kind, field) === null, field).toBe(objects.includes(field));
    }
    expect(sortableFields(kind)).not.toContain('arguments');
  });

  it('maps camelCase to the API: snake_case, nested statistics and renamed fields', () => {
    expect(apiSortField('queues', 'messagesReady')).toBe('messages_ready');
    expect(apiSortField('queues', 'publishRate')).toBe('message_stats.publish_details.rate');
    expect(apiSortField('consumers', 'queue')).toBe('queue.name');
    expect(apiSortField('channels', 'consumers')).toBe('consumer_count');
  });

  it.each(KINDS)('the default columns of %s are fields of its records', (kind) => {
    const fields = fieldsOf(kind);
    for (const column of DEFAULT_COLUMNS[kind]) expect(fields).toContain(column);
  });
});

/**
 * The paths of the API's JSON a mapper reads, over two items: one whose every key holds
 * another such item (the paths into objects), one whose every key is absent (the fallbacks
 * read after `??` when the first is missing).
 */
function pathsRead(map: (item: Record<string, unknown>) => unknown): Set<string> {
  const read = new Set<string>();
  const item = (path: string, nested: boolean): Record<string, unknown> =>
    new Proxy({} as Record<string, unknown>, {
      get(target, key) {
        if (typeof key === 'symbol' || key === 'toString' || key === 'valueOf')
          return Reflect.get(target, key);
        const at = path === '' ? key : `${path}.${key}`;
        read.add(at);
        return nested ? item(at, true) : undefined;
      },
    });
  map(item('', true));
  map(item('', false));
  return read;
}

describe('docs/commands/ls.md', () => {
  const page = readFileSync(new URL('../../docs/commands/ls.md', import.meta.url), 'utf8');
  it.each(KINDS)('documents every field of %s, in order, and no other', (kind) => {
    const section = page.split(`\n### ${kind}\n`)[1]?.split('\n### ')[0] ?? '';
    const documented = section
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .flatMap((line) => [...(line.split('|')[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]));
    expect(documented).toEqual(fieldsOf(kind));
  });
});

describe('the fields ls asks the API for (columns)', () => {
  it.each(KINDS)('cover everything the %s record reads', (kind) => {
    const columns = API_COLUMNS[kind];
    // A path is covered by a column that is it, or lies inside it; a column's parent objects are read on the way.
    const covered = (path: string) =>
      columns.some(
        (column) => path === column || path.startsWith(`${column}.`) || column.startsWith(`${path}.`),
      );
    expect([...pathsRead(KIND_SOURCES[kind].record)].filter((path) => !covered(path))).toEqual([]);
  });
});

describe('the table', () => {
  const columns: TableColumn[] = [
    { label: 'name', align: 'left', render: String },
    { label: 'type', align: 'left', render: String },
    { label: 'messages', align: 'right', render: String },
    { label: 'memory', align: 'right', render: String },
  ];
  const rows = [
    ['orders.created.by-the-shop-frontend', 'classic', 42, '1.2 MiB'],
    ['audit', 'quorum', 1234567, '34 KiB'],
  ];
  const table = (width: number | undefined, sample = 500) => {
    const writer = new TableWriter(columns, { width, paint: PLAIN, sample });
    const text = rows.map((row) => writer.add(row)).join('') + writer.end();
    return { lines: text.trimEnd().split('\n'), dropped: writer.dropped };
  };

  it('at its natural width: text left, numbers right, two spaces apart', () => {
    expect(table(undefined).lines).toEqual([
      'name                                 type     messages   memory',
      'orders.created.by-the-shop-frontend  classic        42  1.2 MiB',
      'audit                                quorum    1234567   34 KiB',
    ]);
  });

  it('on a narrow terminal, cuts the name with an ellipsis rather than wrap', () => {
    const { lines, dropped } = table(52);
    expect(dropped).toEqual([]);
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(52);
    expect(lines[1]).toBe('orders.created.by-the-s…  classic        42  1.2 MiB');
  });

  it('leaves out columns from the right when cutting names is not enough', () => {
    const { lines, dropped } = table(45);
    expect(dropped).toEqual(['memory']);
    expect(lines[0]).toBe('name                        type     messages');
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(45);
  });

  it('widths come from the first rows; later rows are cut to them', () => {
    const writer = new TableWriter(columns.slice(0, 1), { width: 80, paint: PLAIN, sample: 1 });
    expect(writer.add(['short'])).toBe('name\nshort\n');
    expect(writer.add(['a much longer name'])).toBe('a mu…\n');
  });

  it('shows control characters in names as \\xNN, one row each', () => {
    const writer = new TableWriter(columns.slice(0, 1), { width: undefined, paint: PLAIN, sample: 5 });
    writer.add(['evil\u001b]0;title\u0007\nname']);
    expect(writer.end()).toBe('name\nevil\\x1b]0;title\\x07\\x0aname\n');
  });

  it('cut never splits a character', () => {
    expect(cut('😀😀😀😀', 3)).toBe('😀😀…');
    expect(cut('abc', 3)).toBe('abc');
  });

  it('rates and bytes read at a glance', () => {
    expect([0, 0.04, 0.4, 12.3, 999, 1234, 56_789, 2_500_000].map(humanRate)).toEqual([
      '0',
      '0',
      '0.4',
      '12',
      '999',
      '1.2k',
      '57k',
      '2.5M',
    ]);
    expect([0, 512, 1536, 35_651_584, 3 * 1024 ** 3].map(humanBytes)).toEqual([
      '0 B',
      '512 B',
      '1.5 KiB',
      '34 MiB',
      '3 GiB',
    ]);
  });
});
