/** `warren check KIND …`: assertions about the broker, for CI jobs and monitoring. */
import { InvalidArgumentError } from 'commander';
import { CHECK_FORMATS, type CheckFormat, type CheckSpec } from '../../check/specs.js';
import { parseDays } from '../../duration.js';
import { UsageError } from '../../errors.js';
import { compileMatches } from '../../match/predicate.js';
import { type Arg, choice, defineCommand, option, repeatable, required, withDefault } from '../define.js';
import { brokerName, duration, integer, shortString, timerDuration } from '../values.js';
import type { CheckOptions } from './run.js';

const runners = { check: () => import('./run.js').then((m) => m.check) };

/** The flags every check takes: how to show the results, and whether to keep checking. */
const shared = {
  format: choice(
    '--format <format>',
    'pretty on a terminal, else json (a line per check); nagios: the plugin line and codes 0-3; prometheus: text exposition',
    CHECK_FORMATS,
  ),
  watch: option(
    '--watch <interval>',
    'check again every INTERVAL until Ctrl-C (the table redrawn, or a line per check)',
    timerDuration,
  ),
};

/** `30d`, or any duration (`12h`): in days. */
function days(value: string): number {
  try {
    return parseDays(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^days: /, ''));
  }
}

/** The options of a run of `specs`, with the shared flags (given here or on `check`). */
export function checkOptions(
  specs: CheckSpec[],
  flags: { format?: CheckFormat | undefined; watch?: number | undefined },
  inherited: Record<string, unknown>,
): CheckOptions {
  if (inherited['file'] !== undefined)
    throw new UsageError('--file runs the checks of the file: give it without a kind of check');
  const format = flags.format ?? (inherited['format'] as CheckFormat | undefined);
  const watchMs = flags.watch ?? (inherited['watch'] as number | undefined);
  // No interval would be rounds back to back, as fast as the broker answers.
  if (watchMs === 0) throw new UsageError('--watch: the interval must be more than 0 (10s, 1m)');
  // A Nagios plugin or a textfile collector reads one run's output, then warren's exit.
  if (watchMs !== undefined && (format === 'nagios' || format === 'prometheus'))
    throw new UsageError(`--format ${format} is one run's output: it does not go with --watch`, {
      hint: 'let the monitoring system run warren check at its own interval, or watch with --format json',
    });
  return { checks: specs, file: undefined, format, watchMs };
}

const connection = defineCommand({
  name: 'connection',
  description: 'connect, handshake and a round trip; TLS certificate expiry for amqps',
  flags: {
    warn: option(
      '--warn <duration>',
      'WARNING when the handshake or the round trip takes longer',
      timerDuration,
    ),
    crit: option(
      '--crit <duration>',
      'CRITICAL when the handshake or the round trip takes longer',
      timerDuration,
    ),
    certWarn: option(
      '--cert-warn <days>',
      'amqps: WARNING when the certificate expires within this (30d)',
      days,
    ),
    certCrit: option(
      '--cert-crit <days>',
      'amqps: CRITICAL when the certificate expires within this (7d)',
      days,
    ),
    ...shared,
  },
  examples: [
    'warren check connection --warn 100ms --crit 1s',
    'warren check connection --url amqps://broker/ --cert-warn 30d --cert-crit 7d --format nagios',
  ],
  parse({ flags: f, global, inherited }) {
    const spec: CheckSpec = {
      kind: 'connection',
      warnMs: f.warn,
      critMs: f.crit,
      certWarnDays: f.certWarn,
      certCritDays: f.certCrit,
    };
    return { command: 'check', global: global(), options: checkOptions([spec], f, inherited) };
  },
  runners,
});

const count = integer(0);

/** Each queue named once or more, each a check of its own. */
const queueNames: Arg<string[]> = {
  name: '<queue...>',
  description: 'the queues (a result each)',
  finish: (raw) => (raw as string[] | undefined) ?? [],
};

const queue = defineCommand({
  name: 'queue',
  description: "a queue's depth, unacked messages, consumers and head message's age against bounds",
  args: { queues: queueNames },
  flags: {
    maxDepth: option('--max-depth <n>', 'CRITICAL above N ready messages', count),
    warnDepth: option('--warn-depth <n>', 'WARNING above N ready messages', count),
    maxUnacked: option('--max-unacked <n>', 'CRITICAL above N unacknowledged (management API)', count),
    warnUnacked: option('--warn-unacked <n>', 'WARNING above N unacknowledged (management API)', count),
    minConsumers: option('--min-consumers <n>', 'CRITICAL below N consumers', count),
    warnMinConsumers: option('--warn-min-consumers <n>', 'WARNING below N consumers', count),
    maxConsumers: option('--max-consumers <n>', 'CRITICAL above N consumers', count),
    warnMaxConsumers: option('--warn-max-consumers <n>', 'WARNING above N consumers', count),
    maxAge: option(
      '--max-age <duration>',
      "CRITICAL when the head message's timestamp is older (peeked, put back)",
      duration,
    ),
    warnAge: option('--warn-age <duration>', "WARNING when the head message's timestamp is older", duration),
    ...shared,
  },
  examples: [
    'warren check queue orders --min-consumers 1 --max-depth 1000 --warn-depth 100',
    'warren check queue orders payments --max-age 5m --warn-age 1m --format nagios',
    'warren check queue orders --max-unacked 500   # the unacked count comes from the management API',
  ],
  parse({ args: { queues }, flags: f, global, inherited }) {
    const specs: CheckSpec[] = queues.map((name) => ({
      kind: 'queue',
      queue: validName(name),
      depth: { warn: f.warnDepth, crit: f.maxDepth },
      unacked: { warn: f.warnUnacked, crit: f.maxUnacked },
      minConsumers: { warn: f.warnMinConsumers, crit: f.minConsumers },
      maxConsumers: { warn: f.warnMaxConsumers, crit: f.maxConsumers },
      ageMs: { warn: f.warnAge, crit: f.maxAge },
    }));
    return { command: 'check', global: global(), options: checkOptions(specs, f, inherited) };
  },
  runners,
});

/** A queue name the broker can take, or a usage error saying why not. */
function validName(name: string): string {
  try {
    return brokerName('the queue name')(name);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

const message = defineCommand({
  name: 'message',
  description: 'a message matching every --match is in the queue (peeked, none taken)',
  args: { queue: required('queue', 'the queue to look in', brokerName('the queue name')) },
  flags: {
    match: repeatable(
      '--match <expr>',
      "what the message must match, e.g. 'body.id=42', 'properties.type=order.created' (repeatable: all must match)",
    ),
    limit: withDefault(option('--limit <n>', 'look at the first N messages at most', integer(1)), 1000),
    ...shared,
  },
  examples: [
    'warren check message orders --match body.id=42                 # did the event land?',
    "warren check message audit --match properties.type=refund --match 'body.amount>=100' --limit 5000",
  ],
  parse({ args: { queue: name }, flags: f, global, inherited }) {
    if (f.match.length === 0) throw new UsageError('check message needs --match EXPR (what to look for)');
    const spec: CheckSpec = { kind: 'message', queue: name, matches: f.match, limit: f.limit };
    return { command: 'check', global: global(), options: checkOptions([spec], f, inherited) };
  },
  runners,
});

const rpc = defineCommand({
  name: 'rpc',
  description: 'a request gets a (matching) reply in time, as publish --rpc sends it',
  args: {
    exchange: required(
      'exchange',
      "the exchange to send the request to ('' for the default)",
      brokerName('the exchange name'),
    ),
    key: required('key', 'the routing key', shortString('the routing key')),
    body: required('body', 'the request body'),
  },
  flags: {
    within: option(
      '--within <duration>',
      'CRITICAL when no reply comes within this (required)',
      timerDuration,
    ),
    warn: option('--warn <duration>', 'WARNING when the reply takes longer than this', timerDuration),
    match: repeatable(
      '--match <expr>',
      "the reply must match EXPR, e.g. 'body.status=ok' (repeatable: all must match), else CRITICAL",
    ),
    ...shared,
  },
  examples: [
    "warren check rpc '' rpc.echo 'ping' --within 2s",
    'warren check rpc payments quote \'{"amount":1}\' --within 2s --warn 500ms --match body.currency=EUR',
  ],
  parse({ args, flags: f, global, inherited }) {
    // A malformed expression is a usage error now, not an UNKNOWN after the request.
    compileMatches(f.match);
    if (f.within === undefined) {
      throw new UsageError('check rpc needs --within DURATION: how long the reply may take', {
        hint: "see 'warren check rpc --help'",
      });
    }
    const spec: CheckSpec = {
      kind: 'rpc',
      exchange: args.exchange,
      routingKey: args.key,
      body: args.body,
      withinMs: f.within,
      warnMs: f.warn,
      matches: f.match,
    };
    return { command: 'check', global: global(), options: checkOptions([spec], f, inherited) };
  },
  runners,
});

const topology = defineCommand({
  name: 'topology',
  description: 'the broker has the exchanges, queues and bindings of a topology file, as it declares them',
  args: { file: required('file', 'the topology file (as declare --file reads it)') },
  flags: { ...shared },
  examples: ['warren check topology topology.json', 'warren check topology topology.json --format nagios'],
  parse({ args, flags: f, global, inherited }) {
    const spec: CheckSpec = { kind: 'topology', file: args.file };
    return { command: 'check', global: global(), options: checkOptions([spec], f, inherited) };
  },
  runners,
});

/** A fraction of the memory watermark: 0.8 or 80%. */
function fraction(value: string): number {
  const text = value.trim();
  const percent = text.endsWith('%');
  const number = Number(percent ? text.slice(0, -1) : text);
  const share = percent ? number / 100 : number;
  if (text === '' || !Number.isFinite(share) || share <= 0 || share > 1) {
    throw new InvalidArgumentError(`'${value}' is not a fraction of the watermark (0.8 or 80%)`);
  }
  return share;
}

const node = defineCommand({
  name: 'node',
  description: 'memory and disk alarms, blocked publishers, cluster members stopped or partitioned',
  flags: {
    memWarn: option(
      '--mem-warn <fraction>',
      "WARNING when a node's memory use is above this share of its high watermark (0.8 or 80%; needs the API)",
      fraction,
    ),
    ...shared,
  },
  examples: ['warren check node', 'warren check node --mem-warn 80% --format nagios'],
  parse({ flags: f, global, inherited }) {
    const spec: CheckSpec = { kind: 'node', memWarn: f.memWarn };
    return { command: 'check', global: global(), options: checkOptions([spec], f, inherited) };
  },
  runners,
});

export const checkCommand = defineCommand({
  name: 'check',
  description: 'assert things about the broker: OK, WARNING or CRITICAL, for CI jobs and monitoring',
  flags: {
    file: option('-f, --file <path>', 'a checks file (JSON): run its checks at once'),
    ...shared,
  },
  examples: [
    'warren check connection --warn 100ms --crit 1s',
    'warren check connection --format nagios          # exit 0-3, perfdata after the |',
    'warren check connection --format prometheus > /var/lib/node_exporter/warren.prom',
    'warren check --file checks.json --format nagios   # every check of the file, the worst status',
    'warren check --file checks.json --watch 10s',
  ],
  subcommands: [connection, queue, message, rpc, topology, node],
  parse({ flags: f, global }) {
    if (f.file === undefined) {
      throw new UsageError(
        'say what to check: connection, queue, message, rpc, topology, node, or --file FILE',
      );
    }
    const options = checkOptions([], f, {});
    return { command: 'check', global: global(), options: { ...options, file: f.file } };
  },
  runners,
});
