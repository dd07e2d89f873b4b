/**
 * `consume Q --exec CMD` and `publish --rpc`: argv → {command, global, options}, and the
 * combinations that are usage errors (exit 2).
 */
import { describe, expect, it } from 'vitest';
import type { ExecOptions } from '../../src/commands/consume/exec.js';
import type { RpcOptions } from '../../src/commands/publish/rpc.js';
import type { PublishOptions } from '../../src/commands/publish/run.js';
import type { MessageOverrides } from '../../src/envelope.js';
import type { GlobalOptions } from '../../src/globalOptions.js';
import { type ParsedCommand, parseArgs } from '../../src/program.js';
import { fakeIo } from '../helpers/fakeIo.js';
import { global } from '../helpers/globals.js';
import { describeUsageErrors } from '../helpers/usageError.js';

// ---------------------------------------------------------------------------------------
// Expected parse results.

function exec(options: Partial<ExecOptions> = {}, globals: Partial<GlobalOptions> = {}): ParsedCommand {
  return {
    command: options.kind ?? 'exec',
    global: global(globals),
    options: {
      queue: 'q',
      kind: 'exec',
      command: 'cmd',
      onFailure: 'requeue',
      concurrency: 1,
      execTimeoutMs: undefined,
      maxRetries: undefined,
      retryDelay: undefined,
      reply: false,
      emit: undefined,
      graceMs: 10_000,
      passUrl: false,
      count: undefined,
      timeoutMs: undefined,
      retries: 5,
      ...options,
    },
  };
}

function rpc(
  options: Partial<Omit<RpcOptions, 'request'>> & {
    request?: Partial<Omit<PublishOptions, 'overrides'>> & { overrides?: Partial<MessageOverrides> };
  } = {},
  globals: Partial<GlobalOptions> = {},
): ParsedCommand {
  const { request = {}, ...rest } = options;
  const { overrides, ...requestRest } = request;
  return {
    command: 'rpc',
    global: global(globals),
    options: {
      request: {
        overrides: { exchange: undefined, routingKey: 'rpc.echo', properties: {}, headers: {}, ...overrides },
        body: 'hello',
        file: undefined,
        input: 'raw',
        mandatory: true,
        skipInvalid: false,
        retries: 5,
        ...requestRest,
      },
      timeoutMs: 30_000,
      full: false,
      format: 'ndjson',
      template: undefined,
      ...rest,
    },
  };
}

const RPC = ['publish', '--rpc', '-k', 'rpc.echo'];

const PARSES: { name: string; argv: string[]; tty?: boolean; expected: ParsedCommand }[] = [
  // consume --exec
  {
    name: 'consume --exec: every default',
    argv: ['consume', 'q', '--exec', 'cmd'],
    expected: exec(),
  },
  {
    name: '--exec=CMD, a command with spaces and quotes',
    argv: ['consume', 'orders', '--exec=./handle.sh --dry "x y"'],
    expected: exec({ queue: 'orders', command: './handle.sh --dry "x y"' }),
  },
  {
    name: '--exec before the queue',
    argv: ['consume', '--exec', 'cmd', 'q'],
    expected: exec(),
  },
  {
    name: '--on-failure requeue (the default, given)',
    argv: ['consume', 'q', '--exec', 'cmd', '--on-failure', 'requeue'],
    expected: exec({ onFailure: 'requeue' }),
  },
  {
    name: '--on-failure reject',
    argv: ['consume', 'q', '--exec', 'cmd', '--on-failure', 'reject'],
    expected: exec({ onFailure: 'reject' }),
  },
  {
    name: "--on-failure dead-letter is 'reject'",
    argv: ['consume', 'q', '--exec', 'cmd', '--on-failure', 'dead-letter'],
    expected: exec({ onFailure: 'reject' }),
  },
  {
    name: '--concurrency 4',
    argv: ['consume', 'q', '--exec', 'cmd', '--concurrency', '4'],
    expected: exec({ concurrency: 4 }),
  },
  {
    name: '--concurrency 65535',
    argv: ['consume', 'q', '--exec', 'cmd', '--concurrency', '65535'],
    expected: exec({ concurrency: 65535 }),
  },
  {
    name: '--exec-timeout 30s',
    argv: ['consume', 'q', '--exec', 'cmd', '--exec-timeout', '30s'],
    expected: exec({ execTimeoutMs: 30_000 }),
  },
  {
    name: '--exec-timeout 250ms',
    argv: ['consume', 'q', '--exec', 'cmd', '--exec-timeout', '250ms'],
    expected: exec({ execTimeoutMs: 250 }),
  },
  {
    name: '--retries 0: a lost connection ends the run',
    argv: ['consume', 'q', '--exec', 'cmd', '--retries', '0'],
    expected: exec({ retries: 0 }),
  },
  {
    name: '--max-retries 3',
    argv: ['consume', 'q', '--exec', 'cmd', '--max-retries', '3'],
    expected: exec({ maxRetries: 3 }),
  },
  {
    name: '--max-retries 0',
    argv: ['consume', 'q', '--exec', 'cmd', '--max-retries', '0'],
    expected: exec({ maxRetries: 0 }),
  },
  {
    name: '--retry-delay 1s: the cap is 16 times the first delay',
    argv: ['consume', 'q', '--exec', 'cmd', '--retry-delay', '1s'],
    expected: exec({ retryDelay: { firstMs: 1000, maxMs: 16_000 } }),
  },
  {
    name: '--retry-delay 300ms --retry-delay-max 1m --max-retries 8',
    argv: [
      'consume',
      'q',
      '--exec',
      'cmd',
      '--retry-delay',
      '300ms',
      '--retry-delay-max',
      '1m',
      '--max-retries',
      '8',
    ],
    expected: exec({ retryDelay: { firstMs: 300, maxMs: 60_000 }, maxRetries: 8 }),
  },
  {
    name: '--retry-delay-max as long as --retry-delay: a delay that does not grow',
    argv: ['consume', 'q', '--exec', 'cmd', '--retry-delay', '5s', '--retry-delay-max', '5s'],
    expected: exec({ retryDelay: { firstMs: 5000, maxMs: 5000 } }),
  },
  {
    name: '--retry-delay 10d: the default cap stops at the longest timer',
    argv: ['consume', 'q', '--exec', 'cmd', '--retry-delay', '240h'],
    expected: exec({ retryDelay: { firstMs: 864_000_000, maxMs: 2 ** 31 - 1 } }),
  },
  {
    name: '--reply',
    argv: ['consume', 'q', '--exec', 'cmd', '--reply'],
    expected: exec({ reply: true }),
  },
  {
    name: '--emit EXCHANGE:KEY',
    argv: ['consume', 'q', '--exec', 'cmd', '--emit', 'shop:order.shipped'],
    expected: exec({ emit: { exchange: 'shop', routingKey: 'order.shipped', format: 'raw' } }),
  },
  {
    name: '--emit EXCHANGE: an empty key',
    argv: ['consume', 'q', '--exec', 'cmd', '--emit', 'shop'],
    expected: exec({ emit: { exchange: 'shop', routingKey: '', format: 'raw' } }),
  },
  {
    name: '--emit :QUEUE:WITH:COLONS: the default exchange, the key after the first colon',
    argv: ['consume', 'q', '--exec', 'cmd', '--emit', ':a:b:c'],
    expected: exec({ emit: { exchange: '', routingKey: 'a:b:c', format: 'raw' } }),
  },
  {
    name: '--emit-format ndjson alone: the default exchange, each line names its target',
    argv: ['consume', 'q', '--exec', 'cmd', '--emit-format', 'ndjson'],
    expected: exec({ emit: { exchange: '', routingKey: '', format: 'ndjson' } }),
  },
  {
    name: '--emit-format ndjson --emit EXCHANGE:KEY: the defaults',
    argv: ['consume', 'q', '--exec', 'cmd', '--emit-format', 'ndjson', '--emit', 'x:k'],
    expected: exec({ emit: { exchange: 'x', routingKey: 'k', format: 'ndjson' } }),
  },
  {
    name: '--grace 2m',
    argv: ['consume', 'q', '--exec', 'cmd', '--grace', '2m'],
    expected: exec({ graceMs: 120_000 }),
  },
  {
    name: '--grace 0s',
    argv: ['consume', 'q', '--exec', 'cmd', '--grace', '0s'],
    expected: exec({ graceMs: 0 }),
  },
  {
    name: '--pass-url',
    argv: ['consume', 'q', '--exec', 'cmd', '--pass-url'],
    expected: exec({ passUrl: true }),
  },
  {
    name: '--count and --timeout (consume flags that go with --exec)',
    argv: ['consume', 'q', '--exec', 'cmd', '-n', '10', '-t', '1h'],
    expected: exec({ count: 10, timeoutMs: 3_600_000 }),
  },
  {
    name: 'every flag at once, with globals',
    argv: [
      '--url',
      'amqp://h/',
      '-q',
      'consume',
      'jobs',
      '--exec',
      'tr a-z A-Z',
      '--on-failure',
      'dead-letter',
      '--concurrency',
      '8',
      '--exec-timeout',
      '1m',
      '--max-retries',
      '5',
      '--reply',
      '--grace',
      '3s',
      '--count',
      '100',
      '--timeout',
      '10s',
    ],
    expected: exec(
      {
        queue: 'jobs',
        command: 'tr a-z A-Z',
        onFailure: 'reject',
        concurrency: 8,
        execTimeoutMs: 60_000,
        maxRetries: 5,
        reply: true,
        graceMs: 3000,
        count: 100,
        timeoutMs: 10_000,
      },
      { urls: ['amqp://h/'], quiet: true },
    ),
  },
  {
    name: 'consume --exec on a terminal: still exec (no format)',
    argv: ['consume', 'q', '--exec', 'cmd'],
    tty: true,
    expected: exec(),
  },

  // consume --pipe
  {
    name: "consume --pipe: every default (consume's prefetch)",
    argv: ['consume', 'q', '--pipe', 'cmd'],
    expected: exec({ kind: 'pipe', prefetch: 1000 }),
  },
  {
    name: '--pipe --concurrency 4: the prefetch stays',
    argv: ['consume', 'q', '--pipe', 'cmd', '--concurrency', '4'],
    expected: exec({ kind: 'pipe', concurrency: 4, prefetch: 1000 }),
  },
  {
    name: '--pipe --concurrency 20: 100 per process',
    argv: ['consume', 'q', '--pipe', 'cmd', '--concurrency', '20'],
    expected: exec({ kind: 'pipe', concurrency: 20, prefetch: 2000 }),
  },
  {
    name: '--pipe --concurrency 1000: the prefetch stops at 65535',
    argv: ['consume', 'q', '--pipe', 'cmd', '--concurrency', '1000'],
    expected: exec({ kind: 'pipe', concurrency: 1000, prefetch: 65535 }),
  },
  {
    name: '--pipe --prefetch 7 --emit x --exec-timeout 5s --max-retries 2',
    argv: [
      'consume',
      'q',
      '--pipe',
      'cmd',
      '--prefetch',
      '7',
      '--emit',
      'x',
      '--exec-timeout',
      '5s',
      '--max-retries',
      '2',
    ],
    expected: exec({
      kind: 'pipe',
      prefetch: 7,
      emit: { exchange: 'x', routingKey: '', format: 'raw' },
      execTimeoutMs: 5000,
      maxRetries: 2,
    }),
  },

  // publish --rpc
  {
    name: 'publish --rpc: every default (30s, ndjson to a pipe)',
    argv: [...RPC, 'hello'],
    expected: rpc(),
  },
  {
    name: 'publish --rpc on a terminal: pretty',
    argv: [...RPC, 'hello'],
    tty: true,
    expected: rpc({ format: 'pretty' }),
  },
  {
    name: '--timeout 5s',
    argv: [...RPC, '--timeout', '5s', 'hello'],
    expected: rpc({ timeoutMs: 5000 }),
  },
  {
    name: '-t 500ms',
    argv: [...RPC, '-t', '500ms', 'hello'],
    expected: rpc({ timeoutMs: 500 }),
  },
  {
    name: '--format body',
    argv: [...RPC, '--format', 'body', 'hello'],
    expected: rpc({ format: 'body' }),
  },
  {
    name: '--format ndjson on a terminal',
    argv: [...RPC, '--format', 'ndjson', 'hello'],
    tty: true,
    expected: rpc({ format: 'ndjson' }),
  },
  {
    name: '--template {body}',
    argv: [...RPC, '--template', '{body}', 'hello'],
    expected: rpc({ template: '{body}' }),
  },
  {
    name: '--no-mandatory reaches the request',
    argv: [...RPC, '--no-mandatory', 'hello'],
    expected: rpc({ request: { mandatory: false } }),
  },
  {
    name: 'the request carries exchange, headers and properties (--correlation-id too)',
    argv: [
      'publish',
      '--rpc',
      '-e',
      'rpc',
      '-k',
      'rpc.echo',
      '-H',
      'x-tenant=acme',
      '-H',
      'n:=5',
      '--correlation-id',
      'abc',
      '--content-type',
      'text/plain',
      '--transient',
      'hello',
    ],
    expected: rpc({
      request: {
        overrides: {
          exchange: 'rpc',
          properties: { correlationId: 'abc', contentType: 'text/plain', deliveryMode: 1 },
          headers: { 'x-tenant': 'acme', n: 5 },
        },
      },
    }),
  },
  {
    name: '--rpc --file: the body from a file',
    argv: [...RPC, '--file', 'request.json'],
    expected: rpc({ request: { body: undefined, file: 'request.json' } }),
  },
];

describe('exec and rpc: argv → {command, global, options}', () => {
  it.each(PARSES)('$name', async ({ argv, tty, expected }) => {
    expect(await parseArgs(argv, fakeIo({ tty }).io)).toEqual(expected);
  });
});

// ---------------------------------------------------------------------------------------
// Usage errors.

const EXEC = ['consume', 'q', '--exec', 'cmd'];

const USAGE_ERRORS: { name: string; argv: string[]; mentions: RegExp }[] = [
  // publish --rpc
  {
    name: '--rpc --input lines',
    argv: [...RPC, '--input', 'lines'],
    mentions: /--input does not go with --rpc/,
  },
  {
    name: '--rpc --input raw (the default, given: the rule is about the flag)',
    argv: [...RPC, '--input', 'raw', 'hello'],
    mentions: /--input does not go with --rpc: it sends one request/,
  },
  { name: '--rpc -i ndjson', argv: [...RPC, '-i', 'ndjson'], mentions: /--input does not go with --rpc/ },
  {
    name: '--rpc --reply-to x',
    argv: [...RPC, '--reply-to', 'x', 'hello'],
    mentions: /--reply-to does not go with --rpc: it sets the reply-to itself/,
  },
  {
    name: '--timeout 1s without --rpc',
    argv: ['publish', '-k', 'q', '--timeout', '1s', 'hello'],
    mentions: /^--timeout goes with --rpc$/,
  },
  {
    name: '-t 1s without --rpc',
    argv: ['publish', '-k', 'q', '-t', '1s', 'hello'],
    mentions: /^--timeout goes with --rpc$/,
  },
  {
    name: '--format ndjson without --rpc',
    argv: ['publish', '-k', 'q', '--format', 'ndjson', 'hello'],
    mentions: /^--format goes with --rpc$/,
  },
  {
    name: '--template without --rpc',
    argv: ['publish', '-k', 'q', '--template', '{body}', 'hello'],
    mentions: /^--template goes with --rpc$/,
  },
  {
    name: '--rpc --timeout soon',
    argv: [...RPC, '--timeout', 'soon', 'hello'],
    mentions: /'soon' is not a duration/,
  },
  {
    name: '--rpc --format xml',
    argv: [...RPC, '--format', 'xml', 'hello'],
    mentions: /xml/,
  },
  {
    name: '--rpc --persistent --transient',
    argv: [...RPC, '--persistent', '--transient', 'hello'],
    mentions: /contradict/,
  },

  // consume --exec with consume's output flags
  {
    name: '--pipe with --exec',
    argv: [...EXEC, '--pipe', 'cmd'],
    mentions: /^--pipe does not go with --exec: a handler runs either once per message or for the whole run/,
  },
  {
    name: '--pipe with --reply',
    argv: ['consume', 'q', '--pipe', 'cmd', '--reply'],
    mentions: /^--reply goes with --exec$/,
  },
  {
    name: '--pipe with --format',
    argv: ['consume', 'q', '--pipe', 'cmd', '--format', 'ndjson'],
    mentions: /^--format does not go with --pipe/,
  },
  {
    name: '--pipe with an empty command',
    argv: ['consume', 'q', '--pipe', ' '],
    mentions: /^--pipe needs a command/,
  },
  {
    name: '--exec with --format',
    argv: [...EXEC, '--format', 'ndjson'],
    mentions: /^--format does not go with --exec/,
  },
  {
    name: '--exec with --ack-mode',
    argv: [...EXEC, '--ack-mode', 'requeue'],
    mentions: /^--ack-mode does not go with --exec/,
  },
  {
    name: '--exec with --ack-mode ack (the default, given)',
    argv: [...EXEC, '--ack-mode', 'ack'],
    mentions: /^--ack-mode does not go with --exec/,
  },
  {
    name: '--exec with --prefetch',
    argv: [...EXEC, '--prefetch', '10'],
    mentions: /^--prefetch does not go with --exec/,
  },
  {
    name: '--exec with --template',
    argv: [...EXEC, '--template', '{body}'],
    mentions: /^--template does not go with --exec/,
  },

  // exec-only flags without --exec
  {
    name: '--on-failure without --exec',
    argv: ['consume', 'q', '--on-failure', 'reject'],
    mentions: /^--on-failure goes with --exec or --pipe$/,
  },
  {
    name: '--on-failure requeue (the default) without --exec',
    argv: ['consume', 'q', '--on-failure', 'requeue'],
    mentions: /^--on-failure goes with --exec or --pipe$/,
  },
  {
    name: '--concurrency without --exec',
    argv: ['consume', 'q', '--concurrency', '2'],
    mentions: /^--concurrency goes with --exec or --pipe$/,
  },
  {
    name: '--exec-timeout without --exec',
    argv: ['consume', 'q', '--exec-timeout', '1s'],
    mentions: /^--exec-timeout goes with --exec or --pipe$/,
  },
  {
    name: '--max-retries without --exec',
    argv: ['consume', 'q', '--max-retries', '3'],
    mentions: /^--max-retries goes with --exec or --pipe$/,
  },
  {
    name: '--max-retries 0 without --exec',
    argv: ['consume', 'q', '--max-retries', '0'],
    mentions: /^--max-retries goes with --exec or --pipe$/,
  },
  {
    name: '--retry-delay without --exec',
    argv: ['consume', 'q', '--retry-delay', '1s'],
    mentions: /^--retry-delay goes with --exec or --pipe$/,
  },
  {
    name: '--retry-delay-max without --retry-delay',
    argv: [...EXEC, '--retry-delay-max', '1m'],
    mentions: /^--retry-delay-max goes with --retry-delay$/,
  },
  {
    name: '--reply without --exec',
    argv: ['consume', 'q', '--reply'],
    mentions: /^--reply goes with --exec$/,
  },
  {
    name: '--emit without --exec',
    argv: ['consume', 'q', '--emit', 'x'],
    mentions: /^--emit goes with --exec or --pipe$/,
  },
  {
    name: '--emit with --reply',
    argv: ['consume', 'q', '--exec', 'cmd', '--emit', 'x', '--reply'],
    mentions: /--emit does not go with --reply|--reply does not go with --emit/,
  },
  {
    name: '--emit-format raw without --emit',
    argv: ['consume', 'q', '--exec', 'cmd', '--emit-format', 'raw'],
    mentions: /^--emit-format raw needs --emit EXCHANGE\[:KEY\]/,
  },
  {
    name: "--emit ''",
    argv: ['consume', 'q', '--exec', 'cmd', '--emit', ''],
    mentions: /^--emit '' names no exchange and no key/,
  },
  {
    name: '--emit with an exchange over 255 bytes',
    argv: ['consume', 'q', '--exec', 'cmd', '--emit', `${'x'.repeat(256)}:k`],
    mentions: /^--emit: the exchange is over 255 bytes$/,
  },
  {
    name: '--grace without --exec',
    argv: ['consume', 'q', '--grace', '5s'],
    mentions: /^--grace goes with --exec or --pipe$/,
  },
  {
    name: '--pass-url without --exec',
    argv: ['consume', 'q', '--pass-url'],
    mentions: /^--pass-url goes with --exec or --pipe$/,
  },
  {
    name: '--pass-url on a tail without a trigger',
    argv: ['tail', 'amq.topic', '--pass-url'],
    mentions: /^--pass-url goes with a trigger/,
  },

  // bad values
  {
    name: '--on-failure maybe',
    argv: [...EXEC, '--on-failure', 'maybe'],
    mentions: /maybe/,
  },
  {
    name: '--concurrency 0',
    argv: [...EXEC, '--concurrency', '0'],
    mentions: /must be from 1 to 65535, got 0/,
  },
  {
    name: '--concurrency 65536',
    argv: [...EXEC, '--concurrency', '65536'],
    mentions: /must be from 1 to 65535, got 65536/,
  },
  {
    name: '--concurrency two',
    argv: [...EXEC, '--concurrency', 'two'],
    mentions: /expected a whole number, got 'two'/,
  },
  {
    name: '--max-retries 1.5',
    argv: [...EXEC, '--max-retries', '1.5'],
    mentions: /expected a whole number, got '1.5'/,
  },
  {
    name: '--retry-delay 0s',
    argv: [...EXEC, '--retry-delay', '0s'],
    mentions: /^--retry-delay must be more than 0 \(leave it out for retries at once\)$/,
  },
  {
    name: '--retry-delay soon',
    argv: [...EXEC, '--retry-delay', 'soon'],
    mentions: /'soon' is not a duration/,
  },
  {
    name: '--retry-delay 30d: longer than a timer',
    argv: [...EXEC, '--retry-delay', '720h'],
    mentions: /'720h' is too long/,
  },
  {
    name: '--retry-delay-max shorter than --retry-delay',
    argv: [...EXEC, '--retry-delay', '10s', '--retry-delay-max', '5s'],
    mentions: /^--retry-delay-max \(5s\) is shorter than --retry-delay \(10s\)$/,
  },
  {
    name: '--exec-timeout soon',
    argv: [...EXEC, '--exec-timeout', 'soon'],
    mentions: /'soon' is not a duration/,
  },
  {
    name: '--grace forever',
    argv: [...EXEC, '--grace', 'forever'],
    mentions: /'forever' is not a duration/,
  },
  {
    name: '--exec without a command',
    argv: ['consume', 'q', '--exec'],
    mentions: /--exec/,
  },
];

describeUsageErrors('exec and rpc: usage errors', USAGE_ERRORS);
