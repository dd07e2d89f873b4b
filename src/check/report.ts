/**
 * The output formats of `warren check`: a line per check on a terminal, NDJSON (one object
 * per check), a Nagios plugin line with perfdata, and Prometheus text exposition for
 * node_exporter's textfile collector.
 */
import { formatDuration } from '../duration.js';
import type { Paint } from '../ui/colour.js';
import { humanLine } from '../ui/terminalText.js';
import { type CheckResult, type CheckStatus, type Measure, STATUSES, worst } from './outcome.js';
import type { CheckFormat } from './specs.js';

/** A measured value as people read it: 12ms, 3.2 MiB, 1,200 messages. */
export function shownValue(measure: Measure): string {
  const { value, unit } = measure;
  if (value === null) return 'not measured';
  switch (unit) {
    case 'seconds':
      return formatDuration(value * 1000);
    case 'bytes':
      return value < 1024 ? `${value} B` : `${(value / 1024 / 1024).toFixed(1)} MiB`;
    case 'days':
      return `${value.toFixed(value < 10 ? 1 : 0)} days`;
    default:
      return value.toLocaleString('en-US');
  }
}

function paintStatus(status: CheckStatus, paint: Paint): string {
  const word = status.padEnd(8);
  if (status === 'OK') return paint.green(word);
  if (status === 'WARNING') return paint.yellow(word);
  return paint.red(word);
}

/** One line per check, for people: status (coloured), kind, target, and what was found. */
export function prettyLines(results: CheckResult[], paint: Paint): string {
  return results
    .map(
      (result) =>
        `${paintStatus(result.status, paint)} ${result.kind} ${humanLine(result.target)}: ${humanLine(result.message)}`,
    )
    .map((line) => `${line}\n`)
    .join('');
}

/**
 * One JSON object per check (docs/commands/check.md documents every field); with --watch,
 * each also says which round of checks it belongs to.
 */
export function jsonLines(results: CheckResult[], round?: number): string {
  return results
    .map((result) => {
      const first = result.measures[0];
      return `${JSON.stringify({
        ...(round === undefined ? {} : { round }),
        kind: result.kind,
        target: result.target,
        status: result.status,
        value: first?.value ?? null,
        unit: first?.unit ?? null,
        thresholds: { warn: first?.warn ?? null, crit: first?.crit ?? null },
        message: result.message,
        elapsedMs: Math.round(result.elapsedMs),
        measures: result.measures.map((m) => ({
          name: m.name,
          value: m.value,
          unit: m.unit,
          warn: m.warn ?? null,
          crit: m.crit ?? null,
          bound: m.bound ?? 'max',
        })),
      })}\n`;
    })
    .join('');
}

/** Nagios perfdata units: seconds, bytes; counts have none. */
const NAGIOS_UNIT: Record<Measure['unit'], string> = {
  seconds: 's',
  bytes: 'B',
  messages: '',
  count: '',
  days: '',
};

/**
 * A perfdata label: quoted, a quote inside doubled, and no `=` (the plugin guidelines); one
 * line (control characters escaped) and no `|`, which would end the plugin's text there.
 */
function perfLabel(text: string): string {
  return `'${humanLine(text).replaceAll("'", "''").replace(/[=|]/g, '_')}'`;
}

function perfNumber(value: number | undefined | null): string {
  if (value === undefined || value === null) return '';
  return Number.isInteger(value) ? String(value) : value.toFixed(6).replace(/\.?0+$/, '');
}

/**
 * The Nagios plugin output: `WARREN STATUS - summary | perfdata` on the first line, then
 * one line per check (the long output). A threshold for a minimum is written `N:` (alert
 * below N), as the plugin guidelines' range syntax says.
 */
export function nagiosOutput(results: CheckResult[]): string {
  const status = worst(results.map((result) => result.status));
  const summary = results
    .filter((result) => result.status === status)
    .map((result) => `${result.kind} ${result.target}: ${result.message}`)
    .join('; ');
  const perf = results.flatMap((result) =>
    result.measures
      .filter((m) => m.value !== null)
      .map((m) => {
        const range = (limit: number | undefined) =>
          limit === undefined ? '' : m.bound === 'min' ? `${perfNumber(limit)}:` : perfNumber(limit);
        const label = perfLabel(`${result.kind} ${result.target} ${m.name}`);
        return `${label}=${perfNumber(m.value)}${NAGIOS_UNIT[m.unit]};${range(m.warn)};${range(m.crit)}`;
      }),
  );
  const clean = (text: string) => humanLine(text).replaceAll('|', '/');
  const first = `WARREN ${status} - ${clean(summary || `${results.length} checks`)}${perf.length > 0 ? ` | ${perf.join(' ')}` : ''}`;
  const rest = results.map(
    (result) => `${result.status}: ${clean(`${result.kind} ${result.target}: ${result.message}`)}`,
  );
  return `${[first, ...rest].join('\n')}\n`;
}

/** A label value in the text exposition format: backslash, quote and newline escaped. */
function labelValue(text: string): string {
  return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;
}

function labels(pairs: Record<string, string>): string {
  return `{${Object.entries(pairs)
    .map(([key, value]) => `${key}=${labelValue(value)}`)
    .join(',')}}`;
}

/**
 * Prometheus text exposition (version 0.0.4): each check's status as a gauge (0 OK, 1
 * WARNING, 2 CRITICAL, 3 UNKNOWN), what it measured and its thresholds as gauges, and how
 * long it took.
 */
export function prometheusText(results: CheckResult[]): string {
  const out: string[] = [
    '# HELP warren_check_status The status of a warren check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.',
    '# TYPE warren_check_status gauge',
    ...results.map(
      (r) => `warren_check_status${labels({ kind: r.kind, target: r.target })} ${STATUSES.indexOf(r.status)}`,
    ),
    '# HELP warren_check_value A value a warren check measured, in the unit its label names.',
    '# TYPE warren_check_value gauge',
  ];
  const measured = results.flatMap((r) => r.measures.filter((m) => m.value !== null).map((m) => ({ r, m })));
  for (const { r, m } of measured) {
    out.push(
      `warren_check_value${labels({ kind: r.kind, target: r.target, measure: m.name, unit: m.unit })} ${m.value}`,
    );
  }
  out.push(
    '# HELP warren_check_threshold A threshold of a warren check (level warn or crit; bound max or min).',
    '# TYPE warren_check_threshold gauge',
  );
  for (const { r, m } of measured) {
    for (const level of ['warn', 'crit'] as const) {
      const limit = m[level];
      if (limit === undefined) continue;
      const pairs = { kind: r.kind, target: r.target, measure: m.name, level, bound: m.bound ?? 'max' };
      out.push(`warren_check_threshold${labels(pairs)} ${limit}`);
    }
  }
  out.push(
    '# HELP warren_check_duration_seconds How long a warren check took.',
    '# TYPE warren_check_duration_seconds gauge',
    ...results.map(
      (r) =>
        `warren_check_duration_seconds${labels({ kind: r.kind, target: r.target })} ${r.elapsedMs / 1000}`,
    ),
  );
  return `${out.join('\n')}\n`;
}

/** The output of a run in a format. */
export function render(results: CheckResult[], format: CheckFormat, paint: Paint): string {
  switch (format) {
    case 'pretty':
      return prettyLines(results, paint);
    case 'json':
      return jsonLines(results);
    case 'nagios':
      return nagiosOutput(results);
    case 'prometheus':
      return prometheusText(results);
  }
}
