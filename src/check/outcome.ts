/**
 * What `warren check` measures and decides, as plain data: a check's status, the values it
 * measured (each with its thresholds), and how a run's statuses become an exit code.
 */

/** Nagios's four states, in its order: the index is the plugin exit code. */
export const STATUSES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;
export type CheckStatus = (typeof STATUSES)[number];

/**
 * warren's own exit codes for a check run (docs/exit-codes.md): 0 when every check is OK,
 * else the worst status's code. Chosen apart from every other warren code (1 to 5, 65, 69,
 * 130, 143) so that a CI job can tell "the broker answered, and it is not well" from "warren
 * could not ask". `--format nagios` exits with the plugin codes 0 to 3 instead.
 */
export const CHECK_EXIT = { OK: 0, WARNING: 6, CRITICAL: 7, UNKNOWN: 8 } as const satisfies Record<
  CheckStatus,
  number
>;

/** How bad a status is: UNKNOWN sorts between CRITICAL and WARNING, as Nagios ranks them. */
const SEVERITY: Record<CheckStatus, number> = { OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3 };

/** The worst of some statuses (OK for none). */
export function worst(statuses: Iterable<CheckStatus>): CheckStatus {
  let result: CheckStatus = 'OK';
  for (const status of statuses) if (SEVERITY[status] > SEVERITY[result]) result = status;
  return result;
}

/** The unit of a measured value, as Nagios perfdata and the Prometheus gauges name it. */
export type Unit = 'seconds' | 'bytes' | 'messages' | 'count' | 'days';

/** One measured value and its thresholds (a check may measure several: handshake and round trip). */
export interface Measure {
  /** A short name, [a-z_]: `handshake`, `depth`, `consumers`. */
  name: string;
  /** null: not measured (no head message, no API). */
  value: number | null;
  unit: Unit;
  /** Beyond these (above for a maximum, below for a minimum) the check warns or is critical. */
  warn?: number | undefined;
  crit?: number | undefined;
  /** `max`: the value must stay at or below the thresholds; `min`: at or above. */
  bound?: 'max' | 'min';
}

/** One check's result, as every output format shows it. */
export interface CheckResult {
  /** `connection`, `queue`, `message`, `rpc`, `topology`, `node`. */
  kind: string;
  /** What was checked: the broker URL (masked), the queue, the exchange and key, the file. */
  target: string;
  status: CheckStatus;
  /** One line for people: what was found, and against what. */
  message: string;
  measures: Measure[];
  /** How long the check took, in milliseconds. */
  elapsedMs: number;
}

/** The status a measure's value has against its thresholds (OK without any, or unmeasured). */
export function measureStatus(measure: Measure): CheckStatus {
  const { value, warn, crit } = measure;
  if (value === null) return 'OK';
  const beyond = (limit: number | undefined) =>
    limit !== undefined && (measure.bound === 'min' ? value < limit : value > limit);
  if (beyond(crit)) return 'CRITICAL';
  if (beyond(warn)) return 'WARNING';
  return 'OK';
}

/** A check's status from its measures: the worst of them. */
export function statusOf(measures: Measure[]): CheckStatus {
  return worst(measures.map(measureStatus));
}

/** The exit code of a run whose checks ended with these statuses. */
export function exitCodeOf(statuses: CheckStatus[], nagios: boolean): number {
  const status = worst(statuses);
  return nagios ? STATUSES.indexOf(status) : CHECK_EXIT[status];
}
