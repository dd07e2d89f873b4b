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

/** Every kind of check; the other kinds join this union as they are built. */
export type CheckSpec = ConnectionCheck | RpcCheck | TopologyCheck | NodeCheck;

export type CheckKind = CheckSpec['kind'];

/** How `warren check` shows its results (src/check/report.ts). */
export const CHECK_FORMATS = ['pretty', 'json', 'nagios', 'prometheus'] as const;
export type CheckFormat = (typeof CHECK_FORMATS)[number];
