/** The checks `warren check` runs, as plain data: from its subcommands' flags or a checks file. */

export interface ConnectionCheck {
  kind: 'connection';
  /** Handshake and round-trip times beyond which the check warns or is critical (ms). */
  warnMs?: number | undefined;
  critMs?: number | undefined;
  /** For amqps: days left on the broker's certificate below which it warns or is critical. */
  certWarnDays?: number | undefined;
  certCritDays?: number | undefined;
}

/** `check rpc`: a request to EXCHANGE with KEY gets a (matching) reply within a time. */
export interface RpcCheck {
  kind: 'rpc';
  exchange: string;
  routingKey: string;
  body: string;
  /** No reply within this: CRITICAL (ms). */
  withinMs: number;
  /** A reply slower than this: WARNING (ms). */
  warnMs?: number | undefined;
  /** --match expressions the reply must all match. */
  matches?: string[] | undefined;
}

/** `check topology`: the broker has what the topology file declares, as it declares it. */
export interface TopologyCheck {
  kind: 'topology';
  file: string;
}

/** `check node`: memory and disk alarms, blocked publishers, cluster members down or split. */
export interface NodeCheck {
  kind: 'node';
  /** WARNING when a node's memory use is above this fraction of its high watermark (0 to 1). */
  memWarn?: number | undefined;
}

/** A threshold pair: beyond `crit` the check is CRITICAL, beyond `warn` WARNING. */
export interface Bounds {
  warn?: number | undefined;
  crit?: number | undefined;
}

export interface QueueCheck {
  kind: 'queue';
  queue: string;
  /** Ready messages (at most). */
  depth?: Bounds | undefined;
  /** Messages delivered and not yet acknowledged (at most; from the management API). */
  unacked?: Bounds | undefined;
  /** Consumers: at least `minConsumers`, at most `maxConsumers`. */
  minConsumers?: Bounds | undefined;
  maxConsumers?: Bounds | undefined;
  /** The head message's age from its timestamp property (ms, at most); given: the head is peeked. */
  ageMs?: Bounds | undefined;
}

export interface MessageCheck {
  kind: 'message';
  queue: string;
  /** `--match` expressions (src/match/predicate.ts): a message must match them all. */
  matches: string[];
  /** How many messages from the head are looked at, at most. */
  limit: number;
}

/** Every kind of check; the other kinds join this union as they are built. */
export type CheckSpec = ConnectionCheck | QueueCheck | MessageCheck | RpcCheck | TopologyCheck | NodeCheck;

export type CheckKind = CheckSpec['kind'];

/** How `warren check` shows its results (src/check/report.ts). */
export const CHECK_FORMATS = ['pretty', 'json', 'nagios', 'prometheus'] as const;
export type CheckFormat = (typeof CHECK_FORMATS)[number];
