/**
 * What went wrong with the broker, as data: a kind and what is known about it. The words a
 * person reads (and the exit code) are chosen by the session's owner, through
 * SessionOptions.explain; the broker layer names no flag and no command.
 */

export type BrokerErrorKind =
  /** No URL could be connected to: `connect` says why, URL by URL. */
  | 'unreachable'
  /** The connection dropped under a session that was open. */
  | 'connection-lost'
  /** The broker closed the whole connection to refuse a command (503 COMMAND_INVALID…). */
  | 'connection-refused'
  /** 403 ACCESS_REFUSED: the user may not do this. */
  | 'access-refused'
  /** 404 NOT_FOUND, or a passive check that found nothing (`entity` says what). */
  | 'not-found'
  /** 405 RESOURCE_LOCKED: an exclusive queue of another connection. */
  | 'resource-locked'
  /** 406 PRECONDITION_FAILED: inequivalent arguments, a value the queue type refuses… */
  | 'precondition'
  /** A stream queue was asked to give its messages away (a consumer, a basic.get). */
  | 'is-stream'
  /** A channel closed under a step without a word from the broker. */
  | 'channel-closed'
  /** Anything else the client library threw. */
  | 'failed';

/** Why one URL could not be connected to. */
export type ConnectReason =
  | 'client-cert-required'
  | 'cert-wrong-host'
  | 'cert-unverified'
  | 'cert-expired'
  | 'client-cert-rejected'
  /** A plain amqp:// connection that a TLS port closed during the handshake. */
  | 'closed-in-handshake'
  | 'refused'
  | 'host-not-found'
  | 'timed-out'
  | 'login-refused'
  /** The broker closed the connection instead of opening the vhost. */
  | 'vhost-refused'
  /** An amqps:// connection to a port that does not speak TLS. */
  | 'not-tls'
  | 'tls-reset'
  | 'tls-failed'
  | 'other';

export interface ConnectFailure {
  /** The URL, its password masked. */
  url: string;
  reason: ConnectReason;
  /** The library's (or OpenSSL's) words, on one line. */
  detail: string;
  /** The vhost the URL names (for vhost-refused). */
  vhost?: string;
}

export interface BrokerErrorData {
  cause?: unknown;
  /** What was being done: `queue 'orders'`, `consume from 'q'`. */
  operation?: string;
  /** The broker's own words (`NOT_FOUND - no queue 'q' in vhost '/'`), or the library's. */
  brokerText?: string;
  /** The AMQP reply code, when the broker gave one. */
  replyCode?: number;
  /** The queue or exchange the error is about, when known. */
  entity?: { kind: 'queue' | 'exchange'; name: string };
  /** The masked URL of the connection (connection-lost). */
  url?: string;
  /** unreachable: why each URL failed, how many passes were made, and whether waiting could help. */
  connect?: { failures: ConnectFailure[]; attempts: number; retryable: boolean };
}

export class BrokerError extends Error {
  readonly kind: BrokerErrorKind;
  readonly operation: string | undefined;
  readonly brokerText: string | undefined;
  readonly replyCode: number | undefined;
  readonly entity: BrokerErrorData['entity'];
  readonly url: string | undefined;
  readonly connect: BrokerErrorData['connect'];

  constructor(kind: BrokerErrorKind, data: BrokerErrorData = {}) {
    super(
      [kind, data.operation, data.brokerText].filter((part) => part !== undefined).join(': '),
      data.cause === undefined ? undefined : { cause: data.cause },
    );
    this.name = 'BrokerError';
    this.kind = kind;
    this.operation = data.operation;
    this.brokerText = data.brokerText;
    this.replyCode = data.replyCode;
    this.entity = data.entity;
    this.url = data.url;
    this.connect = data.connect;
  }
}

/**
 * What the session's owner makes of a BrokerError (SessionOptions.explain), and what the
 * session hands out: an error that says how the program ends and what to try, as the
 * CLI's WarrenError does.
 */
export interface ExplainedError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;
}

/** The `CODE - text` part of an amqplib error, or its whole message. */
export function brokerText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return /with message "(.*)"$/s.exec(message)?.[1] ?? message;
}

const KIND_OF_REPLY: Record<number, BrokerErrorKind> = {
  403: 'access-refused',
  404: 'not-found',
  405: 'resource-locked',
  406: 'precondition',
};

/** An error from amqplib, met while doing `operation`, as a BrokerError. */
export function brokerErrorOf(error: unknown, operation: string): BrokerError {
  if (error instanceof BrokerError) return error;
  const code = (error as { code?: unknown }).code;
  const replyCode = typeof code === 'number' ? code : undefined;
  const text = brokerText(error);
  const missing = replyCode === 404 ? /^NOT_FOUND - no (queue|exchange) '(.*)' in vhost /s.exec(text) : null;
  return new BrokerError((replyCode && KIND_OF_REPLY[replyCode]) || 'failed', {
    cause: error,
    operation,
    brokerText: text,
    ...(replyCode === undefined ? {} : { replyCode }),
    ...(missing ? { entity: { kind: missing[1] as 'queue' | 'exchange', name: missing[2] as string } } : {}),
  });
}
