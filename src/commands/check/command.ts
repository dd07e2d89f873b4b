/** `warren check KIND …`: assertions about the broker, for CI jobs and monitoring. */
import { InvalidArgumentError } from 'commander';
import { CHECK_FORMATS, type CheckFormat, type CheckSpec } from '../../check/specs.js';
import { parseDays } from '../../duration.js';
import { UsageError } from '../../errors.js';
import { choice, defineCommand, option } from '../define.js';
import { timerDuration } from '../values.js';
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
  subcommands: [connection],
  parse({ flags: f, global }) {
    if (f.file === undefined) throw new UsageError('say what to check: connection, or --file FILE');
    const options = checkOptions([], f, {});
    return { command: 'check', global: global(), options: { ...options, file: f.file } };
  },
  runners,
});
