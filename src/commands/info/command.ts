/** `warren info [NAME]`: the routing tree of a vhost, an exchange or a queue. */
import { UsageError } from '../../errors.js';
import { choice, defineCommand, negatable, option, optional, toggle } from '../define.js';
import type { InfoOptions } from './run.js';

const INFO_FORMATS = ['pretty', 'ndjson', 'dot'] as const;

const flags = {
  vhost: option('--vhost <vhost>', "the vhost (default: the broker URL's)"),
  exchange: toggle('--exchange', 'NAME is an exchange (where a queue has the same name)'),
  queue: toggle('--queue', 'NAME is a queue (where an exchange has the same name)'),
  defaultExchange: toggle(
    '--default-exchange',
    "show the default exchange ('') and its implicit binding to every queue",
  ),
  all: toggle('--all', 'show the amq.* exchanges nothing is bound to or from, too'),
  consumers: negatable('--no-consumers', 'leave consumers out'),
  stats: toggle(
    '--stats',
    'also read rates, memory and policies (null otherwise): slower, much so for thousands of queues',
  ),
  format: choice(
    '--format <format>',
    'pretty on a terminal, else ndjson; dot: a Graphviz digraph',
    INFO_FORMATS,
  ),
};

export const infoCommand = defineCommand({
  name: 'info',
  description: 'show the routing tree: exchanges, bindings, queues and consumers',
  args: { name: optional('name', 'an exchange or a queue (default: the whole vhost)') },
  flags,
  rules: [{ not: ['queue'], with: 'exchange', because: 'NAME is one or the other' }],
  examples: [
    'warren info                                  # every exchange of the vhost, followed down',
    'warren info orders                           # one exchange followed down, or a queue followed up',
    'warren info orders --queue --format ndjson | jq -c \'select(.kind=="consumer") | .record\'',
    'warren info --vhost staging --format dot | dot -Tsvg > staging.svg',
  ],
  parse({ args: { name }, flags: f, global, io }) {
    if ((f.exchange || f.queue) && name === undefined)
      throw new UsageError(`--${f.exchange ? 'exchange' : 'queue'} goes with a NAME`);
    const options: InfoOptions = {
      name,
      kind: f.exchange ? 'exchange' : f.queue ? 'queue' : undefined,
      vhost: f.vhost,
      defaultExchange: f.defaultExchange,
      all: f.all,
      consumers: f.consumers,
      statistics: f.stats,
      format: f.format ?? (io.stdout.isTTY ? 'pretty' : 'ndjson'),
    };
    return { command: 'info', global: global(), options };
  },
  runners: { info: () => import('./run.js').then((m) => m.info) },
});
