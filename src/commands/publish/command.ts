/** `warren publish`: one message, or many from stdin or a file; `--rpc` sends a request. */
import type { MessageProperties } from '../../broker/message.js';
import { DEFAULT_RETRIES } from '../../broker/reconnect.js';
import { FORMATS, INPUT_MODES } from '../../choices.js';
import { UsageError } from '../../errors.js';
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
import {
  brokerName,
  duration,
  integer,
  parseHeaderFlags,
  shortString,
  timerDuration,
  timestamp,
  unsendableArgument,
} from '../values.js';
import type { RpcOptions } from './rpc.js';
import type { PublishOptions } from './run.js';

const flags = {
  exchange: option(
    '-e, --exchange <name>',
    "exchange to publish to ('' is the default exchange)",
    brokerName('--exchange'),
  ),
  routingKey: option(
    '-k, --routing-key <key>',
    'routing key (for the default exchange: the queue name)',
    shortString('--routing-key'),
  ),
  file: option('-f, --file <path>', 'read the body (or the lines) from a file'),
  input: withDefault(
    choice(
      '-i, --input <mode>',
      'raw: all input is one message; lines: one per line; ndjson: one envelope per line',
      INPUT_MODES,
    ),
    'raw',
  ),
  header: repeatable('-H, --header <key=value>', 'a header; key:=JSON for a typed value (repeatable)'),
  contentType: option('--content-type <type>', 'content-type property', shortString('--content-type')),
  contentEncoding: option(
    '--content-encoding <encoding>',
    'content-encoding property',
    shortString('--content-encoding'),
  ),
  persistent: toggle('--persistent', 'delivery mode 2: survives a broker restart (the default)'),
  transient: toggle('--transient', 'delivery mode 1'),
  priority: option('--priority <0-255>', 'priority property', integer(0, 255)),
  expiration: option('--expiration <duration>', 'per-message TTL, e.g. 30s', duration),
  messageId: option('--message-id <id>', 'message-id property', shortString('--message-id')),
  correlationId: option('--correlation-id <id>', 'correlation-id property', shortString('--correlation-id')),
  replyTo: option('--reply-to <queue>', 'reply-to property', shortString('--reply-to')),
  type: option('--type <type>', 'type property', shortString('--type')),
  appId: option('--app-id <id>', 'app-id property', shortString('--app-id')),
  timestamp: option(
    '--timestamp <time>',
    "timestamp property: 'now', seconds since the epoch, or ISO 8601",
    timestamp,
  ),
  mandatory: negatable('--no-mandatory', 'allow unroutable messages to be dropped silently'),
  skipInvalid: toggle('--skip-invalid', 'with --input ndjson: warn about a malformed line and go on'),
  retries: withDefault(
    option(
      '--retries <n>',
      'after a lost connection, reconnect up to N times in a row and send again what was not confirmed (0: exit 69 at once)',
      integer(0, 1000),
    ),
    DEFAULT_RETRIES,
  ),
  rpc: toggle('--rpc', 'send a request (direct reply-to, a fresh correlation id) and print its reply'),
  timeout: option(
    '-t, --timeout <duration>',
    'how long to wait for the reply (default 30s; exit 3)',
    timerDuration,
  ),
  format: choice('--format <format>', 'how to print the reply; pretty on a terminal, else ndjson', FORMATS),
  template: option('--template <template>', 'print the reply as one line, e.g. {body}'),
  full: toggle('--full', "show a long reply whole, not cut to the terminal's height"),
};

export const publishCommand = defineCommand({
  name: 'publish',
  description: 'publish one message, or many from stdin or a file, with publisher confirms',
  args: { body: optional('body', 'the message body (else --file, else stdin)') },
  flags,
  rules: [
    { not: ['transient'], with: 'persistent', because: 'they contradict each other' },
    { only: ['timeout', 'format', 'template', 'full'], with: 'rpc' },
    { not: ['input', 'retries'], with: 'rpc', because: 'it sends one request and waits for its reply' },
    { not: ['replyTo'], with: 'rpc', because: 'it sets the reply-to itself (direct reply-to)' },
  ],
  examples: [
    'warren publish --exchange orders --routing-key order.created -H x-tenant=acme \'{"id":42}\'',
    'seq 1 1000 | warren publish --routing-key numbers --input lines',
    "warren publish --input ndjson --exchange '' --routing-key orders-copy < capture.ndjson",
    "warren publish --rpc --routing-key rpc.echo --timeout 5s --template '{body}' 'hello'   # exit 3: no reply",
  ],
  parse({ args: { body }, flags: f, global, format }) {
    const unsendableBody = body === undefined ? undefined : unsendableArgument(body);
    if (unsendableBody) {
      throw new UsageError(`the BODY argument ${unsendableBody}`, {
        hint: "give a body of any bytes with --file FILE, or on stdin; see 'warren publish --help'",
      });
    }
    const properties: MessageProperties = {
      contentType: f.contentType,
      contentEncoding: f.contentEncoding,
      deliveryMode: f.transient ? 1 : f.persistent ? 2 : undefined,
      priority: f.priority,
      correlationId: f.correlationId,
      replyTo: f.replyTo,
      expiration: f.expiration === undefined ? undefined : String(f.expiration),
      messageId: f.messageId,
      timestamp: f.timestamp,
      type: f.type,
      appId: f.appId,
    };
    for (const key of Object.keys(properties) as (keyof MessageProperties)[]) {
      if (properties[key] === undefined) delete properties[key];
    }
    const options: PublishOptions = {
      overrides: {
        exchange: f.exchange,
        routingKey: f.routingKey,
        properties,
        headers: parseHeaderFlags(f.header),
      },
      body,
      file: f.file,
      input: f.input,
      mandatory: f.mandatory,
      skipInvalid: f.skipInvalid,
      retries: f.retries,
    };
    if (!f.rpc) return { command: 'publish', global: global(), options };
    const rpc: RpcOptions = {
      request: options,
      timeoutMs: f.timeout ?? 30_000,
      format: format(f.format),
      template: f.template,
      full: f.full,
    };
    return { command: 'rpc', global: global(), options: rpc };
  },
  runners: {
    publish: () => import('./run.js').then((m) => m.publish),
    rpc: () => import('./rpc.js').then((m) => m.rpc),
  },
  connectionNames: { rpc: 'warren publish --rpc' },
  readsStdin: (parsed) => {
    const { body, file } = parsed.options as PublishOptions;
    return parsed.command === 'publish' && body === undefined && (file === undefined || file === '-');
  },
});
