/** `warren declare`: exchanges, queues and bindings from flags, or a topology file applied. */

import { InvalidArgumentError } from 'commander';
import { UsageError } from '../../errors.js';
import {
  maxAge,
  OVERFLOW_MODES,
  QUEUE_TYPES,
  type QueueOptions,
  queueArguments,
} from '../../topology/spec.js';
import { choice, defineCommand, option, pair, repeatable, required, toggle, withDefault } from '../define.js';
import { brokerName, duration, integer, parseHeaderFlags } from '../values.js';
import { bindingFlags, bindingFromFlags, jsonFlag, wantsJson } from './bindingFlags.js';
import type { DeclareOptions } from './run.js';

const runners = { declare: () => import('./run.js').then((m) => m.declare) };
const durable = pair(
  '--durable',
  'survives a broker restart (the default)',
  '--no-durable',
  'gone when the broker restarts',
);
const passive = toggle('--passive', 'only check that it exists (exit 5 if not)');

const exchange = defineCommand({
  name: 'exchange',
  description: 'declare an exchange',
  args: { name: required('name', 'the exchange', brokerName('the exchange name')) },
  flags: {
    type: withDefault(option('--type <type>', 'direct, fanout, topic, headers, or a plugin type'), 'direct'),
    durable,
    autoDelete: toggle('--auto-delete', 'deleted when its last binding goes'),
    internal: toggle('--internal', 'only other exchanges may publish to it'),
    alternateExchange: option('--alternate-exchange <exchange>', 'where messages that match no binding go'),
    arg: repeatable('--arg <key=value>', 'an argument; key:=JSON for a typed value (repeatable)'),
    passive,
    json: jsonFlag,
  },
  examples: [
    'warren declare exchange orders --type topic',
    'warren declare exchange orders.dlx --type fanout --json | jq .status',
  ],
  parse({ args: { name }, flags: f, global, inherited }) {
    const args = parseHeaderFlags(f.arg, '--arg');
    if (f.alternateExchange !== undefined) args['alternate-exchange'] = f.alternateExchange;
    const options: DeclareOptions = {
      kind: 'exchange',
      spec: {
        name,
        type: f.type,
        durable: f.durable,
        autoDelete: f.autoDelete,
        internal: f.internal,
        arguments: args,
      },
      passive: f.passive,
      json: wantsJson(inherited),
    };
    return { command: 'declare', global: global(), options };
  },
  runners,
});

const queue = defineCommand({
  name: 'queue',
  description: "declare a queue ('' for a server-named one); prints its name",
  args: {
    name: required('name', "the queue, or '' to let the broker name it", brokerName('the queue name')),
  },
  flags: {
    type: choice('--type <type>', "queue type (default: the vhost's, normally classic)", QUEUE_TYPES),
    durable,
    exclusive: toggle('--exclusive', 'only this connection may use it (gone when warren exits)'),
    autoDelete: toggle('--auto-delete', 'deleted when its last consumer goes'),
    deadLetterExchange: option(
      '--dead-letter-exchange <exchange>',
      'where rejected and expired messages go',
      brokerName('--dead-letter-exchange'),
    ),
    deadLetterRoutingKey: option('--dead-letter-routing-key <key>', 'routing key for dead-lettered messages'),
    messageTtl: option('--message-ttl <duration>', 'messages expire after this long', duration),
    expires: option('--expires <duration>', 'the queue is deleted after being unused this long', duration),
    maxLength: option('--max-length <n>', 'at most N ready messages', integer(0)),
    maxLengthBytes: option('--max-length-bytes <n>', 'at most N bytes of ready messages', integer(0)),
    overflow: choice('--overflow <mode>', 'what happens when full', OVERFLOW_MODES),
    maxPriority: option('--max-priority <n>', 'support priorities 0..N (classic)', integer(1, 255)),
    deliveryLimit: option('--delivery-limit <n>', 'dead-letter after N deliveries (quorum)', integer(0)),
    singleActiveConsumer: toggle('--single-active-consumer', 'one consumer at a time gets messages'),
    maxAge: option('--max-age <age>', 'stream retention, e.g. 7D, 12h (units Y M D h m s)', (value) => {
      try {
        return maxAge(value, '--max-age');
      } catch (error) {
        throw new InvalidArgumentError((error as Error).message.replace(/^--max-age: /, ''));
      }
    }),
    arg: repeatable('--arg <key=value>', 'any other argument; key:=JSON for a typed value (repeatable)'),
    passive,
    json: jsonFlag,
  },
  rules: [{ only: ['maxAge'], with: 'type=stream' }],
  examples: [
    'warren declare queue orders.created --type quorum --dead-letter-exchange orders.dlx',
    'warren declare queue orders.log --type stream --max-age 7D',
    "Q=$(warren declare queue '' --expires 10m)      # a server-named queue, gone when unused",
  ],
  parse({ args: { name }, flags: f, global, inherited }) {
    const named: QueueOptions = {
      deadLetterExchange: f.deadLetterExchange,
      deadLetterRoutingKey: f.deadLetterRoutingKey,
      messageTtl: f.messageTtl,
      expires: f.expires,
      maxLength: f.maxLength,
      maxLengthBytes: f.maxLengthBytes,
      overflow: f.overflow,
      maxPriority: f.maxPriority,
      deliveryLimit: f.deliveryLimit,
      singleActiveConsumer: f.singleActiveConsumer ? true : undefined,
      maxAge: f.maxAge,
    };
    const options: DeclareOptions = {
      kind: 'queue',
      spec: {
        name,
        type: f.type,
        durable: f.durable,
        exclusive: f.exclusive,
        autoDelete: f.autoDelete,
        arguments: queueArguments(f.type, named, parseHeaderFlags(f.arg, '--arg')),
      },
      passive: f.passive,
      json: wantsJson(inherited),
    };
    return { command: 'declare', global: global(), options };
  },
  runners,
});

const binding = defineCommand({
  name: 'binding',
  description: 'bind a queue or an exchange to an exchange',
  flags: bindingFlags,
  examples: [
    "warren declare binding --source orders --queue orders.created --key 'order.*'",
    'warren declare binding --source amq.headers --queue eu-orders --arg x-match=all --arg region=eu',
  ],
  parse: ({ flags, global, inherited }) => ({
    command: 'declare',
    global: global(),
    options: {
      kind: 'binding',
      spec: bindingFromFlags(flags),
      json: wantsJson(inherited),
    } satisfies DeclareOptions,
  }),
  runners,
});

export const declareCommand = defineCommand({
  name: 'declare',
  description: 'create exchanges, queues and bindings, or apply (or --check) a topology file',
  flags: {
    file: option('-f, --file <path>', 'a topology file (JSON) to apply'),
    check: toggle('--check', 'change nothing, report what is missing or differs (exit 5)'),
    json: toggle('--json', 'print the results as JSON on stdout'),
  },
  rules: [{ only: ['check'], with: 'file' }],
  examples: [
    'warren declare exchange orders --type topic',
    'warren declare queue orders.created --type quorum --dead-letter-exchange orders.dlx',
    "warren declare binding --source orders --queue orders.created --key 'order.*'",
    "Q=$(warren declare queue '' --expires 10m)      # a server-named queue, gone when unused",
    'warren declare --file topology.json --check     # exit 5 if the broker differs',
  ],
  subcommands: [exchange, queue, binding],
  parse({ flags: f, global, inherited }) {
    if (f.file === undefined)
      throw new UsageError('say what to declare: exchange, queue, binding, or --file FILE');
    const options: DeclareOptions = {
      kind: 'file',
      file: f.file,
      check: f.check,
      json: wantsJson(inherited),
    };
    return { command: 'declare', global: global(), options };
  },
  runners,
});
