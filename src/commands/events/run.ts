/**
 * `warren events`: a tail of the event exchange (tail/run.ts does the tapping, reconnecting,
 * counting and triggering) that writes each event as an event record (src/events/record.ts).
 */
import type { ReceivedMessage } from '../../broker/message.js';
import type { Session } from '../../broker/session.js';
import { ExitCode, WarrenError } from '../../errors.js';
import { type EventFormat, eventNdjson, eventPretty } from '../../events/format.js';
import { EVENT_EXCHANGE, type EventRecord, eventRecord } from '../../events/record.js';
import type { TailSource } from '../../tailSource.js';
import type { CommandContext } from '../context.js';
import { type TailAdapter, tail } from '../tail/run.js';

export interface EventsOptions {
  /** The event exchange, bound with each event-type pattern. */
  sources: TailSource[];
  /** The --match expressions (ANDed), over the event record's fields. */
  matches: string[];
  trigger: string[];
  passUrl: boolean;
  output: { count: number | undefined; timeoutMs: number | undefined; format: EventFormat };
}

/** Exit code when there is no event exchange to tap: the service is not there (EX_UNAVAILABLE). */
export const NO_EVENT_EXCHANGE = ExitCode.unreachable;

/** No event exchange where warren connected: the plugin is off, or publishes to another vhost. */
export function noEventExchange(vhost: string): WarrenError {
  // The plugin publishes into '/' unless its event_exchange.vhost says otherwise.
  const elsewhere = vhost === '/' ? '' : ", or publishes to another vhost ('/' unless set otherwise)";
  return new WarrenError(
    `no exchange '${EVENT_EXCHANGE}' in vhost '${vhost}': the event exchange plugin is not enabled${elsewhere}`,
    NO_EVENT_EXCHANGE,
    { hint: 'enable it on the broker: rabbitmq-plugins enable rabbitmq_event_exchange' },
  );
}

/** The queues the event is about: a tap's own binding and consumer are no one else's business. */
function concernsQueue(record: EventRecord, queues: ReadonlySet<string>): boolean {
  for (const field of ['name', 'queue', 'destinationName']) {
    const value = record[field];
    if (typeof value === 'string' && queues.has(value)) return true;
  }
  return false;
}

/** The --match expressions, over the event record's fields (`name~^orders`, `event=queue.created`). */
async function compileEventMatches(exprs: readonly string[]): Promise<(record: EventRecord) => boolean> {
  const { compileRecordPredicate } = await import('../../match/recordPredicate.js');
  return compileRecordPredicate(exprs);
}

export async function events(options: EventsOptions, context: CommandContext): Promise<void> {
  // Each message's record is made once, for --match and for the output alike.
  const records = new WeakMap<ReceivedMessage, EventRecord>();
  const recordOf = (message: ReceivedMessage): EventRecord => {
    let record = records.get(message);
    if (!record) {
      record = eventRecord(message);
      records.set(message, record);
    }
    return record;
  };
  const adapter: TailAdapter = {
    noun: 'event',
    formatter: () => {
      const write =
        options.output.format === 'pretty'
          ? eventPretty(context.stdoutPaint, context.io.stdout)
          : eventNdjson;
      return (message) => write(recordOf(message));
    },
    match: async (exprs, tapQueues) => {
      const matches = exprs.length === 0 ? undefined : await compileEventMatches(exprs);
      return (message) => {
        const record = recordOf(message);
        if (concernsQueue(record, tapQueues)) return false;
        return matches === undefined || matches(record);
      };
    },
    check: async (session: Session) => {
      if (!(await session.exchangeExists(EVENT_EXCHANGE))) throw noEventExchange(session.vhost);
    },
  };
  await tail(
    {
      sources: options.sources,
      matchHeaders: {},
      headersMatch: 'all',
      matches: options.matches,
      trigger: options.trigger,
      passUrl: options.passUrl,
      capture: undefined,
      stream: undefined,
      output: { ...options.output, template: undefined, full: false },
    },
    context,
    adapter,
  );
}
