/**
 * warren's command line: every command and flag is declared here; parsing returns plain
 * data; `main` is the one place that turns an error into an exit code.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { fromAlteredArgument, noteAlteredArguments } from './argvBytes.js';
import {
  encodableFromTyped,
  encodableHeaders,
  type FieldTable,
  FieldValueError,
  setField,
} from './broker/fieldTable.js';
import type { MessageProperties } from './broker/message.js';
import { unsendableText } from './broker/wireText.js';
import { brokerExplainer } from './brokerErrors.js';
import {
  parseBrokerUrl,
  readTlsFiles,
  resolveBrokerUrls,
  resolvePassword,
  splitUrls,
  urlFromEnv,
} from './brokerUrl.js';
import {
  ACK_MODES,
  type AckMode,
  FORMATS,
  type Format,
  INPUT_MODES,
  type InputMode,
  SHELLS,
} from './choices.js';
import type { ConsumeOptions } from './commands/consume.js';
import type { CommandContext } from './commands/context.js';
import type { ExecOptions } from './commands/exec.js';
import type { ProfileOptions } from './commands/profile.js';
import type { PublishOptions } from './commands/publish.js';
import type { ReplayOptions, ReplaySourceSpec } from './commands/replay.js';
import type { RpcOptions } from './commands/rpc.js';
import type { TailOptions } from './commands/tail.js';
import type { DeclareOptions, DeleteOptions, PurgeOptions } from './commands/topology.js';
import { configPath, type SelectedProfile, selectProfile } from './config.js';
import { MAX_TIMER_MS, parseDuration } from './duration.js';
import { DEFAULT_USAGE_HINT, ExitCode, UsageError, WarrenError } from './errors.js';
import { childEnv } from './exec/childEnv.js';
import { JsonTextError, parseJson, TOO_DEEP } from './json.js';
import { redactArgument } from './redact.js';
import { nameTooLong, parseSource, parseStreamOffset } from './tailSource.js';
import {
  type BindingSpec,
  maxAge,
  OVERFLOW_MODES,
  QUEUE_TYPES,
  type QueueOptions,
  queueArguments,
} from './topology/spec.js';
import { paintFor } from './ui/colour.js';
import { type Io, processIo } from './ui/io.js';
import { createReporter } from './ui/reporter.js';
import { type Spinner, startSpinner } from './ui/spinner.js';
import { humanLine, humanLines } from './ui/terminalText.js';

export interface GlobalOptions {
  urls: string[] | undefined;
  ca: string | undefined;
  cert: string | undefined;
  key: string | undefined;
  /** --password-file: where the password is, instead of in the URL. */
  passwordFile: string | undefined;
  insecure: boolean;
  quiet: boolean;
  verbose: boolean;
  color: boolean | undefined;
  /** --wait-for-broker, in milliseconds. */
  waitForBrokerMs: number | undefined;
  /** The config file's profile in use (--profile, WARREN_PROFILE, or the file's default). */
  profile: SelectedProfile | undefined;
}

/** Global options that say nothing, with some given: the profile commands (and tests) start here. */
export function plainGlobalOptions(overrides: Partial<GlobalOptions> = {}): GlobalOptions {
  return {
    urls: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
    passwordFile: undefined,
    insecure: false,
    quiet: false,
    verbose: false,
    color: undefined,
    waitForBrokerMs: undefined,
    profile: undefined,
    ...overrides,
  };
}

export type ParsedCommand =
  | { command: 'publish'; global: GlobalOptions; options: PublishOptions }
  | { command: 'consume'; global: GlobalOptions; options: ConsumeOptions }
  | { command: 'completion'; global: GlobalOptions; options: { shell: string } }
  | { command: 'profile'; global: GlobalOptions; options: ProfileOptions }
  | { command: 'declare'; global: GlobalOptions; options: DeclareOptions }
  | { command: 'delete'; global: GlobalOptions; options: DeleteOptions }
  | { command: 'purge'; global: GlobalOptions; options: PurgeOptions }
  | { command: 'tail'; global: GlobalOptions; options: TailOptions }
  | { command: 'replay'; global: GlobalOptions; options: ReplayOptions }
  | { command: 'exec'; global: GlobalOptions; options: ExecOptions }
  | { command: 'rpc'; global: GlobalOptions; options: RpcOptions };

const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

// ---------------------------------------------------------------------------------------
// Value parsers: each throws InvalidArgumentError, which commander reports as exit 2.

function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim()))
      throw new InvalidArgumentError(`expected a whole number, got '${value}'`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`must be from ${min} to ${max}, got ${value}`);
    return n;
  };
}

function duration(value: string): number {
  try {
    return parseDuration(value);
  } catch {
    throw new InvalidArgumentError(`'${value}' is not a duration (use 500ms, 10s, 5m, 1h)`);
  }
}

/** A duration warren waits with a timer (timeouts, grace periods): at most MAX_TIMER_MS. */
function timerDuration(value: string): number {
  const ms = duration(value);
  if (ms > MAX_TIMER_MS) throw new InvalidArgumentError(`'${value}' is too long: at most 24d (596h)`);
  return ms;
}

/** The flag an option's name comes from: `ackMode` is `--ack-mode`. */
function flagOf(name: string): string {
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** ISO 8601 as people write it: a date, then maybe a time and a zone. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** `--timestamp`: now, whole seconds since the epoch, or an ISO 8601 time, from 1970 on. */
function timestamp(value: string): number {
  if (value === 'now') return Math.floor(Date.now() / 1000);
  const seconds = /^\d+$/.test(value)
    ? Number(value)
    : ISO_8601.test(value)
      ? Math.floor(Date.parse(value) / 1000)
      : Number.NaN;
  if (Number.isNaN(seconds)) {
    throw new InvalidArgumentError(
      `'${value}' is not a time (use now, seconds since the epoch, or ISO 8601 such as 2026-11-27T09:00:00Z)`,
    );
  }
  // A date shows times up to the year 275760; beyond, no reader could make sense of it.
  if (seconds < 0 || Number.isNaN(new Date(seconds * 1000).getTime())) {
    throw new InvalidArgumentError(`'${value}' is out of range (from 1970 to the year 275760)`);
  }
  return seconds;
}

/**
 * Why an argument cannot be sent as it was given, if so: bytes that were not UTF-8 (Node
 * read them as U+FFFD), or a lone surrogate (from a JSON escape such as `\ud800`).
 */
function unsendableArgument(value: string): string | undefined {
  if (fromAlteredArgument(value)) {
    return 'is not valid UTF-8 as given (it would be sent with U+FFFD in place of those bytes)';
  }
  return unsendableText(value);
}

/** A queue or exchange name: the broker takes at most 255 bytes. */
function brokerName(what: string) {
  return (value: string): string => {
    const problem = nameTooLong(what, value) ?? prefixed(what, unsendableArgument(value));
    if (problem) throw new InvalidArgumentError(problem);
    return value;
  };
}

function shortString(flag: string) {
  return (value: string): string => {
    if (Buffer.byteLength(value) > 255) throw new InvalidArgumentError(`${flag} is over 255 bytes`);
    const problem = unsendableArgument(value);
    if (problem) throw new InvalidArgumentError(`${flag} ${problem}`);
    return value;
  };
}

function prefixed(what: string, problem: string | undefined): string | undefined {
  return problem && `${what} ${problem}`;
}

/**
 * `-H key=value` is a string header; `-H key:=JSON` a typed one (numbers, booleans, `{"!":…}`).
 * Returns them in the envelope's typed form and in the form the client library encodes.
 */
export function headerFlags(
  flags: string[],
  flag = '--header',
): { typed: FieldTable; encoded: Record<string, unknown> } {
  const typed: FieldTable = {};
  const encoded: Record<string, unknown> = {};
  for (const given of flags) {
    const equals = given.indexOf('=');
    if (equals <= 0 || (equals === 1 && given[0] === ':')) {
      throw new UsageError(`${flag} '${given}': expected key=value or key:=JSON`);
    }
    const isTyped = given[equals - 1] === ':';
    const key = given.slice(0, isTyped ? equals - 1 : equals);
    const raw = given.slice(equals + 1);
    if (Buffer.byteLength(key) > 255)
      throw new UsageError(`${flag} '${key.slice(0, 20)}…': key is over 255 bytes`);
    const unsendable =
      prefixed('the key', unsendableArgument(key)) ??
      (isTyped ? undefined : prefixed('the value', unsendableArgument(raw)));
    if (unsendable) throw new UsageError(`${flag} ${JSON.stringify(given)}: ${unsendable}`);
    if (!isTyped) {
      setField(typed, key, raw);
      setField(encoded, key, raw);
      continue;
    }
    let value: unknown;
    try {
      value = parseJson(raw);
    } catch (error) {
      if (!(error instanceof JsonTextError)) throw error;
      if (error.problem === TOO_DEEP) throw new UsageError(`${flag} '${key}': the JSON value is ${TOO_DEEP}`);
      throw new UsageError(`${flag} '${given}': '${raw}' is not JSON (use key=value for a string)`);
    }
    try {
      setField(encoded, key, encodableFromTyped(value, key));
    } catch (error) {
      if (error instanceof FieldValueError) throw new UsageError(`${flag}: ${error.message}`);
      throw error;
    }
    setField(typed, key, value);
  }
  try {
    encodableHeaders(typed, flag);
  } catch (error) {
    if (error instanceof FieldValueError) throw new UsageError(error.message);
    throw error;
  }
  return { typed, encoded };
}

/** The headers of `-H` flags, ready for the client library to encode. */
export function parseHeaderFlags(flags: string[], flag = '--header'): Record<string, unknown> {
  return headerFlags(flags, flag).encoded;
}

// ---------------------------------------------------------------------------------------
// The commands and their flags.

/** Reconnection attempts in a row after a lost connection (publish, consume). */
const DEFAULT_RETRIES = 5;

const EXAMPLES = {
  program: `
Examples:
  $ warren publish --routing-key orders '{"id":42}'
  $ warren consume orders --count 10 | jq .body
  $ warren consume orders --format ndjson > capture.ndjson`,
  publish: `
Examples:
  $ warren publish --exchange orders --routing-key order.created -H x-tenant=acme '{"id":42}'
  $ seq 1 1000 | warren publish --routing-key numbers --input lines
  $ warren publish --input ndjson --exchange '' --routing-key orders-copy < capture.ndjson
  $ warren publish --rpc --routing-key rpc.echo --timeout 5s --template '{body}' 'hello'   # exit 3: no reply`,
  consume: `
Examples:
  $ warren consume orders                              # pretty on a terminal, NDJSON in a pipe
  $ warren consume orders --count 1 --timeout 10s      # exit 3 if nothing comes within 10s
  $ warren consume orders --ack-mode requeue --format ndjson | jq -c .headers   # peek
  $ warren consume orders --exec './handle-order.sh' --concurrency 4 --max-retries 3 --exec-timeout 30s
  $ warren consume rpc.echo --exec 'tr a-z A-Z' --reply              # a request/reply server
  $ warren consume orders --exec 'warren publish -k orders.seen' --pass-url   # its warren reaches this broker`,
  declare: `
Examples:
  $ warren declare exchange orders --type topic
  $ warren declare queue orders.created --type quorum --dead-letter-exchange orders.dlx
  $ warren declare binding --source orders --queue orders.created --key 'order.*'
  $ Q=$(warren declare queue '' --expires 10m)      # a server-named queue, gone when unused
  $ warren declare --file topology.json --check     # exit 5 if the broker differs`,
  delete: `
Examples:
  $ warren delete queue orders.created --if-empty
  $ warren delete binding --source orders --queue orders.created --key 'order.*'
  $ warren delete --file topology.json`,
  tail: `
Examples:
  $ warren tail orders                          # every message through the topic exchange 'orders'
  $ warren tail orders:order.created audit --format ndjson | jq .body
  $ warren tail orders:order.created --match body.id=42 --count 1 --timeout 10s -- curl -X POST localhost:8080/orders
  $ warren tail orders --count 1 --timeout 10s --pass-url -- warren publish -e orders -k order.created '{"id":42}'`,
  replay: `
Examples:
  $ warren replay capture.ndjson                          # each message back to its exchange and key
  $ warren replay capture.ndjson --timing original --speed 2 --exchange '' --routing-key orders-test
  $ warren replay --from-queue orders.dlq --dry-run | jq -c '{exchange, routingKey}'
  $ warren replay --from-queue orders.dlq --rate 100/s    # re-drive dead letters, acked once confirmed
  $ warren replay --from-stream orders.log --offset 1h --exchange orders-v2`,
  declareExchange: `
Examples:
  $ warren declare exchange orders --type topic
  $ warren declare exchange orders.dlx --type fanout --json | jq .status`,
  declareQueue: `
Examples:
  $ warren declare queue orders.created --type quorum --dead-letter-exchange orders.dlx
  $ warren declare queue orders.log --type stream --max-age 7D
  $ Q=$(warren declare queue '' --expires 10m)      # a server-named queue, gone when unused`,
  declareBinding: `
Examples:
  $ warren declare binding --source orders --queue orders.created --key 'order.*'
  $ warren declare binding --source amq.headers --queue eu-orders --arg x-match=all --arg region=eu`,
  deleteQueue: `
Examples:
  $ warren delete queue orders.created --if-empty     # exit 5 if it still holds messages
  $ warren delete queue orders.created --json | jq -r .detail     # '12 messages with it'`,
  deleteExchange: `
Examples:
  $ warren delete exchange orders --if-unused`,
  deleteBinding: `
Examples:
  $ warren delete binding --source orders --queue orders.created --key 'order.*'`,
  purge: `
Examples:
  $ warren purge orders.created
  $ warren purge orders.created --json | jq .messageCount`,
  profile: `
Examples:
  $ warren profile add staging --url amqps://warren@rabbit-1.staging:5671 --password-file ~/.warren-staging \\
      --ca ~/certs/staging-ca.pem --vhost orders --default
  $ warren profile list
  $ warren --profile staging consume orders.created --count 1
  $ warren profile remove staging`,
  completion: `
Examples:
  $ warren completion bash > ~/.local/share/bash-completion/completions/warren
  $ warren completion zsh > "\${fpath[1]}/_warren"
  $ warren completion fish > ~/.config/fish/completions/warren.fish`,
};

export function buildProgram(
  io: Io,
  onParsed: (parsed: ParsedCommand) => void,
  /** tail: the trigger command, the words after `--`. */
  trigger: string[] = [],
): Command {
  const program = new Command('warren')
    .description('Publish and consume events on RabbitMQ (AMQP 0-9-1).')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .addOption(
      new Option('--url <url>', 'broker URL, repeatable or comma-separated: tried in order').argParser(
        collect,
      ),
    )
    .option('--ca <file>', 'PEM file of the CA that signed the broker certificate (amqps)')
    .option('--cert <file>', 'PEM client certificate (amqps)')
    .option('--key <file>', 'PEM private key of the client certificate (amqps)')
    .option('--insecure', 'do not verify the broker certificate (warns)')
    .option(
      '--password-file <file>',
      'read the password from FILE (one line) rather than the URL; else WARREN_PASSWORD',
    )
    .option('-q, --quiet', 'no human summary on stderr')
    .option('-v, --verbose', 'connection and protocol detail on stderr, stack traces on errors')
    .option('--no-color', 'no colour, whatever the terminal')
    .option(
      '--wait-for-broker <duration>',
      'keep trying to connect this long (a broker starting beside a CI job)',
      duration,
    )
    .option('--profile <name>', 'a broker profile from the config file (else WARREN_PROFILE)')
    .addHelpText(
      'after',
      `
Connection: --url, else WARREN_URL, else AMQP_URL, else the profile's, else amqp://guest:guest@localhost:5672/.
Password:   --password-file, else WARREN_PASSWORD, else the profile's passwordFile, else the URL's.
            (A password in --url is visible to every user of the machine in the process list.)
Profiles: ${configPath(io.env) ?? '$XDG_CONFIG_HOME/warren/config.json'}
Exit codes: 0 ok, 1 failure, 2 usage, 3 timed out, 4 not delivered, 5 refused by the broker,
            65 bad input data, 69 broker unreachable, 130/143 stopped by SIGINT/SIGTERM.
${EXAMPLES.program}`,
    )
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });

  // The config file is read once, when a command is parsed, and only if it exists.
  let profile: { selected: SelectedProfile | undefined } | undefined;
  const profileOf = (o: Record<string, unknown>): SelectedProfile | undefined => {
    profile ??= { selected: selectProfile(o['profile'] as string | undefined, io.env) };
    return profile.selected;
  };
  /** --format, else the profile's, else pretty on a terminal and NDJSON in a pipe. */
  const formatOf = (command: Command): Format =>
    (command.opts()['format'] as Format | undefined) ??
    profileOf(command.optsWithGlobals())?.settings.format ??
    (io.stdout.isTTY ? 'pretty' : 'ndjson');

  const globals = (command: Command): GlobalOptions => {
    const o = command.optsWithGlobals();
    return {
      urls: o['url'],
      ca: o['ca'],
      cert: o['cert'],
      key: o['key'],
      passwordFile: o['passwordFile'],
      insecure: o['insecure'] === true,
      quiet: o['quiet'] === true,
      verbose: o['verbose'] === true,
      color: o['color'] === false ? false : undefined,
      waitForBrokerMs: o['waitForBroker'] as number | undefined,
      profile: profileOf(o),
    };
  };

  program
    .command('publish')
    .description('publish one message, or many from stdin or a file, with publisher confirms')
    .argument('[body]', 'the message body (else --file, else stdin)')
    .option(
      '-e, --exchange <name>',
      "exchange to publish to ('' is the default exchange)",
      brokerName('--exchange'),
    )
    .option(
      '-k, --routing-key <key>',
      'routing key (for the default exchange: the queue name)',
      shortString('--routing-key'),
    )
    .option('-f, --file <path>', 'read the body (or the lines) from a file')
    .addOption(
      new Option(
        '-i, --input <mode>',
        'raw: all input is one message; lines: one per line; ndjson: one envelope per line',
      )
        .choices(INPUT_MODES)
        .default('raw'),
    )
    .option('-H, --header <key=value>', 'a header; key:=JSON for a typed value (repeatable)', collect)
    .option('--content-type <type>', 'content-type property', shortString('--content-type'))
    .option('--content-encoding <encoding>', 'content-encoding property', shortString('--content-encoding'))
    .option('--persistent', 'delivery mode 2: survives a broker restart (the default)')
    .option('--transient', 'delivery mode 1')
    .option('--priority <0-255>', 'priority property', integer(0, 255))
    .option('--expiration <duration>', 'per-message TTL, e.g. 30s', duration)
    .option('--message-id <id>', 'message-id property', shortString('--message-id'))
    .option('--correlation-id <id>', 'correlation-id property', shortString('--correlation-id'))
    .option('--reply-to <queue>', 'reply-to property', shortString('--reply-to'))
    .option('--type <type>', 'type property', shortString('--type'))
    .option('--app-id <id>', 'app-id property', shortString('--app-id'))
    .option(
      '--timestamp <time>',
      "timestamp property: 'now', seconds since the epoch, or ISO 8601",
      timestamp,
    )
    .option('--no-mandatory', 'allow unroutable messages to be dropped silently')
    .option('--skip-invalid', 'with --input ndjson: warn about a malformed line and go on')
    .option(
      '--retries <n>',
      'after a lost connection, reconnect up to N times in a row and send again what was not confirmed (0: exit 69 at once)',
      integer(0, 1000),
      DEFAULT_RETRIES,
    )
    .option('--rpc', 'send a request (direct reply-to, a fresh correlation id) and print its reply')
    .option(
      '-t, --timeout <duration>',
      'with --rpc: how long to wait for the reply (default 30s; exit 3)',
      timerDuration,
    )
    .addOption(
      new Option(
        '--format <format>',
        'with --rpc: how to print the reply; pretty on a terminal, else ndjson',
      ).choices(FORMATS),
    )
    .option('--template <template>', 'with --rpc: print the reply as one line, e.g. {body}')
    .option('--full', "with --rpc: show a long reply whole, not cut to the terminal's height")
    .addHelpText('after', EXAMPLES.publish)
    .action((body: string | undefined, o: Record<string, unknown>, command: Command) => {
      if (o['persistent'] && o['transient'])
        throw new UsageError('--persistent and --transient contradict each other');
      const unsendableBody = body === undefined ? undefined : unsendableArgument(body);
      if (unsendableBody) {
        throw new UsageError(`the BODY argument ${unsendableBody}`, {
          hint: "give a body of any bytes with --file FILE, or on stdin; see 'warren publish --help'",
        });
      }
      if (o['rpc']) {
        if (o['input'] !== 'raw')
          throw new UsageError('--rpc sends one request: it does not go with --input');
        if (o['replyTo'] !== undefined) {
          throw new UsageError('--rpc sets the reply-to itself (direct reply-to): leave out --reply-to');
        }
        if (command.getOptionValueSource('retries') === 'cli') {
          throw new UsageError(
            '--rpc sends one request and waits for its reply: it does not go with --retries',
          );
        }
      } else {
        for (const flag of ['timeout', 'format', 'template', 'full']) {
          if (o[flag] !== undefined) throw new UsageError(`--${flag} goes with --rpc`);
        }
      }
      const properties: MessageProperties = {
        contentType: o['contentType'] as string | undefined,
        contentEncoding: o['contentEncoding'] as string | undefined,
        deliveryMode: o['transient'] ? 1 : o['persistent'] ? 2 : undefined,
        priority: o['priority'] as number | undefined,
        correlationId: o['correlationId'] as string | undefined,
        replyTo: o['replyTo'] as string | undefined,
        expiration: o['expiration'] === undefined ? undefined : String(o['expiration']),
        messageId: o['messageId'] as string | undefined,
        timestamp: o['timestamp'] as number | undefined,
        type: o['type'] as string | undefined,
        appId: o['appId'] as string | undefined,
      };
      for (const key of Object.keys(properties) as (keyof MessageProperties)[]) {
        if (properties[key] === undefined) delete properties[key];
      }
      const parsed: Extract<ParsedCommand, { command: 'publish' }> = {
        command: 'publish',
        global: globals(command),
        options: {
          overrides: {
            exchange: o['exchange'] as string | undefined,
            routingKey: o['routingKey'] as string | undefined,
            properties,
            headers: parseHeaderFlags((o['header'] as string[] | undefined) ?? []),
          },
          body,
          file: o['file'] as string | undefined,
          input: o['input'] as InputMode,
          mandatory: o['mandatory'] !== false,
          skipInvalid: o['skipInvalid'] === true,
          retries: o['retries'] as number,
        },
      };
      if (!o['rpc']) {
        onParsed(parsed);
        return;
      }
      onParsed({
        command: 'rpc',
        global: parsed.global,
        options: {
          request: parsed.options,
          timeoutMs: (o['timeout'] as number | undefined) ?? 30_000,
          format: formatOf(command),
          template: o['template'] as string | undefined,
          full: o['full'] === true,
        },
      });
    });

  program
    .command('consume')
    .description('take messages from a queue and print them (acked only once read)')
    .argument('<queue>', 'the queue to consume from', brokerName('the queue name'))
    .option('-n, --count <n>', 'stop after N messages', integer(1))
    .option(
      '-t, --timeout <duration>',
      'stop when nothing arrives for this long (exit 3 if --count not reached)',
      timerDuration,
    )
    .option('--prefetch <n>', 'unacknowledged messages in flight', integer(1, 65535), 1000)
    .option(
      '--retries <n>',
      'after a lost connection, reconnect up to N times in a row (0: exit 69 at once; a peek never reconnects)',
      integer(0, 1000),
      DEFAULT_RETRIES,
    )
    .addOption(
      new Option(
        '--ack-mode <mode>',
        'ack: take; requeue: peek, leave the queue as it was; reject: dead-letter; none: broker auto-ack',
      )
        .choices(ACK_MODES)
        .default('ack'),
    )
    .addOption(
      new Option(
        '--format <format>',
        'pretty on a terminal, else ndjson; body: the raw body and a newline',
      ).choices(FORMATS),
    )
    .option('--template <template>', "one line per message, e.g. '{routingKey} {headers.x-id} {body}'")
    .option('--full', "pretty output: show long bodies whole, not cut to the terminal's height")
    .option(
      '--exec <command>',
      'run COMMAND (through the shell) per message: body on stdin, envelope in WARREN_* variables',
    )
    .addOption(
      new Option('--on-failure <policy>', 'with --exec: what a failed handler does to its message')
        .choices(['requeue', 'reject', 'dead-letter'])
        .default('requeue'),
    )
    .option(
      '--concurrency <n>',
      'with --exec: handlers running at once, the prefetch follows (default 1)',
      integer(1, 65535),
    )
    .option(
      '--exec-timeout <duration>',
      'with --exec: kill a handler running longer; its message failed',
      timerDuration,
    )
    .option(
      '--max-retries <n>',
      'with --exec: reject (dead-letter) a message after N failed retries',
      integer(0),
    )
    .option('--reply', "with --exec: publish the handler's stdout to the message's reply-to (request/reply)")
    .option(
      '--grace <duration>',
      'with --exec: on Ctrl-C, how long running handlers may finish (default 10s)',
      timerDuration,
    )
    .option('--pass-url', "with --exec: give the handler WARREN_URL, password included, for warren's broker")
    .addHelpText('after', EXAMPLES.consume)
    .action((queue: string, o: Record<string, unknown>, command: Command) => {
      const given = (name: string) => command.getOptionValueSource(name) === 'cli';
      if (o['exec'] !== undefined) {
        if ((o['exec'] as string).trim() === '') {
          throw new UsageError('--exec needs a command: an empty one would ack every message unhandled');
        }
        for (const name of ['prefetch', 'ackMode', 'format', 'template', 'full']) {
          if (given(name)) {
            throw new UsageError(
              `${flagOf(name)} does not go with --exec: the handler's outcome settles each message, and its output goes to stderr`,
            );
          }
        }
        onParsed({
          command: 'exec',
          global: globals(command),
          options: {
            queue,
            command: o['exec'] as string,
            onFailure: o['onFailure'] === 'requeue' ? 'requeue' : 'reject',
            concurrency: (o['concurrency'] as number | undefined) ?? 1,
            execTimeoutMs: o['execTimeout'] as number | undefined,
            maxRetries: o['maxRetries'] as number | undefined,
            reply: o['reply'] === true,
            graceMs: (o['grace'] as number | undefined) ?? 10_000,
            passUrl: o['passUrl'] === true,
            count: o['count'] as number | undefined,
            timeoutMs: o['timeout'] as number | undefined,
            retries: o['retries'] as number,
          },
        });
        return;
      }
      for (const name of [
        'onFailure',
        'concurrency',
        'execTimeout',
        'maxRetries',
        'reply',
        'grace',
        'passUrl',
      ]) {
        if (given(name)) {
          throw new UsageError(`${flagOf(name)} goes with --exec`);
        }
      }
      onParsed({
        command: 'consume',
        global: globals(command),
        options: {
          queue,
          count: o['count'] as number | undefined,
          timeoutMs: o['timeout'] as number | undefined,
          prefetch: o['prefetch'] as number,
          ackMode: o['ackMode'] as AckMode,
          format: formatOf(command),
          template: o['template'] as string | undefined,
          full: o['full'] === true,
          retries: o['retries'] as number,
        },
      });
    });

  program
    .command('completion')
    .description('print the shell completion script')
    .addArgument(new Argument('<shell>', 'the shell to complete for').choices(SHELLS))
    .addHelpText('after', EXAMPLES.completion)
    .action((shell: string, _o: unknown, command: Command) => {
      onParsed({ command: 'completion', global: globals(command), options: { shell } });
    });

  addProfileCommand(program, onParsed);
  addTopologyCommands(program, globals, onParsed);
  addTailCommand(program, { globals, onParsed, formatOf, trigger });
  addReplayCommand(program, { globals, onParsed, io, formatOf });
  return program;
}

/**
 * `warren profile list|add|remove`. The connection flags (--url, --ca, --cert, --key,
 * --password-file, --insecure) are what `add` saves; no profile is selected to run it.
 */
function addProfileCommand(program: Command, onParsed: (parsed: ParsedCommand) => void): void {
  // The profile commands use no profile: the options alone, with none chosen.
  const plainGlobals = (command: Command): GlobalOptions => {
    const o = command.optsWithGlobals();
    return plainGlobalOptions({
      quiet: o['quiet'] === true,
      verbose: o['verbose'] === true,
      color: o['color'] === false ? false : undefined,
    });
  };
  const profile = program
    .command('profile')
    .description('list, add or remove the broker profiles of the config file')
    .addHelpText('after', EXAMPLES.profile)
    .action(() => {
      throw new UsageError('say what to do: list, add NAME or remove NAME', {
        hint: "see 'warren profile --help'",
      });
    });
  profile
    .command('list')
    .description('the profiles, with their URLs (passwords masked); * marks the default')
    .option('--json', 'print them as JSON on stdout')
    .action((o: Record<string, unknown>, command: Command) => {
      onParsed({
        command: 'profile',
        global: plainGlobals(command),
        options: { action: 'list', json: o['json'] === true },
      });
    });
  profile
    .command('add')
    .description(
      'save the connection flags given (--url, --ca, --cert, --key, --password-file, --insecure) as a profile',
    )
    .argument('<name>', 'the name to use with --profile')
    .option('--vhost <vhost>', 'the vhost for URLs that name none')
    .addOption(
      new Option('--format <format>', 'the output format when --format is not given').choices(FORMATS),
    )
    .option('--default', 'make it the profile used when none is named')
    .option('--force', 'replace a profile of that name')
    .addHelpText('after', EXAMPLES.profile)
    .action((name: string, o: Record<string, unknown>, command: Command) => {
      const all = command.optsWithGlobals();
      const urls = splitUrls((all['url'] as string[] | undefined) ?? []);
      for (const url of urls) parseBrokerUrl(url);
      const entry = {
        urls: urls.length > 0 ? urls : undefined,
        ca: absoluteFile(all['ca'] as string | undefined),
        cert: absoluteFile(all['cert'] as string | undefined),
        key: absoluteFile(all['key'] as string | undefined),
        passwordFile: absoluteFile(all['passwordFile'] as string | undefined),
        insecure: all['insecure'] === true ? true : undefined,
        vhost: o['vhost'] as string | undefined,
        format: o['format'] as Format | undefined,
      };
      if (Object.values(entry).every((value) => value === undefined)) {
        throw new UsageError(
          `profile '${name}' would say nothing: give --url (and --ca, --password-file, …)`,
        );
      }
      onParsed({
        command: 'profile',
        global: plainGlobals(command),
        options: {
          action: 'add',
          name,
          entry,
          replace: o['force'] === true,
          makeDefault: o['default'] === true,
        },
      });
    });
  profile
    .command('remove')
    .description('remove a profile from the config file')
    .argument('<name>', 'the profile')
    .action((name: string, _o: unknown, command: Command) => {
      onParsed({ command: 'profile', global: plainGlobals(command), options: { action: 'remove', name } });
    });
}

/** A relative file path saved in a profile, made absolute (the config file reads it from its own folder). */
function absoluteFile(path: string | undefined): string | undefined {
  if (path === undefined || path.startsWith('~/') || isAbsolute(path)) return path;
  return resolve(path);
}

/** `--rate 100`, `100/s`, `30/m`: messages per second. */
function rate(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(?:\/(s|m|h))?$/.exec(value.trim());
  const per = { s: 1, m: 60, h: 3600 }[(match?.[2] ?? 's') as 's' | 'm' | 'h'];
  const n = match ? Number(match[1]) / per : Number.NaN;
  if (!(n > 0) || !Number.isFinite(n))
    throw new InvalidArgumentError(`'${value}' is not a rate (use 100, 100/s, 30/m or 500/h)`);
  return n;
}

function positiveNumber(value: string): number {
  const n = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(n > 0)) throw new InvalidArgumentError(`expected a number above 0, got '${value}'`);
  return n;
}

/** `--until 1500` is an offset; anything else a time, as `--offset` takes it. */
function streamUntil(text: string): { offset: number } | { time: unknown } {
  if (/^\d+$/.test(text)) return { offset: Number(text) };
  const notOne = new UsageError(
    `--until: '${text}' is not an offset or a time (ISO 8601, or a duration ago: 10m)`,
  );
  if (text === 'first' || text === 'last' || text === 'next') throw notOne;
  try {
    return { time: parseStreamOffset(text) };
  } catch {
    throw notOne;
  }
}

/** Which of a file, --from-queue and --from-stream is replayed: exactly one. */
function replaySource(file: string | undefined, o: Record<string, unknown>, io: Io): ReplaySourceSpec {
  const queue = o['fromQueue'] as string | undefined;
  const stream = o['fromStream'] as string | undefined;
  const given = [file, queue, stream].filter((x) => x !== undefined).length;
  if (given > 1) throw new UsageError('replay one source: a FILE, --from-queue QUEUE or --from-stream QUEUE');
  if (stream === undefined && (o['offset'] !== undefined || o['until'] !== undefined)) {
    throw new UsageError(`--${o['offset'] !== undefined ? 'offset' : 'until'} goes with --from-stream`);
  }
  if (queue !== undefined) return { kind: 'queue', queue };
  if (stream !== undefined) {
    const startText = (o['offset'] as string | undefined) ?? 'first';
    const untilText = o['until'] as string | undefined;
    return {
      kind: 'stream',
      queue: stream,
      range: {
        start: parseStreamOffset(startText),
        startText,
        until: untilText === undefined ? undefined : streamUntil(untilText),
        untilText,
      },
    };
  }
  if (file === undefined && io.stdin.isTTY) {
    throw new UsageError(
      'say what to replay: a FILE (- for stdin), --from-queue QUEUE or --from-stream QUEUE',
      {
        hint: "see 'warren replay --help'",
      },
    );
  }
  return { kind: 'file', path: file ?? '-' };
}

/** replay: captured, dead-lettered or stream messages back onto the bus. */
function addReplayCommand(
  program: Command,
  {
    globals,
    onParsed,
    io,
    formatOf,
  }: {
    globals: (command: Command) => GlobalOptions;
    onParsed: (parsed: ParsedCommand) => void;
    io: Io;
    formatOf: (command: Command) => Format;
  },
): void {
  program
    .command('replay')
    .description('re-publish captured messages, dead-lettered messages or a stream range (with confirms)')
    .argument('[file]', 'NDJSON envelopes, as consume and tail write them (- for stdin)')
    .option(
      '--from-queue <queue>',
      're-drive a dead-letter queue: each message back where x-death says it was published',
      brokerName('--from-queue'),
    )
    .option(
      '--from-stream <queue>',
      're-publish a range of a stream queue, from --offset',
      brokerName('--from-stream'),
    )
    .option(
      '--offset <offset>',
      'with --from-stream: first (default), last, next, an offset, a time (ISO 8601) or a duration ago (10m)',
    )
    .option('--until <offset|time>', 'with --from-stream: stop before this offset or time')
    .option(
      '-e, --exchange <name>',
      "publish to this exchange instead ('' is the default exchange)",
      brokerName('--exchange'),
    )
    .option('--to-exchange <name>', 'the same as --exchange', brokerName('--to-exchange'))
    .option('-k, --routing-key <key>', 'publish with this routing key instead', shortString('--routing-key'))
    .option('-H, --header <key=value>', 'set a header; key:=JSON for a typed value (repeatable)', collect)
    .addOption(
      new Option(
        '--timing <mode>',
        'none: as fast as confirms allow; original: keep the recorded gaps (files)',
      )
        .choices(['none', 'original'])
        .default('none'),
    )
    .option(
      '--speed <factor>',
      'with --timing original: 2 is twice as fast, 0.5 half as fast (default 1)',
      positiveNumber,
    )
    .option('--rate <n/s>', 'at most this many messages per second (100, 100/s, 30/m)', rate)
    .option(
      '--match <expr>',
      "replay only messages matching EXPR, e.g. 'headers.x-tenant=acme' (repeatable)",
      collect,
    )
    .option('-n, --count <n>', 'stop after N messages', integer(1))
    .option('--dry-run', 'print the messages that would be published, and where to; publish nothing')
    .addOption(
      new Option(
        '--format <format>',
        'with --dry-run: pretty on a terminal, else ndjson (envelopes)',
      ).choices(FORMATS),
    )
    .option('--template <template>', "with --dry-run: one line per message, e.g. '{exchange} {routingKey}'")
    .option('--full', "with --dry-run: show long bodies whole, not cut to the terminal's height")
    .option('--receipts', 'one NDJSON line per message on stdout: seq, line, status, replyCode')
    .option('--no-mandatory', 'allow unroutable messages to be dropped silently (and acked on --from-queue)')
    .option('--skip-invalid', 'warn about a malformed input line and go on')
    .addHelpText('after', EXAMPLES.replay)
    .action((file: string | undefined, o: Record<string, unknown>, command: Command) => {
      const source = replaySource(file, o, io);
      const timing = o['timing'] as 'none' | 'original';
      if (timing === 'original' && source.kind !== 'file') {
        throw new UsageError(
          '--timing original needs recorded times: replay a file (queues and streams have none)',
        );
      }
      if (o['speed'] !== undefined && timing !== 'original')
        throw new UsageError('--speed goes with --timing original');
      if (o['dryRun'] && o['receipts'])
        throw new UsageError('--dry-run publishes nothing: there are no --receipts');
      if (!o['dryRun']) {
        for (const flag of ['format', 'template', 'full']) {
          if (o[flag] !== undefined) throw new UsageError(`--${flag} goes with --dry-run`);
        }
      }
      if (o['skipInvalid'] && source.kind !== 'file') throw new UsageError('--skip-invalid goes with a FILE');
      const exchange = o['exchange'] as string | undefined;
      const toExchange = o['toExchange'] as string | undefined;
      if (exchange !== undefined && toExchange !== undefined && exchange !== toExchange) {
        throw new UsageError('--exchange and --to-exchange name different exchanges');
      }
      const headers = headerFlags((o['header'] as string[] | undefined) ?? []);
      onParsed({
        command: 'replay',
        global: globals(command),
        options: {
          source,
          overrides: {
            exchange: exchange ?? toExchange,
            routingKey: o['routingKey'] as string | undefined,
            properties: {},
            headers: headers.encoded,
          },
          typedHeaders: headers.typed,
          timing,
          speed: (o['speed'] as number | undefined) ?? 1,
          rate: o['rate'] as number | undefined,
          matches: (o['match'] as string[] | undefined) ?? [],
          count: o['count'] as number | undefined,
          dryRun: o['dryRun'] === true,
          output: {
            format: formatOf(command),
            template: o['template'] as string | undefined,
            full: o['full'] === true,
          },
          receipts: o['receipts'] === true,
          mandatory: o['mandatory'] !== false,
          skipInvalid: o['skipInvalid'] === true,
        },
      });
    });
}

/** tail: watch exchanges through a queue of warren's own. */
function addTailCommand(
  program: Command,
  {
    globals,
    onParsed,
    formatOf,
    trigger,
  }: {
    globals: (command: Command) => GlobalOptions;
    onParsed: (parsed: ParsedCommand) => void;
    formatOf: (command: Command) => Format;
    trigger: string[];
  },
): void {
  program
    .command('tail')
    .description("watch exchanges without taking messages from anyone's queue")
    .argument('[source...]', 'EXCHANGE or EXCHANGE:BINDING_KEY (several allowed)')
    // The trigger after `--` is no commander argument, so the usage line names it itself.
    .usage('[options] [source...] [-- TRIGGER COMMAND...]')
    .option('--stream <queue>', 'read a stream queue in place instead, from --offset')
    .option(
      '--offset <offset>',
      'with --stream: first, last, next (default), an offset, a time (ISO 8601) or a duration ago (10m)',
    )
    .option(
      '--match-header <key=value>',
      'headers exchanges: a header to match; key:=JSON typed (repeatable)',
      collect,
    )
    .option('--any', 'headers exchanges: any one --match-header suffices')
    .option('--all', 'headers exchanges: every --match-header must match (the default)')
    .option(
      '--match <expr>',
      "print and count only messages matching EXPR, e.g. 'body.id=42' (repeatable: all must match)",
      collect,
    )
    .option('-n, --count <n>', 'stop after N (matching) messages', integer(1))
    .option(
      '-t, --timeout <duration>',
      'stop when no (matching) message arrives for this long (exit 3 if --count not reached)',
      timerDuration,
    )
    .addOption(
      new Option(
        '--format <format>',
        'pretty on a terminal, else ndjson; body: the raw body and a newline',
      ).choices(FORMATS),
    )
    .option('--template <template>', "one line per message, e.g. '{routingKey} {body}'")
    .option('--full', "pretty output: show long bodies whole, not cut to the terminal's height")
    .option('--capture <file>', 'also write every printed message to FILE as NDJSON envelopes (for replay)')
    .option('--pass-url', "with a trigger: give it WARREN_URL, password included, for warren's broker")
    .addHelpText('after', EXAMPLES.tail)
    .action((sources: string[], o: Record<string, unknown>, command: Command) => {
      if (o['any'] && o['all']) throw new UsageError('--any and --all contradict each other');
      const streamQueue = o['stream'] as string | undefined;
      if ((streamQueue === undefined) === (sources.length === 0)) {
        throw new UsageError('give exchanges to tail, or --stream QUEUE, not both (and not neither)');
      }
      if (o['offset'] !== undefined && streamQueue === undefined)
        throw new UsageError('--offset goes with --stream');
      if (o['passUrl'] && trigger.length === 0)
        throw new UsageError('--pass-url goes with a trigger (-- COMMAND…)');
      const offsetText = (o['offset'] as string | undefined) ?? 'next';
      onParsed({
        command: 'tail',
        global: globals(command),
        options: {
          sources: sources.map((source) => {
            // The exchange and the binding key go on the wire as given, or not at all.
            const problem = prefixed(`SOURCE '${source}'`, unsendableArgument(source));
            if (problem) throw new UsageError(problem);
            return parseSource(source);
          }),
          matchHeaders: parseHeaderFlags((o['matchHeader'] as string[] | undefined) ?? [], '--match-header'),
          headersMatch: o['any'] ? 'any' : 'all',
          matches: (o['match'] as string[] | undefined) ?? [],
          trigger,
          passUrl: o['passUrl'] === true,
          capture: o['capture'] as string | undefined,
          stream:
            streamQueue === undefined
              ? undefined
              : { queue: streamQueue, offset: parseStreamOffset(offsetText), offsetText },
          output: {
            count: o['count'] as number | undefined,
            timeoutMs: o['timeout'] as number | undefined,
            prefetch: 1000,
            format: formatOf(command),
            template: o['template'] as string | undefined,
            full: o['full'] === true,
          },
        },
      });
    });
}

/**
 * `--json` may stand on `declare`/`delete` or on the entity after it; commander gives it
 * to whichever command knows it first, so both are asked.
 */
function wantsJson(command: Command): boolean {
  return command.optsWithGlobals()['json'] === true;
}

function bindingFromFlags(o: Record<string, unknown>): BindingSpec {
  const queue = o['queue'] as string | undefined;
  const exchange = o['exchange'] as string | undefined;
  if ((queue === undefined) === (exchange === undefined)) {
    throw new UsageError('a binding needs exactly one of --queue or --exchange as its destination');
  }
  return {
    source: o['source'] as string,
    destination: queue !== undefined ? { queue } : { exchange: exchange as string },
    key: (o['bindingKey'] as string | undefined) ?? '',
    arguments: parseHeaderFlags((o['arg'] as string[] | undefined) ?? [], '--arg'),
  };
}

function addBindingFlags(command: Command): Command {
  return command
    .requiredOption('--source <exchange>', 'the exchange messages come from', brokerName('--source'))
    .option('--queue <queue>', 'bind to this queue', brokerName('--queue'))
    .option(
      '--exchange <exchange>',
      'or bind to this exchange (exchange-to-exchange)',
      brokerName('--exchange'),
    )
    .option('--key <key>', 'binding key (routing key pattern); default empty')
    .addOption(new Option('--binding-key <key>').hideHelp())
    .option(
      '--arg <key=value>',
      'binding argument, e.g. x-match=all for headers exchanges (repeatable)',
      collect,
    )
    .option('--json', 'print the result as JSON on stdout');
}

/** declare, delete and purge: topology from flags or from a file. */
function addTopologyCommands(
  program: Command,
  globals: (command: Command) => GlobalOptions,
  onParsed: (parsed: ParsedCommand) => void,
): void {
  const declareCommand = program
    .command('declare')
    .description('create exchanges, queues and bindings, or apply (or --check) a topology file')
    .option('-f, --file <path>', 'a topology file (JSON) to apply')
    .option('--check', 'with --file: change nothing, report what is missing or differs (exit 5)')
    .option('--json', 'print the results as JSON on stdout')
    .addHelpText('after', EXAMPLES.declare)
    .action((o: Record<string, unknown>, command: Command) => {
      if (o['file'] === undefined) {
        throw new UsageError('say what to declare: exchange, queue, binding, or --file FILE', {
          hint: "see 'warren declare --help'",
        });
      }
      onParsed({
        command: 'declare',
        global: globals(command),
        options: {
          kind: 'file',
          file: o['file'] as string,
          check: o['check'] === true,
          json: wantsJson(command),
        },
      });
    });

  declareCommand
    .command('exchange')
    .description('declare an exchange')
    .addHelpText('after', EXAMPLES.declareExchange)
    .argument('<name>', 'the exchange', brokerName('the exchange name'))
    .option('--type <type>', 'direct, fanout, topic, headers, or a plugin type', 'direct')
    .option('--durable', 'survives a broker restart (the default)')
    .option('--no-durable', 'gone when the broker restarts')
    .option('--auto-delete', 'deleted when its last binding goes')
    .option('--internal', 'only other exchanges may publish to it')
    .option('--alternate-exchange <exchange>', 'where messages that match no binding go')
    .option('--arg <key=value>', 'an argument; key:=JSON for a typed value (repeatable)', collect)
    .option('--passive', 'only check that it exists (exit 5 if not)')
    .option('--json', 'print the result as JSON on stdout')
    .action((name: string, o: Record<string, unknown>, command: Command) => {
      const args = parseHeaderFlags((o['arg'] as string[] | undefined) ?? [], '--arg');
      if (o['alternateExchange'] !== undefined) args['alternate-exchange'] = o['alternateExchange'];
      onParsed({
        command: 'declare',
        global: globals(command),
        options: {
          kind: 'exchange',
          spec: {
            name,
            type: o['type'] as string,
            durable: o['durable'] !== false,
            autoDelete: o['autoDelete'] === true,
            internal: o['internal'] === true,
            arguments: args,
          },
          passive: o['passive'] === true,
          json: wantsJson(command),
        },
      });
    });

  declareCommand
    .command('queue')
    .description("declare a queue ('' for a server-named one); prints its name")
    .addHelpText('after', EXAMPLES.declareQueue)
    .argument('<name>', "the queue, or '' to let the broker name it", brokerName('the queue name'))
    .addOption(
      new Option('--type <type>', "queue type (default: the vhost's, normally classic)").choices(QUEUE_TYPES),
    )
    .option('--durable', 'survives a broker restart (the default)')
    .option('--no-durable', 'gone when the broker restarts')
    .option('--exclusive', 'only this connection may use it (gone when warren exits)')
    .option('--auto-delete', 'deleted when its last consumer goes')
    .option(
      '--dead-letter-exchange <exchange>',
      'where rejected and expired messages go',
      brokerName('--dead-letter-exchange'),
    )
    .option('--dead-letter-routing-key <key>', 'routing key for dead-lettered messages')
    .option('--message-ttl <duration>', 'messages expire after this long', duration)
    .option('--expires <duration>', 'the queue is deleted after being unused this long', duration)
    .option('--max-length <n>', 'at most N ready messages', integer(0))
    .option('--max-length-bytes <n>', 'at most N bytes of ready messages', integer(0))
    .addOption(new Option('--overflow <mode>', 'what happens when full').choices(OVERFLOW_MODES))
    .option('--max-priority <n>', 'support priorities 0..N (classic)', integer(1, 255))
    .option('--delivery-limit <n>', 'dead-letter after N deliveries (quorum)', integer(0))
    .option('--single-active-consumer', 'one consumer at a time gets messages')
    .option('--max-age <age>', 'stream retention, e.g. 7D, 12h (units Y M D h m s)', (v: string) => {
      try {
        return maxAge(v, '--max-age');
      } catch (error) {
        throw new InvalidArgumentError((error as Error).message.replace(/^--max-age: /, ''));
      }
    })
    .option('--arg <key=value>', 'any other argument; key:=JSON for a typed value (repeatable)', collect)
    .option('--passive', 'only check that it exists (exit 5 if not)')
    .option('--json', 'print the result as JSON on stdout')
    .action((name: string, o: Record<string, unknown>, command: Command) => {
      const type = o['type'] as string | undefined;
      if (o['maxAge'] !== undefined && type !== 'stream') {
        throw new UsageError('--max-age applies to streams only: add --type stream');
      }
      const named: QueueOptions = {
        deadLetterExchange: o['deadLetterExchange'] as string | undefined,
        deadLetterRoutingKey: o['deadLetterRoutingKey'] as string | undefined,
        messageTtl: o['messageTtl'] as number | undefined,
        expires: o['expires'] as number | undefined,
        maxLength: o['maxLength'] as number | undefined,
        maxLengthBytes: o['maxLengthBytes'] as number | undefined,
        overflow: o['overflow'] as string | undefined,
        maxPriority: o['maxPriority'] as number | undefined,
        deliveryLimit: o['deliveryLimit'] as number | undefined,
        singleActiveConsumer: o['singleActiveConsumer'] === true ? true : undefined,
        maxAge: o['maxAge'] as string | undefined,
      };
      onParsed({
        command: 'declare',
        global: globals(command),
        options: {
          kind: 'queue',
          spec: {
            name,
            type,
            durable: o['durable'] !== false,
            exclusive: o['exclusive'] === true,
            autoDelete: o['autoDelete'] === true,
            arguments: queueArguments(
              type,
              named,
              parseHeaderFlags((o['arg'] as string[] | undefined) ?? [], '--arg'),
            ),
          },
          passive: o['passive'] === true,
          json: wantsJson(command),
        },
      });
    });

  addBindingFlags(
    declareCommand
      .command('binding')
      .description('bind a queue or an exchange to an exchange')
      .addHelpText('after', EXAMPLES.declareBinding),
  ).action((o: Record<string, unknown>, command: Command) => {
    onParsed({
      command: 'declare',
      global: globals(command),
      options: { kind: 'binding', spec: bindingFromFlags(o), json: wantsJson(command) },
    });
  });

  const deleteCommand = program
    .command('delete')
    .description('delete exchanges, queues and bindings, or everything a topology file declares')
    .option('-f, --file <path>', 'tear down what this topology file declares')
    .option('--json', 'print the results as JSON on stdout')
    .addHelpText('after', EXAMPLES.delete)
    .action((o: Record<string, unknown>, command: Command) => {
      if (o['file'] === undefined) {
        throw new UsageError('say what to delete: exchange, queue, binding, or --file FILE', {
          hint: "see 'warren delete --help'",
        });
      }
      onParsed({
        command: 'delete',
        global: globals(command),
        options: { kind: 'file', file: o['file'] as string, json: wantsJson(command) },
      });
    });

  deleteCommand
    .command('queue')
    .description('delete a queue (and the messages in it)')
    .addHelpText('after', EXAMPLES.deleteQueue)
    .argument('<name>', 'the queue', brokerName('the queue name'))
    .option('--if-unused', 'only if it has no consumers (exit 5 otherwise)')
    .option('--if-empty', 'only if it holds no messages (exit 5 otherwise)')
    .option('--json', 'print the result as JSON on stdout')
    .action((name: string, o: Record<string, unknown>, command: Command) => {
      onParsed({
        command: 'delete',
        global: globals(command),
        options: {
          kind: 'queue',
          name,
          ifUnused: o['ifUnused'] === true,
          ifEmpty: o['ifEmpty'] === true,
          json: wantsJson(command),
        },
      });
    });

  deleteCommand
    .command('exchange')
    .description('delete an exchange')
    .addHelpText('after', EXAMPLES.deleteExchange)
    .argument('<name>', 'the exchange', brokerName('the exchange name'))
    .option('--if-unused', 'only if nothing is bound to it (exit 5 otherwise)')
    .option('--json', 'print the result as JSON on stdout')
    .action((name: string, o: Record<string, unknown>, command: Command) => {
      onParsed({
        command: 'delete',
        global: globals(command),
        options: { kind: 'exchange', name, ifUnused: o['ifUnused'] === true, json: wantsJson(command) },
      });
    });

  addBindingFlags(
    deleteCommand
      .command('binding')
      .description('remove a binding')
      .addHelpText('after', EXAMPLES.deleteBinding),
  ).action((o: Record<string, unknown>, command: Command) => {
    onParsed({
      command: 'delete',
      global: globals(command),
      options: { kind: 'binding', spec: bindingFromFlags(o), json: wantsJson(command) },
    });
  });

  program
    .command('purge')
    .description('remove every ready message from a queue')
    .argument('<queue>', 'the queue', brokerName('the queue name'))
    .option('--json', 'print the result as JSON on stdout')
    .addHelpText('after', EXAMPLES.purge)
    .action((queue: string, _o: Record<string, unknown>, command: Command) => {
      onParsed({ command: 'purge', global: globals(command), options: { queue, json: wantsJson(command) } });
    });
}

/** `warren tail … -- CMD ARGS`: the words after the first `--` are tail's trigger command. */
function splitTrigger(argv: string[]): { args: string[]; trigger: string[] } {
  const dashes = argv.indexOf('--');
  if (dashes === -1 || !argv.slice(0, dashes).includes('tail')) return { args: argv, trigger: [] };
  return { args: argv.slice(0, dashes), trigger: argv.slice(dashes + 1) };
}

/**
 * `--key` is the TLS key file everywhere, and the binding key after `declare binding` or
 * `delete binding`: commander lets the program's `--key` win wherever it stands, so there
 * it is renamed before parsing.
 */
function bindingKeyArgs(argv: string[]): string[] {
  const at = argv.findIndex(
    (arg, i) => arg === 'binding' && (argv[i - 1] === 'declare' || argv[i - 1] === 'delete'),
  );
  if (at === -1) return argv;
  return argv.map((arg, i) => {
    if (i <= at) return arg;
    if (arg === '--key') return '--binding-key';
    return arg.startsWith('--key=') ? `--binding-key=${arg.slice(6)}` : arg;
  });
}

/** `consume `, `declare queue `: the command (and entity) whose --help a usage error points at. */
function helpPath(argv: string[]): string {
  const at = argv.findIndex((arg) => COMMAND_NAMES.includes(arg));
  if (at === -1) return '';
  const kind = KINDS.includes(argv[at + 1] ?? '') ? `${argv[at + 1]} ` : '';
  return `${argv[at]} ${kind}`;
}

const COMMAND_NAMES = [
  'publish',
  'consume',
  'completion',
  'declare',
  'delete',
  'purge',
  'tail',
  'replay',
  'profile',
];
const KINDS = ['exchange', 'queue', 'binding'];

/**
 * Parses argv into a command and typed options, without running anything. Resolves to
 * undefined when there is nothing to run (help or version was shown, or no command given).
 */
export async function parseArgs(argv: string[], io: Io = processIo()): Promise<ParsedCommand | undefined> {
  let parsed: ParsedCommand | undefined;
  const { args, trigger } = splitTrigger(bindingKeyArgs(argv));
  argv = args;
  const program = buildProgram(
    io,
    (p) => {
      parsed = p;
    },
    trigger,
  );
  let commanderMessage = '';
  program.configureOutput({
    writeOut: (text) => io.stdout.write(text),
    writeErr: (text) => io.stderr.write(text),
    // Usage errors are reported like every other error, by main: keep the text.
    outputError: (text) => {
      commanderMessage = text;
    },
  });
  // Subcommands' subcommands too (`delete queue`): else commander prints their errors itself.
  const configure = (parent: Command) => {
    for (const command of parent.commands) {
      command.configureOutput(program.configureOutput());
      configure(command);
    }
  };
  configure(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw withCommandHelp(error, argv);
    if (error.exitCode === 0 || error.code === 'commander.help' || error.code === 'commander.helpDisplayed') {
      if (error.exitCode !== 0) throw new UsageError('', { hint: undefined });
      return undefined;
    }
    const [first = error.message, ...rest] = commanderMessage.trim().split('\n');
    const suggestion = rest.join(' ').replace(/^\((.*)\)$/, '$1');
    const at = argv.findIndex((arg) => COMMAND_NAMES.includes(arg));
    const seeHelp = `see 'warren ${helpPath(argv)}--help'`;
    // `warren declare exchnage x`: say what the word after declare/delete may be.
    const word = argv[at + 1];
    if (error.code === 'commander.excessArguments' && argv[at] === 'profile' && word) {
      throw new UsageError(`profile: '${word}' is not one of list, add, remove`, { hint: seeHelp });
    }
    if (
      error.code === 'commander.excessArguments' &&
      (argv[at] === 'declare' || argv[at] === 'delete') &&
      word &&
      // `delete queue a b` is one name too many, not a wrong entity.
      !KINDS.includes(word)
    ) {
      throw new UsageError(`${argv[at]}: '${word}' is not one of exchange, queue, binding`, {
        cause: error,
        hint: seeHelp,
      });
    }
    throw new UsageError(first.replace(/^error: /, ''), {
      cause: error,
      hint: suggestion ? `${suggestion.replace(/\?$/, '')}? ${seeHelp}` : seeHelp,
    });
  }
  if (!parsed) {
    program.outputHelp({ error: true });
    throw new UsageError('', { hint: undefined });
  }
  return parsed;
}

/** The client-provided connection name, where it is not `warren <command>`. */
const CONNECTION_NAMES: Partial<Record<ParsedCommand['command'], string>> = {
  exec: 'warren consume --exec',
  rpc: 'warren publish --rpc',
};

/** Whether the command reads its input from stdin: publish without BODY or a FILE, `replay -`. */
function readsStdin(parsed: ParsedCommand): boolean {
  if (parsed.command === 'publish') {
    const { body, file } = parsed.options;
    return body === undefined && (file === undefined || file === '-');
  }
  return (
    parsed.command === 'replay' && parsed.options.source.kind === 'file' && parsed.options.source.path === '-'
  );
}

async function makeContext(parsed: ParsedCommand, io: Io): Promise<CommandContext> {
  const { global } = parsed;
  // Someone typing warren's input: a status line redrawn where the terminal echoes their
  // keys would wipe what they type and hide the cursor, so there is none.
  const typing = readsStdin(parsed) && io.stdin.isTTY === true;
  const stderrPaint = await paintFor(io.stderr, io.env, global.color);
  const reporter = createReporter({
    stderr: io.stderr,
    paint: stderrPaint,
    quiet: global.quiet,
    verbose: global.verbose,
  });
  const profile = global.profile;
  if (profile) {
    for (const warning of profile.warnings) reporter.warn(warning);
    reporter.detail(`profile '${profile.name}' from ${profile.path} (chosen by ${profile.chosenBy})`);
  }
  const settings = profile?.settings;
  const brokerUrls = () =>
    resolveBrokerUrls(
      global.urls,
      io.env,
      settings && { ...settings, name: profile?.name },
      resolvePassword(global.passwordFile, io.env, settings?.passwordFile),
    );
  return {
    io,
    reporter,
    stdoutPaint: await paintFor(io.stdout, io.env, global.color),
    typing,
    spinner: (text) =>
      startSpinner(io.stderr, text, { enabled: !global.quiet && !typing, colour: stderrPaint.enabled }),
    childEnv: (passUrl) => childEnv(io.env, passUrl ? brokerUrls().map((broker) => broker.url) : undefined),
    connect: async () => {
      const fromEnv = urlFromEnv(io.env);
      if (profile?.chosenBy === '--profile' && settings?.urls && !global.urls && fromEnv) {
        reporter.warn(
          `${fromEnv.name} is set and wins over the url of profile '${profile.name}' (flag > env > profile)`,
        );
      }
      const urls = brokerUrls();
      const insecure = global.insecure || settings?.insecure === true;
      const tls = readTlsFiles({
        ca: global.ca ?? settings?.ca,
        cert: global.cert ?? settings?.cert,
        key: global.key ?? settings?.key,
        insecure,
      });
      if (insecure) reporter.warn('--insecure: the broker certificate is not verified');
      const { openSession } = await import('./broker/connect.js');
      // A connection that takes a moment (a far broker, --wait-for-broker) says so on a
      // terminal; a quick one draws nothing, rather than a spinner that flickers.
      let spinner: Spinner | undefined;
      const slow = setTimeout(async () => {
        // --verbose lines arrive while connecting: a spinner would be drawn through them.
        spinner = await startSpinner(io.stderr, `connecting to ${urls[0]?.masked ?? 'the broker'}…`, {
          enabled: !global.quiet && !global.verbose && !typing,
          colour: stderrPaint.enabled,
        });
        if (done) spinner.stop();
      }, 200);
      let done = false;
      try {
        return await openSession({
          urls,
          tls,
          connectionName: CONNECTION_NAMES[parsed.command] ?? `warren ${parsed.command}`,
          explain: brokerExplainer,
          log: (line) => reporter.detail(line),
          warn: (line) => reporter.warn(line),
          waitMs: global.waitForBrokerMs,
        });
      } finally {
        done = true;
        clearTimeout(slow);
        spinner?.stop();
      }
    },
  };
}

async function dispatch(parsed: ParsedCommand, io: Io): Promise<void> {
  const context = await makeContext(parsed, io);
  switch (parsed.command) {
    case 'publish': {
      const { publish } = await import('./commands/publish.js');
      return publish(parsed.options, context);
    }
    case 'consume': {
      const { consume } = await import('./commands/consume.js');
      return consume(parsed.options, context);
    }
    case 'exec': {
      const { exec } = await import('./commands/exec.js');
      return exec(parsed.options, context);
    }
    case 'rpc': {
      const { rpc } = await import('./commands/rpc.js');
      return rpc(parsed.options, context);
    }
    case 'declare': {
      const { declare } = await import('./commands/topology.js');
      return declare(parsed.options, context);
    }
    case 'delete': {
      const { remove } = await import('./commands/topology.js');
      return remove(parsed.options, context);
    }
    case 'purge': {
      const { purge } = await import('./commands/topology.js');
      return purge(parsed.options, context);
    }
    case 'tail': {
      const { tail } = await import('./commands/tail.js');
      return tail(parsed.options, context);
    }
    case 'replay': {
      const { replay } = await import('./commands/replay.js');
      return replay(parsed.options, context);
    }
    case 'profile': {
      const { profileCommand } = await import('./commands/profile.js');
      return profileCommand(parsed.options, io, context.reporter);
    }
    case 'completion': {
      const { completionScript } = await import('./completion.js');
      io.stdout.write(
        completionScript(
          parsed.options.shell,
          buildProgram(io, () => {}),
        ),
      );
      return;
    }
  }
}

/**
 * A usage error that points at the general help, pointed at the command's own instead, as
 * commander's errors are: for a command's own checks, whether found while parsing or after
 * (a bad `--template` or `--match`, a bad URL in WARREN_URL).
 */
function withCommandHelp(error: unknown, argv: string[]): unknown {
  if (!(error instanceof UsageError) || error.hint !== DEFAULT_USAGE_HINT) return error;
  const path = helpPath(argv);
  if (path === '') return error;
  return new UsageError(error.message, { cause: error.cause, hint: `see 'warren ${path}--help'` });
}

/** Runs warren and returns its exit code; every error ends here. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  let verbose = argv.includes('-v') || argv.includes('--verbose');
  try {
    const parsed = await parseArgs(argv, io);
    if (!parsed) return ExitCode.ok;
    verbose = parsed.global.verbose;
    await dispatch(parsed, io);
    return ExitCode.ok;
  } catch (error) {
    const colourFlag = argv.includes('--no-color') ? false : undefined;
    return await reportError(withCommandHelp(error, argv), io, verbose, colourFlag);
  }
}

async function reportError(
  error: unknown,
  io: Io,
  verbose: boolean,
  colourFlag: false | undefined,
): Promise<number> {
  const colour = await paintFor(io.stderr, io.env, colourFlag);
  if (error instanceof WarrenError) {
    // Signals end quietly; an empty message means the help was already shown.
    if (error.exitCode === ExitCode.sigint || error.exitCode === ExitCode.sigterm || error.message === '') {
      return error.exitCode;
    }
    io.stderr.write(`${colour.red('error:')} ${humanLine(error.message)}\n`);
    if (error.hint) io.stderr.write(`${colour.dim(`  ${humanLine(error.hint)}`)}\n`);
    if (verbose && error.cause instanceof Error && error.cause.stack) {
      io.stderr.write(`${humanLines(error.cause.stack)}\n`);
    }
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`${colour.red('error:')} ${humanLine(message)}\n`);
  if (verbose && error instanceof Error && error.stack) io.stderr.write(`${humanLines(error.stack)}\n`);
  else
    io.stderr.write(colour.dim('  this is a bug in warren; run again with --verbose for the stack trace\n'));
  return ExitCode.failure;
}

/** The entry point of bin/warren.js: the one place that exits. */
export function run(argv: string[]): void {
  // The process list shows the command line to every user of the machine: not a password
  // given in --url (Linux shows the title in place of the arguments). Masked argument by
  // argument, before anything is parsed, so that a password with a space is one word.
  // First: the title overwrites the arguments' bytes in /proc.
  noteAlteredArguments(argv);
  process.title = ['warren', ...argv.map(redactArgument)].join(' ');
  main(argv).then((code) => {
    // Let stdout finish (a pipe may still hold data) before leaving.
    process.stdout.write('', () => process.exit(code));
  });
}

/** The completion scripts, as build.mjs writes them to completions/. */
export async function completionScripts(): Promise<Record<string, string>> {
  const { completionScript } = await import('./completion.js');
  const program = buildProgram(processIo(), () => {});
  return Object.fromEntries(SHELLS.map((shell) => [shell, completionScript(shell, program)]));
}
