/**
 * `warren ls queues NAME…` when the management API cannot be reached: each named queue is
 * checked with an AMQP passive declare, which tells its ready messages and its consumers.
 * Every other field is null; a queue that is not there is said on stderr and not listed.
 */
import type { ManagementApi } from '../../api/client.js';
import { ExitCode, type WarrenError } from '../../errors.js';
import { fieldsOf } from '../../inventory/records.js';
import type { RecordPredicate } from '../../match/recordPredicate.js';
import { withSession } from '../../topology/results.js';
import type { CommandContext } from '../context.js';
import { type RecordOutput, writeRecords } from './output.js';
import type { LsOptions } from './run.js';

/** A word with none of these is a plain name (a dot is one, as a regex it matches itself too). */
const REGEX_SYNTAX = /[\\^$|?*+()[\]{}]/;

/** The API could not be reached, and what was asked is a few named queues of the URL's vhost. */
export function fallbackEligible(error: unknown, options: LsOptions, api: ManagementApi): boolean {
  return (
    (error as WarrenError | undefined)?.exitCode === ExitCode.unreachable &&
    options.kind === 'queues' &&
    options.patterns.length > 0 &&
    options.patterns.every((word) => !REGEX_SYNTAX.test(word)) &&
    !options.allVhosts &&
    (options.vhost === undefined || options.vhost === api.vhost)
  );
}

type Item = Record<string, unknown>;

/** Nulls last; numbers by value, anything else by its text. */
function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

export async function listThroughAmqp(
  error: WarrenError,
  options: LsOptions,
  vhost: string,
  context: CommandContext,
  predicate: RecordPredicate,
  output: RecordOutput,
): Promise<number> {
  const { reporter } = context;
  reporter.warn(
    `${error.message}; listing the queues named through AMQP instead (passive declares): only messagesReady and consumers are known`,
  );
  const records: Item[] = await withSession(context, async (session) => {
    const found: Item[] = [];
    for (const name of new Set(options.patterns)) {
      const counts = await session.queueInfo(name);
      if (!counts) {
        reporter.info(`queue '${name}' does not exist in vhost '${vhost}'`);
        continue;
      }
      const record: Item = Object.fromEntries(fieldsOf('queues').map((field) => [field, null]));
      Object.assign(record, {
        name: counts.queue,
        vhost,
        messagesReady: counts.messageCount,
        consumers: counts.consumerCount,
      });
      found.push(record);
    }
    return found;
  });
  const sort = options.sort;
  if (sort !== undefined) records.sort((a, b) => compare(a[sort], b[sort]));
  if (options.reverse) records.reverse();
  return writeRecords(records, predicate, output, () => undefined);
}
