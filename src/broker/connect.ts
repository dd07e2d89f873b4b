/**
 * Connecting: each URL in turn (each of its addresses), TLS when the URL says amqps://, and
 * with --wait-for-broker, passes over them all until the broker is up or the time is over.
 */
import { lookup } from 'node:dns/promises';
import type { Writable } from 'node:stream';
import type * as Amqp from 'amqplib';
import { type AmqpModule, loadAmqplib } from './amqplibPatch.js';
import {
  BrokerError,
  brokerText,
  type ConnectFailure,
  type ConnectReason,
  type ExplainedError,
} from './brokerError.js';
import { Session, vhostOf } from './session.js';

export interface BrokerUrl {
  /** The URL as given, handed to the client library. */
  url: string;
  /** The same URL with the password replaced by `***`, for every line a person sees. */
  masked: string;
  tls: boolean;
}

/** Socket options for TLS: the CAs to trust, the client certificate and its key. */
export interface TlsSocketOptions {
  ca?: Buffer[];
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
}

/** How the session's owner tells what went wrong: the words (and exit codes) are its own. */
export interface Explainer {
  /** The error to hand out for a BrokerError. */
  error(error: BrokerError): ExplainedError;
  /** One URL's failure, for the --verbose log. */
  connectFailure(failure: ConnectFailure): string;
}

export interface SessionOptions {
  urls: BrokerUrl[];
  tls: TlsSocketOptions;
  /** Shown in the broker's management UI: `warren <command>`. */
  connectionName: string;
  explain: Explainer;
  /** Receives connection and protocol detail for --verbose. */
  log?: (line: string) => void;
  /** Receives what a person should know even without --verbose (the broker blocking publishers). */
  warn?: (line: string) => void;
  /** --wait-for-broker: keep trying this long while the broker cannot be reached. */
  waitMs?: number;
}

const IPV4_LITERAL = /^\d{1,3}(\.\d{1,3}){3}$/;
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);

const RETRY_INTERVAL_MS = 500;

export async function openSession(options: SessionOptions): Promise<Session> {
  const amqp = await loadAmqplib();
  const deadline = performance.now() + (options.waitMs ?? 0);
  for (let attempt = 1; ; attempt += 1) {
    const outcome = await connectOnce(amqp, options);
    if (outcome instanceof Session) return outcome;
    // --wait-for-broker: a broker that is not up yet is worth waiting for; one that
    // refused the login or the vhost will not change its mind.
    const remaining = deadline - performance.now();
    if (!outcome.retryable || remaining <= 0) {
      throw options.explain.error(
        new BrokerError('unreachable', { connect: { ...outcome, attempts: attempt } }),
      );
    }
    const pause = Math.min(RETRY_INTERVAL_MS, remaining);
    options.log?.(`not up yet (attempt ${attempt}); trying again in ${Math.round(pause)}ms`);
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

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
    let lastError: unknown;
    try {
      for (const target of await (resolving[index] as Promise<string[]>)) {
        try {
          return await connectTo(amqp, target, url, options);
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
    const failure = connectFailure(lastError, url);
    failures.push(failure);
    options.log?.(`failed: ${options.explain.connectFailure(failure)}`);
  }
  return { failures, retryable };
}

async function connectTo(
  amqp: AmqpModule,
  target: string,
  url: BrokerUrl,
  options: SessionOptions,
): Promise<Session> {
  const host = new URL(url.url).hostname;
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
  coalesceWrites(model);
  const server = model.connection.serverProperties;
  options.log?.(`connected to ${url.masked} (${server.product} ${server.version})`);
  return new Session(model, url, options);
}

/**
 * amqplib writes every frame to the socket on its own: with noDelay, an ack or a small
 * message costs a system call each, which at thousands a second is much of warren's time.
 * The socket is corked at its first write in a turn of the event loop and uncorked once the
 * turn is over, so that what amqplib writes in one go leaves in one write. Order is kept,
 * and nothing waits past the turn that wrote it.
 */
function coalesceWrites(model: Amqp.ChannelModel): void {
  const socket = (model.connection as unknown as { stream?: Writable }).stream;
  if (!socket || typeof socket.cork !== 'function') return;
  const write = socket.write;
  let corked = false;
  socket.write = function (this: Writable, ...args: Parameters<Writable['write']>) {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(() => {
        corked = false;
        socket.uncork();
      });
    }
    return write.apply(this, args);
  } as Writable['write'];
}

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

/** What a failure looks like: `raw` the error's words on one line, `text` its TLS alert if any. */
interface FailureSigns {
  code: string | undefined;
  raw: string;
  text: string;
  tls: boolean;
}

/** The first rule that matches says why a URL failed; the order matters. */
const CONNECT_RULES: [ConnectReason, (s: FailureSigns) => boolean][] = [
  ['client-cert-required', (s) => /certificate required|alert number 116/i.test(s.raw)],
  [
    'cert-wrong-host',
    (s) => /Hostname\/IP does not match|ERR_TLS_CERT_ALTNAME_INVALID/i.test(`${s.code} ${s.raw}`),
  ],
  [
    'cert-unverified',
    (s) =>
      /self.signed|unable to (verify|get local issuer)|UNABLE_TO_|unknown ca|DEPTH_ZERO/i.test(
        `${s.code} ${s.raw}`,
      ),
  ],
  [
    'cert-expired',
    (s) => /certificate has expired|CERT_HAS_EXPIRED|not yet valid/i.test(`${s.code} ${s.raw}`),
  ],
  ['client-cert-rejected', (s) => /bad certificate|certificate unknown|decrypt error/i.test(s.raw)],
  ['closed-in-handshake', (s) => !s.tls && /closed abruptly during opening handshake/i.test(s.raw)],
  ['refused', (s) => s.code === 'ECONNREFUSED'],
  ['host-not-found', (s) => s.code === 'ENOTFOUND' || s.code === 'EAI_AGAIN'],
  ['timed-out', (s) => s.code === 'ETIMEDOUT' || s.text === 'connect ETIMEDOUT'],
  ['login-refused', (s) => /ACCESS_REFUSED|ACCESS-REFUSED/.test(s.text)],
  // The broker closes the connection instead of opening the vhost; amqplib loses its text.
  ['vhost-refused', (s) => /Expected ConnectionOpenOk|NOT_ALLOWED/.test(s.text)],
  ['not-tls', (s) => /wrong version number|packet length too long|unknown protocol/i.test(s.text)],
  [
    'tls-reset',
    (s) => s.tls && /ECONNRESET|socket hang up|disconnected before secure/i.test(`${s.code} ${s.text}`),
  ],
  ['tls-failed', (s) => /certificate|CERT_/i.test(`${s.code} ${s.text}`)],
];

function connectFailure(error: unknown, url: BrokerUrl): ConnectFailure {
  // OpenSSL's messages run over lines and name its source files: keep the words.
  const raw = brokerText(error).replace(/\s+/g, ' ').trim();
  const alert = /:(tlsv1\d? alert [^:]+|sslv3 alert [^:]+):/i.exec(raw)?.[1];
  const signs: FailureSigns = {
    code: (error as NodeJS.ErrnoException).code,
    raw,
    text: alert ?? raw,
    tls: url.tls,
  };
  const reason = CONNECT_RULES.find(([, matches]) => matches(signs))?.[0] ?? 'other';
  const failure: ConnectFailure = { url: url.masked, reason, detail: signs.text };
  if (reason === 'vhost-refused') failure.vhost = vhostOf(url);
  return failure;
}
