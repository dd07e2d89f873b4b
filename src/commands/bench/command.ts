/** `warren bench`: throughput and latency of producers and consumers over queues of its own. */
import { type Assertion, parseAssertion } from '../../bench/assertions.js';
import type { BenchQueueType } from '../../bench/engine.js';
import { UsageError } from '../../errors.js';
import { choice, defineCommand, option, pair, repeatable, toggle, withDefault } from '../define.js';
import { brokerName, duration, integer, integerRange, rate, runDuration } from '../values.js';
import type { BenchCommandOptions } from './run.js';

/** The send time takes the first 8 bytes of every body. */
const MIN_SIZE = 8;
/** RabbitMQ's default max_message_size. */
const MAX_SIZE = 128 * 1024 * 1024;
const DEFAULT_SIZE = 100;

export const benchCommand = defineCommand({
  name: 'bench',
  description: 'measure publish, confirm and consume rates and end-to-end latency',
  flags: {
    producers: withDefault(
      option('--producers <n>', 'producers, each on its own channel', integer(1, 1000)),
      1,
    ),
    consumers: withDefault(
      option('--consumers <n>', 'consumers, each on its own channel', integer(0, 1000)),
      1,
    ),
    channelsPerConnection: withDefault(
      option(
        '--channels-per-connection <n>',
        'producers (and apart, consumers) that share a connection',
        integer(1, 1000),
      ),
      1,
    ),
    size: option(
      '--size <bytes>',
      `message body size, or MIN-MAX: each message's drawn uniformly from that range (at least ${MIN_SIZE}: the send time; default ${DEFAULT_SIZE})`,
      integerRange(MIN_SIZE, MAX_SIZE),
    ),
    bodyFile: option(
      '--body-file <file>',
      "every message's body is FILE's bytes (the send time then rides in a header)",
    ),
    rate: option(
      '--rate <rate>',
      'messages per second per producer (100, 100/s, 30/m); default as fast as confirms allow',
      rate,
    ),
    duration: option('--duration <time>', 'how long to publish (default 10s)', runDuration),
    count: option('--count <n>', 'publish N messages in all, then stop', integer(1)),
    confirmWindow: withDefault(
      option(
        '--confirm-window <n>',
        'unconfirmed messages a producer may have at once',
        integer(1, 1_000_000),
      ),
      256,
    ),
    prefetch: withDefault(option('--prefetch <n>', "each consumer's prefetch", integer(0, 65535)), 1000),
    multiAck: option(
      '--multi-ack <n>',
      'ack every N deliveries with one multiple ack (1: each on its own); default: what one turn of the event loop took, at once',
      integer(1, 65535),
    ),
    persistent: pair(
      '--persistent',
      'persistent messages (delivery mode 2; classic queues durable)',
      '--transient',
      'transient messages (delivery mode 1)',
    ),
    queueType: withDefault(
      choice('--queue-type <type>', 'the type of the queues bench declares', [
        'classic',
        'quorum',
        'stream',
      ] as const),
      'classic',
    ),
    queues: withDefault(option('--queues <k>', 'queues, published to round-robin', integer(1, 1000)), 1),
    autoack: toggle('--autoack', 'consume without acks (not for streams)'),
    queue: option(
      '--queue <name>',
      'bench this existing queue (empty, no consumers) instead of declaring queues; it is left in place',
      brokerName('the queue name'),
    ),
    force: toggle('--force', 'bench it even with messages or consumers of its own'),
    exchange: option(
      '--exchange <name>',
      "publish to this existing exchange; bench's queues are bound to it with --routing-key (default each queue's name)",
      brokerName('the exchange name'),
    ),
    routingKey: option('--routing-key <key>', 'the routing key to publish with (every queue bound with it)'),
    drain: option(
      '--drain <time>',
      'after publishing, how long consumers may take to catch up (default 10s)',
      duration,
    ),
    json: toggle('--json', 'print the final summary as JSON on stdout'),
    csv: option('--csv <file>', 'write the per-second series to FILE as CSV'),
    assert: repeatable(
      '--assert <expr>',
      'fail (exit 9) unless METRIC OP VALUE holds: p99<50ms, publish>=20000/s',
    ),
  },
  rules: [
    { not: ['count'], with: 'duration', because: 'a run ends by one or the other' },
    { only: ['routingKey'], with: 'exchange' },
    { only: ['force'], with: 'queue' },
    { not: ['size'], with: 'bodyFile', because: "each body is the file's" },
    { not: ['queues', 'queueType', 'exchange'], with: 'queue', because: 'the queue is there already' },
  ],
  examples: [
    'warren bench --duration 30s',
    'warren bench --producers 4 --consumers 4 --size 1024 --rate 5000/s --count 100000',
    'warren bench --queue-type quorum --persistent --confirm-window 1000 --json',
    "warren bench --duration 1m --assert 'p99<20ms' --assert 'publish>=10000/s'",
  ],
  parse: ({ flags, given, global }) => {
    const queueType = flags.queueType as BenchQueueType;
    if (queueType === 'stream' && flags.autoack)
      throw new UsageError('--autoack: a stream queue is consumed with acks', {
        hint: 'leave out --autoack',
      });
    if (queueType === 'stream' && flags.prefetch === 0)
      throw new UsageError('--prefetch: a stream queue needs a prefetch above 0');
    const assertions: Assertion[] = flags.assert.map(parseAssertion);
    return {
      command: 'bench',
      global: global(),
      options: {
        bodyFile: flags.bodyFile,
        engine: {
          producers: flags.producers,
          consumers: flags.consumers,
          channelsPerConnection: flags.channelsPerConnection,
          size: flags.size ?? { min: DEFAULT_SIZE, max: DEFAULT_SIZE },
          rate: flags.rate,
          durationMs: flags.duration ?? 10_000,
          count: flags.count,
          confirmWindow: flags.confirmWindow,
          prefetch: flags.prefetch,
          multiAck: flags.multiAck,
          // Transient unless --persistent: the pair's value alone would be true when neither is given.
          persistent: flags.persistent && given('persistent'),
          queueType,
          queues: flags.queues,
          autoack: flags.autoack,
          queue: flags.queue,
          force: flags.force,
          exchange: flags.exchange,
          routingKey: flags.routingKey,
          drainMs: flags.drain ?? 10_000,
        },
        json: flags.json,
        csv: flags.csv,
        assertions,
      } satisfies BenchCommandOptions,
    };
  },
  runners: { bench: () => import('./run.js').then((m) => m.bench) },
});
