/**
 * `warren declare`, `delete` and `purge` end to end (issue 3): every entity type and
 * argument reaches the real broker (proved by behaviour where cheap, else by what the broker
 * lists), topology files are applied, checked and torn down, and every refusal ends with
 * the exit code the SPEC gives it.
 *
 * Every entity here is uniquely named, non-durable where RabbitMQ allows, and deleted after
 * its test, whoever created it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type amqp from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  connectTestBroker,
  EXPIRES_FLAG,
  eventually,
  expiring,
  TEST_QUEUE_EXPIRES_MS,
  type TestBroker,
  uniqueName,
} from '../helpers/broker.js';
import { collect, type RunResult, runWarren, startWarren } from '../helpers/cli.js';
import { hasStackTrace, REPO_ROOT } from '../helpers/spawn.js';

const execFileAsync = promisify(execFile);

let broker: TestBroker;
let dir: string;

beforeAll(async () => {
  broker = await connectTestBroker();
  dir = mkdtempSync(join(tmpdir(), 'warren-topology-'));
});

afterAll(async () => {
  await broker?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------
// Names, and deleting whatever a test created (warren or amqplib) once it is over.

const ownedQueues = new Set<string>();
const ownedExchanges = new Set<string>();

/** A unique queue name, deleted after the test whoever declares it. */
function queueName(prefix: string): string {
  const name = uniqueName(prefix);
  ownedQueues.add(name);
  return name;
}

/** A unique exchange name, deleted after the test whoever declares it. */
function exchangeName(prefix: string): string {
  const name = uniqueName(prefix);
  ownedExchanges.add(name);
  return name;
}

afterEach(async () => {
  for (const name of ownedQueues) await onFreshChannel((channel) => channel.deleteQueue(name));
  for (const name of ownedExchanges) await onFreshChannel((channel) => channel.deleteExchange(name));
  ownedQueues.clear();
  ownedExchanges.clear();
});

// ---------------------------------------------------------------------------------------
// Looking at the broker with amqplib (and, for arguments and flags, rabbitmqctl).

/**
 * Runs one step on a channel of its own: a refusal closes that channel only. Resolves to
 * undefined when the step succeeded, else to the broker's reply code (404, 406…).
 */
async function onFreshChannel(
  step: (channel: amqp.Channel) => Promise<unknown>,
): Promise<number | undefined> {
  const channel = await broker.connection.createChannel();
  channel.on('error', () => {});
  try {
    await step(channel);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'number' ? code : -1;
  }
  await channel.close().catch(() => {});
  return undefined;
}

async function queueExists(name: string): Promise<boolean> {
  const code = await onFreshChannel((channel) => channel.checkQueue(name));
  if (code !== undefined && code !== 404) throw new Error(`checkQueue ${name}: reply code ${code}`);
  return code === undefined;
}

async function exchangeExists(name: string): Promise<boolean> {
  const code = await onFreshChannel((channel) => channel.checkExchange(name));
  if (code !== undefined && code !== 404) throw new Error(`checkExchange ${name}: reply code ${code}`);
  return code === undefined;
}

async function counts(queue: string): Promise<{ messageCount: number; consumerCount: number }> {
  const channel = await broker.connection.createChannel();
  try {
    const { messageCount, consumerCount } = await channel.checkQueue(queue);
    return { messageCount, consumerCount };
  } finally {
    await channel.close().catch(() => {});
  }
}

/** Every message now in the queue, in order (taken), on a channel of its own. */
async function drain(queue: string): Promise<amqp.GetMessage[]> {
  const channel = await broker.connection.createChannel();
  channel.on('error', () => {});
  try {
    const messages: amqp.GetMessage[] = [];
    for (;;) {
      const message = await channel.get(queue, { noAck: true });
      if (message === false) return messages;
      messages.push(message);
    }
  } finally {
    await channel.close().catch(() => {});
  }
}

/** Bodies of every message now in the queue, in order (taken). */
async function bodies(queue: string): Promise<string[]> {
  return (await drain(queue)).map((message) => message.content.toString());
}

/** Publishes with confirms and without the mandatory flag: an unroutable message is dropped. */
async function send(
  exchange: string,
  routingKey: string,
  body: string,
  options: amqp.Options.Publish = {},
): Promise<void> {
  await broker.publish(exchange, routingKey, body, options);
}

interface ListedArgument {
  name: string;
  value: unknown;
}

function listedArguments(raw: unknown): ListedArgument[] {
  return (raw as [string, string, unknown][]).map(([name, , value]) => ({ name, value }));
}

interface ListedQueue {
  name: string;
  type: string;
  durable: boolean;
  auto_delete: boolean;
  arguments: ListedArgument[];
}

interface ListedExchange {
  name: string;
  type: string;
  durable: boolean;
  auto_delete: boolean;
  internal: boolean;
  arguments: ListedArgument[];
}

/** One row of `rabbitmqctl list_queues` or `list_exchanges` (asking touches nothing). */
async function listedRow<T extends { name: string; arguments: ListedArgument[] }>(
  what: 'queues' | 'exchanges',
  name: string,
  columns: string[],
): Promise<T> {
  const { stdout } = await execFileAsync('rabbitmqctl', [
    `list_${what}`,
    '-q',
    '--formatter',
    'json',
    'name',
    ...columns,
  ]);
  const rows = JSON.parse(stdout) as (Omit<T, 'arguments'> & { arguments: unknown })[];
  const row = rows.find((r) => r.name === name);
  if (!row) throw new Error(`rabbitmqctl does not list ${what} ${name}`);
  return { ...row, arguments: listedArguments(row.arguments) } as T;
}

/** What `rabbitmqctl list_queues` says of one queue (its type, flags and x-arguments). */
function listedQueue(name: string): Promise<ListedQueue> {
  return listedRow<ListedQueue>('queues', name, ['type', 'durable', 'auto_delete', 'arguments']);
}

/** Whether `rabbitmqctl list_queues` lists the queue (asking touches nothing). */
async function queueListed(name: string): Promise<boolean> {
  const { stdout } = await execFileAsync('rabbitmqctl', ['list_queues', '-q', '--no-table-headers', 'name']);
  return stdout.split('\n').includes(name);
}

/** What `rabbitmqctl list_exchanges` says of one exchange. */
function listedExchange(name: string): Promise<ListedExchange> {
  return listedRow<ListedExchange>('exchanges', name, [
    'type',
    'durable',
    'auto_delete',
    'internal',
    'arguments',
  ]);
}

function argumentMap(listed: ListedArgument[]): Record<string, unknown> {
  return Object.fromEntries(listed.map(({ name, value }) => [name, value]));
}

// ---------------------------------------------------------------------------------------
// Running warren.

/** `warren declare queue NAME --no-durable FLAGS` (with the test lease), expected to succeed. */
function declareQueue(name: string, ...flags: string[]): Promise<RunResult> {
  return ok(['declare', 'queue', name, ...EXPIRES_FLAG, '--no-durable', ...flags]);
}

/** Runs warren and expects it to succeed, with the stderr shown when it does not. */
async function ok(args: string[]): Promise<RunResult> {
  const result = await runWarren(args);
  expect(result.code, `warren ${args.join(' ')} failed:\n${result.stderr}`).toBe(0);
  return result;
}

function stderrLines(result: RunResult): string[] {
  return result.stderr.split('\n').filter((line) => line.length > 0);
}

/** The one JSON document warren wrote on stdout (a failure shows what it wrote instead). */
function jsonOut(result: RunResult): Record<string, unknown> {
  const text = result.stdout.toString('utf8');
  expect(text.endsWith('\n') && text.indexOf('\n') === text.length - 1, `one line on stdout: ${text}`).toBe(
    true,
  );
  expect(text.startsWith('{'), `stdout should be a JSON object, was: ${text}`).toBe(true);
  return JSON.parse(text) as Record<string, unknown>;
}

/** An error run: the exit code, one `error:` line, no stack trace, nothing on stdout. */
function expectRefusal(result: RunResult, code: number): string {
  expect(result.code, `stderr:\n${result.stderr}`).toBe(code);
  expect(result.stdout.toString()).toBe('');
  expect(hasStackTrace(result.stderr)).toBe(false);
  const errors = stderrLines(result).filter((line) => line.startsWith('error:'));
  expect(errors, result.stderr).toHaveLength(1);
  return errors[0] as string;
}

function writeTopology(name: string, topology: unknown): string {
  const path = join(dir, `${name}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, typeof topology === 'string' ? topology : JSON.stringify(topology, null, 2));
  return path;
}

// ---------------------------------------------------------------------------------------

describe('declare exchange', () => {
  it.each(['direct', 'fanout', 'topic', 'headers'])('--type %s --no-durable', async (type) => {
    const exchange = exchangeName(`x-${type}`);
    const result = await ok(['declare', 'exchange', exchange, '--type', type, '--no-durable']);
    expect(result.stdout.toString()).toBe('');
    expect(result.stderr).toContain(`exchange '${exchange}' created`);
    expect(await listedExchange(exchange)).toMatchObject({
      type,
      durable: false,
      auto_delete: false,
      internal: false,
    });
    // The broker agrees it is exactly that: the same declare is equivalent, another type is not.
    expect(
      await onFreshChannel((channel) => channel.assertExchange(exchange, type, { durable: false })),
    ).toBeUndefined();
    expect(
      await onFreshChannel((channel) =>
        channel.assertExchange(exchange, type === 'fanout' ? 'direct' : 'fanout', { durable: false }),
      ),
    ).toBe(406);
  });

  it('is durable by default and direct when no --type is given', async () => {
    const exchange = exchangeName('x-default');
    await ok(['declare', 'exchange', exchange]);
    expect(await listedExchange(exchange)).toMatchObject({ type: 'direct', durable: true });
  });

  it('--auto-delete: the exchange goes when its last binding goes', async () => {
    const exchange = exchangeName('x-autodelete');
    const queue = await broker.queue('q-autodelete');
    await ok(['declare', 'exchange', exchange, '--type', 'fanout', '--no-durable', '--auto-delete']);
    expect(await listedExchange(exchange)).toMatchObject({ auto_delete: true });
    await broker.channel.bindQueue(queue, exchange, '');
    expect(await exchangeExists(exchange)).toBe(true);
    await broker.channel.unbindQueue(queue, exchange, '');
    await eventually(async () => !(await exchangeExists(exchange)));
  });

  it('--internal: the broker refuses a message published to it directly', async () => {
    const exchange = exchangeName('x-internal');
    await ok(['declare', 'exchange', exchange, '--type', 'fanout', '--no-durable', '--internal']);
    expect(await listedExchange(exchange)).toMatchObject({ internal: true });
    const channel = await broker.connection.createConfirmChannel();
    const closed = new Promise<{ code?: number }>((resolve) => channel.once('error', resolve));
    channel.publish(exchange, '', Buffer.from('direct'));
    await channel.waitForConfirms().catch(() => {});
    expect((await closed).code).toBe(403);
  });

  it('--alternate-exchange: an unroutable message goes to the alternate exchange', async () => {
    const alternate = exchangeName('x-ae');
    const exchange = exchangeName('x-with-ae');
    const caught = await broker.queue('q-ae');
    await ok(['declare', 'exchange', alternate, '--type', 'fanout', '--no-durable']);
    await broker.channel.bindQueue(caught, alternate, '');
    await ok([
      'declare',
      'exchange',
      exchange,
      '--type',
      'direct',
      '--no-durable',
      '--alternate-exchange',
      alternate,
    ]);
    await send(exchange, 'matches-no-binding', 'stray');
    await eventually(async () => (await counts(caught)).messageCount === 1);
    expect(await bodies(caught)).toEqual(['stray']);
  });

  it('--arg: a raw argument (here alternate-exchange) reaches the exchange and routes', async () => {
    const alternate = exchangeName('x-arg-ae');
    const exchange = exchangeName('x-arg');
    const caught = await broker.queue('q-arg-ae');
    await ok(['declare', 'exchange', alternate, '--type', 'fanout', '--no-durable']);
    await broker.channel.bindQueue(caught, alternate, '');
    await ok([
      'declare',
      'exchange',
      exchange,
      '--no-durable',
      '--arg',
      `alternate-exchange=${alternate}`,
      '--arg',
      'x-warren-note=hello',
      '--arg',
      'x-warren-n:=7',
    ]);
    expect(argumentMap((await listedExchange(exchange)).arguments)).toEqual({
      'alternate-exchange': alternate,
      'x-warren-note': 'hello',
      'x-warren-n': 7,
    });
    await send(exchange, 'nowhere', 'via --arg');
    await eventually(async () => (await counts(caught)).messageCount === 1);
    expect(await bodies(caught)).toEqual(['via --arg']);
  });

  it('declaring it again as it is says unchanged (exit 0)', async () => {
    const exchange = exchangeName('x-again');
    await ok(['declare', 'exchange', exchange, '--type', 'topic', '--no-durable']);
    const again = await ok(['declare', 'exchange', exchange, '--type', 'topic', '--no-durable']);
    expect(again.stderr).toContain(`exchange '${exchange}' unchanged`);
  });
});

describe('declare queue', () => {
  it('--no-durable declares a classic non-durable queue and prints its name (only) on stdout', async () => {
    const queue = queueName('q-plain');
    const result = await declareQueue(queue);
    expect(result.stdout.toString()).toBe(`${queue}\n`);
    expect(result.stderr).toContain(`queue '${queue}' created (0 messages, 0 consumers)`);
    expect(await listedQueue(queue)).toMatchObject({ type: 'classic', durable: false, auto_delete: false });
  });

  it('is durable by default; --auto-delete sets auto-delete', async () => {
    const durable = queueName('q-durable');
    const autoDelete = queueName('q-autodelete');
    await ok(['declare', 'queue', durable, ...EXPIRES_FLAG]);
    await declareQueue(autoDelete, '--auto-delete');
    expect(await listedQueue(durable)).toMatchObject({ durable: true, auto_delete: false });
    expect(await listedQueue(autoDelete)).toMatchObject({ durable: false, auto_delete: true });
  });

  it('--exclusive: the queue belongs to warren’s connection and is gone when warren exits', async () => {
    const queue = queueName('q-exclusive');
    const result = await ok(['declare', 'queue', queue, '--no-durable', '--exclusive']);
    expect(result.stdout.toString()).toBe(`${queue}\n`);
    expect(await queueExists(queue)).toBe(false);
  });

  it("'' prints the server-named queue on stdout and nothing else", async () => {
    const result = await ok(['declare', 'queue', '', ...EXPIRES_FLAG, '--no-durable']);
    const text = result.stdout.toString('utf8');
    expect(text).toMatch(/^amq\.gen-[\w-]+\n$/);
    const name = text.slice(0, -1);
    ownedQueues.add(name);
    expect(await queueExists(name)).toBe(true);
    expect(result.stderr).toContain(`queue '${name}' created`);
  });

  it('--max-length 2 --overflow drop-head keeps only the 2 newest messages', async () => {
    const queue = queueName('q-maxlen');
    await declareQueue(queue, '--max-length', '2', '--overflow', 'drop-head');
    for (const body of ['m1', 'm2', 'm3']) await send('', queue, body);
    expect(await bodies(queue)).toEqual(['m2', 'm3']);
  });

  it('--max-length-bytes keeps the ready bytes under the limit (drop-head by default)', async () => {
    const queue = queueName('q-maxbytes');
    await declareQueue(queue, '--max-length-bytes', '5');
    for (const body of ['aaa', 'bbb', 'ccc']) await send('', queue, body);
    expect(await bodies(queue)).toEqual(['ccc']);
  });

  it('--overflow reject-publish: a publish to a full queue is nacked (warren publish exits 4)', async () => {
    const queue = queueName('q-reject-publish');
    await declareQueue(queue, '--max-length', '1', '--overflow', 'reject-publish');
    await ok(['publish', '-k', queue, 'first']);
    const second = await runWarren(['publish', '-k', queue, 'second']);
    expect(second.code, second.stderr).toBe(4);
    expect(await bodies(queue)).toEqual(['first']);
  });

  it('--message-ttl drops messages once they are older than the TTL', async () => {
    const queue = queueName('q-ttl');
    await declareQueue(queue, '--message-ttl', '100ms');
    expect(argumentMap((await listedQueue(queue)).arguments)).toMatchObject({ 'x-message-ttl': 100 });
    await send('', queue, 'short-lived');
    await eventually(async () => (await counts(queue)).messageCount === 0, 10_000);
    expect(await bodies(queue)).toEqual([]);
  });

  it('--expires: an unused queue is deleted by the broker', async () => {
    const queue = queueName('q-expires');
    const result = await ok(['declare', 'queue', queue, '--no-durable', '--expires', '1s']);
    expect(result.stderr).toContain(`queue '${queue}' created`);
    // Polled with rabbitmqctl: a (passive) declare would count as a use and renew the lease.
    await eventually(async () => !(await queueListed(queue)), 20_000);
  });

  it('--dead-letter-exchange and --dead-letter-routing-key: a rejected message is dead-lettered', async () => {
    const dlx = exchangeName('x-dlx');
    const dead = queueName('q-dead');
    const work = queueName('q-work');
    await ok(['declare', 'exchange', dlx, '--type', 'direct', '--no-durable']);
    await declareQueue(dead);
    // Bound only under the dead-letter routing key: the message arrives only if that flag took.
    await ok(['declare', 'binding', '--source', dlx, '--queue', dead, '--key', 'dead.letters']);
    await declareQueue(work, '--dead-letter-exchange', dlx, '--dead-letter-routing-key', 'dead.letters');
    await send('', work, 'doomed');
    const consumed = await ok(['consume', work, '--ack-mode', 'reject', '--count', '1', '--format', 'body']);
    expect(consumed.stdout.toString()).toBe('doomed\n');
    await eventually(async () => (await counts(dead)).messageCount === 1);
    const [message] = await drain(dead);
    expect(message?.content.toString()).toBe('doomed');
    expect(message?.fields.routingKey).toBe('dead.letters');
    expect(message?.properties.headers?.['x-death']).toBeDefined();
    expect((await counts(work)).messageCount).toBe(0);
  });

  it('--max-priority: higher-priority messages are delivered first', async () => {
    const queue = queueName('q-priority');
    await declareQueue(queue, '--max-priority', '10');
    await send('', queue, 'low', { priority: 1 });
    await send('', queue, 'high', { priority: 9 });
    expect(await bodies(queue)).toEqual(['high', 'low']);
  });

  it('--type quorum with --delivery-limit, --single-active-consumer and typed --arg', async () => {
    const queue = queueName('q-quorum');
    await ok([
      'declare',
      'queue',
      queue,
      ...EXPIRES_FLAG,
      '--type',
      'quorum',
      '--delivery-limit',
      '3',
      '--single-active-consumer',
      '--arg',
      'x-warren-n:=7',
      '--arg',
      'x-warren-note=hi',
    ]);
    const listed = await listedQueue(queue);
    expect(listed).toMatchObject({ type: 'quorum', durable: true });
    expect(argumentMap(listed.arguments)).toEqual({
      'x-queue-type': 'quorum',
      'x-expires': TEST_QUEUE_EXPIRES_MS,
      'x-delivery-limit': 3,
      'x-single-active-consumer': true,
      'x-warren-n': 7,
      'x-warren-note': 'hi',
    });
    // And it takes messages (basic.get is refused on a single-active-consumer quorum queue).
    await send('', queue, 'q1');
    await eventually(async () => (await counts(queue)).messageCount === 1);
  });

  it('--type stream with --max-age', async () => {
    const queue = queueName('q-stream');
    await ok(['declare', 'queue', queue, '--type', 'stream', '--max-age', '7D']);
    const listed = await listedQueue(queue);
    expect(listed).toMatchObject({ type: 'stream', durable: true });
    expect(argumentMap(listed.arguments)).toMatchObject({ 'x-queue-type': 'stream', 'x-max-age': '7D' });
    // Declaring it as a classic queue is refused: the broker knows it as a stream.
    expect(await onFreshChannel((channel) => channel.assertQueue(queue, { durable: true }))).toBe(406);
  });

  it('--type quorum --no-durable: RabbitMQ refuses (exit 5, one line naming the durability) and nothing is created', async () => {
    const queue = queueName('q-quorum-transient');
    const result = await runWarren(['declare', 'queue', queue, '--type', 'quorum', '--no-durable']);
    const error = expectRefusal(result, 5);
    expect(error).toContain(queue);
    expect(error).toMatch(/durable/);
    expect(await queueExists(queue)).toBe(false);
  });

  it('--type quorum --no-durable: the error does not call a queue that never existed one that "differs"', async () => {
    // The 406 here is "invalid property 'non-durable'", not an inequivalent existing queue:
    // telling the person to delete the existing queue and declare it again sends them astray.
    const queue = queueName('q-quorum-transient-msg');
    const result = await runWarren(['declare', 'queue', queue, '--type', 'quorum', '--no-durable']);
    expect(result.code).toBe(5);
    expect(await queueExists(queue)).toBe(false);
    expect(result.stderr).not.toMatch(/differs/);
    expect(result.stderr).not.toMatch(/an existing entity keeps its arguments/);
  });

  it('--json prints the result as one JSON object on stdout', async () => {
    const queue = queueName('q-json');
    const result = await declareQueue(queue, '--json');
    expect(jsonOut(result)).toEqual({
      kind: 'queue',
      name: queue,
      status: 'created',
      messageCount: 0,
      consumerCount: 0,
    });
  });

  it('--json may stand before the entity too (declare --json queue …)', async () => {
    const queue = queueName('q-json-before');
    const result = await ok(['declare', '--json', 'queue', queue, ...EXPIRES_FLAG, '--no-durable']);
    expect(jsonOut(result)).toMatchObject({ kind: 'queue', name: queue, status: 'created' });
  });

  it('declaring it again as it is says unchanged, with its counts', async () => {
    const queue = queueName('q-again');
    await declareQueue(queue, '--message-ttl', '10s');
    await send('', queue, 'one');
    const again = await declareQueue(queue, '--message-ttl', '10s');
    expect(again.stdout.toString()).toBe(`${queue}\n`);
    expect(again.stderr).toContain(`queue '${queue}' unchanged (1 message, 0 consumers)`);
  });
});

describe('declare binding', () => {
  it('binds a queue to a topic exchange with --key: only matching messages arrive', async () => {
    const exchange = exchangeName('x-bind-topic');
    const queue = queueName('q-bind-topic');
    await ok(['declare', 'exchange', exchange, '--type', 'topic', '--no-durable']);
    await declareQueue(queue);
    const bound = await ok([
      'declare',
      'binding',
      '--source',
      exchange,
      '--queue',
      queue,
      '--key',
      'order.*',
    ]);
    expect(bound.stdout.toString()).toBe('');
    expect(bound.stderr).toContain('bound');
    await send(exchange, 'order.created', 'yes');
    await send(exchange, 'invoice.created', 'no');
    expect(await bodies(queue)).toEqual(['yes']);
  });

  it('binds an exchange to an exchange (--exchange destination)', async () => {
    const source = exchangeName('x-e2e-src');
    const destination = exchangeName('x-e2e-dst');
    const queue = queueName('q-e2e');
    await ok(['declare', 'exchange', source, '--type', 'direct', '--no-durable']);
    await ok(['declare', 'exchange', destination, '--type', 'fanout', '--no-durable']);
    await declareQueue(queue);
    await ok(['declare', 'binding', '--source', destination, '--queue', queue]);
    await ok(['declare', 'binding', '--source', source, '--exchange', destination, '--key', 'k1']);
    await send(source, 'k1', 'through');
    await send(source, 'k2', 'not through');
    expect(await bodies(queue)).toEqual(['through']);
  });

  it('headers exchange with --arg x-match=all --arg k=v routes only matching messages', async () => {
    const exchange = exchangeName('x-headers');
    const queue = queueName('q-headers');
    await ok(['declare', 'exchange', exchange, '--type', 'headers', '--no-durable']);
    await declareQueue(queue);
    await ok([
      'declare',
      'binding',
      '--source',
      exchange,
      '--queue',
      queue,
      '--arg',
      'x-match=all',
      '--arg',
      'region=eu',
      '--arg',
      'tier=gold',
    ]);
    await send(exchange, '', 'both', { headers: { region: 'eu', tier: 'gold' } });
    await send(exchange, '', 'one only', { headers: { region: 'eu' } });
    await send(exchange, '', 'wrong value', { headers: { region: 'us', tier: 'gold' } });
    await send(exchange, '', 'none');
    expect(await bodies(queue)).toEqual(['both']);
  });

  it('a binding whose source exchange does not exist: exit 5 (404), naming it', async () => {
    const missing = exchangeName('x-missing');
    const queue = queueName('q-bind-missing');
    await declareQueue(queue);
    const result = await runWarren(['declare', 'binding', '--source', missing, '--queue', queue]);
    const error = expectRefusal(result, 5);
    expect(error).toContain(missing);
    expect(error).toMatch(/NOT_FOUND|not found|no exchange/i);
  });

  it('delete binding: messages stop arriving', async () => {
    const exchange = exchangeName('x-unbind');
    const queue = queueName('q-unbind');
    await ok(['declare', 'exchange', exchange, '--type', 'direct', '--no-durable']);
    await declareQueue(queue);
    await ok(['declare', 'binding', '--source', exchange, '--queue', queue, '--key', 'k']);
    await send(exchange, 'k', 'before');
    const removed = await ok(['delete', 'binding', '--source', exchange, '--queue', queue, '--key', 'k']);
    expect(removed.stderr).toContain('unbound');
    await send(exchange, 'k', 'after');
    expect(await bodies(queue)).toEqual(['before']);
  });
});

describe('--passive', () => {
  it('exchange: exists → exit 0; missing → exit 5, and nothing is created', async () => {
    const exchange = exchangeName('x-passive');
    const missing = exchangeName('x-passive-missing');
    await broker.channel.assertExchange(exchange, 'fanout', { durable: false });
    // Passive ignores the type: it only asks whether the exchange is there.
    const present = await ok(['declare', 'exchange', exchange, '--passive']);
    expect(present.stderr).toContain('present');
    const absent = await runWarren(['declare', 'exchange', missing, '--passive']);
    expect(expectRefusal(absent, 5)).toContain(missing);
    expect(await exchangeExists(missing)).toBe(false);
  });

  it('queue: exists → exit 0 with its name and counts; missing → exit 5, and nothing is created', async () => {
    const queue = queueName('q-passive');
    const missing = queueName('q-passive-missing');
    await broker.channel.assertQueue(queue, expiring({ durable: false, arguments: { 'x-max-length': 100 } }));
    await send('', queue, 'x');
    // Different flags than the queue has: passive checks existence only.
    const present = await ok(['declare', 'queue', queue, '--passive']);
    expect(present.stdout.toString()).toBe(`${queue}\n`);
    expect(present.stderr).toContain('1 message');
    const absent = await runWarren(['declare', 'queue', missing, '--passive']);
    expect(expectRefusal(absent, 5)).toContain(missing);
    expect(await queueExists(missing)).toBe(false);
  });

  it('exchange --passive --json prints the result as JSON on stdout', async () => {
    const exchange = exchangeName('x-passive-json');
    await broker.channel.assertExchange(exchange, 'fanout', { durable: false });
    const result = await ok(['declare', 'exchange', exchange, '--passive', '--json']);
    expect(jsonOut(result)).toEqual({ kind: 'exchange', name: exchange, status: 'present' });
  });
});

describe('declare --file', () => {
  /** A small topology: a topic exchange, a fanout, a queue with a TTL, and bindings. */
  function topology() {
    const orders = exchangeName('f-orders');
    const audit = exchangeName('f-audit');
    const created = queueName('f-created');
    const log = queueName('f-log');
    const file = {
      exchanges: [
        { name: orders, type: 'topic', durable: false },
        { name: audit, type: 'fanout', durable: false },
      ],
      queues: [
        { name: created, durable: false, messageTtl: '1h', maxLength: 100, expires: '10m' },
        { name: log, durable: false, expires: '10m' },
      ],
      bindings: [
        { source: orders, queue: created, key: 'order.created' },
        { source: orders, exchange: audit, key: 'order.#' },
        { source: audit, queue: log },
      ],
    };
    return { orders, audit, created, log, file };
  }

  it('applies every entity: the bindings route as declared', async () => {
    const t = topology();
    const path = writeTopology('apply', t.file);
    const result = await ok(['declare', '--file', path]);
    expect(result.stdout.toString()).toBe('');
    expect(stderrLines(result)).toContain('4 created, 3 bound');
    await send(t.orders, 'order.created', 'created');
    await send(t.orders, 'order.shipped', 'shipped');
    expect(await bodies(t.created)).toEqual(['created']);
    expect(await bodies(t.log)).toEqual(['created', 'shipped']);
    expect(argumentMap((await listedQueue(t.created)).arguments)).toEqual({
      'x-message-ttl': 3_600_000,
      'x-max-length': 100,
      'x-expires': TEST_QUEUE_EXPIRES_MS,
    });
  });

  it('is idempotent: a second run says unchanged for every exchange and queue, exit 0', async () => {
    const t = topology();
    const path = writeTopology('twice', t.file);
    await ok(['declare', '--file', path]);
    const again = await ok(['declare', '--file', path]);
    const lines = stderrLines(again);
    for (const exchange of [t.orders, t.audit]) expect(lines).toContain(`exchange '${exchange}' unchanged`);
    for (const queue of [t.created, t.log]) expect(lines).toContain(`queue '${queue}' unchanged`);
    expect(lines.filter((line) => line.endsWith(' created'))).toEqual([]);
    expect(lines).toContain('4 unchanged, 3 bound');
  });

  it('--json: the results and a summary on stdout', async () => {
    const t = topology();
    const path = writeTopology('json', t.file);
    const result = await ok(['declare', '--file', path, '--json']);
    const out = jsonOut(result);
    expect(out['summary']).toEqual({ created: 4, bound: 3 });
    expect(out['results']).toEqual([
      { kind: 'exchange', name: t.orders, status: 'created' },
      { kind: 'exchange', name: t.audit, status: 'created' },
      { kind: 'queue', name: t.created, status: 'created' },
      { kind: 'queue', name: t.log, status: 'created' },
      expect.objectContaining({ kind: 'binding', status: 'bound', name: expect.stringContaining(t.created) }),
      expect.objectContaining({ kind: 'binding', status: 'bound', name: expect.stringContaining(t.audit) }),
      expect.objectContaining({ kind: 'binding', status: 'bound', name: expect.stringContaining(t.log) }),
    ]);
  });

  it('one entity failing midway: the others are still applied, the failed one is named, exit 5', async () => {
    const t = topology();
    const missing = exchangeName('f-missing');
    t.file.bindings.splice(1, 0, { source: missing, queue: t.log, key: 'x' });
    const path = writeTopology('midway', t.file);
    const result = await runWarren(['declare', '--file', path, '--json']);
    expect(result.code, result.stderr).toBe(5);
    const lines = stderrLines(result);
    const failed = lines.filter((line) => line.includes('failed'));
    expect(failed.some((line) => line.includes(missing) && /NOT_FOUND|no exchange/.test(line))).toBe(true);
    expect(lines).toContain('4 created, 3 bound, 1 failed');
    expect(lines.filter((line) => line.startsWith('error:'))).toHaveLength(1);
    const out = jsonOut(result);
    expect(out['summary']).toEqual({ created: 4, bound: 3, failed: 1 });
    // The bindings before and after the failed one are in place.
    await send(t.orders, 'order.created', 'created');
    expect(await bodies(t.created)).toEqual(['created']);
    expect(await bodies(t.log)).toEqual(['created']);
    expect(await exchangeExists(missing)).toBe(false);
  });

  it('--check: exit 0 when the broker matches, and changes nothing', async () => {
    const t = topology();
    const path = writeTopology('check-ok', t.file);
    await ok(['declare', '--file', path]);
    const result = await ok(['declare', '--file', path, '--check']);
    const lines = stderrLines(result);
    for (const name of [t.orders, t.audit]) expect(lines).toContain(`exchange '${name}' present`);
    for (const name of [t.created, t.log]) expect(lines).toContain(`queue '${name}' present`);
  });

  it('--check: a missing entity → exit 5, "missing", and it is not created', async () => {
    const t = topology();
    await ok(['declare', '--file', writeTopology('check-base', t.file)]);
    const extraQueue = queueName('f-extra');
    const extraExchange = exchangeName('f-extra-x');
    t.file.queues.push({ name: extraQueue, durable: false, expires: '10m' });
    t.file.exchanges.push({ name: extraExchange, type: 'direct', durable: false });
    const result = await runWarren(['declare', '--file', writeTopology('check-missing', t.file), '--check']);
    expect(result.code, result.stderr).toBe(5);
    const lines = stderrLines(result);
    expect(lines.some((line) => line.includes(`queue '${extraQueue}' missing`))).toBe(true);
    expect(lines.some((line) => line.includes(`exchange '${extraExchange}' missing`))).toBe(true);
    expect(lines.some((line) => line.startsWith('error:') && line.includes('2 missing'))).toBe(true);
    expect(await queueExists(extraQueue)).toBe(false);
    expect(await exchangeExists(extraExchange)).toBe(false);
  });

  it('--check: messageTtl changed in the file → exit 5 naming x-message-ttl; the queue keeps its TTL', async () => {
    const t = topology();
    await ok(['declare', '--file', writeTopology('ttl-base', t.file)]);
    const queue = t.file.queues[0];
    if (!queue) throw new Error('no queue');
    queue.messageTtl = '2h';
    const result = await runWarren(['declare', '--file', writeTopology('ttl-changed', t.file), '--check']);
    expect(result.code, result.stderr).toBe(5);
    const differs = stderrLines(result).filter((line) => line.includes('differs'));
    expect(differs.some((line) => line.includes(t.created) && line.includes('x-message-ttl'))).toBe(true);
    expect(argumentMap((await listedQueue(t.created)).arguments)).toMatchObject({
      'x-message-ttl': 3_600_000,
    });
  });

  it("--check: an exchange's type changed in the file → exit 5 naming 'type'", async () => {
    const t = topology();
    await ok(['declare', '--file', writeTopology('type-base', t.file)]);
    const exchange = t.file.exchanges[0];
    if (!exchange) throw new Error('no exchange');
    exchange.type = 'direct';
    const result = await runWarren(['declare', '--file', writeTopology('type-changed', t.file), '--check']);
    expect(result.code, result.stderr).toBe(5);
    const differs = stderrLines(result).filter((line) => line.includes('differs'));
    expect(differs.some((line) => line.includes(t.orders) && line.includes("'type'"))).toBe(true);
    expect(await listedExchange(t.orders)).toMatchObject({ type: 'topic' });
  });

  it('--check --json: the results on stdout', async () => {
    const t = topology();
    const path = writeTopology('check-json', t.file);
    await ok(['declare', '--file', path]);
    const out = jsonOut(await ok(['declare', '--file', path, '--check', '--json']));
    // The bindings too, through the management API (test/e2e/export.test.ts checks them).
    expect(out['summary']).toEqual({ present: 7 });
  });
});

describe('delete --file (teardown)', () => {
  function topology() {
    const exchange = exchangeName('t-x');
    const queue = queueName('t-q');
    const file = {
      exchanges: [{ name: exchange, type: 'topic', durable: false }],
      queues: [{ name: queue, durable: false, expires: '10m' }],
      bindings: [{ source: exchange, queue, key: 'a.#' }],
    };
    return { exchange, queue, path: writeTopology('teardown', file) };
  }

  it('removes everything; a second teardown reports the exchange and queue absent, exit 0', async () => {
    const t = topology();
    await ok(['declare', '--file', t.path]);
    await send('', t.queue, 'left behind');
    const first = await ok(['delete', '--file', t.path]);
    const lines = stderrLines(first);
    expect(lines).toContain(`queue '${t.queue}' deleted: 1 message with it`);
    expect(lines).toContain(`exchange '${t.exchange}' deleted`);
    expect(await queueExists(t.queue)).toBe(false);
    expect(await exchangeExists(t.exchange)).toBe(false);

    const second = await ok(['delete', '--file', t.path, '--json']);
    const results = jsonOut(second)['results'] as { kind: string; name: string; status: string }[];
    expect(results.find((r) => r.kind === 'queue')).toMatchObject({ name: t.queue, status: 'absent' });
    expect(results.find((r) => r.kind === 'exchange')).toMatchObject({ name: t.exchange, status: 'absent' });
    expect(stderrLines(second)).toContain(`queue '${t.queue}' absent: nothing to delete`);
  });

  it('a second teardown reports the bindings absent too, not "unbound"', async () => {
    const t = topology();
    await ok(['declare', '--file', t.path]);
    await ok(['delete', '--file', t.path]);
    const second = await ok(['delete', '--file', t.path, '--json']);
    const results = jsonOut(second)['results'] as { kind: string; status: string }[];
    // Neither the exchange nor the queue exists: no binding can have been removed.
    expect(results.filter((r) => r.kind === 'binding').map((r) => r.status)).toEqual(['absent']);
  });
});

describe('delete queue / exchange', () => {
  it('--if-empty on a queue holding a message: exit 5 and the queue is still there', async () => {
    const queue = queueName('d-if-empty');
    await declareQueue(queue);
    await send('', queue, 'keep me');
    const result = await runWarren(['delete', 'queue', queue, '--if-empty']);
    expect(expectRefusal(result, 5)).toContain(queue);
    expect(await counts(queue)).toEqual({ messageCount: 1, consumerCount: 0 });
  });

  it('--if-empty on an empty queue deletes it', async () => {
    const queue = queueName('d-if-empty-ok');
    await declareQueue(queue);
    const result = await ok(['delete', 'queue', queue, '--if-empty']);
    expect(result.stderr).toContain(`queue '${queue}' deleted`);
    expect(await queueExists(queue)).toBe(false);
  });

  it('--if-unused on a queue with a consumer (warren consume): exit 5 and the queue is still there', async () => {
    const queue = queueName('d-if-unused');
    await declareQueue(queue);
    const consumer = startWarren(['consume', queue, '--format', 'ndjson']);
    const finished = collect(consumer);
    try {
      await eventually(async () => (await counts(queue)).consumerCount === 1, 15_000);
      const result = await runWarren(['delete', 'queue', queue, '--if-unused']);
      expect(expectRefusal(result, 5)).toContain(queue);
      expect(await queueExists(queue)).toBe(true);
    } finally {
      consumer.kill('SIGINT');
      await finished;
    }
  });

  it('a missing queue or exchange is absent: exit 0', async () => {
    const queue = queueName('d-missing');
    const exchange = exchangeName('d-missing-x');
    expect((await ok(['delete', 'queue', queue])).stderr).toContain('absent');
    expect((await ok(['delete', 'exchange', exchange])).stderr).toContain('absent');
  });

  it('exchange --if-unused with a binding: exit 5 and the exchange is still there', async () => {
    const exchange = exchangeName('d-x-if-unused');
    const queue = await broker.queue('d-x-bound');
    await ok(['declare', 'exchange', exchange, '--type', 'fanout', '--no-durable']);
    await broker.channel.bindQueue(queue, exchange, '');
    const result = await runWarren(['delete', 'exchange', exchange, '--if-unused']);
    expect(expectRefusal(result, 5)).toContain(exchange);
    expect(await exchangeExists(exchange)).toBe(true);
  });

  it('delete queue --json prints the result on stdout', async () => {
    const queue = queueName('d-json');
    await declareQueue(queue);
    const result = await ok(['delete', 'queue', queue, '--json']);
    expect(jsonOut(result)).toMatchObject({ kind: 'queue', name: queue, status: 'deleted' });
    expect(await queueExists(queue)).toBe(false);
  });
});

describe('purge', () => {
  it('empties the queue and states the count on stderr', async () => {
    const queue = queueName('p-count');
    await declareQueue(queue);
    for (const body of ['1', '2', '3']) await send('', queue, body);
    const result = await ok(['purge', queue]);
    expect(result.stdout.toString()).toBe('');
    expect(stderrLines(result)).toContain(`purged 3 messages from '${queue}'`);
    expect(await counts(queue)).toEqual({ messageCount: 0, consumerCount: 0 });
  });

  it('--json: the count on stdout', async () => {
    const queue = queueName('p-json');
    await declareQueue(queue);
    for (const body of ['1', '2']) await send('', queue, body);
    const result = await ok(['purge', queue, '--json']);
    expect(jsonOut(result)).toEqual({ queue, messageCount: 2 });
    expect((await counts(queue)).messageCount).toBe(0);
  });

  it('a missing queue: exit 5, and it is not created', async () => {
    const queue = queueName('p-missing');
    const result = await runWarren(['purge', queue]);
    expect(expectRefusal(result, 5)).toContain(queue);
    expect(await queueExists(queue)).toBe(false);
  });
});

describe('refusals and their exit codes', () => {
  it('406 inequivalent arguments: exit 5, naming the argument; the queue keeps its own', async () => {
    const queue = queueName('e-406');
    await declareQueue(queue, '--message-ttl', '5s');
    const result = await runWarren([
      'declare',
      'queue',
      queue,
      ...EXPIRES_FLAG,
      '--no-durable',
      '--message-ttl',
      '10s',
    ]);
    const error = expectRefusal(result, 5);
    expect(error).toContain(queue);
    expect(error).toContain('x-message-ttl');
    expect(argumentMap((await listedQueue(queue)).arguments)).toEqual({
      'x-message-ttl': 5000,
      'x-expires': TEST_QUEUE_EXPIRES_MS,
    });
  });

  it('406 on an exchange type: exit 5, naming type', async () => {
    const exchange = exchangeName('e-406-x');
    await ok(['declare', 'exchange', exchange, '--type', 'fanout', '--no-durable']);
    const result = await runWarren(['declare', 'exchange', exchange, '--type', 'topic', '--no-durable']);
    expect(expectRefusal(result, 5)).toContain("'type'");
  });

  it("403 access refused: an exchange named 'amq.…' is reserved → exit 5", async () => {
    const name = 'amq.warren-test-x';
    const result = await runWarren(['declare', 'exchange', name, '--no-durable']);
    const error = expectRefusal(result, 5);
    expect(error).toContain(name);
    expect(error).toMatch(/ACCESS_REFUSED|reserved/);
    expect(await exchangeExists(name)).toBe(false);
  });

  it.each([
    ['--max-priority 0', ['--max-priority', '0']],
    ['--overflow nope', ['--overflow', 'nope']],
    ['--type nope', ['--type', 'nope']],
    ['--message-ttl 5 (no unit)', ['--message-ttl', '5']],
    ['--max-length -1', ['--max-length', '-1']],
    ['--max-age 7 (no unit)', ['--max-age', '7', '--type', 'stream']],
  ])('a bad flag value (%s): exit 2, and no queue is declared', async (_label, flags) => {
    const queue = queueName('e-usage');
    const result = await runWarren(['declare', 'queue', queue, ...EXPIRES_FLAG, '--no-durable', ...flags]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout.toString()).toBe('');
    expect(result.stderr).toContain(flags[0] as string);
    expect(hasStackTrace(result.stderr)).toBe(false);
    expect(await queueExists(queue)).toBe(false);
  });

  it('a binding flag error (both --queue and --exchange): exit 2', async () => {
    const result = await runWarren([
      'declare',
      'binding',
      '--source',
      'a',
      '--queue',
      'b',
      '--exchange',
      'c',
    ]);
    expect(result.code, result.stderr).toBe(2);
  });
});

describe('malformed topology files (exit 65, nothing applied)', () => {
  it('invalid JSON', async () => {
    const path = writeTopology('invalid', '{"queues": [');
    const error = expectRefusal(await runWarren(['declare', '--file', path]), 65);
    expect(error).toContain(path);
    expect(error).toMatch(/JSON/);
  });

  it('an unknown key names its JSON path (queues[0].messageTl); the good exchange before it is not applied', async () => {
    const exchange = exchangeName('m-good');
    const queue = queueName('m-typo');
    const path = writeTopology('typo', {
      exchanges: [{ name: exchange, type: 'fanout', durable: false }],
      queues: [{ name: queue, durable: false, messageTl: '10s' }],
    });
    const error = expectRefusal(await runWarren(['declare', '--file', path]), 65);
    expect(error).toContain('queues[0].messageTl');
    expect(await exchangeExists(exchange)).toBe(false);
    expect(await queueExists(queue)).toBe(false);
  });

  it('a binding with both queue and exchange names bindings[0]', async () => {
    const path = writeTopology('both', { bindings: [{ source: 'a', queue: 'b', exchange: 'c' }] });
    expect(expectRefusal(await runWarren(['declare', '--file', path]), 65)).toContain('bindings[0]');
    expect(expectRefusal(await runWarren(['delete', '--file', path]), 65)).toContain('bindings[0]');
  });

  it('a name UTF-8 cannot carry names its path (queues[0].name), and nothing is declared', async () => {
    // Was declared as the name with U+FFFD in place of the lone surrogate.
    const queue = queueName('m-surrogate');
    const path = writeTopology('surrogate', { queues: [{ name: `${queue}\ud800`, durable: false }] });
    const error = expectRefusal(await runWarren(['declare', '--file', path]), 65);
    expect(error).toMatch(/queues\[0\]\.name.*lone surrogate/);
    expect(await queueExists(`${queue}\uFFFD`)).toBe(false);
  });

  it('a bad value names its path (queues[0].maxPriority)', async () => {
    const path = writeTopology('bad-value', { queues: [{ name: 'x', maxPriority: 0 }] });
    expect(expectRefusal(await runWarren(['declare', '--file', path, '--check']), 65)).toContain(
      'queues[0].maxPriority',
    );
  });
});

describe('examples/topology.json', () => {
  const examplePath = join(REPO_ROOT, 'examples', 'topology.json');
  const present = existsSync(examplePath);

  interface ExampleFile {
    exchanges?: { name: string }[];
    queues?: { name: string }[];
  }

  function names(): { exchanges: string[]; queues: string[] } {
    const file = JSON.parse(readFileSync(examplePath, 'utf8')) as ExampleFile;
    return {
      exchanges: (file.exchanges ?? []).map((e) => e.name),
      queues: (file.queues ?? []).map((q) => q.name),
    };
  }

  it.skipIf(!present)('applies, checks (exit 0) and tears down to nothing', async () => {
    const { exchanges, queues } = names();
    for (const name of [...exchanges, ...queues]) expect(name.startsWith('warren-example.')).toBe(true);
    for (const name of exchanges) ownedExchanges.add(name);
    for (const name of queues) ownedQueues.add(name);

    const applied = await ok(['declare', '--file', examplePath]);
    expect(applied.stdout.toString()).toBe('');
    for (const name of exchanges) expect(await exchangeExists(name)).toBe(true);
    for (const name of queues) expect(await queueExists(name)).toBe(true);

    await ok(['declare', '--file', examplePath, '--check']);
    // Applying again changes nothing.
    const again = await ok(['declare', '--file', examplePath]);
    expect(stderrLines(again).filter((line) => line.endsWith(' created'))).toEqual([]);

    await ok(['delete', '--file', examplePath]);
    for (const name of exchanges) expect(await exchangeExists(name)).toBe(false);
    for (const name of queues) expect(await queueExists(name)).toBe(false);
  });
});
