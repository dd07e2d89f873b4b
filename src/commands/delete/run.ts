/** `warren delete`: entities, or everything a topology file declares. */
import { deleteExchange, deleteQueue, removeBinding, teardownTopology } from '../../topology/apply.js';
import { endOfRun, readTopology, report, single, withSession } from '../../topology/results.js';
import type { BindingSpec } from '../../topology/spec.js';
import type { CommandContext } from '../context.js';

export type DeleteOptions =
  | { kind: 'exchange'; name: string; ifUnused: boolean; json: boolean }
  | { kind: 'queue'; name: string; ifUnused: boolean; ifEmpty: boolean; json: boolean }
  | { kind: 'binding'; spec: BindingSpec; json: boolean }
  | { kind: 'file'; file: string; json: boolean };

export async function remove(options: DeleteOptions, context: CommandContext): Promise<void> {
  if (options.kind === 'file') {
    const topology = readTopology(options.file);
    const results = await withSession(context, (session) => teardownTopology(session, topology));
    report(results, context, options.json);
    endOfRun(results, `${options.file} not fully torn down`);
    return;
  }
  const result = await withSession(context, (session) => {
    switch (options.kind) {
      case 'exchange':
        return deleteExchange(session, options.name, { ifUnused: options.ifUnused });
      case 'queue':
        return deleteQueue(session, options.name, { ifUnused: options.ifUnused, ifEmpty: options.ifEmpty });
      case 'binding':
        return removeBinding(session, options.spec);
    }
  });
  if (result.status === 'differs') {
    // A delete refused with 406 is --if-unused or --if-empty saying no.
    result.status = 'failed';
    result.detail = `not deleted: ${result.detail}`;
  }
  single(result, context, options.json);
}
