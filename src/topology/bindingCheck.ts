/**
 * `declare --check` for bindings: AMQP 0-9-1 cannot see them, the management API can. A
 * binding of the file the broker does not have is `missing`; one the broker has between an
 * exchange and a queue (or exchange) the file declares, and the file does not list, `differs`.
 */
import { type BindingSpec, describeBinding } from '../broker/declarations.js';
import type { CommandContext } from '../commands/context.js';
import { WarrenError } from '../errors.js';
import { type BindingRecord, bindingRecord } from '../inventory/records.js';
import type { EntityResult } from './apply.js';
import type { Topology } from './spec.js';

export const NOT_IN_FILE = 'bound on the broker, not in the file';

/** The vhost's bindings from the API; undefined (said on stderr, one line) when it cannot tell. */
export async function liveBindings(
  context: CommandContext,
  topology: Topology,
): Promise<BindingRecord[] | undefined> {
  // Nothing the API could tell: no binding to look for, no exchange to have an extra one.
  if (topology.bindings.length === 0 && topology.exchanges.length === 0) return [];
  const api = await context.api();
  try {
    const records: BindingRecord[] = [];
    for await (const item of api.items<Record<string, unknown>>(
      `bindings/${encodeURIComponent(api.vhost)}`,
    )) {
      records.push(bindingRecord(item));
    }
    return records;
  } catch (error) {
    if (!(error instanceof WarrenError)) throw error;
    context.reporter.warn(`bindings not checked: ${error.message}`);
    return undefined;
  } finally {
    api.close();
  }
}

/** The file's bindings, each `present` or `missing`, then the broker's extra ones (`differs`). */
export function checkBindings(topology: Topology, live: BindingRecord[]): EntityResult[] {
  const onBroker = new Set(live.map((record) => identity(specOf(record), false)));
  const results: EntityResult[] = topology.bindings.map((spec) => ({
    kind: 'binding',
    name: describeBinding(spec),
    status: onBroker.has(identity(spec, true)) ? 'present' : 'missing',
    ...argumentsDetail(spec),
  }));
  const inFile = new Set(topology.bindings.map((spec) => identity(spec, true)));
  const exchanges = new Set(topology.exchanges.map((e) => e.name));
  const queues = new Set(topology.queues.map((q) => q.name));
  const extras = live
    .filter(
      (record) =>
        exchanges.has(record.source) &&
        (record.destinationType === 'queue' ? queues : exchanges).has(record.destination),
    )
    .map(specOf)
    .filter((spec) => !inFile.has(identity(spec, false)))
    .sort((a, b) => compare(identity(a, false), identity(b, false)));
  for (const spec of extras) {
    const shown = argumentsDetail(spec).detail;
    results.push({
      kind: 'binding',
      name: describeBinding(spec),
      status: 'differs',
      detail: shown ? `${NOT_IN_FILE}, ${shown}` : NOT_IN_FILE,
    });
  }
  return results;
}

function specOf(record: BindingRecord): BindingSpec {
  return {
    source: record.source,
    destination:
      record.destinationType === 'queue' ? { queue: record.destination } : { exchange: record.destination },
    key: record.routingKey,
    arguments: record.arguments,
  };
}

/** A binding's arguments, when it has some: what tells two bindings of the same key apart. */
function argumentsDetail(spec: BindingSpec): { detail?: string } {
  const args = plain(spec.arguments, true) as Record<string, unknown>;
  return Object.keys(args).length === 0 ? {} : { detail: `arguments ${JSON.stringify(args)}` };
}

/** What makes a binding the one it is: its ends, its key, its arguments as the API shows them. */
function identity(spec: BindingSpec, fromFile: boolean): string {
  const [kind, destination] =
    'queue' in spec.destination ? ['queue', spec.destination.queue] : ['exchange', spec.destination.exchange];
  return JSON.stringify([spec.source, kind, destination, spec.key, plain(spec.arguments, fromFile)]);
}

const NUMERIC = new Set([
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'timestamp',
  'float',
  'double',
]);

/**
 * A value as the management API shows it: plain JSON, tables sorted by key. A file's value
 * may be in warren's typed form (own "!" key), which the API shows as the bare number; a
 * table of the file with a "!" key of its own has it on its prototype (fieldTableEncode).
 */
function plain(value: unknown, fromFile: boolean): unknown {
  if (Array.isArray(value)) return value.map((item) => plain(item, fromFile));
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  if (fromFile && Object.hasOwn(record, '!')) {
    const inner = record['value'];
    return NUMERIC.has(String(record['!'])) ? Number(inner) : plain(inner, fromFile);
  }
  const keys: string[] = [];
  for (const key in record) keys.push(key);
  const out: Record<string, unknown> = {};
  for (const key of keys.sort(compare)) {
    Object.defineProperty(out, key, {
      value: plain(record[key], fromFile),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
