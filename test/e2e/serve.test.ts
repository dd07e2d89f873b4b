/**
 * `warren serve FILE` end to end: several handlers from one handlers file, on real queues,
 * each message reaching the command its route names; the file's topology declared; a bad
 * file refused with its field and line; SIGTERM draining every handler; the metrics
 * endpoint scraped and parsed.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, eventually, type TestBroker, uniqueName } from '../helpers/broker.js';
import { collect, type RunResult, runWarren, startWarren } from '../helpers/cli.js';
import { cuttingProxy } from '../helpers/cuttingProxy.js';
import { fileLines, handlerDirs, lines } from '../helpers/handlerDirs.js';
import { parsePrometheus, sampleOf } from '../helpers/prometheus.js';
import { hasStackTrace } from '../helpers/spawn.js';
import { startInTmux, type TmuxPane } from '../helpers/tmux.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/handlers/', import.meta.url));

let broker: TestBroker;
const handlerDir = handlerDirs('serve');
/** Entities the handlers files declare (warren made them, so the test removes them). */
const declaredQueues: string[] = [];
const declaredExchanges: string[] = [];

beforeAll(async () => {
  broker = await connectTestBroker();
});

afterAll(async () => {
  for (const queue of declaredQueues) await broker?.channel.deleteQueue(queue).catch(() => {});
  for (const exchange of declaredExchanges) await broker?.channel.deleteExchange(exchange).catch(() => {});
  await broker?.cleanup();
});

/** stderr without a terminal: every line an NDJSON event. */
function events(stderr: string): Record<string, unknown>[] {
  return lines(stderr).map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`not an NDJSON event: ${line}\n${stderr}`);
    }
  });
}

/** A queue for the handlers file's topology: named for this run, gone if the test is not. */
function fileQueue(prefix: string): { name: string; durable: false; expires: string } {
  const name = uniqueName(prefix);
  declaredQueues.push(name);
  return { name, durable: false, expires: '10m' };
}

/** The rows of serve's status lines on a terminal: a handler's counts each. */
const status = (rows: string[]) =>
  rows.filter((row) => / handled, \d+ failed, [\d.]+\/s, \d+ in flight$/.test(row));

/** The pane's rows, without the blank ones below the last line written. */
async function screenOf(term: TmuxPane): Promise<string[]> {
  const rows = await term.screen();
  while (rows.at(-1) === '') rows.pop();
  return rows;
}

/** Exactly `handlers` status lines, at the bottom: no stale copy left above them. */
function expectStatusBelow(rows: string[], handlers: number): void {
  const shown = `the screen:\n${rows.join('\n')}`;
  expect(status(rows), shown).toHaveLength(handlers);
  expect(rows.slice(-handlers), shown).toEqual(status(rows));
}

function writeHandlers(dir: string, content: unknown): string {
  const file = join(dir, 'handlers.json');
  writeFileSync(file, JSON.stringify(content, null, 2));
  return file;
}

/** A handler command that appends its message's id to $HDIR/NAME. */
const record = (name: string) => `echo "$WARREN_MESSAGE_ID" >> "$HDIR/${name}"`;

/** Reads /metrics from the URL the `serving` event names. */
async function scrape(stderr: () => string) {
  let url: string | undefined;
  await eventually(async () => {
    const serving = lines(stderr()).find((line) => line.includes('"event":"serving"'));
    url = serving ? (JSON.parse(serving).metrics as string) : undefined;
    return url !== undefined;
  });
  const response = await fetch(url as string);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheus(await response.text());
}

function expectClean(result: RunResult) {
  expect(result.stdout.length, `stdout must stay empty; got: ${result.stdout.toString()}`).toBe(0);
  expect(hasStackTrace(result.stderr), result.stderr).toBe(false);
}

describe.concurrent('warren serve', () => {
  it('runs three handlers from one file: its topology declared, each message to the command its route names, metrics scraped', async () => {
    const dir = handlerDir('three');
    const exchange = uniqueName('serve-x');
    declaredExchanges.push(exchange);
    const orders = fileQueue('serve-orders');
    const payments = fileQueue('serve-payments');
    const shipping = fileQueue('serve-shipping');
    const dlq = await broker.queue('serve-payments-dlq');
    const shipped = await broker.queue('serve-shipped');
    const file = writeHandlers(dir, {
      topology: {
        exchanges: [{ name: exchange, type: 'topic', durable: false }],
        queues: [
          { ...orders, arguments: {} },
          { ...payments, deadLetterExchange: '', deadLetterRoutingKey: dlq },
          shipping,
        ],
        bindings: [
          { source: exchange, queue: orders.name, key: 'order.#' },
          { source: exchange, queue: payments.name, key: 'payment.*' },
          { source: exchange, queue: shipping.name, key: 'ship.*' },
        ],
      },
      handlers: [
        {
          name: 'orders',
          queue: orders.name,
          routes: [
            { key: 'order.created', exec: record('created') },
            { type: 'cancel', exec: record('cancelled') },
            { key: 'order.*.eu', type: 'audit', exec: record('audit-eu') },
          ],
          default: { exec: record('other-orders') },
          concurrency: 2,
        },
        {
          name: 'payments',
          queue: payments.name,
          routes: [{ key: 'payment.card', exec: record('card') }],
          onFailure: 'reject',
        },
        {
          name: 'shipping',
          queue: shipping.name,
          exec: `${record('shipping')}; printf 'shipped %s' "$WARREN_MESSAGE_ID"`,
          emit: `:${shipped}`,
        },
      ],
    });
    const child = startWarren(['serve', file, '--metrics', '0'], { env: { HDIR: dir } });
    const done = collect(child, 60_000);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // The topology is declared before the handlers start: publishing can begin once they have.
    await eventually(async () => (stderr.match(/"event":"started"/g) ?? []).length === 3, 45_000);
    const sent: [string, string, string | undefined][] = [
      ['o-1', 'order.created', undefined],
      ['o-2', 'order.updated', 'cancel'],
      ['o-3', 'order.created', 'cancel'], // the key's route comes first
      ['o-4', 'order.x.eu', 'audit'],
      ['o-5', 'order.x.eu', undefined], // the audit route needs both
      ['o-6', 'order.updated', undefined],
      ['p-1', 'payment.card', undefined],
      ['p-2', 'payment.cash', undefined], // no route, no default: rejected
      ['s-1', 'ship.eu', undefined],
      ['s-2', 'ship.us', undefined],
    ];
    for (const [messageId, key, type] of sent) {
      await broker.publish(exchange, key, messageId, { messageId, ...(type ? { type } : {}) });
    }
    await eventually(
      async () => (await broker.messageCount(dlq)) === 1 && (await broker.messageCount(shipped)) === 2,
      45_000,
    );
    // Counted once committed: the scrape shows every message settled.
    let metrics = await scrape(() => stderr);
    const count = (handler: string, queue: string, outcome: string) =>
      sampleOf(metrics, 'warren_handler_messages_total', { handler, queue, outcome });
    await eventually(async () => {
      metrics = await scrape(() => stderr);
      return (
        count('orders', orders.name, 'acked') === 6 &&
        count('payments', payments.name, 'rejected') === 1 &&
        count('shipping', shipping.name, 'acked') === 2
      );
    }, 45_000);
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code, result.stderr).toBe(143);
    expectClean(result);

    expect(fileLines(join(dir, 'created')).sort()).toEqual(['o-1', 'o-3']);
    expect(fileLines(join(dir, 'cancelled'))).toEqual(['o-2']);
    expect(fileLines(join(dir, 'audit-eu'))).toEqual(['o-4']);
    expect(fileLines(join(dir, 'other-orders')).sort()).toEqual(['o-5', 'o-6']);
    expect(fileLines(join(dir, 'card'))).toEqual(['p-1']);
    expect(fileLines(join(dir, 'shipping'))).toEqual(['s-1', 's-2']);
    const rejected = await broker.drain(dlq);
    expect(rejected.map((m) => m.properties.messageId)).toEqual(['p-2']);
    const emitted = await broker.drain(shipped);
    expect(emitted.map((m) => [m.content.toString(), m.properties.correlationId])).toEqual([
      ['shipped s-1', 's-1'],
      ['shipped s-2', 's-2'],
    ]);
    for (const queue of [orders.name, payments.name, shipping.name])
      expect(await broker.messageCount(queue)).toBe(0);

    // The metrics, read strictly: each handler's counts, and a latency per message handled.
    expect(count('payments', payments.name, 'acked')).toBe(1);
    expect(count('payments', payments.name, 'rejected')).toBe(1);
    expect(sampleOf(metrics, 'warren_handler_failures_total', { handler: 'payments' })).toBe(1);
    expect(sampleOf(metrics, 'warren_handler_failures_total', { handler: 'orders' })).toBe(0);
    expect(sampleOf(metrics, 'warren_handler_events_emitted_total', { handler: 'shipping' })).toBe(2);
    expect(sampleOf(metrics, 'warren_handler_in_flight', { handler: 'orders' })).toBe(0);
    expect(sampleOf(metrics, 'warren_handler_duration_seconds_count', { handler: 'orders' })).toBe(6);
    expect(
      sampleOf(metrics, 'warren_handler_duration_seconds_bucket', { handler: 'orders', le: '+Inf' }),
    ).toBe(6);

    // stderr is NDJSON events only: what was declared, each handler's start, the failure, the ends.
    const all = events(result.stderr);
    const declared = all.filter((event) => event['event'] === 'declared');
    expect(declared.map((event) => [event['kind'], event['status']])).toEqual([
      ['exchange', 'created'],
      ['queue', 'created'],
      ['queue', 'created'],
      ['queue', 'created'],
      ['binding', 'bound'],
      ['binding', 'bound'],
      ['binding', 'bound'],
    ]);
    const failed = all.filter((event) => event['event'] === 'failed');
    expect(
      failed.map((event) => [event['handler'], event['messageId'], event['action'], event['reason']]),
    ).toEqual([
      [
        'payments',
        'p-2',
        'reject',
        "did not start: no route for key 'payment.cash' (no type), and no default",
      ],
    ]);
    const stopped = all.filter((event) => event['event'] === 'stopped');
    expect(
      stopped
        .map((event) => [
          event['handler'],
          event['handled'],
          event['acked'],
          event['rejected'],
          event['emitted'],
        ])
        .sort(),
    ).toEqual([
      ['orders', 6, 6, 0, 0],
      ['payments', 2, 1, 1, 0],
      ['shipping', 2, 2, 0, 2],
    ]);
  });

  it("on a terminal: one status line per handler, redrawn below the handlers' output; Ctrl-C leaves the summaries", async () => {
    const dir = handlerDir('terminal');
    const orders = await broker.queue('serve-term-orders');
    const payments = await broker.queue('serve-term-payments');
    const file = writeHandlers(dir, {
      handlers: [
        { name: 'orders', queue: orders, exec: 'echo "took $WARREN_MESSAGE_ID" >&2' },
        { name: 'payments', queue: payments, exec: 'exit 3', maxRetries: 0, onFailure: 'reject' },
      ],
    });
    const term = await startInTmux(['serve', file], {
      columns: 200,
      rows: 30,
      before: "printf 'kept line\\n'",
      // The shell says how warren ended: tmux 3.3 cannot always tell a pane's exit status.
      after: 'echo "warren exited $?"',
    });
    try {
      await term.waitFor(/payments \('.*'\): 0 handled/);
      for (let i = 1; i <= 3; i++) await broker.publish('', orders, `o${i}`, { messageId: `o-${i}` });
      await broker.publish('', payments, 'p', { messageId: 'p-1' });
      await term.waitFor(/payments \('.*'\): 1 handled, 1 failed/);
      await term.waitFor(/orders \('.*'\): 3 handled, 0 failed/);
      // Each handler's line once, below everything else: never a stale copy left above.
      const now = await screenOf(term);
      expectStatusBelow(now, 2);
      expect(now.slice(0, 2)).toEqual(['kept line', `serving 2 handlers from ${file}`]);
      expect(now.filter((row) => row.startsWith('[orders] took '))).toEqual([
        '[orders] took o-1',
        '[orders] took o-2',
        '[orders] took o-3',
      ]);
      expect(now.filter((row) => row.startsWith('[payments] '))).toEqual([
        '[payments] warning: message p-1: handler exit 3: rejected',
      ]);
      await term.press('C-c');
      await term.waitFor(/^warren exited \d+$/);
      const end = await term.screen();
      expect(end).toContain('warren exited 130');
      expect(status(end), 'the status lines are gone').toEqual([]);
      expect(end.filter((row) => /^\[\w+\] handled /.test(row)).sort()).toEqual([
        expect.stringMatching(/^\[orders\] handled 3 messages from '.*': 3 acked in /),
        expect.stringMatching(
          /^\[payments\] handled 1 message from '.*': 0 acked, 1 rejected \(1 run failed\) in /,
        ),
      ]);
    } finally {
      await term.close();
    }
  });

  it('on a terminal, with a broker slow to answer: no "connecting…" spinner drawn past the status lines', async () => {
    const dir = handlerDir('slow-broker');
    const queues = [await broker.queue('serve-slow-a'), await broker.queue('serve-slow-b')];
    const file = writeHandlers(dir, {
      handlers: queues.map((queue, i) => ({
        name: `h${i}`,
        queue,
        exec: 'echo "took $WARREN_MESSAGE_ID" >&2',
      })),
    });
    // Both handlers connect at once, each answered after a second: past the 200 ms after
    // which another command draws a spinner (and two spinners at once add ora's warning).
    const proxy = await cuttingProxy([], { delayMs: 1000 });
    const term = await startInTmux(['--url', proxy.url, 'serve', file], { columns: 200, rows: 30 });
    try {
      await term.waitFor(/h1 \('.*'\): 0 handled/);
      for (const [i, queue] of queues.entries())
        await broker.publish('', queue, 'm', { messageId: `m-${i}` });
      await term.waitFor(/h0 \('.*'\): 1 handled, 0 failed/);
      await term.waitFor(/h1 \('.*'\): 1 handled, 0 failed/);
      const now = await screenOf(term);
      expectStatusBelow(now, 2);
      expect(now.filter((row) => /connecting|ora/.test(row))).toEqual([]);
      expect(now.filter((row) => row.includes(' took m-')).sort()).toEqual([
        '[h0] took m-0',
        '[h1] took m-1',
      ]);
      expect(proxy.connections()).toBe(2);
    } finally {
      await term.close();
      await proxy.close();
    }
  });

  it('on a terminal with fewer rows than handlers: the rest summed up in one line, no copies left in the scrollback', async () => {
    const dir = handlerDir('rows');
    const queues: string[] = [];
    for (let i = 0; i < 8; i++) queues.push(await broker.queue(`serve-rows-${i}`));
    const file = writeHandlers(dir, {
      handlers: queues.map((queue, i) => ({
        name: `h${i}`,
        queue,
        exec: 'echo "took $WARREN_MESSAGE_ID" >&2',
      })),
    });
    // Six rows: three handlers' lines, a line for the other five, a row for the cursor and
    // one above the status lines.
    const term = await startInTmux(['serve', file], { columns: 120, rows: 6 });
    try {
      await term.waitFor(/^… 5 more handlers: 0 handled/);
      // Each line a handler writes redraws the status lines below it.
      for (let i = 1; i <= 5; i++)
        await broker.publish('', queues[0] as string, 'm', { messageId: `m-${i}` });
      await term.waitFor(/h0 \('.*'\): 5 handled, 0 failed/);
      const now = await screenOf(term);
      expectStatusBelow(now, 4);
      expect(now.at(-1)).toMatch(/^… 5 more handlers: 0 handled, 0 failed, [\d.]+\/s, 0 in flight$/);
      expect(now.filter((row) => row.includes(' took m-'))).toEqual(
        [1, 2, 3, 4, 5].map((i) => `[h0] took m-${i}`),
      );
    } finally {
      await term.close();
    }
  });

  it('SIGTERM with handlers running: every handler finishes its messages within --grace, the rest stay queued, exit 143', async () => {
    const dir = handlerDir('sigterm');
    const first = await broker.queue('serve-drain-a');
    const second = await broker.queue('serve-drain-b');
    for (const queue of [first, second]) {
      for (let i = 1; i <= 4; i++)
        await broker.publish('', queue, `m${i}`, { messageId: `${queue.slice(-8)}-${i}` });
    }
    // Each handler says it started, then waits for the test's word, after the SIGTERM.
    const handler = [
      'touch "$HDIR/started.$WARREN_MESSAGE_ID"',
      'until [ -e "$HDIR/finish" ]; do sleep 0.05; done',
      'echo "$WARREN_MESSAGE_ID" >> "$HDIR/done"',
    ].join('\n');
    const file = writeHandlers(dir, {
      handlers: [
        { name: 'a', queue: first, exec: handler, concurrency: 2 },
        { name: 'b', queue: second, exec: handler, concurrency: 2 },
      ],
    });
    const child = startWarren(['serve', file, '--grace', '30s'], { env: { HDIR: dir } });
    const done = collect(child, 60_000);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const started = () => readdirSync(dir).filter((name) => name.startsWith('started.'));
    await eventually(async () => started().length === 4, 45_000);
    child.kill('SIGTERM');
    await eventually(
      async () => (stderr.match(/stopping: waiting up to 30s for 2 running handlers/g) ?? []).length === 2,
    );
    writeFileSync(join(dir, 'finish'), '');
    const result = await done;
    expect(result.code, result.stderr).toBe(143);
    expectClean(result);
    const finished = fileLines(join(dir, 'done'));
    expect(finished.sort(), 'the four running when SIGTERM came finished').toEqual(
      started()
        .map((name) => name.slice('started.'.length))
        .sort(),
    );
    // None lost: what was not handled is still queued.
    expect(await broker.messageCount(first)).toBe(2);
    expect(await broker.messageCount(second)).toBe(2);
    const stopped = events(result.stderr).filter((event) => event['event'] === 'stopped');
    expect(stopped.map((event) => [event['handler'], event['acked'], event['unsettled']]).sort()).toEqual([
      ['a', 2, 0],
      ['b', 2, 0],
    ]);
  });

  it('a bad handlers file is refused before connecting, naming the field, line and column (exit 65)', async () => {
    const dir = handlerDir('bad');
    const file = join(dir, 'handlers.json');
    writeFileSync(
      file,
      [
        '{',
        '  "handlers": [',
        '    { "name": "a", "queue": "q", "exec": "cat" },',
        '    { "name": "b", "queue": "q", "exec": "cat", "onFailure": "explode" }',
        '  ]',
        '}',
      ].join('\n'),
    );
    // An unreachable broker: the file is checked first.
    const result = await runWarren(['--url', 'amqp://127.0.0.1:1/', 'serve', file]);
    expect(result.code).toBe(65);
    expectClean(result);
    expect(lines(result.stderr)).toEqual([
      `error: ${file}: handlers[1].onFailure (line 4, column 62): 'explode' is not one of requeue, reject, dead-letter`,
    ]);
    const check = await runWarren(['serve', file, '--check']);
    expect(check.code).toBe(65);
    writeFileSync(file, '{"handlers": [{"name": "a", "queue": "q", "exec": "cat"}');
    const broken = await runWarren(['serve', file, '--check']);
    expect(broken.code).toBe(65);
    expect(broken.stderr).toMatch(/invalid JSON at line 1, column 57/);
  });

  it('--check accepts examples/handlers.json without connecting', async () => {
    const result = await runWarren([
      '--url',
      'amqp://127.0.0.1:1/',
      'serve',
      new URL('../../examples/handlers.json', import.meta.url).pathname,
      '--check',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/2 handlers \(orders, payments\), 2 routes; topology: .*: valid/);
  });

  it('runs long-running handlers too: a pipe route (the Node example) beside an exec default, their events emitted', async () => {
    const dir = handlerDir('pipe');
    const exchange = uniqueName('serve-pipe-x');
    declaredExchanges.push(exchange);
    const orders = fileQueue('serve-pipe-orders');
    const events = fileQueue('serve-pipe-events');
    const file = writeHandlers(dir, {
      topology: {
        exchanges: [{ name: exchange, type: 'topic', durable: false }],
        queues: [orders, events],
        bindings: [
          // Not order.*: the events (order.shipped, order.seen) would come back as orders.
          { source: exchange, queue: orders.name, key: 'order.created' },
          { source: exchange, queue: orders.name, key: 'order.updated' },
          { source: exchange, queue: events.name, key: 'order.shipped' },
          { source: exchange, queue: events.name, key: 'order.seen' },
        ],
      },
      handlers: [
        {
          name: 'ship',
          queue: orders.name,
          routes: [{ key: 'order.created', pipe: `node '${EXAMPLES}ship.mjs'` }],
          default: { exec: `${record('other')}; printf '{"body":"seen","routingKey":"order.seen"}\\n'` },
          emitFormat: 'ndjson',
          emit: exchange,
          concurrency: 2,
        },
      ],
    });
    const child = startWarren(['serve', file], { env: { HDIR: dir } });
    const done = collect(child, 60_000);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await eventually(async () => stderr.includes('"event":"started"'), 45_000);
    for (let i = 0; i < 20; i += 1) {
      const id = `o-${i}`;
      const key = i % 2 === 0 ? 'order.created' : 'order.updated';
      await broker.publish(exchange, key, JSON.stringify({ id }), { messageId: id });
    }
    await eventually(async () => (await broker.messageCount(events.name)) === 20, 45_000);
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code, result.stderr).toBe(143);
    expectClean(result);
    const odd = Array.from({ length: 10 }, (_, i) => `o-${2 * i + 1}`);
    expect(fileLines(join(dir, 'other')).sort()).toEqual(odd.sort());
    const emitted = await broker.drain(events.name);
    const shipped = emitted.filter((m) => m.fields.routingKey === 'order.shipped');
    expect(shipped.map((m) => m.properties.correlationId).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `o-${2 * i}`).sort(),
    );
    expect(emitted.filter((m) => m.content.toString() === 'seen').length).toBe(10);
    expect(await broker.messageCount(orders.name)).toBe(0);
  });

  it('without a terminal, what a connection has to say is an NDJSON event too, naming its handler (--insecure)', async () => {
    const dir = handlerDir('insecure');
    const queue = await broker.queue('serve-insecure');
    const file = writeHandlers(dir, { handlers: [{ name: 'h', queue, exec: 'cat' }] });
    const child = startWarren(['--insecure', 'serve', file]);
    const done = collect(child, 60_000);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await eventually(async () => stderr.includes('not verified'), 30_000);
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code, result.stderr).toBe(143);
    const warnings = events(result.stderr).filter((event) => event['event'] === 'warning');
    expect(warnings.map((event) => [event['handler'], event['message']])).toEqual([
      ['h', '--insecure: the broker certificate is not verified'],
    ]);
  });

  it('a handler whose queue is missing stops the others and ends serve with its error (exit 5)', async () => {
    const dir = handlerDir('missing');
    const present = await broker.queue('serve-present');
    const file = writeHandlers(dir, {
      handlers: [
        { name: 'present', queue: present, exec: 'cat' },
        { name: 'absent', queue: uniqueName('serve-absent'), exec: 'cat' },
      ],
    });
    const result = await runWarren(['serve', file], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(5);
    expectClean(result);
    const all = lines(result.stderr);
    expect(all.at(-2)).toMatch(/^error: handler 'absent': .*serve-absent/);
    const stopped = events(all.filter((line) => line.startsWith('{')).join('\n')).filter(
      (event) => event['event'] === 'stopped',
    );
    expect(stopped.map((event) => [event['handler'], event['error'] !== undefined]).sort()).toEqual([
      ['absent', true],
      ['present', false],
    ]);
  });

  it('--metrics on a port in use: a clear error before anything is done (exit 2)', async () => {
    const taken = createServer(() => {});
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const dir = handlerDir('port');
      const file = writeHandlers(dir, { handlers: [{ name: 'a', queue: 'q', exec: 'cat' }] });
      const result = await runWarren([
        '--url',
        'amqp://127.0.0.1:1/',
        'serve',
        file,
        '--metrics',
        String(port),
      ]);
      expect(result.code).toBe(2);
      expectClean(result);
      expect(lines(result.stderr)[0]).toBe(
        `error: --metrics: port ${port} on 127.0.0.1 is in use (another warren serve, or another exporter?)`,
      );
    } finally {
      taken.close();
    }
  });
});
