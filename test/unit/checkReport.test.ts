/**
 * `warren check`'s results as their consumers read them: the Nagios plugin line by the plugin
 * guidelines' rules, the Prometheus text by a parser from npm (and by our strict one), the
 * JSON lines against check-result.schema.json; and the ranking and thresholds behind them.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import parsePrometheusText from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import {
  CHECK_EXIT,
  type CheckResult,
  type CheckStatus,
  exitCodeOf,
  type Measure,
  measureStatus,
  STATUSES,
  statusOf,
  worst,
} from '../../src/check/outcome.js';
import { jsonLines, nagiosOutput, prettyLines, prometheusText } from '../../src/check/report.js';
import { PLAIN } from '../../src/ui/colour.js';
import { parsePrometheus, sampleOf } from '../helpers/prometheus.js';

// ---------------------------------------------------------------------------------------
// A reader of Nagios plugin output, after the plugin development guidelines.

interface PerfItem {
  label: string;
  value: number;
  uom: string;
  warn: string;
  crit: string;
  min: string;
  max: string;
}

const UOMS = ['', 's', 'ms', 'us', '%', 'B', 'KB', 'MB', 'TB', 'c'];
const NUMBER = '-?\\d+(?:\\.\\d+)?';
/** A threshold range: `10`, `10:`, `~:10`, `10:20`, `@10:20`, or empty. */
const RANGE = new RegExp(`^(?:@?(?:${NUMBER}|~)?:?(?:${NUMBER})?)?$`);

/** Perfdata: space-separated `'label'=value[UOM];[warn];[crit];[min];[max]`, labels quoted. */
function readPerfdata(text: string): PerfItem[] {
  const items: PerfItem[] = [];
  let at = 0;
  while (at < text.length) {
    if (text[at] === ' ') {
      at += 1;
      continue;
    }
    if (text[at] !== "'") throw new Error(`perfdata at ${at}: a label not in single quotes`);
    let label = '';
    let i = at + 1;
    for (;;) {
      if (i >= text.length) throw new Error('perfdata: a label not closed');
      if (text[i] === "'") {
        if (text[i + 1] === "'") {
          label += "'";
          i += 2;
          continue;
        }
        break;
      }
      label += text[i];
      i += 1;
    }
    if (label.includes('=')) throw new Error(`perfdata: '=' in the label ${label}`);
    if (text[i + 1] !== '=') throw new Error(`perfdata: no '=' after the label ${label}`);
    const end = text.indexOf(' ', i + 2);
    const rest = text.slice(i + 2, end === -1 ? text.length : end);
    at = end === -1 ? text.length : end;
    const fields = rest.split(';');
    if (fields.length > 5) throw new Error(`perfdata ${label}: more than five fields`);
    const [valueText = '', warn = '', crit = '', min = '', max = ''] = fields;
    const value = new RegExp(`^(${NUMBER})([a-zA-Z%]*)$`).exec(valueText);
    if (!value) throw new Error(`perfdata ${label}: '${valueText}' is not a value with a unit`);
    const uom = value[2] as string;
    if (!UOMS.includes(uom)) throw new Error(`perfdata ${label}: '${uom}' is not a unit of measure`);
    for (const range of [warn, crit]) {
      if (!RANGE.test(range)) throw new Error(`perfdata ${label}: '${range}' is not a range`);
    }
    for (const bound of [min, max]) {
      if (bound !== '' && !new RegExp(`^${NUMBER}$`).test(bound))
        throw new Error(`perfdata ${label}: '${bound}' is not a number`);
    }
    items.push({ label, value: Number(value[1]), uom, warn, crit, min, max });
  }
  return items;
}

/** The plugin output: the first line `WARREN STATUS - text | perfdata`, then long text lines. */
function readNagios(output: string): { status: string; text: string; perf: PerfItem[]; long: string[] } {
  if (!output.endsWith('\n')) throw new Error('the output does not end with a line feed');
  const [first = '', ...long] = output.slice(0, -1).split('\n');
  const bar = first.indexOf('|');
  const head = bar === -1 ? first : first.slice(0, bar);
  const match = /^WARREN (OK|WARNING|CRITICAL|UNKNOWN) - (.+?) ?$/.exec(head);
  if (!match) throw new Error(`not a plugin line: ${first}`);
  // The long output may carry perfdata after a '|' too: none here, so no '|' at all.
  for (const line of long) if (line.includes('|')) throw new Error(`a '|' in the long output: ${line}`);
  return {
    status: match[1] as string,
    text: match[2] as string,
    perf: bar === -1 ? [] : readPerfdata(first.slice(bar + 1).trim()),
    long,
  };
}

// ---------------------------------------------------------------------------------------

const measure = (over: Partial<Measure> = {}): Measure => ({
  name: 'handshake',
  value: 0.012,
  unit: 'seconds',
  warn: 0.1,
  crit: 1,
  ...over,
});

const result = (over: Partial<CheckResult> = {}): CheckResult => ({
  kind: 'connection',
  target: 'amqp://guest:***@localhost:5672/',
  status: 'OK',
  message: 'connected: handshake 12ms, round trip 1ms',
  measures: [measure(), measure({ name: 'round_trip', value: 0.001 })],
  elapsedMs: 13.4,
  ...over,
});

/** Targets as broker names can be: quotes, backslashes, '=', '|', newlines. */
const hostile = 'or\'ders="x"\\y|z\nnext';

const several: CheckResult[] = [
  result(),
  result({
    kind: 'queue',
    target: hostile,
    status: 'CRITICAL',
    message: 'depth 1,200 > 1,000',
    measures: [
      { name: 'depth', value: 1200, unit: 'messages', warn: 500, crit: 1000 },
      { name: 'consumers', value: 0, unit: 'count', warn: 2, crit: 1, bound: 'min' },
      { name: 'head_age', value: null, unit: 'seconds', warn: 60 },
    ],
  }),
  result({ kind: 'node', target: 'rabbit@a', status: 'UNKNOWN', message: 'no API', measures: [] }),
  result({
    kind: 'connection',
    target: 'amqps://b/',
    status: 'WARNING',
    measures: [{ name: 'certificate_days_left', value: 12.5, unit: 'days', warn: 30, crit: 7, bound: 'min' }],
  }),
];

describe('worst, measureStatus, exit codes', () => {
  it('ranks CRITICAL over UNKNOWN over WARNING over OK, as Nagios does', () => {
    expect(worst([])).toBe('OK');
    expect(worst(['OK', 'WARNING'])).toBe('WARNING');
    expect(worst(['WARNING', 'UNKNOWN', 'OK'])).toBe('UNKNOWN');
    expect(worst(['UNKNOWN', 'CRITICAL', 'WARNING'])).toBe('CRITICAL');
    const all: CheckStatus[] = ['OK', 'WARNING', 'UNKNOWN', 'CRITICAL'];
    for (let i = 0; i < all.length; i++) expect(worst(all.slice(0, i + 1))).toBe(all[i]);
  });

  it('a maximum: beyond is above; the threshold itself is still within', () => {
    const at = (value: number | null) => measureStatus(measure({ value, warn: 10, crit: 20 }));
    expect([at(null), at(0), at(10), at(10.5), at(20), at(20.001)]).toEqual([
      'OK',
      'OK',
      'OK',
      'WARNING',
      'WARNING',
      'CRITICAL',
    ]);
  });

  it('a minimum: beyond is below', () => {
    const at = (value: number) => measureStatus(measure({ value, warn: 30, crit: 7, bound: 'min' }));
    expect([at(31), at(30), at(29), at(7), at(6.9), at(-1)]).toEqual([
      'OK',
      'OK',
      'WARNING',
      'WARNING',
      'CRITICAL',
      'CRITICAL',
    ]);
  });

  it('without thresholds, or with one alone', () => {
    expect(measureStatus(measure({ value: 1e9, warn: undefined, crit: undefined }))).toBe('OK');
    expect(measureStatus(measure({ value: 5, warn: undefined, crit: 4 }))).toBe('CRITICAL');
    expect(measureStatus(measure({ value: 5, warn: 4, crit: undefined }))).toBe('WARNING');
    expect(statusOf([measure({ value: 5, warn: 4 }), measure({ value: 5, crit: 4 })])).toBe('CRITICAL');
    expect(statusOf([])).toBe('OK');
  });

  it('exit codes: warren 0/6/7/8, nagios 0-3', () => {
    for (const status of STATUSES) {
      expect(exitCodeOf([status, 'OK'], false)).toBe(CHECK_EXIT[status]);
      expect(exitCodeOf([status], true)).toBe(STATUSES.indexOf(status));
    }
    expect(exitCodeOf(['WARNING', 'UNKNOWN'], true)).toBe(3);
    expect(exitCodeOf(['UNKNOWN', 'CRITICAL'], false)).toBe(7);
    expect(exitCodeOf([], false)).toBe(0);
  });
});

describe('nagios', () => {
  it('the plugin line and perfdata, read by the guidelines', () => {
    const out = readNagios(nagiosOutput(several));
    expect(out.status).toBe('CRITICAL');
    expect(out.long).toHaveLength(several.length);
    expect(out.long.map((line) => line.split(':')[0])).toEqual(['OK', 'CRITICAL', 'UNKNOWN', 'WARNING']);
    const byLabel = new Map(out.perf.map((item) => [item.label, item]));
    // An unmeasured value has no perfdata; every other measure has one.
    expect(out.perf).toHaveLength(5);
    const handshake = byLabel.get('connection amqp://guest:***@localhost:5672/ handshake');
    expect(handshake).toMatchObject({ value: 0.012, uom: 's', warn: '0.1', crit: '1' });
    const depth = out.perf.find((item) => item.label.endsWith(' depth'));
    expect(depth).toMatchObject({ value: 1200, uom: '', warn: '500', crit: '1000' });
    // A minimum is the range `N:` (alert below N).
    const consumers = out.perf.find((item) => item.label.endsWith(' consumers'));
    expect(consumers).toMatchObject({ value: 0, warn: '2:', crit: '1:' });
    const days = out.perf.find((item) => item.label.endsWith('certificate_days_left'));
    expect(days).toMatchObject({ value: 12.5, uom: '', warn: '30:', crit: '7:' });
  });

  it('a label keeps its quote (doubled), loses = and control characters, stays on the line', () => {
    const output = nagiosOutput([several[1] as CheckResult]);
    expect(output.split('\n')).toHaveLength(3);
    const label = readNagios(output).perf[0]?.label ?? '';
    expect(label.startsWith("queue or'ders_")).toBe(true);
    expect(label).not.toContain('\n');
    expect(label).not.toContain('=');
    expect(label).not.toContain('|');
  });

  it('the status alone when all is well; 0 checks', () => {
    expect(readNagios(nagiosOutput([result()])).status).toBe('OK');
    expect(readNagios(nagiosOutput([])).text).toBe('0 checks');
  });

  it('tiny and negative values are numbers perfdata can hold', () => {
    const odd = result({
      measures: [
        measure({ value: 1e-7 }),
        measure({ name: 'b', value: -3.25, unit: 'days', bound: 'min', warn: 30 }),
        measure({ name: 'c', value: 123456789.125, unit: 'bytes', warn: undefined, crit: undefined }),
      ],
    });
    const perf = readNagios(nagiosOutput([odd])).perf;
    expect(perf.map((item) => item.value)).toEqual([0, -3.25, 123456789.125]);
    expect(perf[2]).toMatchObject({ uom: 'B', warn: '', crit: '' });
  });
});

describe('prometheus', () => {
  it('parse-prometheus-text-format reads every family, labels unescaped', () => {
    const text = prometheusText(several);
    const families = parsePrometheusText(text);
    expect(families.map((family) => `${family.name} ${family.type}`)).toEqual([
      'warren_check_status GAUGE',
      'warren_check_value GAUGE',
      'warren_check_threshold GAUGE',
      'warren_check_duration_seconds GAUGE',
    ]);
    const status = families[0]?.metrics ?? [];
    expect(status.map((metric) => [metric.labels?.['target'], metric.value])).toEqual([
      ['amqp://guest:***@localhost:5672/', '0'],
      [hostile, '2'],
      ['rabbit@a', '3'],
      ['amqps://b/', '1'],
    ]);
    const values = families[1]?.metrics ?? [];
    expect(values).toHaveLength(5);
    expect(values.find((metric) => metric.labels?.['measure'] === 'depth')).toEqual({
      value: '1200',
      labels: { kind: 'queue', target: hostile, measure: 'depth', unit: 'messages' },
    });
  });

  it('our strict reader agrees, sample for sample', () => {
    const text = prometheusText(several);
    const strict = parsePrometheus(text);
    const loose = parsePrometheusText(text);
    for (const family of loose) {
      const samples = strict.get(family.name)?.samples ?? [];
      expect(samples.map((sample) => [sample.labels, sample.value])).toEqual(
        family.metrics.map((metric) => [metric.labels ?? {}, Number(metric.value)]),
      );
    }
    expect(
      sampleOf(strict, 'warren_check_threshold', {
        target: hostile,
        measure: 'consumers',
        level: 'crit',
        bound: 'min',
      }),
    ).toBe(1);
    expect(sampleOf(strict, 'warren_check_duration_seconds', { kind: 'node' })).toBeCloseTo(0.0134);
  });
});

describe('json lines', () => {
  const schema = JSON.parse(readFileSync(new URL('../../check-result.schema.json', import.meta.url), 'utf8'));
  const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

  it('each line is one result the schema accepts', () => {
    const lines = jsonLines(several).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(several.length);
    for (const line of lines) {
      const parsed = JSON.parse(line);
      expect(validate(parsed), JSON.stringify(validate.errors)).toBe(true);
    }
    const queue = JSON.parse(lines[1] as string);
    expect(queue).toMatchObject({ target: hostile, value: 1200, unit: 'messages', elapsedMs: 13 });
    expect(queue.thresholds).toEqual({ warn: 500, crit: 1000 });
    expect(queue.measures[1]).toEqual({
      name: 'consumers',
      value: 0,
      unit: 'count',
      warn: 2,
      crit: 1,
      bound: 'min',
    });
    const unknown = JSON.parse(lines[2] as string);
    expect(unknown).toMatchObject({ value: null, unit: null, thresholds: { warn: null, crit: null } });
  });

  it('the schema refuses what is not a result', () => {
    const good = JSON.parse(jsonLines([result()]));
    expect(validate(good)).toBe(true);
    expect(validate({ ...good, status: 'FINE' })).toBe(false);
    expect(validate({ ...good, extra: 1 })).toBe(false);
    const { message: _message, ...without } = good;
    expect(validate(without)).toBe(false);
  });
});

describe('pretty', () => {
  it('one line per check, control characters shown, not obeyed', () => {
    const text = prettyLines(several, PLAIN);
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(4);
    expect(lines[1]?.startsWith('CRITICAL queue ')).toBe(true);
  });
});
