/** `warren serve FILE`: several handlers, each on its queue, from one handlers file. */

import { DEFAULT_RETRIES } from '../../broker/reconnect.js';
import { defineCommand, option, required, toggle, withDefault } from '../define.js';
import { integer, timerDuration } from '../values.js';
import type { ServeOptions } from './run.js';

const flags = {
  check: toggle('--check', 'check the handlers file and exit (0: valid, 65: the field and line at fault)'),
  metrics: option(
    '--metrics <port>',
    'serve Prometheus metrics at http://HOST:PORT/metrics (0: any free port)',
    integer(0, 65535),
  ),
  metricsHost: withDefault(
    option('--metrics-host <host>', 'the address the metrics endpoint listens on'),
    '127.0.0.1',
  ),
  grace: option(
    '--grace <duration>',
    'on SIGTERM or Ctrl-C, how long running handlers may finish (default 10s)',
    timerDuration,
  ),
  retries: withDefault(
    option(
      '--retries <n>',
      'after a lost connection, each handler reconnects up to N times in a row (0: exit 69 at once)',
      integer(0, 1000),
    ),
    DEFAULT_RETRIES,
  ),
  statsInterval: option(
    '--stats-interval <duration>',
    'without a terminal: a stats event per handler this often (default 10s; 0s: none)',
    timerDuration,
  ),
};

export const serveCommand = defineCommand({
  name: 'serve',
  description: 'run the handlers of a handlers file, each on its queue (exec or pipe, routed by key or type)',
  args: { file: required('file', 'the handlers file (JSON; handlers.schema.json)') },
  flags,
  rules: [
    { only: ['metricsHost'], with: 'metrics' },
    {
      not: ['metrics', 'metricsHost', 'grace', 'retries', 'statsInterval'],
      with: 'check',
      because: '--check runs nothing',
    },
  ],
  examples: [
    'warren serve handlers.json                        # a status line per handler on a terminal',
    'warren serve handlers.json --check                # exit 65 naming the field and line at fault',
    'warren serve handlers.json --metrics 9464 2>>serve.ndjson   # NDJSON events, Prometheus metrics',
  ],
  parse({ args: { file }, flags: f, global }) {
    const options: ServeOptions = {
      file,
      check: f.check,
      metrics: f.metrics === undefined ? undefined : { port: f.metrics, host: f.metricsHost },
      graceMs: f.grace ?? 10_000,
      retries: f.retries,
      statsEveryMs: f.statsInterval ?? 10_000,
      quiet: global().quiet,
      verbose: global().verbose,
      color: global().color,
    };
    return { command: 'serve', global: global(), options };
  },
  runners: { serve: () => import('./run.js').then((m) => m.serve) },
});
