/**
 * What warren says when the broker says no, or cannot be reached: the words, the hints
 * (which name warren's flags and commands) and the exit codes for broker/'s BrokerError.
 * The session is opened with `brokerExplainer`, so every error it hands out is told here.
 */
import type { BrokerError, ConnectFailure, ConnectReason } from './broker/brokerError.js';
import type { Explainer } from './broker/connect.js';
import { BrokerRefusedError, ExitCode, UnreachableError, WarrenError } from './errors.js';

const LOGIN_HINT = 'check the user, password and vhost in --url (or WARREN_URL, or the profile)';

/** Why one URL failed, in words, and what to do about it when it is the only one that did. */
const CONNECT_WORDS: Record<ConnectReason, { text: (failure: ConnectFailure) => string; hint?: string }> = {
  'client-cert-required': {
    text: () => 'the broker requires a client certificate: give it with --cert and --key',
  },
  'cert-wrong-host': {
    text: (f) => `the broker certificate is not for this host (${f.detail})`,
    hint: 'connect by a name the certificate lists',
  },
  'cert-unverified': {
    text: (f) => `the broker certificate could not be verified (${f.detail})`,
    hint: 'give the CA that signed it with --ca (--insecure skips the check, and warns)',
  },
  'cert-expired': { text: (f) => `the broker certificate is out of its dates (${f.detail})` },
  'client-cert-rejected': {
    text: (f) => `the broker did not accept the client certificate (${f.detail})`,
    hint: 'the certificate given with --cert must be signed by a CA the broker trusts',
  },
  'closed-in-handshake': {
    text: () => 'the connection closed during the AMQP handshake (a TLS port? then use amqps://)',
  },
  refused: { text: () => 'connection refused (is RabbitMQ running there?)' },
  'host-not-found': { text: () => 'host not found' },
  'timed-out': { text: () => 'timed out' },
  'login-refused': { text: () => 'login refused (check user and password)', hint: LOGIN_HINT },
  'vhost-refused': {
    text: (f) => `vhost '${f.vhost || '/'}' does not exist or this user may not use it`,
    hint: LOGIN_HINT,
  },
  'not-tls': {
    text: () => 'TLS handshake failed: that port does not speak TLS (use amqp://, or the TLS port)',
  },
  'tls-reset': { text: (f) => `TLS handshake failed: ${f.detail}` },
  'tls-failed': { text: (f) => `the TLS handshake failed (${f.detail})` },
  other: { text: (f) => f.detail },
};

function connectFailureText(failure: ConnectFailure): string {
  return `${failure.url}: ${CONNECT_WORDS[failure.reason].text(failure)}`;
}

function unreachable(connect: NonNullable<BrokerError['connect']>): UnreachableError {
  const { failures, attempts, retryable } = connect;
  const tried = failures.length > 1 ? ` (tried ${failures.length} URLs)` : '';
  const waited = attempts > 1 ? ` after ${attempts} attempts` : '';
  return new UnreachableError(
    `cannot connect to ${failures.map(connectFailureText).join('; ')}${tried}${waited}`,
    {
      hint: retryable
        ? 'check --url (or WARREN_URL, or the profile) and that the broker is up'
        : failures.map((f) => CONNECT_WORDS[f.reason].hint).find((hint) => hint !== undefined),
    },
  );
}

/** What to try when a queue or exchange is not there: one hint, whichever command found out. */
function notFoundHint(kind: 'queue' | 'exchange', name: string): string {
  // The name goes into the command only where a shell would take it as it is.
  const shown = /^[\w.:@/-]+$/.test(name) ? name : 'NAME';
  const declare =
    kind === 'queue' ? `warren declare queue ${shown}` : `warren declare exchange ${shown} --type TYPE`;
  return `check the name (and the vhost in --url), or declare it: ${declare}`;
}

/** A queue or exchange that warren found missing before asking the broker for more. */
export function notFoundError(kind: 'queue' | 'exchange', name: string): BrokerRefusedError {
  return new BrokerRefusedError(`${kind} '${name}' does not exist`, { hint: notFoundHint(kind, name) });
}

/** A queue read as a stream that is not one; `hint` says what to use instead. */
export function notAStreamQueue(queue: string, hint: string, cause?: unknown): BrokerRefusedError {
  return new BrokerRefusedError(`'${queue}' is not a stream queue: nothing was taken from it`, {
    cause,
    hint,
  });
}

/** A stream queue asked to give its messages away: say so, and how to read it instead. */
function isAStream(queue: string, cause: unknown): BrokerRefusedError {
  return new BrokerRefusedError(
    `'${queue}' is a stream queue: it keeps its messages for every reader, so nothing can be taken from it`,
    {
      cause,
      hint: `read it in place: warren tail --stream ${queue} --offset first (or re-publish a range: warren replay --from-stream ${queue})`,
    },
  );
}

/** A command the broker refused (403, 404, 405, 406): its words after what warren was doing. */
function refused(error: BrokerError): BrokerRefusedError {
  const entity = error.entity;
  // Found missing by a passive check: the broker said nothing worth repeating.
  if (entity && error.brokerText === undefined) return notFoundError(entity.kind, entity.name);
  return new BrokerRefusedError(`${error.operation}: ${error.brokerText}`, {
    cause: error.cause,
    brokerText: error.brokerText,
    ...(entity && error.kind === 'not-found' ? { hint: notFoundHint(entity.kind, entity.name) } : {}),
  });
}

/** The error warren ends with for a BrokerError: its words, its hint and its exit code. */
export function warrenErrorOf(error: BrokerError): WarrenError {
  const said = error.brokerText === undefined ? '' : `: ${error.brokerText}`;
  switch (error.kind) {
    case 'unreachable':
      return unreachable(error.connect ?? { failures: [], attempts: 1, retryable: false });
    case 'connection-lost':
      return new UnreachableError(
        `lost the connection to ${error.url}${said}`,
        error.cause === undefined ? {} : { cause: error.cause },
      );
    case 'connection-refused':
      return new BrokerRefusedError(`the broker closed the connection${said}`, {
        cause: error.cause,
        brokerText: error.brokerText,
      });
    case 'access-refused':
    case 'not-found':
    case 'resource-locked':
    case 'precondition':
      return refused(error);
    case 'is-stream':
      return isAStream(error.entity?.name ?? '', error.cause);
    case 'channel-closed':
      return new WarrenError(`${error.operation}: the channel was closed`, ExitCode.failure);
    case 'failed':
      return new WarrenError(`${error.operation}${said}`, ExitCode.failure, { cause: error.cause });
  }
}

/** How a session opened by warren tells what went wrong (SessionOptions.explain). */
export const brokerExplainer: Explainer = {
  error: warrenErrorOf,
  connectFailure: connectFailureText,
};
