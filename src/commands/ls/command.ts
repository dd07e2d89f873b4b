/** `warren ls KIND [REGEX…]`: the broker's queues, exchanges, … through the management API. */
import { InvalidArgumentError } from 'commander';
import { UsageError } from '../../errors.js';
import { apiSortField, sortableFields } from '../../inventory/listing.js';
import { fieldsOf, KINDS, type Kind } from '../../inventory/records.js';
import { choice, defineCommand, oneOf, option, repeatable, toggle, variadic } from '../define.js';
import { checkedRegExp } from '../values.js';
import type { LsOptions } from './run.js';

export const LS_FORMATS = ['table', 'ndjson'] as const;

/** `--columns a,b,c`: field names, checked against the kind once it is known. */
function columnList(value: string): string[] {
  const columns = value
    .split(',')
    .map((column) => column.trim())
    .filter((column) => column !== '');
  if (columns.length === 0) throw new InvalidArgumentError('give at least one field, e.g. name,messages');
  return columns;
}

/** Each word is a JavaScript regular expression (the API's is PCRE; they agree on the common part). */
function checkedPatterns(words: string[]): string[] {
  for (const word of words) {
    checkedRegExp(word, (why) => {
      throw new UsageError(`REGEX '${word}' is not a valid regular expression: ${why}`);
    });
  }
  return words;
}

function checkedFields(kind: Kind, flag: string, given: string[]): void {
  const fields = fieldsOf(kind);
  const unknown = given.find((field) => !fields.includes(field));
  if (unknown !== undefined) {
    throw new UsageError(`${flag}: ${kind} have no field '${unknown}'; fields: ${fields.join(', ')}`);
  }
}

export const lsCommand = defineCommand({
  name: 'ls',
  description:
    'list queues, exchanges, bindings, consumers, connections, channels or vhosts (management API)',
  args: {
    kind: oneOf('kind', 'what to list', KINDS),
    patterns: variadic(
      'regex',
      'only names matching REGEX (several: any of them); bindings: source or destination, consumers: queue',
    ),
  },
  flags: {
    match: repeatable(
      '--match <expr>',
      "only records matching EXPR, e.g. 'messages>1000', 'consumers=0' (repeatable: all must match)",
    ),
    sort: option('--sort <field>', 'order by this field, sorted by the API over the whole list'),
    reverse: toggle('--reverse', 'the opposite order (with --sort: descending)'),
    columns: option('--columns <fields>', 'these fields, in this order (table and NDJSON)', columnList),
    vhost: option('--vhost <vhost>', "list this vhost (default: the broker URL's)"),
    allVhosts: toggle('--all-vhosts', 'list every vhost'),
    format: choice('--format <format>', 'table on a terminal, else ndjson', LS_FORMATS),
  },
  rules: [{ not: ['vhost'], with: 'allVhosts', because: 'it lists every vhost' }],
  examples: [
    'warren ls queues                                 # a table on a terminal, NDJSON in a pipe',
    "warren ls queues '^orders\\.' --match 'messages>1000' --sort messages --reverse",
    "warren ls queues --match consumers=0 --columns name,messages | jq -r 'select(.messages > 0) | .name'",
    'warren ls consumers orders.created --columns queue,connection,prefetchCount',
    'warren ls exchanges --all-vhosts --format ndjson > exchanges.ndjson',
  ],
  parse({ args: { kind, patterns }, flags: f, global, format }) {
    if (f.columns) checkedFields(kind, '--columns', f.columns);
    if (f.sort !== undefined) {
      checkedFields(kind, '--sort', [f.sort]);
      if (apiSortField(kind, f.sort) === null) {
        throw new UsageError(
          `--sort: the API cannot order ${kind} by '${f.sort}' (not a single value); by: ${sortableFields(kind).join(', ')}`,
        );
      }
    }
    // The profile's format (pretty or ndjson, for messages) reads here as table or ndjson.
    const chosen = format<(typeof LS_FORMATS)[number]>(f.format);
    const options: LsOptions = {
      kind,
      patterns: checkedPatterns(patterns),
      matches: f.match,
      sort: f.sort,
      reverse: f.reverse,
      columns: f.columns,
      vhost: f.vhost,
      allVhosts: f.allVhosts,
      format: chosen === 'ndjson' || chosen === 'table' ? chosen : chosen === 'pretty' ? 'table' : undefined,
    };
    return { command: 'ls', global: global(), options };
  },
  runners: { ls: () => import('./run.js').then((m) => m.ls) },
});
