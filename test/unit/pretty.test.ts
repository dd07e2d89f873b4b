import { describe, expect, it } from 'vitest';
import type { MessageProperties, ReceivedMessage } from '../../src/broker/message.js';
import { bodyLinesFor, createFormatter, recordBytes } from '../../src/format/index.js';
import { createPrettyFormatter, type PrettyOptions } from '../../src/format/pretty.js';
import { type Paint, PLAIN } from '../../src/ui/colour.js';

const ESC = '\u001b';

function message(overrides: Partial<ReceivedMessage> = {}): ReceivedMessage {
  return {
    exchange: 'orders',
    routingKey: 'order.created',
    redelivered: false,
    properties: {},
    headers: undefined,
    body: Buffer.from('ok'),
    receivedAt: new Date('2026-11-27T09:00:00.123Z'),
    ...overrides,
  };
}

const TIMESTAMP = 1795770000;

/** Every property, so that the properties take several lines. */
const ALL_PROPERTIES: MessageProperties = {
  contentType: 'application/json',
  contentEncoding: 'gzip',
  deliveryMode: 2,
  priority: 5,
  correlationId: 'corr-123456',
  replyTo: 'amq.rabbitmq.reply-to',
  expiration: '60000',
  messageId: 'msg-0001',
  timestamp: TIMESTAMP,
  type: 'order.created',
  userId: 'guest',
  appId: 'shop-frontend',
  clusterId: 'c1',
};

function pretty(m: ReceivedMessage, options: Partial<PrettyOptions> = {}): string {
  return createPrettyFormatter({ paint: PLAIN, ...options })(m);
}

/** The property lines of a block: indented `name: value` items (the message has no headers). */
function propertyLines(out: string): string[] {
  return out
    .split('\n')
    .slice(1)
    .filter((line) => line.startsWith('  '));
}

const itemsOf = (line: string) => line.slice(2).split('  ');

/** The body part of a block whose message has no properties and no headers. */
function bodyOf(out: string): string {
  expect(out.endsWith('\n\n')).toBe(true);
  return out.slice(out.indexOf('\n') + 1, -2);
}

const numbered = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `line ${i + from}`);

// ---------------------------------------------------------------------------------------

describe('pretty: the properties wrap to the width', () => {
  it.each([80, 40, 60])(
    'no line is wider than %i columns, and each line is as full as it can be',
    (columns) => {
      const out = pretty(message({ properties: ALL_PROPERTIES }), { columns });
      const lines = propertyLines(out);
      expect(lines.length).toBeGreaterThan(1);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(columns);
      // Greedy: the first item of each line would not have fitted on the line before.
      for (let i = 0; i + 1 < lines.length; i += 1) {
        const next = itemsOf(lines[i + 1] ?? '')[0] ?? '';
        expect(`${lines[i]}  ${next}`.length).toBeGreaterThan(columns);
      }
    },
  );

  it('keeps every property, whole and in order', () => {
    for (const columns of [40, 80, 200]) {
      const items = propertyLines(pretty(message({ properties: ALL_PROPERTIES }), { columns })).flatMap(
        itemsOf,
      );
      expect(items.map((item) => item.split(': ')[0])).toEqual(Object.keys(ALL_PROPERTIES));
      expect(items).toContain('correlationId: corr-123456');
      expect(items).toContain('replyTo: amq.rabbitmq.reply-to');
    }
  });

  it('wraps to more lines at 40 columns than at 80', () => {
    const at = (columns: number) =>
      propertyLines(pretty(message({ properties: ALL_PROPERTIES }), { columns })).length;
    expect(at(40)).toBeGreaterThan(at(80));
    expect(at(1000)).toBe(1);
  });

  it('an item longer than the width stands alone on its line, unbroken', () => {
    const long = `corr-${'x'.repeat(100)}`;
    const out = pretty(message({ properties: { ...ALL_PROPERTIES, correlationId: long } }), { columns: 40 });
    const lines = propertyLines(out);
    const wide = lines.filter((line) => line.length > 40);
    expect(wide).toEqual([`  correlationId: ${long}`]);
  });

  it('is 80 columns when the width is not known', () => {
    const out = pretty(message({ properties: ALL_PROPERTIES }));
    expect(propertyLines(out)).toEqual(
      propertyLines(pretty(message({ properties: ALL_PROPERTIES }), { columns: 80 })),
    );
  });

  it('is never narrower than 40 columns', () => {
    const narrow = pretty(message({ properties: ALL_PROPERTIES }), { columns: 10 });
    expect(narrow).toBe(pretty(message({ properties: ALL_PROPERTIES }), { columns: 40 }));
  });

  it('shows the timestamp property as an ISO 8601 UTC time', () => {
    const out = pretty(message({ properties: { timestamp: TIMESTAMP } }));
    const iso = new Date(TIMESTAMP * 1000).toISOString().replace('.000Z', 'Z');
    expect(iso).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(out).toContain(`timestamp: ${iso}`);
    expect(out).not.toContain(String(TIMESTAMP));
  });

  it('a timestamp past what a date can show (any client may send one) is shown as its number, not a crash', () => {
    const out = pretty(
      message({ properties: { timestamp: 9e12 }, headers: { t: { '!': 'timestamp', value: 9e12 } } }),
    );
    expect(out).toContain('timestamp: 9000000000000');
    expect(out).toContain('t: 9000000000000 (timestamp)');
  });

  it('headers warren could not decode whole: those it could, then the warning, control characters escaped', () => {
    const out = pretty(
      message({
        headers: { 'x-tenant': 'acme' },
        rawHeaders: Buffer.from('0161', 'hex'),
        warning: `header "x-\u001b[2Jdeep" nested deeper than 100 levels`,
      }),
    );
    expect(out).toContain('  x-tenant: acme\n  warning: header "x-\\x1b[2Jdeep"');
    expect(out).toContain('deep" nested deeper than 100 levels\n');
    expect(out).not.toContain(ESC);
  });
});

describe('pretty: a long body is cut to bodyLines', () => {
  it('a text of many lines: N lines, then how many more', () => {
    const body = bodyOf(pretty(message({ body: Buffer.from(numbered(50).join('\n')) }), { bodyLines: 10 }));
    expect(body.split('\n')).toEqual([...numbered(10), '… 40 more lines (--full shows all)']);
  });

  it('counts the same with a final newline', () => {
    const body = bodyOf(
      pretty(message({ body: Buffer.from(`${numbered(50).join('\n')}\n`) }), { bodyLines: 10 }),
    );
    expect(body.split('\n')).toEqual([...numbered(10), '… 40 more lines (--full shows all)']);
  });

  it('one line more is "1 more line"', () => {
    const body = bodyOf(pretty(message({ body: Buffer.from(numbered(11).join('\n')) }), { bodyLines: 10 }));
    expect(body.split('\n').at(-1)).toBe('… 1 more line (--full shows all)');
  });

  it('a text of exactly N lines is shown whole, with no note', () => {
    const text = numbered(10).join('\n');
    expect(bodyOf(pretty(message({ body: Buffer.from(text) }), { bodyLines: 10 }))).toBe(text);
    expect(bodyOf(pretty(message({ body: Buffer.from(`${text}\n`) }), { bodyLines: 10 }))).toBe(`${text}\n`);
  });

  it('a JSON body is cut after it is pretty-printed', () => {
    const object = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]));
    const compact = JSON.stringify(object); // one line of about 250 characters
    const body = bodyOf(pretty(message({ body: Buffer.from(compact) }), { bodyLines: 10 }));
    const printed = JSON.stringify(object, null, 2).split('\n'); // 32 lines
    expect(body.split('\n')).toEqual([...printed.slice(0, 10), '… 22 more lines (--full shows all)']);
  });

  it('a single very long line is cut at N × columns characters', () => {
    const text = 'x'.repeat(1000);
    const body80 = bodyOf(pretty(message({ body: Buffer.from(text) }), { bodyLines: 3, columns: 80 }));
    expect(body80).toBe(`${'x'.repeat(240)}\n… 760 more characters (--full shows all)`);
    const body40 = bodyOf(pretty(message({ body: Buffer.from(text) }), { bodyLines: 3, columns: 40 }));
    expect(body40).toBe(`${'x'.repeat(120)}\n… 880 more characters (--full shows all)`);
  });

  it('a cut does not split a character in two (no lone surrogate)', () => {
    const text = `a${'😀'.repeat(200)}`;
    const body = bodyOf(pretty(message({ body: Buffer.from(text) }), { bodyLines: 3, columns: 80 }));
    const shown = body.split('\n')[0] ?? '';
    expect(shown).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect(text.startsWith(shown)).toBe(true);
  });

  it('bodyLines undefined shows everything', () => {
    const text = numbered(500).join('\n');
    expect(bodyOf(pretty(message({ body: Buffer.from(text) })))).toBe(text);
    const long = 'y'.repeat(10_000);
    expect(bodyOf(pretty(message({ body: Buffer.from(long) })))).toBe(long);
  });

  it('a binary body is a hex dump, not cut by bodyLines', () => {
    const binary = Buffer.alloc(100, 0xff);
    const cut = pretty(message({ body: binary }), { bodyLines: 2 });
    expect(cut).toBe(pretty(message({ body: binary })));
    expect(cut).toContain('binary, 100 bytes');
    expect(cut).toContain('00000060  ff ff ff ff');
    expect(cut).not.toContain('--full');
  });

  it('control characters in the body are shown as \\x1b, also when cut', () => {
    const text = `red ${ESC}[31mtext${'\u0007'}\n${numbered(20).join('\n')}`;
    for (const bodyLines of [undefined, 5]) {
      const out = pretty(message({ body: Buffer.from(text) }), { bodyLines });
      expect(out).toContain('red \\x1b[31mtext\\x07');
      expect(out).not.toContain(ESC);
      expect(out).not.toContain('\u0007');
    }
  });

  it('control characters in names and properties are shown as \\x1b', () => {
    const out = pretty(
      message({
        exchange: `ex${ESC}[2J`,
        routingKey: `rk${ESC}]0;title`,
        properties: { messageId: `id${ESC}[1m`, type: `t${'\u009b'}x` },
      }),
    );
    expect(out).toContain('ex\\x1b[2J');
    expect(out).toContain('rk\\x1b]0;title');
    expect(out).toContain('messageId: id\\x1b[1m');
    expect(out).toContain('type: t\\x9bx');
    expect(out).not.toContain(ESC);
    expect(out).not.toContain('\u009b');
  });
});

// ---------------------------------------------------------------------------------------

const wrap =
  (name: string) =>
  (text: string): string =>
    `<${name}>${text}</${name}>`;

/** A paint that shows each colour as markers: `<cyan>text</cyan>`. */
const MARKED: Paint = {
  enabled: true,
  red: wrap('red'),
  yellow: wrap('yellow'),
  green: wrap('green'),
  blue: wrap('blue'),
  magenta: wrap('magenta'),
  cyan: wrap('cyan'),
  dim: wrap('dim'),
  bold: wrap('bold'),
};

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The colour the exchange name is painted with, in a block. */
function exchangeColourIn(out: string, exchange: string): string | undefined {
  return new RegExp(`<bold><(\\w+)>${escapeRegExp(exchange)}</\\1></bold>`).exec(out)?.[1];
}

describe('pretty: a hex dump fits the width', () => {
  const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 7) & 0xff));
  /** The dump's rows: offset, hex, text. */
  const dumpRows = (out: string) => out.split('\n').filter((line) => /^[0-9a-f]{8} {2}/.test(line));
  const bytesPerRow = (row: string) => row.slice(10).split('  ')[0]!.split(' ').length;

  it.each([
    [undefined, 16],
    [200, 16],
    [80, 16],
    [75, 16],
    [74, 8],
    [43, 8],
    [42, 4],
    [27, 4],
  ])('at %s columns: %i bytes a row, and no row wider than the terminal', (columns, bytes) => {
    const rows = dumpRows(pretty(message({ body: binary }), { columns, bodyLines: 64 }));
    expect(rows).toHaveLength(256 / bytes);
    for (const row of rows) {
      expect(bytesPerRow(row)).toBe(bytes);
      expect(row.length).toBeLessThanOrEqual(columns ?? 80);
    }
    // Each row: its offset, the bytes in hex, the same bytes as text.
    expect(rows[1]).toBe(
      `${bytes.toString(16).padStart(8, '0')}  ${[...binary.subarray(bytes, 2 * bytes)]
        .map((b) => b.toString(16).padStart(2, '0'))
        .join(' ')}  ${[...binary.subarray(bytes, 2 * bytes)]
        .map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.'))
        .join('')}`,
    );
  });

  it('never fewer than 4 bytes a row, however narrow', () => {
    const rows = dumpRows(pretty(message({ body: binary }), { columns: 10, bodyLines: 64 }));
    expect(rows.map(bytesPerRow)).toEqual(Array(64).fill(4));
  });

  it('a short last row keeps its text column in line with the rows above', () => {
    const rows = dumpRows(pretty(message({ body: Buffer.alloc(13, 0xfe) }), { columns: 43 }));
    expect(rows).toHaveLength(2);
    // 8 bytes, then 5: where each row's text begins.
    expect(rows[1]!.length - 5).toBe(rows[0]!.length - 8);
    expect(rows[1]).toMatch(/^00000008 {2}(fe ){4}fe {11}\.{5}$/);
  });

  it('narrower rows show fewer bytes: the dump is no taller than at 16 a row, or than the body may be', () => {
    const narrow = pretty(message({ body: binary }), { columns: 43, bodyLines: 12 });
    expect(dumpRows(narrow)).toHaveLength(16);
    expect(narrow).toContain(`… ${256 - 16 * 8} more bytes`);
    const tall = pretty(message({ body: binary }), { columns: 43, bodyLines: 42 });
    expect(dumpRows(tall)).toHaveLength(32);
    expect(tall).not.toContain('more bytes');
    const narrowest = pretty(message({ body: binary }), { columns: 30, bodyLines: 20 });
    expect(dumpRows(narrowest)).toHaveLength(20);
    expect(narrowest).toContain(`… ${256 - 20 * 4} more bytes`);
  });
});

describe('pretty: colours', () => {
  const names = Array.from({ length: 40 }, (_, i) => `exchange-${i}`);

  it('the same exchange always gets the same colour', () => {
    for (const name of ['orders', 'payments', 'amq.topic', ...names]) {
      const first = exchangeColourIn(
        createPrettyFormatter({ paint: MARKED })(message({ exchange: name })),
        name,
      );
      const again = exchangeColourIn(
        createPrettyFormatter({ paint: MARKED, columns: 120 })(
          message({ exchange: name, routingKey: 'other', body: Buffer.from('x') }),
        ),
        name,
      );
      expect(first).toBeDefined();
      expect(again).toBe(first);
    }
  });

  it('different exchanges get different colours', () => {
    const format = createPrettyFormatter({ paint: MARKED });
    const colours = new Set(names.map((name) => exchangeColourIn(format(message({ exchange: name })), name)));
    expect(colours.has(undefined)).toBe(false);
    expect(colours.size).toBeGreaterThan(1);
    for (const colour of colours) expect(['cyan', 'magenta', 'blue', 'green', 'yellow']).toContain(colour);
  });

  it('the default exchange is dim', () => {
    const out = createPrettyFormatter({ paint: MARKED })(message({ exchange: '' }));
    expect(out).toContain('<dim>(default)</dim>');
    expect(out).not.toContain('<bold><dim>');
  });

  it('the truncation note is dim', () => {
    const out = createPrettyFormatter({ paint: MARKED, bodyLines: 10 })(
      message({ body: Buffer.from(numbered(20).join('\n')) }),
    );
    expect(out).toContain('<dim>… 10 more lines (--full shows all)</dim>');
  });

  it('markers do not count toward the width: wrapping is the same as without colour', () => {
    const strip = (text: string) => text.replace(/<\/?\w+>/g, '');
    for (const columns of [40, 80]) {
      const coloured = createPrettyFormatter({ paint: MARKED, columns })(
        message({ properties: ALL_PROPERTIES }),
      );
      expect(propertyLines(strip(coloured))).toEqual(
        propertyLines(pretty(message({ properties: ALL_PROPERTIES }), { columns })),
      );
    }
  });
});

// ---------------------------------------------------------------------------------------

describe('bodyLinesFor', () => {
  it('is undefined with --full, off a terminal, or when the rows are not known', () => {
    expect(bodyLinesFor({ isTTY: true, rows: 50 }, true)).toBeUndefined();
    expect(bodyLinesFor({ isTTY: false, rows: 50 }, false)).toBeUndefined();
    expect(bodyLinesFor({ rows: 50 }, false)).toBeUndefined();
    expect(bodyLinesFor({ isTTY: true }, false)).toBeUndefined();
    expect(bodyLinesFor({ isTTY: true, rows: 0 }, false)).toBeUndefined();
    expect(bodyLinesFor(undefined, false)).toBeUndefined();
  });

  it('is the rows less 8, at least 10', () => {
    expect(bodyLinesFor({ isTTY: true, rows: 50 }, false)).toBe(42);
    expect(bodyLinesFor({ isTTY: true, rows: 19 }, false)).toBe(11);
    expect(bodyLinesFor({ isTTY: true, rows: 18 }, false)).toBe(10);
    expect(bodyLinesFor({ isTTY: true, rows: 12 }, false)).toBe(10);
    expect(bodyLinesFor({ isTTY: true, rows: 1 }, false)).toBe(10);
  });
});

describe('createFormatter: pretty fits the screen', () => {
  const long = message({ body: Buffer.from(numbered(50).join('\n')), properties: ALL_PROPERTIES });
  const text = (out: string | Buffer | Buffer[]) => recordBytes(out).toString();

  it('on a terminal: the body is cut to its rows, the properties wrap to its columns', () => {
    const out = text(
      createFormatter({ format: 'pretty', paint: PLAIN, screen: { isTTY: true, rows: 20, columns: 40 } })(
        long,
      ),
    );
    expect(out).toContain('line 12\n… 38 more lines (--full shows all)');
    expect(out).not.toContain('line 13');
    for (const line of propertyLines(out)) expect(line.length).toBeLessThanOrEqual(40);
  });

  it('with full: the whole body', () => {
    const out = text(
      createFormatter({
        format: 'pretty',
        paint: PLAIN,
        screen: { isTTY: true, rows: 20, columns: 40 },
        full: true,
      })(long),
    );
    expect(out).toContain('line 50');
    expect(out).not.toContain('--full shows all');
  });

  it('off a terminal: the whole body, 80 columns, whatever the screen says', () => {
    const out = text(
      createFormatter({ format: 'pretty', paint: PLAIN, screen: { isTTY: false, rows: 20, columns: 40 } })(
        long,
      ),
    );
    expect(out).toContain('line 50');
    expect(propertyLines(out)).toEqual(propertyLines(pretty(long, { columns: 80 })));
  });
});
