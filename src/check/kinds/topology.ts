import type { CommandContext } from '../../commands/context.js';
import { UsageError } from '../../errors.js';
import { checkTopology } from '../../topology/apply.js';
import { liveBindings } from '../../topology/bindingCheck.js';
import { line, readTopology, withSession } from '../../topology/results.js';
import type { Topology } from '../../topology/spec.js';
import type { Finding } from '../run.js';
import type { TopologyCheck } from '../specs.js';

/** The file as declare --file reads it; its errors name the file, not declare's flag. */
function readFile(file: string): Topology {
  try {
    return readTopology(file);
  } catch (error) {
    if (!(error instanceof UsageError) || !error.message.startsWith('--file: ')) throw error;
    throw new UsageError(`the topology file: ${error.message.slice('--file: '.length)}`, { cause: error });
  }
}

/**
 * `check topology`: `declare --check` as a check. Each exchange and queue of the file is
 * declared passively, then as the file says (the broker refuses that exactly when something
 * differs, and names it); bindings are compared with the management API's list when it
 * answers. Anything missing or differing is CRITICAL, each named, their count measured.
 */
export async function checkTopologyFile(spec: TopologyCheck, context: CommandContext): Promise<Finding> {
  const topology = readFile(spec.file);
  const results = await withSession(context, async (session) =>
    checkTopology(session, topology, await liveBindings(context, topology)),
  );
  const wrong = results.filter(
    (r) => r.status === 'missing' || r.status === 'differs' || r.status === 'failed',
  );
  const unchecked = results.filter((r) => r.status === 'not checked').length;
  const measures = [{ name: 'differences', value: wrong.length, unit: 'count' as const, crit: 0 }];
  const notChecked =
    unchecked > 0
      ? ` (${unchecked} binding${unchecked === 1 ? '' : 's'} not checked: no management API)`
      : '';
  if (wrong.length === 0) {
    const counted = `${topology.exchanges.length} exchanges, ${topology.queues.length} queues, ${topology.bindings.length} bindings`;
    return { target: spec.file, message: `the broker matches (${counted})${notChecked}`, measures };
  }
  return {
    target: spec.file,
    status: 'CRITICAL',
    message: `${wrong.length} difference${wrong.length === 1 ? '' : 's'}: ${wrong.map(line).join('; ')}${notChecked}`,
    measures,
  };
}
