/** `warren consume QUEUE`: print messages, acked once written; `--exec` runs a handler per message. */

import { DEFAULT_RETRIES } from '../../broker/reconnect.js';
import { ACK_MODES, FORMATS } from '../../choices.js';
import { UsageError } from '../../errors.js';
import { choice, defineCommand, option, required, toggle, withDefault } from '../define.js';
import { brokerName, integer, timerDuration } from '../values.js';
import type { ExecOptions } from './exec.js';
import type { ConsumeOptions } from './run.js';

const EXEC_ONLY = [
  'onFailure',
  'concurrency',
  'execTimeout',
  'maxRetries',
  'reply',
  'grace',
  'passUrl',
] as const;

const flags = {
  count: option('-n, --count <n>', 'stop after N messages', integer(1)),
  timeout: option(
    '-t, --timeout <duration>',
    'stop when nothing arrives for this long (exit 3 if --count not reached)',
    timerDuration,
  ),
  prefetch: withDefault(
    option('--prefetch <n>', 'unacknowledged messages in flight', integer(1, 65535)),
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
    'handlers running at once (default 1); the prefetch is 3 times this',
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
  reply: toggle('--reply', "publish the handler's stdout to the message's reply-to (request/reply)"),
  grace: option(
    '--grace <duration>',
    'on Ctrl-C, how long running handlers may finish (default 10s)',
    timerDuration,
  ),
  passUrl: toggle('--pass-url', "give the handler WARREN_URL, password included, for warren's broker"),
};

export const consumeCommand = defineCommand({
  name: 'consume',
  description: 'take messages from a queue and print them (acked only once read)',
  args: { queue: required('queue', 'the queue to consume from', brokerName('the queue name')) },
  flags,
  rules: [
    { only: [...EXEC_ONLY], with: 'exec' },
    {
      not: ['prefetch', 'ackMode', 'format', 'template', 'full'],
      with: 'exec',
      because: "the handler's outcome settles each message, and its output goes to stderr",
    },
  ],
  examples: [
    'warren consume orders                              # pretty on a terminal, NDJSON in a pipe',
    'warren consume orders --count 1 --timeout 10s      # exit 3 if nothing comes within 10s',
    'warren consume orders --ack-mode requeue --format ndjson | jq -c .headers   # peek',
    "warren consume orders --exec './handle-order.sh' --concurrency 4 --max-retries 3 --exec-timeout 30s",
    "warren consume rpc.echo --exec 'tr a-z A-Z' --reply              # a request/reply server",
    "warren consume orders --exec 'warren publish -k orders.seen' --pass-url   # its warren reaches this broker",
  ],
  parse({ args: { queue }, flags: f, global, format }) {
    if (f.exec !== undefined) {
      if (f.exec.trim() === '') {
        throw new UsageError('--exec needs a command: an empty one would ack every message unhandled');
      }
      const options: ExecOptions = {
        queue,
        command: f.exec,
        onFailure: f.onFailure === 'requeue' ? 'requeue' : 'reject',
        concurrency: f.concurrency ?? 1,
        execTimeoutMs: f.execTimeout,
        maxRetries: f.maxRetries,
        reply: f.reply,
        graceMs: f.grace ?? 10_000,
        passUrl: f.passUrl,
        count: f.count,
        timeoutMs: f.timeout,
        retries: f.retries,
      };
      return { command: 'exec', global: global(), options };
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
  },
  connectionNames: { exec: 'warren consume --exec' },
});
