/**
 * A strict reader of Prometheus's text exposition format (0.0.4), for the tests of `warren
 * serve --metrics`: every line is a HELP, a TYPE or a sample; every sample belongs to the
 * family whose TYPE came last (a histogram's _bucket, _sum and _count too); label values are
 * quoted with \\, \" and \n escaped; values are numbers. Anything else throws, naming the line.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string | undefined;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function readLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let at = 0;
  while (at < text.length) {
    const eq = text.indexOf('=', at);
    if (eq === -1) throw new Error(`line ${line}: a label without '='`);
    const name = text.slice(at, eq);
    if (!LABEL.test(name)) throw new Error(`line ${line}: bad label name '${name}'`);
    if (text[eq + 1] !== '"') throw new Error(`line ${line}: label ${name}: value not quoted`);
    let value = '';
    let i = eq + 2;
    for (; i < text.length && text[i] !== '"'; i++) {
      if (text[i] === '\\') {
        const next = text[i + 1];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`line ${line}: bad escape in label ${name}`);
        i += 1;
      } else value += text[i];
    }
    if (i >= text.length) throw new Error(`line ${line}: label ${name}: value not closed`);
    if (name in labels) throw new Error(`line ${line}: label ${name} twice`);
    labels[name] = value;
    at = i + 1;
    if (text[at] === ',') at += 1;
    else if (at < text.length) throw new Error(`line ${line}: expected ',' after label ${name}`);
  }
  return labels;
}

function readValue(text: string, line: number): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  if (!/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text)) throw new Error(`line ${line}: '${text}' is not a value`);
  return Number(text);
}

export function parsePrometheus(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the text does not end with a line feed');
  const families = new Map<string, Family>();
  let current: Family | undefined;
  text
    .slice(0, -1)
    .split('\n')
    .forEach((row, index) => {
      const line = index + 1;
      const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(row);
      if (meta) {
        const [, kind, name, rest] = meta as unknown as [string, string, string, string];
        if (!NAME.test(name)) throw new Error(`line ${line}: bad metric name '${name}'`);
        const family = families.get(name) ?? { name, type: 'untyped', help: undefined, samples: [] };
        families.set(name, family);
        if (kind === 'HELP') family.help = rest;
        else {
          if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest))
            throw new Error(`line ${line}: bad type '${rest}'`);
          if (family.samples.length > 0) throw new Error(`line ${line}: TYPE after samples of ${name}`);
          family.type = rest as Family['type'];
        }
        current = family;
        return;
      }
      if (row.startsWith('#') || row === '') throw new Error(`line ${line}: unexpected '${row}'`);
      const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(row);
      if (!sample) throw new Error(`line ${line}: not a sample: '${row}'`);
      const [, name, labelText, valueText] = sample as unknown as [
        string,
        string,
        string | undefined,
        string,
      ];
      const base = current?.type === 'histogram' ? name.replace(/_(bucket|sum|count)$/, '') : name;
      if (current === undefined || base !== current.name)
        throw new Error(`line ${line}: ${name} outside its family's block`);
      current.samples.push({
        name,
        labels: readLabels(labelText ?? '', line),
        value: readValue(valueText, line),
      });
    });
  return families;
}

/** The one sample of a family with these labels (throws if none, or several). */
export function sampleOf(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string>,
): number {
  const family = families.get(name.replace(/_(bucket|sum|count)$/, '')) ?? families.get(name);
  const found = (family?.samples ?? []).filter(
    (sample) =>
      sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return (found[0] as Sample).value;
}
