/**
 * The broker session: the only module that talks to amqplib. Everything it hands out is
 * plain data (ReceivedMessage, counts) or a small interface of its own.
 */
import { lookup } from 'node:dns/promises';
import type * as Amqp from 'amqplib';
import codec from 'amqplib-codec';
import { BrokerRefusedError, UnreachableError, WarrenError } from '../errors.js';
import type { ConfirmTracker, PendingPublish } from './confirmTracker.js';
import { type BindingSpec, describeBinding, type ExchangeSpec, type QueueSpec } from './declarations.js';
import {
  type MessageProperties,
  type OutgoingMessage,
  PROPERTY_KINDS,
  type ReceivedMessage,
} from './envelope.js';
import {
  type FieldTable,
  MAX_HEADERS_BYTES,
  RAW_TABLE,
  readHeaders,
  spliceFieldTable,
  typedFromDecoded,
  verbatimTableOf,
} from './fieldTable.js';
import { FrameBatch, type ProtocolDefinitions } from './frameBatch.js';
import { refusedAsStream } from './streamQueue.js';
import type { BrokerUrl, TlsSocketOptions } from './url.js';

export interface SessionOptions {
  urls: BrokerUrl[];
  tls: TlsSocketOptions;
  /** Shown in the broker's management UI: `warren <command>`. */
  connectionName: string;
  /** Receives connection and protocol detail for --verbose. */
  log?: (line: string) => void;
  /** Receives what a person should know even without --verbose (the broker blocking publishers). */
  warn?: (line: string) => void;
  /** --wait-for-broker: keep trying this long while the broker cannot be reached. */
  waitMs?: number;
}

type AmqpModule = typeof Amqp;
let amqplib: AmqpModule | undefined;
let protocol: ProtocolDefinitions | undefined;

/**
 * Loads amqplib with one change: its field-table decoder also keeps the raw bytes of each
 * table it decodes, so that message headers can be read again with their wire types
 * (see fieldTable.ts). amqplib's protocol definitions take the decoder from the codec
 * module when they load, so the wrapper must be in place before amqplib is imported.
 */
async function loadAmqplib(): Promise<AmqpModule> {
  if (amqplib) return amqplib;
  const decodeFields = codec.decodeFields;
  codec.decodeFields = (slice: Buffer) => {
    let table: Record<string | symbol, unknown>;
    try {
      table = decodeFields(slice);
    } catch {
      // amqplib's decoder recurses, and another client may send headers nested deep enough
      // to overflow the stack (or bytes it cannot read): thrown here, that would end the
      // connection, and the message would come back and do it again. warren reads the raw
      // bytes itself (readHeaders), without recursing past a bound.
      table = {};
    }
    table[RAW_TABLE] = slice;
    return table;
  };
  const encodeTable = codec.encodeTable;
  codec.encodeTable = (buffer: Buffer, value: unknown, offset: number) => {
    const raw = verbatimTableOf(value);
    if (!raw) return encodeTable(buffer, value, offset);
    return writeVerbatimTable(buffer, offset, raw, value as Record<string, unknown>, encodeTable);
  };
  const loaded = await import('amqplib');
  // amqplib is CommonJS: its exports arrive as the default export.
  amqplib = (loaded as unknown as { default: AmqpModule }).default;
  protocol = (await import('amqplib-defs')).default;
  return amqplib;
}

/**
 * Writes a verbatim table (see verbatimHeaders) where amqplib's encoder would write a table:
 * its bytes as they came, with the entries its own keys give in place of theirs.
 */
function writeVerbatimTable(
  buffer: Buffer,
  offset: number,
  raw: Buffer,
  changes: Record<string, unknown>,
  encodeTable: typeof codec.encodeTable,
): number {
  let bytes = raw;
  // As amqplib's own encoder reads a table: every enumerable key, inherited too, that has a
  // value. channel.publish hands the headers on as the prototype of a table of its own.
  const changed: string[] = [];
  for (const key in changes) if (changes[key] !== undefined) changed.push(key);
  if (changed.length > 0) {
    const added = Buffer.alloc(MAX_HEADERS_BYTES);
    const size = encodeTable(added, changes, 0);
    bytes = spliceFieldTable(raw, new Set(changed), added.subarray(4, size));
  }
  if (offset + 4 + bytes.length > buffer.length) {
    throw new RangeError(`Encoded field table (headers) exceeds the ${buffer.length} byte encoding buffer`);
  }
  buffer.writeUInt32BE(bytes.length, offset);
  bytes.copy(buffer, offset + 4);
  return 4 + bytes.length;
}

/** The `CODE - text` part of an amqplib error, or its whole message. */
function brokerText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return /with message "(.*)"$/s.exec(message)?.[1] ?? message;
}

/** What to try when a queue or exchange is not there: one hint, whichever command found out. */
export function notFoundHint(kind: 'queue' | 'exchange', name?: string): string {
  // The name goes into the command only where a shell would take it as it is.
  const shown = name !== undefined && /^[\w.:@/-]+$/.test(name) ? name : 'NAME';
  const declare =
    kind === 'queue' ? `warren declare queue ${shown}` : `warren declare exchange ${shown} --type TYPE`;
  return `check the name (and the vhost in --url), or declare it: ${declare}`;
}

/** Turns an error from amqplib into one that carries warren's exit code. */
function classifyBrokerError(error: unknown, doing: string): WarrenError {
  if (error instanceof WarrenError) return error;
  const code = (error as { code?: unknown }).code;
  const text = brokerText(error);
  if (code === 403 || code === 404 || code === 405 || code === 406) {
    const missing = code === 404 ? /^NOT_FOUND - no (queue|exchange) '(.*)' in vhost /s.exec(text) : null;
    return new BrokerRefusedError(`${doing}: ${text}`, {
      cause: error,
      brokerText: text,
      ...(missing ? { hint: notFoundHint(missing[1] as 'queue' | 'exchange', missing[2]) } : {}),
    });
  }
  return new WarrenError(`${doing}: ${text}`, 1, { cause: error });
}

/** Why one URL failed, and what to do about it when it is the only one that did. */
interface ConnectFailure {
  text: string;
  hint?: string;
}

const LOGIN_HINT = 'check the user, password and vhost in --url (or WARREN_URL, or the profile)';

function connectFailure(error: unknown, url: BrokerUrl): ConnectFailure {
  const e = error as NodeJS.ErrnoException;
  // OpenSSL's messages run over lines and name its source files: keep the words.
  const raw = brokerText(error).replace(/\s+/g, ' ').trim();
  const alert = /:(tlsv1\d? alert [^:]+|sslv3 alert [^:]+):/i.exec(raw)?.[1];
  const text = alert ?? raw;
  if (/certificate required|alert number 116/i.test(raw)) {
    return { text: `${url.masked}: the broker requires a client certificate: give it with --cert and --key` };
  }
  if (/Hostname\/IP does not match|ERR_TLS_CERT_ALTNAME_INVALID/i.test(`${e.code} ${raw}`)) {
    return {
      text: `${url.masked}: the broker certificate is not for this host (${text})`,
      hint: 'connect by a name the certificate lists',
    };
  }
  if (
    /self.signed|unable to (verify|get local issuer)|UNABLE_TO_|unknown ca|DEPTH_ZERO/i.test(
      `${e.code} ${raw}`,
    )
  ) {
    return {
      text: `${url.masked}: the broker certificate could not be verified (${text})`,
      hint: 'give the CA that signed it with --ca (--insecure skips the check, and warns)',
    };
  }
  if (/certificate has expired|CERT_HAS_EXPIRED|not yet valid/i.test(`${e.code} ${raw}`)) {
    return { text: `${url.masked}: the broker certificate is out of its dates (${text})` };
  }
  if (/bad certificate|certificate unknown|decrypt error/i.test(raw)) {
    return {
      text: `${url.masked}: the broker did not accept the client certificate (${text})`,
      hint: 'the certificate given with --cert must be signed by a CA the broker trusts',
    };
  }
  if (!url.tls && /closed abruptly during opening handshake/i.test(raw)) {
    return {
      text: `${url.masked}: the connection closed during the AMQP handshake (a TLS port? then use amqps://)`,
    };
  }
  if (e.code === 'ECONNREFUSED')
    return { text: `${url.masked}: connection refused (is RabbitMQ running there?)` };
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return { text: `${url.masked}: host not found` };
  if (e.code === 'ETIMEDOUT' || text === 'connect ETIMEDOUT') return { text: `${url.masked}: timed out` };
  if (/ACCESS_REFUSED|ACCESS-REFUSED/.test(text)) {
    return { text: `${url.masked}: login refused (check user and password)`, hint: LOGIN_HINT };
  }
  // The broker closes the connection instead of opening the vhost; amqplib loses its text.
  if (/Expected ConnectionOpenOk|NOT_ALLOWED/.test(text)) {
    const path = new URL(url.url).pathname.slice(1);
    let vhost = path;
    try {
      vhost = decodeURIComponent(path);
    } catch {
      // Shown as written.
    }
    return {
      text: `${url.masked}: vhost '${vhost || '/'}' does not exist or this user may not use it`,
      hint: LOGIN_HINT,
    };
  }
  if (/wrong version number|packet length too long|unknown protocol/i.test(text)) {
    return {
      text: `${url.masked}: TLS handshake failed: that port does not speak TLS (use amqp://, or the TLS port)`,
    };
  }
  if (url.tls && /ECONNRESET|socket hang up|disconnected before secure/i.test(`${e.code} ${text}`)) {
    return { text: `${url.masked}: TLS handshake failed: ${text}` };
  }
  if (/certificate|CERT_/i.test(`${e.code} ${text}`)) {
    return { text: `${url.masked}: the TLS handshake failed (${text})` };
  }
  return { text: `${url.masked}: ${text}` };
}

/** The exchanges every vhost has; their names are reserved, so they cannot be probed. */
const STANDARD_EXCHANGE_TYPES: Record<string, string> = {
  'amq.direct': 'direct',
  'amq.fanout': 'fanout',
  'amq.topic': 'topic',
  'amq.headers': 'headers',
  'amq.match': 'headers',
  'amq.rabbitmq.trace': 'topic',
};

/** Connection-level closes that answer a command warren sent, rather than a lost link. */
const CONNECTION_REFUSALS = new Set([403, 503, 530, 540]);

const IPV4_LITERAL = /^\d{1,3}(\.\d{1,3}){3}$/;
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);

/**
 * The addresses to connect to for a URL, resolved at once so that the lookup runs while
 * amqplib loads; IPv4 first. A URL naming an address needs no lookup. Handing the socket
 * an address also spares Node's IPv6 check of a host name, whose first use costs ~6 ms.
 */
function isAddress(host: string): boolean {
  return IPV4_LITERAL.test(host) || host.startsWith('[');
}

function resolveTargets(url: BrokerUrl): Promise<string[]> {
  const parsed = new URL(url.url);
  const host = parsed.hostname;
  if (isAddress(host)) return Promise.resolve([url.url]);
  // RFC 6761: localhost is the loopback interface; no need to ask a resolver.
  if (host === 'localhost') {
    return Promise.resolve(
      ['127.0.0.1', '[::1]'].map((address) => {
        parsed.hostname = address;
        return parsed.href;
      }),
    );
  }
  const targets = lookup(host, { all: true }).then((addresses) =>
    addresses
      .sort((a, b) => a.family - b.family)
      .map(({ address, family }) => {
        parsed.hostname = family === 6 ? `[${address}]` : address;
        return parsed.href;
      }),
  );
  targets.catch(() => {});
  return targets;
}

export async function openSession(options: SessionOptions): Promise<Session> {
  const amqp = await loadAmqplib();
  const deadline = performance.now() + (options.waitMs ?? 0);
  for (let attempt = 1; ; attempt += 1) {
    const outcome = await connectOnce(amqp, options);
    if (outcome instanceof Session) return outcome;
    const tried = outcome.failures.length > 1 ? ` (tried ${outcome.failures.length} URLs)` : '';
    const message = `cannot connect to ${outcome.failures.map((f) => f.text).join('; ')}${tried}`;
    // --wait-for-broker: a broker that is not up yet is worth waiting for; one that
    // refused the login or the vhost will not change its mind.
    const remaining = deadline - performance.now();
    if (!outcome.retryable || remaining <= 0) {
      const waited = attempt > 1 ? ` after ${attempt} attempts` : '';
      throw new UnreachableError(`${message}${waited}`, {
        hint: outcome.retryable
          ? 'check --url (or WARREN_URL, or the profile) and that the broker is up'
          : outcome.failures.find((f) => f.hint)?.hint,
      });
    }
    const pause = Math.min(RETRY_INTERVAL_MS, remaining);
    options.log?.(`not up yet (attempt ${attempt}); trying again in ${Math.round(pause)}ms`);
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

const RETRY_INTERVAL_MS = 500;

/** One pass over the URLs: a session, or why each URL failed and whether a retry may help. */
async function connectOnce(
  amqp: AmqpModule,
  options: SessionOptions,
): Promise<Session | { failures: ConnectFailure[]; retryable: boolean }> {
  const resolving = options.urls.map(resolveTargets);
  const failures: ConnectFailure[] = [];
  let retryable = true;
  for (const [index, url] of options.urls.entries()) {
    options.log?.(`connecting to ${url.masked}`);
    const host = new URL(url.url).hostname;
    let lastError: unknown;
    try {
      for (const target of await (resolving[index] as Promise<string[]>)) {
        try {
          const model = await amqp.connect(target, {
            // Without noDelay each handshake step waits on Nagle's algorithm and delayed ACKs.
            noDelay: true,
            timeout: 10_000,
            // The certificate is checked against the name in the URL, not the address
            // (SNI takes no IP address: a URL naming one is checked against it as usual).
            ...(isAddress(host) ? {} : { servername: host }),
            clientProperties: { connection_name: options.connectionName },
            ...(url.tls ? options.tls : {}),
          });
          const server = model.connection.serverProperties;
          options.log?.(`connected to ${url.masked} (${server.product} ${server.version})`);
          return new Session(model, url, options.log, options.warn);
        } catch (error) {
          // The first failure says the most; the next address is worth a try only when
          // this one could not be reached at all (not when the broker said no).
          lastError ??= error;
          if (!UNREACHABLE_CODES.has((error as NodeJS.ErrnoException).code ?? '')) break;
        }
      }
    } catch (error) {
      lastError = error;
    }
    if (!UNREACHABLE_CODES.has((lastError as NodeJS.ErrnoException).code ?? '')) retryable = false;
    failures.push(connectFailure(lastError, url));
    options.log?.(`failed: ${failures.at(-1)?.text}`);
  }
  return { failures, retryable };
}

/** RabbitMQ's pseudo-queue for replies straight to the requesting channel. */
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

export interface QueueCounts {
  queue: string;
  messageCount: number;
  consumerCount: number;
}

export interface DeliveredMessage extends ReceivedMessage {
  deliveryTag: number;
}

export interface Consumption {
  ack(deliveryTag: number, allUpTo: boolean): void;
  reject(deliveryTag: number, allUpTo: boolean, requeue: boolean): void;
  /** Stops deliveries; messages not acked go back to the queue when the session closes. */
  cancel(): Promise<void>;
  /**
   * Cancels and consumes again on the same channel. The prefetch limit counts a consumer's
   * own unacked deliveries, so the new consumer has a whole window, however many the old
   * one's messages are still held; and they are still acked by their delivery tags.
   */
  resubscribe(): Promise<void>;
  /** Closes its channel: whatever it did not ack goes back to the queue. */
  close(): Promise<void>;
  /**
   * Consumed with `transactions` only: publishes in the channel's open transaction. Like
   * its acks and rejects, the broker applies it at the next commit, never before.
   */
  publish(message: OutgoingMessage): void;
  /**
   * Applies the acks, rejects and publishes sent since the last commit, together: a
   * connection lost before the commit reached the broker leaves none of them done.
   */
  commit(): Promise<void>;
}

export class Session {
  private closing = false;
  private lostListeners: ((error: WarrenError) => void)[] = [];
  private lostError: WarrenError | undefined;
  private readonly channels = new Set<Amqp.Channel>();

  constructor(
    private readonly model: Amqp.ChannelModel,
    url: BrokerUrl,
    private readonly log?: (line: string) => void,
    warn?: (line: string) => void,
  ) {
    model.on('error', () => {});
    model.on('close', (error?: Error) => {
      if (this.closing) return;
      const code = (error as { code?: unknown } | undefined)?.code;
      // The broker closes the whole connection for some refusals (an unknown exchange
      // type is 503 COMMAND_INVALID): that is a refusal, not an unreachable broker.
      if (error && typeof code === 'number' && CONNECTION_REFUSALS.has(code)) {
        this.fail(
          new BrokerRefusedError(`the broker closed the connection: ${brokerText(error)}`, {
            cause: error,
            brokerText: brokerText(error),
          }),
        );
        return;
      }
      this.fail(
        new UnreachableError(
          `lost the connection to ${url.masked}${error ? `: ${brokerText(error)}` : ''}`,
          error ? { cause: error } : {},
        ),
      );
    });
    // A publisher that stops for a memory or disk alarm would look hung: say why, and when it ends.
    model.on('blocked', (reason: string) =>
      (warn ?? log)?.(`the broker is blocking publishers (${reason}): waiting until it lets them go on`),
    );
    model.on('unblocked', () => (warn ?? log)?.('the broker lets publishers go on again'));
  }

  /** Registers a listener for the session (connection or a channel) dying under us. */
  onLost(listener: (error: WarrenError) => void): void {
    if (this.lostError) listener(this.lostError);
    else this.lostListeners.push(listener);
  }

  get lost(): WarrenError | undefined {
    return this.lostError;
  }

  private fail(error: WarrenError): void {
    if (this.lostError) return;
    this.lostError = error;
    for (const listener of this.lostListeners) listener(error);
  }

  private watchChannel(channel: Amqp.Channel, what: string): void {
    this.channels.add(channel);
    channel.on('error', (error: Error) => {
      this.fail(classifyBrokerError(error, what));
    });
    channel.on('close', () => {
      this.channels.delete(channel);
      // A connection going down closes its channels first: wait a tick, so that the
      // connection's own (more telling) error is the one reported.
      setImmediate(() => {
        if (!this.closing) this.fail(new WarrenError(`${what}: the channel was closed`, 1));
      });
    });
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.lostError instanceof UnreachableError) return;
    try {
      // amqplib sends channel frames (such as the last acks) on the next turn of the event
      // loop but connection.close at once: closing each channel first, which waits for the
      // broker's reply, makes sure everything sent on it arrived before the connection ends.
      await Promise.all([...this.channels].map((channel) => channel.close().catch(() => {})));
      await this.model.close();
    } catch {
      // Already closed by the broker or the network; nothing left to release.
    }
  }

  /**
   * Runs one protocol step on a channel of its own, so that a refusal (which closes the
   * channel) fails this step only; the session and its other steps carry on.
   */
  private async onChannel<T>(what: string, step: (channel: Amqp.Channel) => Promise<T>): Promise<T> {
    const channel = await this.model.createChannel();
    channel.on('error', () => {});
    try {
      return await step(channel);
    } catch (error) {
      throw this.lostError ?? classifyBrokerError(error, what);
    } finally {
      channel.close().catch(() => {});
    }
  }

  /** Whether an exchange exists (a passive declare). */
  async exchangeExists(name: string): Promise<boolean> {
    return this.existence(`exchange '${name}'`, (channel) => channel.checkExchange(name));
  }

  /** A queue's counts, or undefined when there is no such queue (a passive declare). */
  async queueInfo(name: string): Promise<QueueCounts | undefined> {
    let counts: QueueCounts | undefined;
    const exists = await this.existence(`queue '${name}'`, async (channel) => {
      const reply = await channel.checkQueue(name);
      counts = { queue: reply.queue, messageCount: reply.messageCount, consumerCount: reply.consumerCount };
    });
    return exists ? counts : undefined;
  }

  private async existence(
    what: string,
    check: (channel: Amqp.Channel) => Promise<unknown>,
  ): Promise<boolean> {
    try {
      await this.onChannel(what, check);
      return true;
    } catch (error) {
      if ((error as WarrenError).cause && ((error as WarrenError).cause as { code?: unknown }).code === 404)
        return false;
      throw error;
    }
  }

  /**
   * An exchange's type. AMQP has no query for it, but declaring an existing exchange with
   * another type is refused (changing nothing) with a reply that names the current type.
   */
  async exchangeType(name: string): Promise<string> {
    const standard = STANDARD_EXCHANGE_TYPES[name];
    if (standard) return standard;
    if (!(await this.exchangeExists(name))) {
      throw new BrokerRefusedError(`exchange '${name}' does not exist`, {
        hint: notFoundHint('exchange', name),
      });
    }
    try {
      await this.onChannel(`exchange '${name}'`, (channel) =>
        channel.assertExchange(name, 'headers', { durable: true, autoDelete: false, internal: false }),
      );
      return 'headers';
    } catch (error) {
      const text = error instanceof BrokerRefusedError ? (error.brokerText ?? '') : '';
      const current = /inequivalent arg 'type'.*current is '([^']+)'/.exec(text)?.[1];
      if (current) return current;
      // The type matched; another setting (durable…) differed.
      if (/inequivalent arg/.test(text)) return 'headers';
      throw error;
    }
  }

  async declareExchange(spec: ExchangeSpec): Promise<void> {
    await this.onChannel(`exchange '${spec.name}'`, (channel) =>
      channel.assertExchange(spec.name, spec.type, {
        durable: spec.durable,
        autoDelete: spec.autoDelete,
        internal: spec.internal,
        arguments: spec.arguments,
      }),
    );
  }

  async declareQueue(spec: QueueSpec): Promise<QueueCounts> {
    return this.onChannel(`queue '${spec.name}'`, async (channel) => {
      const reply = await channel.assertQueue(spec.name, {
        durable: spec.durable,
        exclusive: spec.exclusive,
        autoDelete: spec.autoDelete,
        arguments: spec.arguments,
      });
      return { queue: reply.queue, messageCount: reply.messageCount, consumerCount: reply.consumerCount };
    });
  }

  async bind(spec: BindingSpec, remove = false): Promise<void> {
    const what = describeBinding(spec);
    await this.onChannel(what, async (channel) => {
      if ('queue' in spec.destination) {
        const method = remove ? channel.unbindQueue : channel.bindQueue;
        await method.call(channel, spec.destination.queue, spec.source, spec.key, spec.arguments);
      } else {
        const method = remove ? channel.unbindExchange : channel.bindExchange;
        await method.call(channel, spec.destination.exchange, spec.source, spec.key, spec.arguments);
      }
    });
  }

  /** Removes every ready message; returns how many there were. */
  async purgeQueue(name: string): Promise<number> {
    return this.onChannel(
      `purge queue '${name}'`,
      async (channel) => (await channel.purgeQueue(name)).messageCount,
    );
  }

  /** Deletes a queue; returns how many messages went with it. */
  async deleteQueue(name: string, options: { ifUnused: boolean; ifEmpty: boolean }): Promise<number> {
    return this.onChannel(
      `delete queue '${name}'`,
      async (channel) => (await channel.deleteQueue(name, options)).messageCount,
    );
  }

  async deleteExchange(name: string, options: { ifUnused: boolean }): Promise<void> {
    await this.onChannel(`delete exchange '${name}'`, (channel) => channel.deleteExchange(name, options));
  }

  /**
   * A publisher with confirms. With `onReply`, the channel also consumes RabbitMQ's direct
   * reply-to pseudo-queue, so that messages published on it with `replyTo` set to
   * DIRECT_REPLY_TO get their replies here (it must be the same channel).
   */
  async openPublisher(options: {
    mandatory: boolean;
    tracker: ConfirmTracker;
    onReply?: (message: DeliveredMessage) => void;
  }): Promise<Publisher> {
    const channel = await this.model.createConfirmChannel();
    this.watchChannel(channel, 'publish');
    const onReply = options.onReply;
    if (onReply) {
      try {
        await channel.consume(DIRECT_REPLY_TO, (message) => message && onReply(receivedFromAmqp(message)), {
          noAck: true,
        });
      } catch (error) {
        throw this.lostError ?? classifyBrokerError(error, 'consume replies');
      }
    }
    this.log?.(`publisher confirms on, mandatory ${options.mandatory ? 'on' : 'off'}`);
    return new Publisher(channel, options.mandatory, options.tracker, this);
  }

  /** Consumes from a queue; each delivery is handed over as plain data, in order. */
  async consume(
    queue: string,
    options: {
      prefetch: number;
      noAck: boolean;
      arguments?: Record<string, unknown>;
      /** Settles in transactions (tx.select): see Consumption.commit. */
      transactions?: boolean;
    },
    onMessage: (message: DeliveredMessage) => void,
    onCancelled: () => void,
  ): Promise<Consumption> {
    const channel = await this.model.createChannel();
    this.watchChannel(channel, `consume from '${queue}'`);
    let consumerTag: string | undefined;
    const subscribe = async () => {
      try {
        const reply = await channel.consume(
          queue,
          (message) => {
            if (message === null) onCancelled();
            else onMessage(receivedFromAmqp(message));
          },
          // Every consumer's priority is 0 unless it says otherwise, so saying 0 changes nothing,
          // except on a stream queue: RabbitMQ refuses consumer priorities there, before
          // delivering anything. Without it, taking from a stream would wait for messages that
          // are never to come (it would deliver only new ones, and remove nothing).
          { noAck: options.noAck, arguments: options.arguments ?? { 'x-priority': 0 } },
        );
        consumerTag = reply.consumerTag;
        this.log?.(
          `consuming from '${queue}' as ${consumerTag} (${options.noAck ? 'broker auto-ack' : `prefetch ${options.prefetch}`})`,
        );
      } catch (error) {
        const refused = this.lostError ?? classifyBrokerError(error, `consume from '${queue}'`);
        // A stream's reader gives an offset; any other consumer means to take messages.
        throw options.arguments ? refused : refusedAsStream(queue, refused);
      }
    };
    if (!options.noAck) await channel.prefetch(options.prefetch);
    const rpc = (channel as unknown as ChannelRpc).rpc.bind(channel);
    const defs = protocol as ProtocolDefinitions & TxMethods;
    if (options.transactions) await rpc(defs.TxSelect, {}, defs.TxSelectOk);
    await subscribe();
    const usable = () => !this.lostError && !this.closing;
    const cancel = async () => {
      if (consumerTag === undefined || !usable()) return;
      const tag = consumerTag;
      consumerTag = undefined;
      await channel.cancel(tag).catch(() => {});
    };
    return {
      ack: (tag, allUpTo) => {
        if (usable()) channel.ack({ fields: { deliveryTag: tag } } as Amqp.Message, allUpTo);
      },
      reject: (tag, allUpTo, requeue) => {
        if (usable()) channel.nack({ fields: { deliveryTag: tag } } as Amqp.Message, allUpTo, requeue);
      },
      cancel,
      resubscribe: async () => {
        await cancel();
        if (usable()) await subscribe();
      },
      publish: (message) => {
        if (!options.transactions) throw new Error('publish needs a transactional consumption');
        if (!usable()) return;
        channel.publish(message.exchange, message.routingKey, message.body, {
          ...message.properties,
          headers: message.headers,
          mandatory: message.mandatory ?? false,
        });
      },
      commit: async () => {
        if (!options.transactions) throw new Error('commit needs a transactional consumption');
        try {
          await rpc(defs.TxCommit, {}, defs.TxCommitOk);
        } catch (error) {
          throw this.lostError ?? classifyBrokerError(error, `commit on '${queue}'`);
        }
      },
      close: async () => {
        // Closed on purpose: not the session dying.
        this.channels.delete(channel);
        channel.removeAllListeners('close');
        if (usable()) await channel.close().catch(() => {});
      },
    };
  }

  /**
   * Takes messages one at a time with basic.get. Without noAck nothing is acknowledged,
   * so each is seen once and closing the channel puts them all back in their places; with
   * noAck each message is gone from the queue as soon as it is taken.
   */
  async openBrowser(queue: string, options: { noAck: boolean }): Promise<Browser> {
    const channel = await this.model.createChannel();
    this.watchChannel(channel, `read '${queue}'`);
    this.log?.(
      `reading '${queue}' one message at a time (${options.noAck ? 'broker auto-ack' : 'acking nothing: all go back at the end'})`,
    );
    return {
      next: async () => {
        try {
          const message = await channel.get(queue, { noAck: options.noAck });
          return message === false ? undefined : receivedFromAmqp(message);
        } catch (error) {
          throw refusedAsStream(queue, this.lostError ?? classifyBrokerError(error, `read '${queue}'`));
        }
      },
      release: async () => {
        if (!this.lostError) await channel.close().catch(() => {});
      },
    };
  }
}

/** amqplib's request/reply step of a channel, which its API does not expose for tx.* (2.3). */
interface ChannelRpc {
  rpc(method: number, fields: object, expect: number): Promise<unknown>;
}

interface TxMethods {
  TxSelect: number;
  TxSelectOk: number;
  TxCommit: number;
  TxCommitOk: number;
}

export interface Browser {
  next(): Promise<DeliveredMessage | undefined>;
  release(): Promise<void>;
}

/** Publishes on a confirm channel and feeds the confirm tracker. */
export class Publisher {
  private drainWaiters: (() => void)[] = [];
  private blocked = false;
  private closed = false;
  private readonly internals: ChannelInternals | undefined;
  private readonly batch: FrameBatch | undefined;

  constructor(
    private readonly channel: Amqp.ConfirmChannel,
    private readonly mandatory: boolean,
    readonly tracker: ConfirmTracker,
    private readonly session: Session,
  ) {
    this.internals = internalsOf(channel);
    this.batch = this.internals
      ? batchFor(
          this.internals,
          () => this.closed,
          () => {
            this.blocked = true;
          },
        )
      : undefined;
    channel.on('close', () => {
      this.closed = true;
    });
    channel.on('ack', (f: { deliveryTag: number; multiple: boolean }) =>
      tracker.ack(f.deliveryTag, f.multiple),
    );
    channel.on('nack', (f: { deliveryTag: number; multiple: boolean }) =>
      tracker.nack(f.deliveryTag, f.multiple),
    );
    channel.on('return', (message: Amqp.Message) => {
      const fields = message.fields as Amqp.MessageFields & { replyCode?: number; replyText?: string };
      tracker.returnedMessage(
        fields.exchange,
        fields.routingKey,
        message.content,
        `${fields.replyCode ?? 312} ${fields.replyText ?? 'NO_ROUTE'}`,
      );
    });
    channel.on('drain', () => {
      this.blocked = false;
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const resolve of waiters) resolve();
    });
    session.onLost(() => {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const resolve of waiters) resolve();
    });
  }

  /** False while the channel's write buffer is full: wait for `writable()` before more. */
  get canWrite(): boolean {
    return !this.blocked;
  }

  writable(): Promise<void> {
    if (!this.blocked || this.session.lost) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Publishes a message and tracks it until the broker settles it. */
  publish(message: OutgoingMessage, line: number, ref?: number): void {
    const pending: PendingPublish = { line, message, returnedWith: undefined, ref };
    this.tracker.add(pending);
    try {
      this.write(message);
    } catch (error) {
      // Refused by the client library before anything was sent (it cannot encode it).
      this.tracker.dropLast();
      throw error;
    }
  }

  /** Sends a message again that a lost connection left unconfirmed (see ConfirmTracker.takeInFlight). */
  resend(entry: PendingPublish): void {
    this.tracker.resend(entry);
    this.write(entry.message);
  }

  /**
   * Encodes and writes the message; once the channel is closed, nothing: the message stays
   * in flight, unconfirmed, to be sent again on a new connection or reported.
   */
  private write(message: OutgoingMessage): void {
    if (this.closed) return;
    const p = message.properties;
    // One object of one shape for every message: amqplib's `publish` would build it from
    // options of many shapes (Args.publish), which costs more than all of warren's parsing.
    const frame: PublishFrame = {
      exchange: message.exchange,
      routingKey: message.routingKey,
      mandatory: message.mandatory ?? this.mandatory,
      immediate: false,
      ticket: undefined,
      contentType: p.contentType,
      contentEncoding: p.contentEncoding,
      headers: message.headers ?? NO_HEADERS,
      deliveryMode: p.deliveryMode,
      priority: p.priority,
      correlationId: p.correlationId,
      replyTo: p.replyTo,
      expiration: p.expiration,
      messageId: p.messageId,
      timestamp: p.timestamp,
      type: p.type,
      userId: p.userId,
      appId: p.appId,
      // amqplib never sends cluster-id (deprecated in AMQP 0-9-1); neither does warren.
      clusterId: undefined,
    };
    const internals = this.internals;
    if (!internals) {
      if (
        !this.channel.publish(frame.exchange, frame.routingKey, message.body, frame as Amqp.Options.Publish)
      )
        this.blocked = true;
      return;
    }
    if (!this.batch?.add(frame, message.body) && !internals.sendMessage(frame, frame, message.body))
      this.blocked = true;
    // The confirm slot amqplib's ConfirmChannel.publish would hold for the message.
    internals.pushConfirmCallback(false);
  }
}

/** The FrameBatch of a channel, writing into the channel's own queue; undefined if amqplib's
 * internals are not as expected (then each message goes through `publish`). */
function batchFor(
  channel: ChannelInternals,
  closed: () => boolean,
  onFull: () => void,
): FrameBatch | undefined {
  const connection = channel.connection;
  const queue = connection?.channels?.[channel.ch]?.buffer;
  if (!queue || typeof connection.frameMax !== 'number' || !protocol) return undefined;
  return new FrameBatch(
    {
      write: (frames) => {
        // A batch made before the channel closed: its messages stay unconfirmed.
        if (closed()) return;
        connection.sentSinceLastCheck = true;
        if (!queue.write(frames)) onFull();
      },
    },
    channel.ch,
    connection.frameMax,
    protocol,
  );
}

/** basic.publish's fields and the message's properties, in the one object amqplib encodes. */
interface PublishFrame extends MessageProperties {
  exchange: string;
  routingKey: string;
  mandatory: boolean;
  immediate: false;
  ticket: undefined;
  headers: Record<string, unknown>;
}

/**
 * What amqplib's ConfirmChannel.publish does once its options are turned into a frame
 * (amqplib 2.3): encode and write the message, then hold a confirm slot for it. Used
 * directly when present; `publish` is the fallback.
 */
interface ChannelInternals {
  ch: number;
  connection: {
    frameMax: number;
    sentSinceLastCheck: boolean;
    channels?: ({ buffer: { write(frames: Buffer): boolean } } | null)[];
  };
  sendMessage(fields: PublishFrame, properties: PublishFrame, content: Buffer): boolean;
  pushConfirmCallback(callback: false): void;
}

function internalsOf(channel: Amqp.ConfirmChannel): ChannelInternals | undefined {
  const inside = channel as unknown as Partial<ChannelInternals>;
  return typeof inside.sendMessage === 'function' &&
    typeof inside.pushConfirmCallback === 'function' &&
    typeof inside.ch === 'number' &&
    inside.connection
    ? (inside as ChannelInternals)
    : undefined;
}

/** amqplib always sends a headers table, empty when there are none; so does warren. */
const NO_HEADERS: Record<string, unknown> = Object.freeze(Object.create(null));

const PROPERTY_NAMES = PROPERTY_KINDS.map(([name]) => name);

function receivedFromAmqp(message: Amqp.Message): DeliveredMessage {
  const source = message.properties as unknown as Record<string, unknown>;
  const properties: Record<string, unknown> = {};
  for (const name of PROPERTY_NAMES) {
    const value = source[name];
    if (value !== undefined) properties[name] = value;
  }
  const rawHeaders = message.properties.headers as
    | (Record<string | symbol, unknown> & { [RAW_TABLE]?: Buffer })
    | undefined;
  let headers: FieldTable | undefined;
  let undecoded: { rawHeaders: Buffer; warning: string } | undefined;
  if (rawHeaders) {
    const raw = rawHeaders[RAW_TABLE];
    if (raw) {
      const read = readHeaders(raw);
      headers = read.headers;
      // A copy: the slice shares the memory of the frame it came in.
      if (read.warning) undecoded = { rawHeaders: Buffer.from(raw), warning: read.warning };
    } else headers = typedFromDecoded(rawHeaders) as FieldTable;
  }
  return {
    deliveryTag: message.fields.deliveryTag,
    exchange: message.fields.exchange,
    routingKey: message.fields.routingKey,
    redelivered: message.fields.redelivered,
    properties: properties as MessageProperties,
    headers,
    ...undecoded,
    body: message.content,
    receivedAt: new Date(),
  };
}
