/**
 * `warren ls KIND`: the management API's list of that kind, a page at a time, each item made
 * a record (src/inventory/records.ts), filtered by --match and written as it comes (NDJSON,
 * or a table fitted to the terminal). Names are filtered and the list sorted by the API, so
 * that an order over thousands of items needs no more memory here than one page.
 */
import type { ManagementApi, Query } from '../../api/client.js';
import { ExitCode, InterruptedError, WarrenError } from '../../errors.js';
import { API_COLUMNS, apiSortField, clientNameFields, DEFAULT_COLUMNS } from '../../inventory/listing.js';
import { fieldsOf, KIND_SOURCES, type Kind } from '../../inventory/records.js';
import { connectionClientNames, ensureVhost } from '../../inventory/snapshot.js';
import { compileRecordPredicate } from '../../match/recordPredicate.js';
import { type StopSignal, watchStopSignals } from '../../ui/signals.js';
import type { CommandContext } from '../context.js';
import { fallbackEligible, listThroughAmqp } from './fallback.js';
import { createOutput, writeRecords } from './output.js';

export interface LsOptions {
  kind: Kind;
  /** Regular expressions over names: a name matches when any does. */
  patterns: string[];
  matches: string[];
  sort: string | undefined;
  reverse: boolean;
  columns: string[] | undefined;
  vhost: string | undefined;
  allVhosts: boolean;
  /** Undefined: table on a terminal, else NDJSON. */
  format: 'table' | 'ndjson' | undefined;
}

type Item = Record<string, unknown>;

/** The field a kind's list is ordered by when only --reverse is given. */
const NAME_FIELD: Record<Kind, string> = {
  queues: 'name',
  exchanges: 'name',
  bindings: 'source',
  consumers: 'queue',
  connections: 'name',
  channels: 'name',
  vhosts: 'name',
};

/** Several patterns as one regular expression that any of them satisfies. */
export const anyOf = (patterns: string[]) =>
  patterns.length === 1 ? (patterns[0] as string) : patterns.map((p) => `(?:${p})`).join('|');

/** The API's query for the list: the fields read, the name filter (on the server for paged kinds), the order. */
function listQuery(options: LsOptions, vhost: string | undefined): Query {
  const query: Query = { columns: API_COLUMNS[options.kind].join(',') };
  if (options.patterns.length > 0 && clientNameFields(options.kind, vhost) === undefined) {
    query['name'] = anyOf(options.patterns);
    query['use_regex'] = true;
  }
  const sort = options.sort ?? (options.reverse ? NAME_FIELD[options.kind] : undefined);
  if (sort !== undefined) {
    const field = apiSortField(options.kind, sort);
    if (field === null) throw new WarrenError(`cannot sort by '${sort}'`, ExitCode.usage);
    query['sort'] = field;
    if (options.reverse) query['sort_reverse'] = true;
  }
  return query;
}

/** The kind's records, a page at a time; filtered by name here where the API does not. */
async function* listRecords(api: ManagementApi, options: LsOptions, vhost: string | undefined) {
  const source = KIND_SOURCES[options.kind];
  const nameFields = clientNameFields(options.kind, vhost);
  const names = nameFields && options.patterns.length > 0 ? new RegExp(anyOf(options.patterns)) : undefined;
  const connections = options.kind === 'consumers' ? await connectionClientNames(api, vhost) : undefined;
  for await (const item of api.items<Item>(source.path(vhost), listQuery(options, vhost))) {
    const record = source.record(item) as unknown as Item;
    if (names && !nameFields?.some((field) => names.test(String(record[field])))) continue;
    if (connections) record['clientName'] = connections.get(String(record['connection'])) ?? null;
    yield record;
  }
}

/** The fields a table shows: --columns, else the kind's own (and the vhost with --all-vhosts). */
function tableFields(options: LsOptions): string[] {
  if (options.columns) return options.columns;
  const fields = DEFAULT_COLUMNS[options.kind];
  if (!options.allVhosts || options.kind === 'vhosts') return fields;
  return [...fields.slice(0, 1), 'vhost', ...fields.slice(1)];
}

export async function ls(options: LsOptions, context: CommandContext): Promise<void> {
  const { io, reporter } = context;
  // A bad --match is exit 2 before anything is asked of the broker.
  const predicate = compileRecordPredicate(options.matches, fieldsOf(options.kind));
  const api = await context.api();
  const vhost =
    options.allVhosts || !KIND_SOURCES[options.kind].vhostScoped ? undefined : (options.vhost ?? api.vhost);
  const format = options.format ?? (io.stdout.isTTY ? 'table' : 'ndjson');
  const output = createOutput(io, {
    kind: options.kind,
    format,
    fields: tableFields(options),
    projection: options.columns,
    paint: context.stdoutPaint,
  });
  let stoppedBy: StopSignal | undefined;
  const dispose = watchStopSignals((signal) => {
    stoppedBy = signal;
    // Ends the request under way and a wait for a full stdout: the listing stops at once.
    api.close();
    output.interrupt();
  });
  const progress = { listed: 0 };
  try {
    await writeRecords(listRecords(api, options, vhost), predicate, output, () => stoppedBy, progress);
  } catch (error) {
    if (stoppedBy) throw new InterruptedError(stoppedBy);
    // Only before anything was listed: an API gone between pages is an error, not a fallback.
    if (progress.listed === 0 && fallbackEligible(error, options, api)) {
      dispose();
      progress.listed = await listThroughAmqp(
        error as WarrenError,
        options,
        api.vhost,
        context,
        predicate,
        output,
      );
    } else throw await explained(error, api, vhost);
  } finally {
    dispose();
    api.close();
  }
  if (stoppedBy) throw new InterruptedError(stoppedBy);
  const failure = output.failure();
  if (failure) {
    throw new WarrenError(`cannot write to stdout: ${failure.message}`, ExitCode.failure, { cause: failure });
  }
  if (output.readerGone) return;
  const dropped = output.dropped();
  if (dropped.length > 0) {
    reporter.info(`no room for ${dropped.join(', ')}: widen the terminal, or choose fewer --columns`);
  }
  if (progress.listed === 0 && format === 'table') reporter.info(`no ${options.kind}`);
}

/** A list that is not found names the vhost when that is what is missing. */
async function explained(error: unknown, api: ManagementApi, vhost: string | undefined): Promise<unknown> {
  if (vhost !== undefined && error instanceof WarrenError && /\(404\)$/.test(error.message)) {
    await ensureVhost(api, vhost);
  }
  return error;
}
