import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ConsumeOptions } from '../../src/commands/consume/run.js';
import type { PublishOptions } from '../../src/commands/publish/run.js';
import type { MessageOverrides } from '../../src/envelope.js';
import { UsageError } from '../../src/errors.js';
import type { GlobalOptions } from '../../src/globalOptions.js';
import { main } from '../../src/main.js';
import { buildProgram, type ParsedCommand, parseArgs } from '../../src/program.js';
import { fakeIo, runMain } from '../helpers/fakeIo.js';
import { global } from '../helpers/globals.js';
import { known } from '../helpers/parsed.js';

// ---------------------------------------------------------------------------------------
// Expected parse results.

function publish(
  options: Partial<Omit<PublishOptions, 'overrides'>> & { overrides?: Partial<MessageOverrides> } = {},
  globals: Partial<GlobalOptions> = {},
): ParsedCommand {
  const { overrides, ...rest } = options;
  return {
    command: 'publish',
    global: global(globals),
    options: {
      overrides: { exchange: undefined, routingKey: undefined, properties: {}, headers: {}, ...overrides },
      body: undefined,
      file: undefined,
      input: 'raw',
      mandatory: true,
      skipInvalid: false,
      retries: 5,
      ...rest,
    },
  };
}

function consume(options: Partial<ConsumeOptions> = {}, globals: Partial<GlobalOptions> = {}): ParsedCommand {
  return {
    command: 'consume',
    global: global(globals),
    options: {
      queue: 'q',
      count: undefined,
      timeoutMs: undefined,
      prefetch: 1000,
      ackMode: 'ack',
      format: 'ndjson',
      template: undefined,
      full: false,
      retries: 5,
      ...options,
    },
  };
}

const ISO_SECONDS = Math.floor(Date.parse('2026-11-27T09:00:00Z') / 1000);

const PARSES: { name: string; argv: string[]; tty?: boolean; expected: ParsedCommand }[] = [
  {
    name: 'publish: exchange, routing key, string and typed headers, priority, transient',
    argv: [
      'publish',
      '-e',
      'x',
      '-k',
      'k',
      '-H',
      'a=b',
      '-H',
      'n:=5',
      '--priority',
      '3',
      '--transient',
      'body',
    ],
    expected: publish({
      body: 'body',
      overrides: {
        exchange: 'x',
        routingKey: 'k',
        properties: { deliveryMode: 1, priority: 3 },
        headers: { a: 'b', n: 5 },
      },
    }),
  },
  {
    name: 'publish: every property flag, long names',
    argv: [
      'publish',
      '--exchange',
      'orders',
      '--routing-key',
      'order.created',
      '--content-type',
      'application/json',
      '--content-encoding',
      'gzip',
      '--persistent',
      '--priority',
      '255',
      '--expiration',
      '30s',
      '--message-id',
      'm-1',
      '--correlation-id',
      'c-1',
      '--reply-to',
      'replies',
      '--type',
      'order',
      '--app-id',
      'shop',
      '--timestamp',
      '1795770000',
      '{"id":42}',
    ],
    expected: publish({
      body: '{"id":42}',
      overrides: {
        exchange: 'orders',
        routingKey: 'order.created',
        properties: {
          contentType: 'application/json',
          contentEncoding: 'gzip',
          deliveryMode: 2,
          priority: 255,
          expiration: '30000',
          messageId: 'm-1',
          correlationId: 'c-1',
          replyTo: 'replies',
          type: 'order',
          appId: 'shop',
          timestamp: 1795770000,
        },
        headers: {},
      },
    }),
  },
  {
    name: 'publish: --timestamp as ISO 8601 is seconds since the epoch',
    argv: ['publish', '--timestamp', '2026-11-27T09:00:00Z', '--priority', '0', 'b'],
    expected: publish({ body: 'b', overrides: { properties: { timestamp: ISO_SECONDS, priority: 0 } } }),
  },
  {
    name: 'publish: header values with "=", empty values and typed JSON',
    argv: [
      'publish',
      '-H',
      'q=a=b',
      '-H',
      'empty=',
      '-H',
      'f:=1.5',
      '-H',
      'ok:=true',
      '-H',
      's:="7"',
      '-H',
      'ts:={"!":"timestamp","value":5}',
      '-H',
      'list:=[1,"a"]',
      'b',
    ],
    expected: publish({
      body: 'b',
      overrides: {
        headers: {
          q: 'a=b',
          empty: '',
          f: 1.5,
          ok: true,
          s: '7',
          ts: { '!': 'timestamp', value: '5' },
          list: [1, 'a'],
        },
      },
    }),
  },
  {
    name: 'publish: the last of a repeated header wins',
    argv: ['publish', '-H', 'a=1', '-H', 'a=2', 'b'],
    expected: publish({ body: 'b', overrides: { headers: { a: '2' } } }),
  },
  {
    name: 'publish: ndjson from a file, --no-mandatory, --skip-invalid',
    argv: ['publish', '--input', 'ndjson', '--file', 'capture.ndjson', '--no-mandatory', '--skip-invalid'],
    expected: publish({ input: 'ndjson', file: 'capture.ndjson', mandatory: false, skipInvalid: true }),
  },
  {
    name: 'publish: short -i and -f, stdin as "-"',
    argv: ['publish', '-i', 'lines', '-f', '-'],
    expected: publish({ input: 'lines', file: '-' }),
  },
  {
    name: "publish: -e '' names the default exchange",
    argv: ['publish', '-e', '', '-k', 'q', 'b'],
    expected: publish({ body: 'b', overrides: { exchange: '', routingKey: 'q' } }),
  },
  {
    name: 'publish: global --key (TLS) and -k (routing key) do not collide',
    argv: ['publish', '--key', 'client.key', '-k', 'rk', 'b'],
    expected: publish({ body: 'b', overrides: { routingKey: 'rk' } }, { key: 'client.key' }),
  },
  {
    name: 'publish: global options among the subcommand options and after the body',
    argv: ['publish', '-k', 'rk', '-v', 'body', '--url', 'amqp://a'],
    expected: publish(
      { body: 'body', overrides: { routingKey: 'rk' } },
      { verbose: true, urls: ['amqp://a'] },
    ),
  },
  {
    name: 'consume: defaults, stdout not a terminal → ndjson',
    argv: ['consume', 'q'],
    expected: consume(),
  },
  {
    name: 'consume: defaults, stdout a terminal → pretty',
    argv: ['consume', 'q'],
    tty: true,
    expected: consume({ format: 'pretty' }),
  },
  {
    name: 'consume: --format wins over the terminal default',
    argv: ['consume', 'q', '--format', 'ndjson'],
    tty: true,
    expected: consume({ format: 'ndjson' }),
  },
  {
    name: 'consume: every option',
    argv: [
      'consume',
      'orders',
      '-n',
      '10',
      '-t',
      '1m30s',
      '--prefetch',
      '50',
      '--ack-mode',
      'requeue',
      '--format',
      'body',
      '--template',
      '{routingKey} {body}',
    ],
    expected: consume({
      queue: 'orders',
      count: 10,
      timeoutMs: 90_000,
      prefetch: 50,
      ackMode: 'requeue',
      format: 'body',
      template: '{routingKey} {body}',
    }),
  },
  {
    name: 'consume: long --count and --timeout',
    argv: ['consume', 'q', '--count', '1', '--timeout', '500ms', '--ack-mode', 'none'],
    expected: consume({ count: 1, timeoutMs: 500, ackMode: 'none' }),
  },
  {
    name: 'global options before the subcommand',
    argv: ['--url', 'amqp://a', '-q', '--no-color', '--insecure', 'consume', 'q'],
    expected: consume({}, { urls: ['amqp://a'], quiet: true, color: false, insecure: true }),
  },
  {
    name: 'global options after the subcommand',
    argv: ['consume', 'q', '--url', 'amqp://a', '-v', '--ca', 'ca.pem', '--cert', 'c.pem', '--key', 'k.pem'],
    expected: consume({}, { urls: ['amqp://a'], verbose: true, ca: 'ca.pem', cert: 'c.pem', key: 'k.pem' }),
  },
  {
    name: 'combined short global flags -qv',
    argv: ['-qv', 'consume', 'q'],
    expected: consume({}, { quiet: true, verbose: true }),
  },
  {
    name: 'repeated --url, before and after the subcommand, keeps the order',
    argv: ['--url', 'amqp://a', 'consume', 'q', '--url=amqps://b'],
    expected: consume({}, { urls: ['amqp://a', 'amqps://b'] }),
  },
  {
    name: 'comma-separated --url is kept as given (split when connecting)',
    argv: ['--url', 'amqp://a,amqp://b', 'consume', 'q'],
    expected: consume({}, { urls: ['amqp://a,amqp://b'] }),
  },
  {
    name: 'completion: the shell',
    argv: ['completion', 'zsh'],
    expected: { command: 'completion', global: global(), options: { shell: 'zsh' } },
  },
];

describe('parseArgs: argv → {command, global, options}', () => {
  it.each(PARSES)('$name', async ({ argv, tty, expected }) => {
    const fake = fakeIo({ tty });
    expect(await parseArgs(argv, fake.io)).toEqual(expected);
  });
});

// ---------------------------------------------------------------------------------------
// Usage errors.

const USAGE_ERRORS: { name: string; argv: string[]; mentions: RegExp }[] = [
  { name: 'unknown flag', argv: ['publish', '--bogus', 'b'], mentions: /--bogus/ },
  { name: 'unknown command', argv: ['frobnicate'], mentions: /frobnicate/ },
  // A lone surrogate (an argument vector of UTF-16, as on Windows) is never sent as U+FFFD.
  ...(
    [
      [
        '-k',
        ['publish', '-k', 'q\ud800', 'b'],
        /--routing-key holds a lone surrogate \(\\ud800 at character 2\)/,
      ],
      ['-e', ['publish', '-e', '\udc00', 'b'], /--exchange holds a lone surrogate/],
      ['--app-id', ['publish', '--app-id', 'a\ud800', 'b'], /--app-id holds a lone surrogate/],
      [
        '-H value',
        ['publish', '-H', 'k=v\ud800', 'b'],
        /--header "k=v\\ud800": the value holds a lone surrogate/,
      ],
      [
        '-H key',
        ['publish', '-H', 'k\ud800=v', 'b'],
        /--header "k\\ud800=v": the key holds a lone surrogate/,
      ],
      ['BODY', ['publish', '-k', 'q', 'b\ud800'], /the BODY argument holds a lone surrogate/],
      ['replay -k', ['replay', 'x.ndjson', '-k', '\ud800'], /--routing-key holds a lone surrogate/],
    ] as const
  ).map(([flag, argv, mentions]) => ({ name: `a lone surrogate in ${flag}`, argv: [...argv], mentions })),
  {
    name: 'bad --priority (word)',
    argv: ['publish', '--priority', 'high', 'b'],
    mentions: /high/,
  },
  {
    name: 'bad --priority (256)',
    argv: ['publish', '--priority', '256', 'b'],
    mentions: /256/,
  },
  {
    name: 'bad --priority (-1)',
    argv: ['publish', '--priority', '-1', 'b'],
    mentions: /-1/,
  },
  {
    name: 'bad duration (no unit)',
    argv: ['consume', 'q', '-t', '10'],
    mentions: /'10'/,
  },
  {
    name: 'bad --expiration',
    argv: ['publish', '--expiration', 'soon', 'b'],
    mentions: /soon/,
  },
  {
    name: 'bad --ack-mode choice',
    argv: ['consume', 'q', '--ack-mode', 'eat'],
    mentions: /eat/,
  },
  {
    name: 'bad --format choice',
    argv: ['consume', 'q', '--format', 'xml'],
    mentions: /xml/,
  },
  { name: 'bad --input choice', argv: ['publish', '--input', 'csv'], mentions: /csv/ },
  { name: '--prefetch 0', argv: ['consume', 'q', '--prefetch', '0'], mentions: /0/ },
  { name: '--count 0', argv: ['consume', 'q', '-n', '0'], mentions: /0/ },
  { name: 'missing queue', argv: ['consume'], mentions: /queue/ },
  { name: 'missing option value', argv: ['publish', '-k'], mentions: /routing-key/ },
  {
    name: 'bad --timestamp',
    argv: ['publish', '--timestamp', 'yesterday', 'b'],
    mentions: /yesterday/,
  },
  {
    name: '--routing-key over 255 bytes',
    argv: ['publish', '-k', 'k'.repeat(256), 'b'],
    mentions: /255 bytes/,
  },
  { name: 'unknown completion shell', argv: ['completion', 'tcsh'], mentions: /tcsh/ },
  {
    name: '--persistent with --transient',
    argv: ['publish', '--persistent', '--transient', 'b'],
    mentions: /--transient does not go with --persistent: they contradict/,
  },
  { name: '-H novalue', argv: ['publish', '-H', 'novalue', 'b'], mentions: /novalue/ },
  { name: '-H =value (no key)', argv: ['publish', '-H', '=v', 'b'], mentions: /=v/ },
  { name: '-H :=5 (no key)', argv: ['publish', '-H', ':=5', 'b'], mentions: /:=5/ },
  {
    name: '-H key:=not-json',
    argv: ['publish', '-H', 'n:=nope', 'b'],
    mentions: /not JSON/,
  },
  {
    name: '-H with a bad typed value',
    argv: ['publish', '-H', 'n:={"!":"int8","value":999}', 'b'],
    mentions: /n: int8 value 999/,
  },
];

describe('parseArgs: usage errors reject', () => {
  it.each(USAGE_ERRORS)('$name', async ({ argv }) => {
    const fake = fakeIo();
    const error = await parseArgs(argv, fake.io).then(
      () => undefined,
      (e: unknown) => e,
    );
    // Commander's own errors are turned into warren's: one kind of usage error, exit 2.
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
  });
});

describe('main: exit codes and what reaches stdout and stderr', () => {
  it.each(USAGE_ERRORS)(
    '$name → exit 2, one error line on stderr, nothing on stdout',
    async ({ argv, mentions }) => {
      const { code, stdout, stderr } = await runMain(argv);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      const lines = stderr.trimEnd().split('\n');
      // One line saying what failed and why, at most one more saying what to try (README).
      expect(lines[0]).toMatch(/^error: /);
      expect(lines[0]).toMatch(mentions);
      expect(lines.length).toBeLessThanOrEqual(2);
      if (lines[1] !== undefined) expect(lines[1]).toMatch(/--help/);
      expect(stderr).not.toMatch(/^\s+at /m);
      expect(stderr).not.toContain('\u001b');
    },
  );

  it('a mistyped flag is still one error line plus one line of what to try', async () => {
    const { code, stderr } = await runMain(['publish', '--prioriti', '3', 'b']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--priority/);
    expect(stderr.trimEnd().split('\n').length).toBeLessThanOrEqual(2);
  });

  it('the error for a --url that is no URL never shows its password', async () => {
    const fake = fakeIo();
    const code = await main(['--url', 'amqp://u:Sekr1t-pw@[nope', 'publish', '-k', 'q', 'b'], fake.io);
    await new Promise((resolve) => setImmediate(resolve));
    expect(code).toBe(2);
    expect(fake.stderr()).toMatch(/^error: --url: /);
    expect(fake.stderr()).not.toContain('Sekr1t-pw');
    expect(fake.stdout()).toBe('');
  });

  it('--help prints help on stdout and exits 0', async () => {
    const { code, stdout, stderr } = await runMain(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: warren/);
    expect(stdout).toContain('Exit codes:');
    expect(stderr).toBe('');
  });

  it('publish --help prints the publish flags on stdout and exits 0', async () => {
    const { code, stdout, stderr } = await runMain(['publish', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('--routing-key');
    expect(stderr).toBe('');
  });

  it('--version prints the package version and exits 0', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const { code, stdout } = await runMain(['--version']);
    expect(code).toBe(0);
    expect(stdout).toBe(`${pkg.version}\n`);
  });

  /** Every command at every depth, as the words that name it: `['declare', 'queue']`. */
  function commandPaths(command = buildProgram(fakeIo().io), path: string[] = []): string[][] {
    return command.commands
      .filter((sub) => sub.name() !== 'help')
      .flatMap((sub) => [[...path, sub.name()], ...commandPaths(sub, [...path, sub.name()])]);
  }

  it.each(commandPaths().map((path) => [path.join(' ')]))(
    "'%s --bogus=URL': one redacted error line, and a hint naming that command's help",
    async (words) => {
      const path = words.split(' ');
      const required = path.at(-1) === 'binding' ? ['--source', 'x'] : [];
      const { code, stdout, stderr } = await runMain([...path, ...required, '--bogus=amqp://u:s3cretpw@h/']);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).not.toContain('s3cretpw');
      expect(stderr.trimEnd().split('\n')).toEqual([
        "error: unknown option '--bogus=amqp://u:***@h/'",
        `  see 'warren ${words} --help'`,
      ]);
    },
  );

  it.each(commandPaths().map((path) => [path.join(' ')]))(
    "'%s --help' says a flag's rule once: no 'with --x: with --x:'",
    async (words) => {
      const { code, stdout } = await runMain([...words.split(' '), '--help']);
      expect(code).toBe(0);
      expect(stdout.replace(/\s+/g, ' ')).not.toMatch(/(with [^:]+: )\1/);
    },
  );

  it('publish: a routing key `tail` is no tail command: the words after -- are the body', async () => {
    const parsed = known(
      await parseArgs(['publish', '-e', 'amq.direct', '-k', 'tail', '--', '-1'], fakeIo().io),
    );
    expect(parsed?.command).toBe('publish');
    expect(parsed?.command === 'publish' && parsed.options.body).toBe('-1');
  });

  it('tail: the words after -- are its trigger, whatever they say', async () => {
    const parsed = known(
      await parseArgs(['tail', 'ex', '--', 'warren', 'tail', '-v', '--', 'x'], fakeIo().io),
    );
    expect(parsed?.command === 'tail' && parsed.options.trigger).toEqual(['warren', 'tail', '-v', '--', 'x']);
    expect(parsed?.command === 'tail' && parsed.options.sources).toEqual([
      { exchange: 'ex', key: undefined },
    ]);
    expect(parsed?.global.verbose).toBe(false);
  });

  it('events: patterns bind the event exchange (default #); a trigger after --', async () => {
    const io = fakeIo().io;
    const plain = known(await parseArgs(['events'], io));
    expect(plain?.command).toBe('events');
    expect(plain?.options).toEqual({
      sources: [{ exchange: 'amq.rabbitmq.event', key: '#' }],
      matches: [],
      trigger: [],
      passUrl: false,
      output: { count: undefined, timeoutMs: undefined, format: 'ndjson' },
    });
    const full = known(
      await parseArgs(
        [
          'events',
          'queue.*',
          'user.#',
          '--match',
          'name=q',
          '-n',
          '2',
          '-t',
          '5s',
          '--format',
          'pretty',
        ].concat(['--pass-url', '--', 'warren', 'delete', 'queue', 'q']),
        io,
      ),
    );
    expect(full?.options).toEqual({
      sources: [
        { exchange: 'amq.rabbitmq.event', key: 'queue.*' },
        { exchange: 'amq.rabbitmq.event', key: 'user.#' },
      ],
      matches: ['name=q'],
      trigger: ['warren', 'delete', 'queue', 'q'],
      passUrl: true,
      output: { count: 2, timeoutMs: 5000, format: 'pretty' },
    });
  });

  it.each([
    ['--format body', ['events', '--format', 'body'], /--format/],
    ['--pass-url without a trigger', ['events', '--pass-url'], /--pass-url goes with a trigger/],
    ['a pattern over 255 bytes', ['events', 'x'.repeat(256)], /binding key is over 255 bytes/],
  ])('events: %s is a usage error', async (_what, argv, stderr) => {
    const result = await runMain(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(stderr);
  });

  it.each([
    ['a trigger', ['tail', 'ex', '--count', '0', '--', 'echo', '-v']],
    ['a body', ['publish', '--priority', '300', '--', '-v']],
  ])('a -v after -- (in %s) turns on no stack trace', async (_what, argv) => {
    const { code, stderr } = await runMain(argv);
    expect(code).toBe(2);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr.trimEnd().split('\n').length).toBeLessThanOrEqual(2);
  });

  it('a -v before the command does turn on stack traces for a usage error', async () => {
    const { code, stderr } = await runMain(['-v', 'publish', '--priority', '300', 'b']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^\s+at /m);
  });

  it('the rules between flags are in the help: "with --exec:" before, "(not with --exec)" after', async () => {
    const { stdout } = await runMain(['consume', '--help']);
    expect(stdout.replace(/\s+/g, ' ')).toContain(
      '--on-failure <policy> with --exec or --pipe: what a failed handler does',
    );
    expect(stdout).toMatch(/--reply\s+with --exec: publish/);
    expect(stdout.replace(/\s+/g, ' ')).toContain(
      '--prefetch <n> unacknowledged messages in flight (with --pipe: at least 100 per handler process by default) (not with --exec)',
    );
    const replay = await runMain(['replay', '--help']);
    expect(replay.stdout).toMatch(/--speed <factor>\s+with --timing original: 2 is twice as fast/);
  });

  it('no command at all prints the help on stderr and exits 2', async () => {
    const { code, stdout, stderr } = await runMain([]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/Usage: warren/);
  });
});
