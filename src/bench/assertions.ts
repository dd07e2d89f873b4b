/**
 * `--assert` for `warren bench` and `warren latency`: METRIC OP VALUE, such as `p99<50ms`,
 * `confirm.p50<=2ms` or `publish>=20k/s`, checked against a run's summary so a CI job can
 * fail on a threshold (exit ASSERTION_FAILED_EXIT when one does not hold).
 */
import { UsageError } from '../errors.js';
import type { LatencySummary } from './histogram.js';
import type { BenchSummary } from './summary.js';

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
const LATENCY_FIELDS: Record<string, LatencyField> = {
  min: 'min',
  p50: 'p50',
  p75: 'p75',
  p95: 'p95',
  p99: 'p99',
  'p99.9': 'p999',
  max: 'max',
  mean: 'mean',
};
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
  if (us < 1000) return `${formatNumber(us)}µs`;
  if (us < 1_000_000) return `${formatNumber(us / 1000)}ms`;
  return `${formatNumber(us / 1_000_000)}s`;
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(n < 10 ? 3 : 1)));
}
