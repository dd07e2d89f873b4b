/**
 * Whatever the broker or the user named things, every byte warren writes to stderr for a
 * person is printable: no escape or OSC sequence, bell, carriage return or C1 control gets
 * through raw to drive the terminal, and each line is one line. Many commands are driven
 * with names full of them (queues and exchanges that exist and that do not, profiles, flag
 * values, a topology file, a message's routing key), with --verbose too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, type TestBroker, uniqueName } from '../helpers/broker.js';
import { runWarren } from '../helpers/cli.js';
import { runShell } from '../helpers/spawn.js';

/** ESC sequences (clear screen, colour), an OSC title with BEL and ST, CR, BS, DEL, C1 CSI/NEL/OSC. */
const HOSTILE =
  '\x1b[2J\x1b[31m\x1b]0;pwned\x07\x1b]8;;http://x\x1b\\\r\b\x7f\x9b31m\x85\x9d0;t\x9c\t\x0b\x0c';

/** Every control character except the newline that ends a line (C0, DEL, C1). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

let broker: TestBroker;
let dir: string;
/** A queue and an exchange that exist, with hostile names; and names that do not exist. */
const names = { queue: '', exchange: '', missingQueue: '', missingExchange: '' };

beforeAll(async () => {
  broker = await connectTestBroker();
  dir = mkdtempSync(join(tmpdir(), 'warren-controls-'));
  // RabbitMQ drops a CR from the name of a queue, and of the exchange a message is
  // published to: the entities that exist hold everything else.
  const existing = HOSTILE.replace('\r', '');
  names.queue = await broker.queue(`q${existing}`, { expires: 60_000 });
  names.exchange = await broker.exchange(`x${existing}`, 'topic');
  names.missingQueue = uniqueName(`missing-q${HOSTILE}`);
  names.missingExchange = uniqueName(`missing-x${HOSTILE}`);
  await broker.channel.bindQueue(names.queue, names.exchange, '#');
  // One for each run of the --exec cases (two each, with and without --verbose), and one more.
  for (let i = 0; i < 5; i += 1) {
    await broker.publish(names.exchange, `rk${HOSTILE}`, 'body', { messageId: `id${HOSTILE}` });
  }
}, 30_000);

afterAll(async () => {
  await broker?.channel.deleteQueue(names.missingQueue).catch(() => {});
  await broker?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Case {
  name: string;
  args: () => string[];
  env?: () => Record<string, string | undefined>;
  stdin?: string;
}

const CASES: Case[] = [
  { name: 'declare queue (status line)', args: () => ['declare', 'queue', names.queue] },
  {
    name: 'declare exchange (status line)',
    args: () => ['declare', 'exchange', names.exchange, '--type', 'topic'],
  },
  {
    name: 'declare exchange that differs (406 error)',
    args: () => ['declare', 'exchange', names.exchange, '--type', 'fanout'],
  },
  {
    name: 'declare queue --passive of a missing queue',
    args: () => ['declare', 'queue', names.missingQueue, '--passive'],
  },
  {
    name: 'declare binding to a missing exchange (404)',
    args: () => ['declare', 'binding', names.missingExchange, names.queue, '--key', `k${HOSTILE}`],
  },
  { name: 'consume a missing queue (404)', args: () => ['consume', names.missingQueue, '--timeout', '1s'] },
  {
    name: 'consume --ack-mode requeue of a missing queue',
    args: () => ['consume', names.missingQueue, '--ack-mode', 'requeue', '--timeout', '1s'],
  },
  {
    name: 'consume the queue (summary)',
    args: () => ['consume', names.queue, '--ack-mode', 'requeue', '--count', '1'],
  },
  {
    name: 'consume --exec (summary and failure warning)',
    args: () => [
      'consume',
      names.queue,
      '--exec',
      'exit 3',
      '--on-failure',
      'reject',
      '--count',
      '1',
      '--timeout',
      '2s',
    ],
  },
  {
    name: 'consume --exec --concurrency 2 (output lines prefixed with the message id)',
    args: () => ['consume', names.queue, '--exec', 'echo done', '--concurrency', '2', '--count', '1'],
  },
  {
    name: 'publish to a missing exchange (404)',
    args: () => ['publish', '-e', names.missingExchange, '-k', 'k', 'x'],
  },
  { name: 'publish unroutable (returned)', args: () => ['publish', '-e', '', '-k', names.missingQueue, 'x'] },
  { name: 'tail a missing exchange (404)', args: () => ['tail', names.missingExchange, '--timeout', '1s'] },
  {
    name: 'tail the exchange (timeout summary)',
    args: () => ['tail', `${names.exchange}:k${HOSTILE}`, '--timeout', '500ms'],
  },
  { name: 'purge a missing queue', args: () => ['purge', names.missingQueue] },
  { name: 'delete a missing exchange', args: () => ['delete', 'exchange', names.missingExchange] },
  {
    name: 'replay --from-queue of a missing queue',
    args: () => ['replay', '--from-queue', names.missingQueue, '--dry-run'],
  },
  { name: 'an unknown command', args: () => [`publsh${HOSTILE}`] },
  { name: 'an unknown flag', args: () => ['consume', 'q', `--cnt${HOSTILE}`] },
  { name: 'a bad flag value', args: () => ['consume', 'q', '--count', `3${HOSTILE}`] },
  { name: 'a bad duration', args: () => ['consume', 'q', '--timeout', `1${HOSTILE}`] },
  { name: 'a bad --match', args: () => ['tail', 'amq.topic', '--timeout', '1s', '--match', `${HOSTILE}`] },
  { name: 'a bad --template', args: () => ['consume', 'q', '--template', `{${HOSTILE}}`] },
  { name: 'a bad URL', args: () => ['--url', `amqp://h${HOSTILE}/`, 'purge', 'q'] },
  { name: 'a URL that is not amqp', args: () => ['--url', `http://h/${HOSTILE}`, 'purge', 'q'] },
  {
    name: 'a vhost that does not exist',
    args: () => ['--url', `amqp://guest:guest@127.0.0.1:5672/v${encodeURIComponent(HOSTILE)}`, 'purge', 'q'],
  },
  {
    name: 'WARREN_PROFILE naming no profile',
    args: () => ['purge', 'q'],
    env: () => ({ WARREN_PROFILE: `p\n${HOSTILE}` }),
  },
  { name: '--profile naming no profile', args: () => ['--profile', `p${HOSTILE}`, 'purge', 'q'] },
  {
    name: 'a missing --password-file',
    args: () => ['--password-file', join(dir, `pw${HOSTILE}`), 'purge', 'q'],
  },
  { name: 'a missing topology file', args: () => ['declare', '--file', join(dir, `t${HOSTILE}.json`)] },
  {
    name: 'a topology file (status lines, 404 for a binding)',
    args: () => {
      const file = join(dir, 'topology.json');
      writeFileSync(
        file,
        JSON.stringify({
          queues: [{ name: names.queue }],
          bindings: [{ source: names.missingExchange, destination: names.queue, routingKey: `k${HOSTILE}` }],
        }),
      );
      return ['declare', '--file', file];
    },
  },
  {
    name: 'publish --input ndjson with a bad line',
    args: () => ['publish', '-e', '', '-k', names.missingQueue, '--input', 'ndjson'],
    stdin: `{"body":"x","routingKey":"${JSON.stringify(HOSTILE).slice(1, -1)}","headers":{"${JSON.stringify(HOSTILE).slice(1, -1)}":{"!":"nope"}}}\n`,
  },
];

describe('every stderr byte is printable whatever things are named', () => {
  it.each(CASES)('$name', async (testCase) => {
    for (const verbose of [false, true]) {
      const args = [...testCase.args(), ...(verbose ? ['-v'] : [])];
      const result = await runWarren(args, {
        env: { XDG_CONFIG_HOME: dir, ...testCase.env?.() },
        ...(testCase.stdin === undefined ? {} : { stdin: testCase.stdin }),
      });
      // Something was said: the check below is not passed by silence.
      expect(result.stderr.length, `warren ${args.join(' ')}`).toBeGreaterThan(0);
      const lines = result.stderr.split('\n');
      const bad = lines.filter((line) => RAW_CONTROL.test(line));
      expect(
        bad.map((line) => JSON.stringify(line)),
        `exit ${result.code}`,
      ).toEqual([]);
    }
  });

  it('the status line on a terminal shows them escaped too', async () => {
    // stderr on a pseudo-terminal (util-linux `script`); the name comes through the environment.
    const screen = await runShell(
      `script -qec 'stty cols 200 rows 30; env -u CI node bin/warren.js consume "$QUEUE" --timeout 1s' /dev/null`,
      { env: { QUEUE: names.queue } },
    );
    const text = screen.stdout.toString();
    expect(text, `${screen.code} ${screen.stderr}`).toContain('waiting for messages on');
    expect(text).toContain('\\x1b]0;pwned\\x07');
    for (const raw of ['\x1b]0;pwned', '\x1b[2J', '\x07', '\x9b', '\x85', '\x9d']) {
      expect(text.includes(raw), `raw ${JSON.stringify(raw)} on the screen`).toBe(false);
    }
  });

  it('the hostile names are shown, escaped, where they matter', async () => {
    const result = await runWarren(['consume', names.missingQueue, '--timeout', '1s']);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('\\x1b[2J\\x1b[31m\\x1b]0;pwned\\x07');
    const profile = await runWarren(['purge', 'q'], {
      env: { XDG_CONFIG_HOME: dir, WARREN_PROFILE: 'a\nb' },
    });
    expect(profile.code).toBe(2);
    expect(profile.stderr).toMatch(/^error: no profile 'a\\x0ab'/);
    expect(profile.stderr.trimEnd().split('\n')).toHaveLength(2);
  });
});
