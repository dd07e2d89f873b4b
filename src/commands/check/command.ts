/** `warren check KIND …`: assertions about the broker, for CI jobs and monitoring. */
import { InvalidArgumentError } from 'commander';
import { CHECK_FORMATS, type CheckFormat, type CheckSpec } from '../../check/specs.js';
import { parseDuration } from '../../duration.js';
import { UsageError } from '../../errors.js';
import { compileMatches } from '../../match/predicate.js';
import { choice, defineCommand, option, repeatable, required } from '../define.js';
import { brokerName, shortString, timerDuration } from '../values.js';
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
  const match = /^(\d+(?:\.\d+)?)d$/.exec(value.trim());
  if (match) return Number(match[1]);
  try {
    return parseDuration(value) / 86_400_000;
  } catch {
    throw new InvalidArgumentError(`'${value}' is not a number of days (30d) or a duration (12h)`);
  }
}

/** The options of a run of `specs`, with the shared flags (given here or on `check`). */
export function checkOptions(
  specs: CheckSpec[],
  flags: { format?: CheckFormat | undefined; watch?: number | undefined },
  inherited: Record<string, unknown>,
): CheckOptions {
  return {
    checks: specs,
    format: flags.format ?? (inherited['format'] as CheckFormat | undefined),
    watchMs: flags.watch ?? (inherited['watch'] as number | undefined),
  };
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
  flags: { ...shared },
  examples: [
    'warren check connection --warn 100ms --crit 1s',
    'warren check connection --format nagios          # exit 0-3, perfdata after the |',
    'warren check connection --format prometheus > /var/lib/node_exporter/warren.prom',
  ],
  subcommands: [connection, rpc, topology, node],
  runners,
});
