/**
 * `warren consume QUEUE`: print messages, acked once written; `--exec` runs a handler per
 * message, `--pipe` feeds them to long-running handlers.
 */

import { DEFAULT_RETRIES } from '../../broker/reconnect.js';
import { ACK_MODES, FORMATS } from '../../choices.js';
import { formatDuration, MAX_TIMER_MS } from '../../duration.js';
import { UsageError } from '../../errors.js';
import type { EmitTarget } from '../../exec/emit.js';
import type { RetryDelay } from '../../exec/retryQueues.js';
import { choice, defineCommand, option, required, toggle, withDefault } from '../define.js';
import { brokerName, integer, timerDuration } from '../values.js';
import type { ExecOptions } from './exec.js';
import type { ConsumeOptions } from './run.js';

/** Flags of a run that hands messages to a handler, --exec or --pipe. */
const HANDLER_ONLY = [
  'onFailure',
  'concurrency',
  'execTimeout',
  'maxRetries',
  'retryDelay',
  'emit',
  'emitFormat',
  'grace',
  'passUrl',
] as const;

/**
 * --pipe's messages in flight unless --prefetch says (docs/handlers.md): consume's default,
 * and at least this many per handler process.
 */
const PIPE_PREFETCH = 1000;
const PIPE_PREFETCH_PER_PROCESS = 100;

const flags = {
  count: option('-n, --count <n>', 'stop after N messages', integer(1)),
  timeout: option(
    '-t, --timeout <duration>',
    'stop when nothing arrives for this long (exit 3 if --count not reached)',
    timerDuration,
  ),
  prefetch: withDefault(
    option(
      '--prefetch <n>',
      `unacknowledged messages in flight (with --pipe: at least ${PIPE_PREFETCH_PER_PROCESS} per handler process by default)`,
      integer(1, 65535),
    ),
    1000,
  ),
  retries: withDefault(
    option(
      '--retries <n>',
      'after a lost connection, reconnect up to N times in a row (0: exit 69 at once; a peek never reconnects)',
      integer(0, 1000),
    ),
    DEFAULT_RETRIES,
  ),
  ackMode: withDefault(
    choice(
      '--ack-mode <mode>',
      'ack: take; requeue: peek, leave the queue as it was; reject: dead-letter; none: broker auto-ack',
      ACK_MODES,
    ),
    'ack',
  ),
  format: choice(
    '--format <format>',
    'pretty on a terminal, else ndjson; body: the raw body and a newline',
    FORMATS,
  ),
  template: option(
    '--template <template>',
    "one line per message, e.g. '{routingKey} {headers.x-id} {body}'",
  ),
  full: toggle('--full', "pretty output: show long bodies whole, not cut to the terminal's height"),
  exec: option(
    '--exec <command>',
    'run COMMAND (through the shell) per message: body on stdin, envelope in WARREN_* variables',
  ),
  pipe: option(
    '--pipe <command>',
    'start COMMAND (through the shell) once, --concurrency copies: one NDJSON envelope per message on its stdin, one answer line each on its stdout',
  ),
  onFailure: withDefault(
    choice('--on-failure <policy>', 'what a failed handler does to its message', [
      'requeue',
      'reject',
      'dead-letter',
    ]),
    'requeue',
  ),
  concurrency: option(
    '--concurrency <n>',
    'handlers running at once (--pipe: processes; default 1); with --exec the prefetch is 3 times this',
    integer(1, 65535),
  ),
  execTimeout: option(
    '--exec-timeout <duration>',
    'kill a handler running longer; its message failed',
    timerDuration,
  ),
  maxRetries: option(
    '--max-retries <n>',
    'reject (dead-letter) a message after N failed retries',
    integer(0),
  ),
  retryDelay: option(
    '--retry-delay <duration>',
    'a failed message waits this long before its next try, doubling per retry (in a retry queue)',
    timerDuration,
  ),
  retryDelayMax: option(
    '--retry-delay-max <duration>',
    'the longest a retry waits (default 16 times --retry-delay)',
    timerDuration,
  ),
  reply: toggle('--reply', "publish the handler's stdout to the message's reply-to (request/reply)"),
  emit: option(
    '--emit <exchange[:key]>',
    "publish the handler's stdout as an event there; its message is acked once the event is confirmed",
  ),
  emitFormat: choice(
    '--emit-format <format>',
    'raw: all of stdout is one event (default); ndjson: one envelope per line, --emit gives the defaults',
    ['raw', 'ndjson'],
  ),
  grace: option(
    '--grace <duration>',
    'on Ctrl-C, how long running handlers may finish (default 10s)',
    timerDuration,
  ),
  passUrl: toggle('--pass-url', "give the handler WARREN_URL, password included, for warren's broker"),
};

/** --retry-delay-max when not given: four doublings of the first delay (1s: 1, 2, 4, 8, 16s). */
const RETRY_DELAY_MAX_FACTOR = 16;

/**
 * --retry-delay and its cap, checked together: the cap is at least the first delay. `names`
 * are how the two are called where they came from (flags here, fields in serve's file).
 */
export function retryDelay(
  firstMs: number | undefined,
  maxMs: number | undefined,
  names = { first: '--retry-delay', max: '--retry-delay-max' },
): RetryDelay | undefined {
  if (firstMs === undefined) return undefined;
  if (firstMs === 0) {
    throw new UsageError(`${names.first} must be more than 0 (leave it out for retries at once)`);
  }
  for (const [name, ms] of [
    [names.first, firstMs],
    [names.max, maxMs],
  ] as const) {
    if (ms !== undefined && ms > MAX_TIMER_MS)
      throw new UsageError(`${name} is over ${formatDuration(MAX_TIMER_MS)}, the longest warren can wait`);
  }
  if (maxMs !== undefined && maxMs < firstMs) {
    throw new UsageError(
      `${names.max} (${formatDuration(maxMs)}) is shorter than ${names.first} (${formatDuration(firstMs)})`,
    );
  }
  return { firstMs, maxMs: maxMs ?? Math.min(firstMs * RETRY_DELAY_MAX_FACTOR, MAX_TIMER_MS) };
}

/** The messages in flight for --pipe handlers with `processes` copies, unless --prefetch says. */
export function pipePrefetch(processes: number): number {
  return Math.min(65535, Math.max(PIPE_PREFETCH, PIPE_PREFETCH_PER_PROCESS * processes));
}

export const consumeCommand = defineCommand({
  name: 'consume',
  description: 'take messages from a queue and print them (acked only once read)',
  args: { queue: required('queue', 'the queue to consume from', brokerName('the queue name')) },
  flags,
  rules: [
    { only: [...HANDLER_ONLY], with: ['exec', 'pipe'] },
    { only: ['reply'], with: 'exec' },
    { only: ['retryDelayMax'], with: 'retryDelay' },
    { not: ['pipe'], with: 'exec', because: 'a handler runs either once per message or for the whole run' },
    {
      not: ['emit', 'emitFormat'],
      with: 'reply',
      because: "the handler's stdout is either a reply or events",
    },
    {
      not: ['prefetch', 'ackMode', 'format', 'template', 'full'],
      with: 'exec',
      because: "the handler's outcome settles each message, and its output goes to stderr",
    },
    {
      not: ['ackMode', 'format', 'template', 'full'],
      with: 'pipe',
      because: "the handler's answer settles each message, and its stdout is answers",
    },
  ],
  examples: [
    'warren consume orders                              # pretty on a terminal, NDJSON in a pipe',
    'warren consume orders --count 1 --timeout 10s      # exit 3 if nothing comes within 10s',
    'warren consume orders --ack-mode requeue --format ndjson | jq -c .headers   # peek',
    "warren consume orders --exec './handle-order.sh' --concurrency 4 --max-retries 3 --exec-timeout 30s",
    "warren consume orders --exec './handle-order.sh' --max-retries 5 --retry-delay 1s   # waits 1, 2, 4, 8, 16s",
    "warren consume rpc.echo --exec 'tr a-z A-Z' --reply              # a request/reply server",
    "warren consume orders --exec './ship.sh' --emit shipments:order.shipped   # acked once the event is confirmed",
    "warren consume orders --exec './ship.sh' --emit-format ndjson --emit events   # one envelope per line",
    "warren consume orders --exec 'warren publish -k orders.seen' --pass-url   # its warren reaches this broker",
    "warren consume orders --pipe 'node ship.mjs' --concurrency 2   # long-running: one line in, one answer out",
    "warren consume orders --pipe 'python3 ship.py' --emit shipments   # answers carry events, acked once confirmed",
  ],
  parse({ args: { queue }, flags: f, given, global, format }) {
    const handler =
      f.exec !== undefined
        ? { kind: 'exec' as const, flag: '--exec', command: f.exec }
        : f.pipe !== undefined
          ? { kind: 'pipe' as const, flag: '--pipe', command: f.pipe }
          : undefined;
    if (handler !== undefined) {
      if (handler.command.trim() === '') {
        throw new UsageError(
          `${handler.flag} needs a command: an empty one would ${handler.kind === 'exec' ? 'ack every message unhandled' : 'answer nothing'}`,
        );
      }
      const concurrency = f.concurrency ?? 1;
      const options: ExecOptions = {
        queue,
        kind: handler.kind,
        command: handler.command,
        onFailure: f.onFailure === 'requeue' ? 'requeue' : 'reject',
        concurrency,
        prefetch:
          handler.kind === 'exec' ? undefined : given('prefetch') ? f.prefetch : pipePrefetch(concurrency),
        execTimeoutMs: f.execTimeout,
        maxRetries: f.maxRetries,
        retryDelay: retryDelay(f.retryDelay, f.retryDelayMax),
        reply: f.reply,
        emit: emitTarget(f.emit, f.emitFormat),
        graceMs: f.grace ?? 10_000,
        passUrl: f.passUrl,
        count: f.count,
        timeoutMs: f.timeout,
        retries: f.retries,
      };
      return { command: handler.kind, global: global(), options };
    }
    const options: ConsumeOptions = {
      queue,
      count: f.count,
      timeoutMs: f.timeout,
      prefetch: f.prefetch,
      ackMode: f.ackMode,
      format: format(f.format),
      template: f.template,
      full: f.full,
      retries: f.retries,
    };
    return { command: 'consume', global: global(), options };
  },
  runners: {
    consume: () => import('./run.js').then((m) => m.consume),
    exec: () => import('./exec.js').then((m) => m.exec),
    pipe: () => import('./exec.js').then((m) => m.exec),
  },
  connectionNames: { exec: 'warren consume --exec', pipe: 'warren consume --pipe' },
});

/**
 * Where the handler's events go: `--emit EXCHANGE[:KEY]`, raw unless `--emit-format ndjson`
 * (which alone emits too, each line naming its exchange and key, else the default exchange).
 */
export function emitTarget(
  target: string | undefined,
  format: 'raw' | 'ndjson' | undefined,
): EmitTarget | undefined {
  if (target === undefined && format === undefined) return undefined;
  if (target === undefined && format === 'raw') {
    throw new UsageError('--emit-format raw needs --emit EXCHANGE[:KEY]: where would the events go?');
  }
  // Up to the first colon is the exchange (empty: the default exchange, whose keys are
  // queue names), the rest the routing key.
  const text = target ?? '';
  const colon = text.indexOf(':');
  const defaults =
    colon === -1
      ? { exchange: text, routingKey: '' }
      : { exchange: text.slice(0, colon), routingKey: text.slice(colon + 1) };
  if (defaults.exchange === '' && defaults.routingKey === '' && format !== 'ndjson') {
    throw new UsageError(
      "--emit '' names no exchange and no key: give EXCHANGE, EXCHANGE:KEY or :QUEUE (the default exchange)",
    );
  }
  for (const [what, value] of [
    ['exchange', defaults.exchange],
    ['routing key', defaults.routingKey],
  ] as const) {
    if (Buffer.byteLength(value) > 255) throw new UsageError(`--emit: the ${what} is over 255 bytes`);
  }
  return { ...defaults, format: format ?? 'raw' };
}
