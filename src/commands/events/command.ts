/** `warren events [PATTERN...]`: the broker's events, tapped from the event exchange as tail taps. */
import { UsageError } from '../../errors.js';
import { EVENT_EXCHANGE } from '../../events/record.js';
import { parseSource } from '../../tailSource.js';
import { choice, defineCommand, option, repeatable, toggle, variadic } from '../define.js';
import { integer, prefixed, timerDuration, unsendableArgument } from '../values.js';
import type { EventsOptions } from './run.js';

const EVENT_FORMATS = ['pretty', 'ndjson'] as const;

const flags = {
  match: repeatable(
    '--match <expr>',
    "print and count only events matching EXPR, e.g. 'name~^orders' (repeatable: all must match)",
  ),
  count: option('-n, --count <n>', 'stop after N (matching) events', integer(1)),
  timeout: option(
    '-t, --timeout <duration>',
    'stop when no (matching) event arrives for this long (exit 3 if --count not reached)',
    timerDuration,
  ),
  format: choice('--format <format>', 'pretty on a terminal, else ndjson', EVENT_FORMATS),
  passUrl: toggle('--pass-url', "with a trigger: give it WARREN_URL, password included, for warren's broker"),
};

export const eventsCommand = defineCommand({
  name: 'events',
  description: "watch the broker's events: queues, connections, consumers, logins (event exchange plugin)",
  usage: '[options] [pattern...] [-- TRIGGER COMMAND...]',
  args: {
    patterns: variadic(
      'pattern',
      "event types to watch, as binding keys: 'queue.*', 'connection.#' (default: #)",
    ),
  },
  flags,
  trailing: true,
  examples: [
    'warren events                                # every event, as it happens',
    "warren events 'queue.*' 'connection.#' --format ndjson | jq -c '{event, name}'",
    'warren events user.authentication.failure --count 1 --timeout 1m',
    'warren events queue.deleted --match name=orders --count 1 --timeout 10s -- warren delete queue orders',
  ],
  parse({ args: { patterns }, flags: f, global, format, trailing }) {
    if (f.passUrl && trailing.length === 0)
      throw new UsageError('--pass-url goes with a trigger (-- COMMAND…)');
    const keys = patterns.length > 0 ? patterns : ['#'];
    const chosen = format(f.format);
    const options: EventsOptions = {
      sources: keys.map((key) => {
        const problem = prefixed(`PATTERN '${key}'`, unsendableArgument(key));
        if (problem) throw new UsageError(problem);
        return parseSource(`${EVENT_EXCHANGE}:${key}`);
      }),
      matches: f.match,
      trigger: trailing,
      passUrl: f.passUrl,
      output: {
        count: f.count,
        timeoutMs: f.timeout,
        // A profile's `body` (or a template) means nothing for an event: its data is NDJSON.
        format: chosen === 'pretty' ? 'pretty' : 'ndjson',
      },
    };
    return { command: 'events', global: global(), options };
  },
  runners: { events: () => import('./run.js').then((m) => m.events) },
});
