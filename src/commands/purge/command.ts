/** `warren purge QUEUE`: every ready message removed. */
import { defineCommand, required, toggle } from '../define.js';
import { brokerName } from '../values.js';
import type { PurgeOptions } from './run.js';

export const purgeCommand = defineCommand({
  name: 'purge',
  description: 'remove every ready message from a queue',
  args: { queue: required('queue', 'the queue', brokerName('the queue name')) },
  flags: { json: toggle('--json', 'print the result as JSON on stdout') },
  examples: ['warren purge orders.created', 'warren purge orders.created --json | jq .messageCount'],
  parse: ({ args: { queue }, flags, global }) => ({
    command: 'purge',
    global: global(),
    options: { queue, json: flags.json } satisfies PurgeOptions,
  }),
  runners: { purge: () => import('./run.js').then((m) => m.purge) },
});
