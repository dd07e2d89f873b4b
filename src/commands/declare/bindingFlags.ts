/** Flags the same for `declare` and `delete`: a binding's, and --json. */
import { UsageError } from '../../errors.js';
import type { BindingSpec } from '../../topology/spec.js';
import { type FlagValues, option, repeatable, toggle } from '../define.js';
import { brokerName, parseHeaderFlags } from '../values.js';

export const jsonFlag = toggle('--json', 'print the result as JSON on stdout');

/** `--json` may stand on `declare`/`delete` or on the entity after it: commander gives it to the first that knows it. */
export const wantsJson = (inherited: Record<string, unknown>) => inherited['json'] === true;

export const bindingFlags = {
  source: {
    ...option('--source <exchange>', 'the exchange messages come from', brokerName('--source')),
    required: true,
  },
  queue: option('--queue <queue>', 'bind to this queue', brokerName('--queue')),
  exchange: option(
    '--exchange <exchange>',
    'or bind to this exchange (exchange-to-exchange)',
    brokerName('--exchange'),
  ),
  key: option('--key <key>', 'binding key (routing key pattern); default empty'),
  // `--key` is the program's TLS key too: program.ts renames this one before parsing.
  bindingKey: { ...option('--binding-key <key>', 'the binding key'), hidden: true },
  arg: repeatable(
    '--arg <key=value>',
    'binding argument, e.g. x-match=all for headers exchanges (repeatable)',
  ),
  json: jsonFlag,
};

export function bindingFromFlags(f: FlagValues<typeof bindingFlags>): BindingSpec {
  if ((f.queue === undefined) === (f.exchange === undefined)) {
    throw new UsageError('a binding needs exactly one of --queue or --exchange as its destination');
  }
  return {
    source: f.source as string,
    destination: f.queue !== undefined ? { queue: f.queue } : { exchange: f.exchange as string },
    key: f.bindingKey ?? '',
    arguments: parseHeaderFlags(f.arg, '--arg'),
  };
}
