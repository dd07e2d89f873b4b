/**
 * `warren serve`'s pieces without a broker: the handlers file (checked by warren and by
 * handlers.schema.json, which must agree), the routes within one queue, the metrics text.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import type { DeliveredMessage } from '../../src/broker/session.js';
import { DataError } from '../../src/errors.js';
import type { HandlerInput, HandlerRun, MessageHandler } from '../../src/exec/handler.js';
import { newTally } from '../../src/exec/report.js';
import { RoutedHandler, topicTest } from '../../src/exec/routedHandler.js';
import {
  DEFAULT_KEYS,
  EMIT_FORMATS,
  FILE_KEYS,
  HANDLER_KEYS,
  NAME_PATTERN,
  ON_FAILURE,
  parseHandlersFile,
  ROUTE_KEYS,
  TOPOLOGY_KEYS,
} from '../../src/serve/handlersFile.js';
import { jsonPositions, positionOf } from '../../src/serve/jsonPositions.js';
import { DURATION_BUCKETS, Metrics } from '../../src/serve/metrics.js';
import { serveStatus } from '../../src/serve/status.js';
import { PLAIN } from '../../src/ui/colour.js';
import { lines } from '../helpers/handlerDirs.js';
import { parsePrometheus, sampleOf } from '../helpers/prometheus.js';

const root = new URL('../../', import.meta.url);
const readJson = (name: string) => JSON.parse(readFileSync(new URL(name, root), 'utf8'));
const schema = readJson('handlers.schema.json');

function schemaValidator() {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  ajv.addSchema(readJson('topology.schema.json'), 'topology.schema.json');
  return ajv.compile(schema);
}
const validate = schemaValidator();

const keysOf = (object: { properties: Record<string, unknown> }) => Object.keys(object.properties).sort();

describe('handlers.schema.json and the code agree', () => {
  it('on every key the code accepts, and no other', () => {
    expect(keysOf(schema)).toEqual([...FILE_KEYS].sort());
    expect(keysOf(schema.$defs.handler)).toEqual([...HANDLER_KEYS].sort());
    expect(keysOf(schema.$defs.route)).toEqual([...ROUTE_KEYS].sort());
    expect(keysOf(schema.$defs.handler.properties.default)).toEqual([...DEFAULT_KEYS].sort());
    expect(keysOf(schema.properties.topology.oneOf[1])).toEqual([...TOPOLOGY_KEYS].sort());
  });

  it('on the values it takes', () => {
    expect(schema.$defs.handler.properties.onFailure.enum).toEqual([...ON_FAILURE]);
    expect(schema.$defs.handler.properties.emitFormat.enum).toEqual([...EMIT_FORMATS]);
    expect(schema.$defs.handler.properties.name.pattern).toBe(NAME_PATTERN);
  });

  it('describes every field', () => {
    const undescribed: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (node === null || typeof node !== 'object') return;
      const record = node as Record<string, unknown>;
      if (record['properties']) {
        for (const [key, value] of Object.entries(record['properties'] as Record<string, unknown>)) {
          if (typeof (value as { description?: unknown }).description !== 'string')
            undescribed.push(`${path}.${key}`);
        }
      }
      for (const [key, value] of Object.entries(record)) walk(value, `${path}.${key}`);
    };
    walk(schema, '');
    expect(undescribed).toEqual([]);
  });

  it('on examples/handlers.json: both accept it', () => {
    const text = readFileSync(new URL('examples/handlers.json', root), 'utf8');
    expect(validate(JSON.parse(text)), JSON.stringify(validate.errors)).toBe(true);
    const file = parseHandlersFile(text, 'examples/handlers.json');
    expect(file.handlers.map((handler) => handler.name)).toEqual(['orders', 'payments']);
    expect(file.handlers[0]?.routes?.map((route) => route.match)).toEqual([
      { key: 'order.created' },
      { type: 'order.cancelled' },
    ]);
    expect(file.handlers[0]?.emit).toEqual({ exchange: 'shop', routingKey: 'order.shipped', format: 'raw' });
    expect(file.topology?.queues.map((queue) => queue.arguments['x-queue-type'])).toEqual([
      'quorum',
      'quorum',
    ]);
  });

  const base = { name: 'h', queue: 'q', exec: 'cat' };
  const good: [string, unknown][] = [
    ['the least', { handlers: [base] }],
    ['pipe', { handlers: [{ name: 'h', queue: 'q', pipe: './handler.py' }] }],
    [
      'routes with a default',
      {
        handlers: [
          {
            name: 'h',
            queue: 'q',
            routes: [
              { key: 'a.*', exec: 'x' },
              { type: 't', pipe: 'y' },
              { key: '#', type: 'u', exec: 'z' },
            ],
            default: { exec: 'w' },
          },
        ],
      },
    ],
    [
      'every option',
      {
        handlers: [
          {
            ...base,
            concurrency: 4,
            maxRetries: 0,
            timeout: '1m30s',
            onFailure: 'dead-letter',
            emit: 'x:k',
            emitFormat: 'ndjson',
            passUrl: true,
            description: 'd',
          },
        ],
      },
    ],
    ['a timeout in ms', { handlers: [{ ...base, timeout: 1500 }] }],
    ['retries that wait', { handlers: [{ ...base, maxRetries: 3, retryDelay: '1s', retryDelayMax: '10s' }] }],
    ['a retry delay in ms', { handlers: [{ ...base, retryDelay: 500 }] }],
    ['ndjson events alone', { handlers: [{ ...base, emitFormat: 'ndjson' }] }],
    ['inline topology', { topology: { queues: [{ name: 'q', type: 'quorum' }] }, handlers: [base] }],
  ];
  it('a retryDelayMax shorter than retryDelay is refused by the code (the schema cannot compare)', () => {
    const file = { handlers: [{ ...base, retryDelay: '10s', retryDelayMax: '1s' }] };
    expect(() => parseHandlersFile(JSON.stringify(file), 'f.json')).toThrow(
      /handlers\[0\]\.retryDelay .*"retryDelayMax" \(1s\) is shorter than "retryDelay" \(10s\)/,
    );
  });

  it.each(good)('both accept: %s', (_, value) => {
    expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
    expect(() => parseHandlersFile(JSON.stringify(value), 'f.json')).not.toThrow();
  });

  const bad: [string, unknown, string][] = [
    ['no handlers', {}, 'f.json: handlers (line 1, column 1): is required'],
    ['an empty list', { handlers: [] }, 'handlers (line 1, column 13): must be a list'],
    ['an unknown top key', { handlers: [base], extra: 1 }, 'f.json: extra (line 1, column 61)'],
    ['an unknown handler key', { handlers: [{ ...base, retries: 3 }] }, 'handlers[0].retries'],
    ['no command', { handlers: [{ name: 'h', queue: 'q' }] }, 'needs "exec", "pipe" or "routes"'],
    ['two commands', { handlers: [{ ...base, pipe: 'x' }] }, 'has "exec" and "pipe"'],
    ['an empty command', { handlers: [{ ...base, exec: ' ' }] }, 'handlers[0].exec'],
    ['no name', { handlers: [{ queue: 'q', exec: 'x' }] }, 'handlers[0].name'],
    ['an odd name', { handlers: [{ ...base, name: 'a b' }] }, 'handlers[0].name'],
    ['no queue', { handlers: [{ name: 'h', exec: 'x' }] }, 'handlers[0].queue'],
    ['concurrency 0', { handlers: [{ ...base, concurrency: 0 }] }, 'handlers[0].concurrency'],
    ['a fractional maxRetries', { handlers: [{ ...base, maxRetries: 1.5 }] }, 'handlers[0].maxRetries'],
    ['a bad timeout', { handlers: [{ ...base, timeout: 'soon' }] }, 'handlers[0].timeout'],
    ['a zero retryDelay', { handlers: [{ ...base, retryDelay: '0s' }] }, 'handlers[0].retryDelay'],
    [
      'retryDelayMax alone',
      { handlers: [{ ...base, retryDelayMax: '1m' }] },
      'handlers[0].retryDelayMax (line 1, column 67): needs "retryDelay"',
    ],
    ['a zero timeout', { handlers: [{ ...base, timeout: 0 }] }, 'handlers[0].timeout'],
    ['a zero duration', { handlers: [{ ...base, timeout: '0s' }] }, 'handlers[0].timeout'],
    ['an unknown onFailure', { handlers: [{ ...base, onFailure: 'drop' }] }, 'handlers[0].onFailure'],
    ['an unknown emitFormat', { handlers: [{ ...base, emitFormat: 'csv' }] }, 'handlers[0].emitFormat'],
    ['passUrl as text', { handlers: [{ ...base, passUrl: 'yes' }] }, 'handlers[0].passUrl'],
    ['default without routes', { handlers: [{ ...base, default: { exec: 'x' } }] }, 'handlers[0].default'],
    [
      'routes and exec',
      { handlers: [{ ...base, routes: [{ key: 'a', exec: 'x' }] }] },
      'has "exec" and "routes"',
    ],
    ['empty routes', { handlers: [{ name: 'h', queue: 'q', routes: [] }] }, 'handlers[0].routes'],
    [
      'a route matching nothing named',
      { handlers: [{ name: 'h', queue: 'q', routes: [{ exec: 'x' }] }] },
      'handlers[0].routes[0]',
    ],
    [
      'a route without command',
      { handlers: [{ name: 'h', queue: 'q', routes: [{ key: 'a' }] }] },
      'handlers[0].routes[0]',
    ],
    [
      'a route with an unknown key',
      { handlers: [{ name: 'h', queue: 'q', routes: [{ key: 'a', exec: 'x', when: 1 }] }] },
      'handlers[0].routes[0].when',
    ],
    [
      'a default with two commands',
      {
        handlers: [
          { name: 'h', queue: 'q', routes: [{ key: 'a', exec: 'x' }], default: { exec: 'x', pipe: 'y' } },
        ],
      },
      'handlers[0].default',
    ],
    [
      'a bad inline queue',
      { topology: { queues: [{ name: 'q', type: 'lazy' }] }, handlers: [base] },
      'topology.queues[0].type',
    ],
    ['an unknown topology key', { topology: { policies: [] }, handlers: [base] }, 'topology.policies'],
  ];
  it.each(bad)('both refuse: %s', (_, value, named) => {
    expect(validate(value)).toBe(false);
    expect(() => parseHandlersFile(JSON.stringify(value), 'f.json')).toThrow(named);
  });

  it('refuses two handlers of one name (the schema cannot say it)', () => {
    const text = JSON.stringify({ handlers: [base, { ...base, queue: 'r' }] });
    expect(() => parseHandlersFile(text, 'f.json')).toThrow(
      "handlers[1].name (line 1, column 60): 'h' is the name of handlers[0] too: names must differ",
    );
  });
});

describe('the handlers file: a topology of its own', () => {
  it('is read from a path relative to the handlers file; one it cannot read is named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warren-serve-unit-'));
    try {
      writeFileSync(join(dir, 'topology.json'), JSON.stringify({ queues: [{ name: 'q', type: 'quorum' }] }));
      const handlers = join(dir, 'handlers.json');
      const text = JSON.stringify({
        topology: 'topology.json',
        handlers: [{ name: 'h', queue: 'q', exec: 'cat' }],
      });
      expect(parseHandlersFile(text, handlers).topology?.queues.map((queue) => queue.name)).toEqual(['q']);
      const missing = text.replace('topology.json', 'other.json');
      expect(() => parseHandlersFile(missing, handlers)).toThrow(
        `${handlers}: topology (line 1, column 13): cannot read the topology file '${join(dir, 'other.json')}' (ENOENT)`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the handlers file: errors name the field, line and column', () => {
  const text = [
    '{',
    '  "handlers": [',
    '    { "name": "orders", "queue": "orders", "exec": "cat" },',
    '    {',
    '      "name": "payments",',
    '      "queue": "payments",',
    '      "exec": "cat",',
    '      "concurrency": "four"',
    '    }',
    '  ]',
    '}',
  ].join('\n');

  it('a bad value: where the value is', () => {
    let error: unknown;
    try {
      parseHandlersFile(text, 'h.json');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).exitCode).toBe(65);
    expect((error as Error).message).toBe(
      'h.json: handlers[1].concurrency (line 8, column 22): must be a whole number from 1 to 65535',
    );
  });

  it('a missing key: where its object starts', () => {
    const missing = text.replace('"queue": "payments",', '');
    expect(() => parseHandlersFile(missing, 'h.json')).toThrow(
      'h.json: handlers[1].queue (line 4, column 5): is required, a string',
    );
  });

  it('not JSON: the line and column of the syntax error', () => {
    expect(() => parseHandlersFile(text.replace('"exec": "cat",\n', '"exec": "cat"\n'), 'h.json')).toThrow(
      /^h\.json: invalid JSON at line 8, column 7: /,
    );
  });

  it('positions of every value by path', () => {
    const positions = jsonPositions('{"a": [1, {"b": "x\\"y"}], "c": {}}');
    expect(positions.get('')).toBe(0);
    expect(positions.get('a')).toBe(6);
    expect(positions.get('a[1].b')).toBe(16);
    expect(positions.get('c')).toBe(31);
    expect(positionOf(positions, 'a[1].missing')).toBe(10);
  });
});

// ---------------------------------------------------------------------------------------
// Routes within a queue.

function message(routingKey: string, type?: string): DeliveredMessage {
  return {
    deliveryTag: 1,
    exchange: 'x',
    routingKey,
    redelivered: false,
    properties: type === undefined ? {} : { type },
    body: Buffer.from(''),
  } as unknown as DeliveredMessage;
}

/** A handler that records what it was given, and answers at once. */
function recorder(name: string, seen: string[]): MessageHandler {
  return {
    open: async () => {
      seen.push(`${name} open`);
    },
    handle: (input: HandlerInput): HandlerRun => {
      seen.push(`${name} ${input.message.routingKey}`);
      return {
        done: Promise.resolve({ kind: 'exit', exit: { kind: 'exited', code: 0 }, stdout: undefined }),
        interrupt: () => {},
        kill: () => {},
      };
    },
    close: async () => {
      seen.push(`${name} close`);
    },
    kill: () => {},
  };
}

describe('RoutedHandler', () => {
  it('matches keys as a topic exchange does', () => {
    const cases: [string, string, boolean][] = [
      ['order.*', 'order.created', true],
      ['order.*', 'order', false],
      ['order.*', 'order.created.eu', false],
      ['order.#', 'order', true],
      ['order.#', 'order.created.eu', true],
      ['#', '', true],
      ['#', 'a.b.c', true],
      ['*.created', 'order.created', true],
      ['*', '', false],
      ['a.#.z', 'a.z', true],
      ['a.#.z', 'a.b.c.z', true],
      ['order.created', 'order.created', true],
      ['order.created', 'order.createdx', false],
    ];
    expect(cases.map(([pattern, key]) => topicTest(pattern)(key))).toEqual(
      cases.map(([, , expected]) => expected),
    );
  });

  it('takes the first route that matches, else the default; opens and closes them all', async () => {
    const seen: string[] = [];
    const routed = new RoutedHandler(
      [
        { match: { key: 'order.*' }, handler: recorder('orders', seen) },
        { match: { type: 'refund' }, handler: recorder('refunds', seen) },
        { match: { key: '#', type: 'audit' }, handler: recorder('audit', seen) },
      ],
      recorder('default', seen),
    );
    await routed.open(() => {});
    for (const m of [
      message('order.created', 'refund'),
      message('payment.x', 'refund'),
      message('a.b', 'audit'),
      message('a.b', 'other'),
      message('a.b'),
    ]) {
      await routed.handle({ message: m, retries: 0, prefix: '' }).done;
    }
    await routed.close(1000);
    expect(seen).toEqual([
      'orders open',
      'refunds open',
      'audit open',
      'default open',
      'orders order.created',
      'refunds payment.x',
      'audit a.b',
      'default a.b',
      'default a.b',
      'orders close',
      'refunds close',
      'audit close',
      'default close',
    ]);
  });

  it('without a default, a message no route takes fails as a handler that did not start', async () => {
    const routed = new RoutedHandler(
      [{ match: { key: 'order.*' }, handler: recorder('orders', []) }],
      undefined,
    );
    expect(await routed.handle({ message: message('pay.x', 'charge'), retries: 0, prefix: '' }).done).toEqual(
      {
        kind: 'exit',
        exit: { kind: 'notStarted', error: "no route for key 'pay.x' type 'charge', and no default" },
        stdout: undefined,
      },
    );
  });
});

// ---------------------------------------------------------------------------------------
// Metrics.

describe('the metrics text', () => {
  it('parses strictly, with the counts of each handler', () => {
    const orders = { ...newTally(), handled: 7, acked: 5, rejected: 1, retried: 1, failed: 2, emitted: 4 };
    const views = [
      { name: 'orders', queue: 'shop.orders', counts: orders, inFlight: 3 },
      { name: 'odd', queue: 'a "quoted" \\ queue\nname', counts: newTally(), inFlight: 0 },
    ];
    const metrics = new Metrics(() => views);
    for (const seconds of [0.001, 0.02, 0.02, 3, 1000]) metrics.observe('orders', seconds);
    const families = parsePrometheus(metrics.text());
    const labels = { handler: 'orders', queue: 'shop.orders' };
    expect(families.get('warren_handler_messages_total')?.type).toBe('counter');
    expect(sampleOf(families, 'warren_handler_messages_total', { ...labels, outcome: 'acked' })).toBe(5);
    expect(sampleOf(families, 'warren_handler_messages_total', { ...labels, outcome: 'rejected' })).toBe(1);
    expect(sampleOf(families, 'warren_handler_failures_total', labels)).toBe(2);
    expect(sampleOf(families, 'warren_handler_retries_total', labels)).toBe(1);
    expect(sampleOf(families, 'warren_handler_events_emitted_total', labels)).toBe(4);
    expect(families.get('warren_handler_in_flight')?.type).toBe('gauge');
    expect(sampleOf(families, 'warren_handler_in_flight', labels)).toBe(3);
    expect(families.get('warren_handler_duration_seconds')?.type).toBe('histogram');
    const bucket = (le: string) =>
      sampleOf(families, 'warren_handler_duration_seconds_bucket', { ...labels, le });
    expect(bucket('0.005')).toBe(1);
    expect(bucket('0.025')).toBe(3);
    expect(bucket('5')).toBe(4);
    expect(bucket(String(DURATION_BUCKETS.at(-1)))).toBe(4);
    expect(bucket('+Inf')).toBe(5);
    expect(sampleOf(families, 'warren_handler_duration_seconds_count', labels)).toBe(5);
    expect(sampleOf(families, 'warren_handler_duration_seconds_sum', labels)).toBeCloseTo(1003.041, 6);
    // A label value with quotes, a backslash and a line break comes back as it was.
    expect(
      sampleOf(families, 'warren_handler_in_flight', { handler: 'odd', queue: 'a "quoted" \\ queue\nname' }),
    ).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------
// What serve shows on stderr.

/** A stderr that keeps what is written; a terminal when `columns` is given. */
function fakeStderr(columns?: number, rows?: number) {
  let text = '';
  const stream = {
    isTTY: columns !== undefined,
    columns,
    rows,
    write: (chunk: string) => {
      text += chunk;
      return true;
    },
  };
  return { stream: stream as unknown as NodeJS.WritableStream & { isTTY?: boolean }, text: () => text };
}

describe('serve status', () => {
  const now = () => new Date('2026-01-02T03:04:05.000Z');

  it('without a terminal: NDJSON events, the handler named in each, --quiet dropping info only', () => {
    const stderr = fakeStderr();
    const status = serveStatus({ stderr: stderr.stream, paint: PLAIN, quiet: false, verbose: false, now });
    status.event('started', { handler: 'a', queue: 'q' });
    const output = status.stream('a');
    output.write('one line\nand a half');
    output.write(' line\n');
    const reporter = status.reporter('a');
    reporter.info('handled 1 message');
    reporter.warn('message m-1: handler exit 3: requeued');
    reporter.detail('not shown without --verbose');
    status.note('serving 1 handler', { event: 'serving', fields: { handlers: 1 } });
    status.close();
    const time = '2026-01-02T03:04:05.000Z';
    expect(lines(stderr.text()).map((line) => JSON.parse(line))).toEqual([
      { time, event: 'started', handler: 'a', queue: 'q' },
      { time, event: 'output', handler: 'a', line: 'one line' },
      { time, event: 'output', handler: 'a', line: 'and a half line' },
      { time, event: 'info', handler: 'a', message: 'handled 1 message' },
      { time, event: 'warning', handler: 'a', message: 'message m-1: handler exit 3: requeued' },
      { time, event: 'serving', handlers: 1 },
    ]);
    const quiet = fakeStderr();
    const quietStatus = serveStatus({ stderr: quiet.stream, paint: PLAIN, quiet: true, verbose: false, now });
    quietStatus.reporter('a').info('handled 1 message');
    quietStatus.reporter('a').warn('careful');
    expect(lines(quiet.text()).map((line) => JSON.parse(line).event)).toEqual(['warning']);
  });

  it('on a terminal: lines written above the status lines, which are erased and drawn again', () => {
    const stderr = fakeStderr(80);
    const status = serveStatus({ stderr: stderr.stream, paint: PLAIN, quiet: false, verbose: false });
    const counts = { ...newTally(), handled: 2, failed: 1 };
    status.show(() => [{ name: 'a', queue: 'q', counts, inFlight: 1 }], 10_000);
    status.stream('a').write('hello\n');
    status.reporter('a').warn('careful');
    status.close();
    const board = "a ('q'): 2 handled, 1 failed, 0.0/s, 1 in flight\n";
    // Up a row, each row erased on its own (the status line's and the cursor's), back up.
    const erase = '\r\x1b[1A\x1b[2K\x1b[1B\x1b[2K\x1b[1A';
    expect(stderr.text()).toBe(
      `${board}${erase}[a] hello\n${board}${erase}[a] warning: careful\n${board}${erase}`,
    );
  });

  it('on a terminal with fewer rows than handlers: the ones that do not fit summed up in one line', () => {
    const views = Array.from({ length: 10 }, (_, i) => ({
      name: `h${i}`,
      queue: `q${i}`,
      counts: { ...newTally(), handled: i, failed: i % 2 },
      inFlight: 1,
    }));
    const drawn = (rows: number) => {
      const stderr = fakeStderr(80, rows);
      const status = serveStatus({ stderr: stderr.stream, paint: PLAIN, quiet: false, verbose: false });
      status.show(() => views, 10_000);
      status.close();
      const [board = ''] = stderr.text().split('\r');
      return lines(board);
    };
    // A row is left for the cursor, one above: lines scrolled off the top could not be erased.
    expect(drawn(6)).toEqual([
      "h0 ('q0'): 0 handled, 0 failed, 0.0/s, 1 in flight",
      "h1 ('q1'): 1 handled, 1 failed, 0.0/s, 1 in flight",
      "h2 ('q2'): 2 handled, 0 failed, 0.0/s, 1 in flight",
      '… 7 more handlers: 42 handled, 4 failed, 0.0/s, 7 in flight',
    ]);
    expect(drawn(3)).toEqual(['10 handlers: 45 handled, 5 failed, 0.0/s, 10 in flight']);
    expect(drawn(12)).toHaveLength(10);
  });
});
