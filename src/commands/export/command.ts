/** `warren export [REGEX]`: the vhost's exchanges, queues and bindings as a topology file. */
import { UsageError } from '../../errors.js';
import { defineCommand, option, optional, toggle } from '../define.js';
import { checkedRegExp } from '../values.js';
import type { ExportOptions } from './run.js';

export const exportCommand = defineCommand({
  name: 'export',
  description: "write the vhost's exchanges, queues and bindings as a topology file (management API)",
  args: { regex: optional('regex', 'only exchanges and queues whose names match (JavaScript RegExp)') },
  flags: {
    vhost: option('--vhost <vhost>', "the vhost to export (default: the broker URL's)"),
    output: option('-o, --output <file>', 'write the file here (whole, once complete) instead of stdout'),
    includeAutoDelete: toggle('--include-auto-delete', 'keep auto-delete exchanges and queues too'),
  },
  examples: [
    'warren export > topology.json',
    "warren export '^orders\\.' -o orders.json      # only names that begin orders.",
    'warren export | warren declare --file - --profile staging     # the same on another broker',
  ],
  parse: ({ args, flags, global }) => ({
    command: 'export',
    global: global(),
    options: {
      match: args.regex === undefined ? undefined : regex(args.regex),
      vhost: flags.vhost,
      output: flags.output,
      includeAutoDelete: flags.includeAutoDelete,
    } satisfies ExportOptions,
  }),
  runners: { export: () => import('./run.js').then((m) => m.exportVhost) },
});

function regex(text: string): RegExp {
  return checkedRegExp(text, (why) => {
    throw new UsageError(`REGEX '${text}' is not a JavaScript regular expression (${why})`);
  });
}
