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

/** Every kind of check; the other kinds join this union as they are built. */
export type CheckSpec = ConnectionCheck;

export type CheckKind = CheckSpec['kind'];

/** How `warren check` shows its results (src/check/report.ts). */
export const CHECK_FORMATS = ['pretty', 'json', 'nagios', 'prometheus'] as const;
export type CheckFormat = (typeof CHECK_FORMATS)[number];
