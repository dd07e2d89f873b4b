/** `warren delete`: exchanges, queues and bindings, or everything a topology file declares. */
import { UsageError } from '../../errors.js';
import { bindingFlags, bindingFromFlags, jsonFlag, wantsJson } from '../declare/bindingFlags.js';
import { defineCommand, option, required, toggle } from '../define.js';
import { brokerName } from '../values.js';
import type { DeleteOptions } from './run.js';

const runners = { delete: () => import('./run.js').then((m) => m.remove) };

const queue = defineCommand({
  name: 'queue',
  description: 'delete a queue (and the messages in it)',
  args: { name: required('name', 'the queue', brokerName('the queue name')) },
  flags: {
    ifUnused: toggle('--if-unused', 'only if it has no consumers (exit 5 otherwise)'),
    ifEmpty: toggle('--if-empty', 'only if it holds no messages (exit 5 otherwise)'),
    json: jsonFlag,
  },
  examples: [
    'warren delete queue orders.created --if-empty     # exit 5 if it still holds messages',
    "warren delete queue orders.created --json | jq -r .detail     # '12 messages with it'",
  ],
  parse: ({ args: { name }, flags: f, global, inherited }) => ({
    command: 'delete',
    global: global(),
    options: {
      kind: 'queue',
      name,
      ifUnused: f.ifUnused,
      ifEmpty: f.ifEmpty,
      json: wantsJson(inherited),
    } satisfies DeleteOptions,
  }),
  runners,
});

const exchange = defineCommand({
  name: 'exchange',
  description: 'delete an exchange',
  args: { name: required('name', 'the exchange', brokerName('the exchange name')) },
  flags: {
    ifUnused: toggle('--if-unused', 'only if nothing is bound to it (exit 5 otherwise)'),
    json: jsonFlag,
  },
  examples: ['warren delete exchange orders --if-unused'],
  parse: ({ args: { name }, flags: f, global, inherited }) => ({
    command: 'delete',
    global: global(),
    options: {
      kind: 'exchange',
      name,
      ifUnused: f.ifUnused,
      json: wantsJson(inherited),
    } satisfies DeleteOptions,
  }),
  runners,
});

const binding = defineCommand({
  name: 'binding',
  description: 'remove a binding',
  flags: bindingFlags,
  examples: ["warren delete binding --source orders --queue orders.created --key 'order.*'"],
  parse: ({ flags, global, inherited }) => ({
    command: 'delete',
    global: global(),
    options: {
      kind: 'binding',
      spec: bindingFromFlags(flags),
      json: wantsJson(inherited),
    } satisfies DeleteOptions,
  }),
  runners,
});

export const deleteCommand = defineCommand({
  name: 'delete',
  description: 'delete exchanges, queues and bindings, or everything a topology file declares',
  flags: {
    file: option('-f, --file <path>', 'tear down what this topology file declares'),
    json: toggle('--json', 'print the results as JSON on stdout'),
  },
  examples: [
    'warren delete queue orders.created --if-empty',
    "warren delete binding --source orders --queue orders.created --key 'order.*'",
    'warren delete --file topology.json',
  ],
  subcommands: [queue, exchange, binding],
  parse({ flags: f, global, inherited }) {
    if (f.file === undefined)
      throw new UsageError('say what to delete: exchange, queue, binding, or --file FILE');
    const options: DeleteOptions = { kind: 'file', file: f.file, json: wantsJson(inherited) };
    return { command: 'delete', global: global(), options };
  },
  runners,
});
