/**
 * `--assert` for `warren bench` and `warren latency`: METRIC OP VALUE, such as `p99<50ms`,
 * `confirm.p50<=2ms` or `publish>=20k/s`, checked against a run's summary so a CI job can
 * fail on a threshold (exit ASSERTION_FAILED_EXIT when one does not hold).
 */
import { UsageError, WarrenError } from '../errors.js';
import { type LatencySummary, SHOWN_FIGURES } from './histogram.js';
import { ASSERTION_FAILED_EXIT, type BenchSummary } from './summary.js';

type Op = '<' | '<=' | '>' | '>=' | '=';
type LatencyField = Exclude<keyof LatencySummary, 'count'>;

export interface Assertion {
  /** The text as given, to name the assertion in reports. */
  text: string;
  metric: string;
  op: Op;
  /** µs for latencies, messages (or bytes) per second for rates. */
  value: number;
}

/** Latency metrics as written, and the summary field each reads. */
const LATENCY_FIELDS: Record<string, LatencyField> = { ...Object.fromEntries(SHOWN_FIGURES), mean: 'mean' };
const RATES = ['publish', 'confirm', 'consume', 'bytes'] as const;
type Rate = (typeof RATES)[number];

const DURATION_UNITS: Record<string, number> = { µs: 1, us: 1, ms: 1000, s: 1_000_000 };
const MULTIPLIERS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9 };

const METRIC_NAMES = [
  ...Object.keys(LATENCY_FIELDS),
  ...Object.keys(LATENCY_FIELDS).map((m) => `confirm.${m}`),
  ...RATES,
];

/** Reads one `--assert` text; a UsageError names the text and what is wrong with it. */
export function parseAssertion(text: string): Assertion {
  const refuse = (why: string): never => {
    throw new UsageError(`--assert '${text}': ${why}`);
  };
  const match = /^\s*([a-z][a-z0-9.]*)\s*(<=|>=|<|>|=)\s*(\S+)\s*$/i.exec(text);
  if (!match) return refuse('expected METRIC OP VALUE, such as p99<50ms or publish>=20000/s');
  const [, rawMetric, op, rawValue] = match as unknown as [string, string, Op, string];
  const metric = rawMetric.toLowerCase();
  if (!METRIC_NAMES.includes(metric)) {
    return refuse(`unknown metric '${rawMetric}' (use ${METRIC_NAMES.join(', ')})`);
  }
  const value = isRate(metric) ? rateValue(rawValue) : durationValue(rawValue);
  if (value === undefined) {
    return refuse(
      isRate(metric)
        ? `'${rawValue}' is not a rate (use 20000, 20000/s or 20k/s)`
        : `'${rawValue}' is not a duration (use a number with µs, us, ms or s, such as 50ms)`,
    );
  }
  return { text, metric, op, value };
}

/** Each assertion against the summary: whether it holds, and the measured value as text. */
export function checkAssertions(
  list: Assertion[],
  summary: BenchSummary,
): { text: string; holds: boolean; actual: string }[] {
  return list.map((assertion) => {
    const actual = measured(assertion.metric, summary);
    return {
      text: assertion.text,
      holds: compare(actual, assertion.op, assertion.value),
      actual: isRate(assertion.metric) ? `${formatNumber(actual)}/s` : formatMicroseconds(actual),
    };
  });
}

/**
 * The verdict of a run's --assert list, as bench and latency give it: each assertion that
 * does not hold is warned of with its measured value, and the error to end the run with
 * (exit ASSERTION_FAILED_EXIT) names them; undefined when they all hold.
 */
export function assertionFailure(
  list: Assertion[],
  summary: BenchSummary,
  warn: (line: string) => void,
): WarrenError | undefined {
  const failed = checkAssertions(list, summary).filter((result) => !result.holds);
  if (failed.length === 0) return undefined;
  for (const result of failed) warn(`assertion failed: ${result.text} (measured ${result.actual})`);
  const noun = list.length === 1 ? 'assertion' : 'assertions';
  return new WarrenError(
    `${failed.length} of ${list.length} ${noun} did not hold: ${failed.map((result) => result.text).join(', ')}`,
    ASSERTION_FAILED_EXIT,
  );
}

function isRate(metric: string): metric is Rate {
  return (RATES as readonly string[]).includes(metric);
}

function measured(metric: string, summary: BenchSummary): number {
  if (isRate(metric)) return summary.rates[metric];
  const confirm = metric.startsWith('confirm.');
  const field = LATENCY_FIELDS[confirm ? metric.slice('confirm.'.length) : metric] as LatencyField;
  return (confirm ? summary.confirmLatency : summary.latency)[field];
}

function compare(actual: number, op: Op, expected: number): boolean {
  switch (op) {
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
    case '>':
      return actual > expected;
    case '>=':
      return actual >= expected;
    case '=':
      return actual === expected;
  }
}

/** `50ms`, `1.5s`, `800us`, `800µs`: µs; a bare number is refused (its unit would be a guess). */
function durationValue(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(µs|us|ms|s)$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * (DURATION_UNITS[match[2] as string] as number);
}

/** `20000`, `20000/s`, `20k/s`, `1.5M`: per second. */
function rateValue(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)([kmg]?)(?:\/s)?$/i.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * (MULTIPLIERS[(match[2] as string).toLowerCase()] as number);
}

/** A latency for people: µs under a millisecond, ms under a second, else s. */
export function formatMicroseconds(us: number): string {
  // The first unit whose rounded figure stays under 1000 (999.99 ms reads 1s, not 1000ms).
  for (const [unit, scale] of [
    ['µs', 1],
    ['ms', 1000],
  ] as const) {
    const figure = formatNumber(us / scale);
    if (Number(figure) < 1000) return `${figure}${unit}`;
  }
  return `${formatNumber(us / 1_000_000)}s`;
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(n < 10 ? 3 : 1)));
}
