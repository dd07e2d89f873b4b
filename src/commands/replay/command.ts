/** `warren replay`: captured, dead-lettered or stream messages back onto the bus. */
import { FORMATS } from '../../choices.js';
import { UsageError } from '../../errors.js';
import { parseStreamOffset } from '../../tailSource.js';
import type { Io } from '../../ui/io.js';
import {
  choice,
  defineCommand,
  negatable,
  option,
  optional,
  repeatable,
  toggle,
  withDefault,
} from '../define.js';
import { brokerName, headerFlags, integer, positiveNumber, rate, shortString } from '../values.js';
import type { ReplayOptions, ReplaySourceSpec } from './run.js';

const flags = {
  fromQueue: option(
    '--from-queue <queue>',
    're-drive a dead-letter queue: each message back where x-death says it was published',
    brokerName('--from-queue'),
  ),
  fromStream: option(
    '--from-stream <queue>',
    're-publish a range of a stream queue, from --offset',
    brokerName('--from-stream'),
  ),
  offset: option(
    '--offset <offset>',
    'first (default), last, next, an offset, a time (ISO 8601) or a duration ago (10m)',
  ),
  until: option('--until <offset|time>', 'stop before this offset or time'),
  exchange: option(
    '-e, --exchange <name>',
    "publish to this exchange instead ('' is the default exchange)",
    brokerName('--exchange'),
  ),
  toExchange: option('--to-exchange <name>', 'the same as --exchange', brokerName('--to-exchange')),
  routingKey: option(
    '-k, --routing-key <key>',
    'publish with this routing key instead',
    shortString('--routing-key'),
  ),
  header: repeatable('-H, --header <key=value>', 'set a header; key:=JSON for a typed value (repeatable)'),
  timing: withDefault(
    choice('--timing <mode>', 'none: as fast as confirms allow; original: keep the recorded gaps (files)', [
      'none',
      'original',
    ] as const),
    'none',
  ),
  speed: option('--speed <factor>', '2 is twice as fast, 0.5 half as fast (default 1)', positiveNumber),
  rate: option('--rate <n/s>', 'at most this many messages per second (100, 100/s, 30/m)', rate),
  match: repeatable(
    '--match <expr>',
    "replay only messages matching EXPR, e.g. 'headers.x-tenant=acme', 'body.amount>=100' (repeatable)",
  ),
  count: option('-n, --count <n>', 'stop after N messages', integer(1)),
  dryRun: toggle('--dry-run', 'print the messages that would be published, and where to; publish nothing'),
  format: choice('--format <format>', 'pretty on a terminal, else ndjson (envelopes)', FORMATS),
  template: option('--template <template>', "one line per message, e.g. '{exchange} {routingKey}'"),
  full: toggle('--full', "show long bodies whole, not cut to the terminal's height"),
  receipts: toggle('--receipts', 'one NDJSON line per message on stdout: seq, line, status, replyCode'),
  mandatory: negatable(
    '--no-mandatory',
    'allow unroutable messages to be dropped silently (and acked on --from-queue)',
  ),
  skipInvalid: toggle('--skip-invalid', 'warn about a malformed input line and go on'),
};

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
function replaySource(
  file: string | undefined,
  f: { fromQueue?: string; fromStream?: string; offset?: string; until?: string },
  io: Io,
): ReplaySourceSpec {
  const given = [file, f.fromQueue, f.fromStream].filter((x) => x !== undefined).length;
  if (given > 1) throw new UsageError('replay one source: a FILE, --from-queue QUEUE or --from-stream QUEUE');
  if (f.fromQueue !== undefined) return { kind: 'queue', queue: f.fromQueue };
  if (f.fromStream !== undefined) {
    const startText = f.offset ?? 'first';
    return {
      kind: 'stream',
      queue: f.fromStream,
      range: {
        start: parseStreamOffset(startText),
        startText,
        until: f.until === undefined ? undefined : streamUntil(f.until),
        untilText: f.until,
      },
    };
  }
  if (file === undefined && io.stdin.isTTY) {
    throw new UsageError(
      'say what to replay: a FILE (- for stdin), --from-queue QUEUE or --from-stream QUEUE',
    );
  }
  return { kind: 'file', path: file ?? '-' };
}

export const replayCommand = defineCommand({
  name: 'replay',
  description: 're-publish captured messages, dead-lettered messages or a stream range (with confirms)',
  args: { file: optional('file', 'NDJSON envelopes, as consume and tail write them (- for stdin)') },
  flags,
  rules: [
    { only: ['offset', 'until'], with: 'fromStream' },
    { only: ['speed'], with: 'timing=original' },
    { only: ['format', 'template', 'full'], with: 'dryRun' },
    { not: ['receipts'], with: 'dryRun', because: 'it publishes nothing' },
  ],
  examples: [
    'warren replay capture.ndjson                          # each message back to its exchange and key',
    "warren replay capture.ndjson --timing original --speed 2 --exchange '' --routing-key orders-test",
    "warren replay --from-queue orders.dlq --dry-run | jq -c '{exchange, routingKey}'",
    'warren replay --from-queue orders.dlq --rate 100/s    # re-drive dead letters, acked once confirmed',
    'warren replay --from-stream orders.log --offset 1h --exchange orders-v2',
  ],
  parse({ args: { file }, flags: f, global, format, io }) {
    const source = replaySource(file, f, io);
    if (f.timing === 'original' && source.kind !== 'file') {
      throw new UsageError(
        '--timing original needs recorded times: replay a file (queues and streams have none)',
      );
    }
    if (f.skipInvalid && source.kind !== 'file') throw new UsageError('--skip-invalid goes with a FILE');
    if (f.exchange !== undefined && f.toExchange !== undefined && f.exchange !== f.toExchange) {
      throw new UsageError('--exchange and --to-exchange name different exchanges');
    }
    const headers = headerFlags(f.header);
    const options: ReplayOptions = {
      source,
      overrides: {
        exchange: f.exchange ?? f.toExchange,
        routingKey: f.routingKey,
        properties: {},
        headers: headers.encoded,
      },
      typedHeaders: headers.typed,
      timing: f.timing,
      speed: f.speed ?? 1,
      rate: f.rate,
      matches: f.match,
      count: f.count,
      dryRun: f.dryRun,
      output: { format: format(f.format), template: f.template, full: f.full },
      receipts: f.receipts,
      mandatory: f.mandatory,
      skipInvalid: f.skipInvalid,
    };
    return { command: 'replay', global: global(), options };
  },
  runners: { replay: () => import('./run.js').then((m) => m.replay) },
  readsStdin: (parsed) => {
    const { source } = parsed.options as ReplayOptions;
    return source.kind === 'file' && source.path === '-';
  },
});
