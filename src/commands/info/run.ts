/** `warren info`: one snapshot of the vhost from the management API, printed as a tree. */
import { BrokerRefusedError, UsageError } from '../../errors.js';
import { treeDot } from '../../format/infoDot.js';
import { treeNdjson, treeText } from '../../format/infoTree.js';
import { loadSnapshot, type Snapshot } from '../../inventory/snapshot.js';
import { exchangeTree, queueTree, type TreeNode, type TreeOptions, vhostTree } from '../../inventory/tree.js';
import { writeAll } from '../../ui/io.js';
import type { CommandContext } from '../context.js';

export interface InfoOptions {
  /** An exchange or a queue; the whole vhost when undefined. */
  name: string | undefined;
  /** What NAME is, when the user said (--exchange, --queue). */
  kind: 'exchange' | 'queue' | undefined;
  vhost: string | undefined;
  defaultExchange: boolean;
  all: boolean;
  consumers: boolean;
  /** Rates, memory and policies too: the API is much slower to give them for many queues. */
  statistics: boolean;
  format: 'pretty' | 'ndjson' | 'dot';
}

/** The tree asked for: of the vhost, or of NAME, which must be one exchange or one queue. */
export function chooseTree(snapshot: Snapshot, options: InfoOptions): TreeNode[] {
  const tree: TreeOptions = { defaultExchange: options.defaultExchange, all: options.all };
  const { name, kind } = options;
  if (name === undefined) return vhostTree(snapshot, tree);
  const exchange = kind === 'queue' ? undefined : exchangeTree(snapshot, name, tree);
  const queue = kind === 'exchange' ? undefined : queueTree(snapshot, name, tree);
  if (exchange && queue) {
    throw new UsageError(`'${name}' is both an exchange and a queue in vhost '${snapshot.vhost}'`, {
      hint: `say which: warren info ${JSON.stringify(name)} --exchange, or --queue`,
    });
  }
  const found = exchange ?? queue;
  if (found) return found;
  const what = kind ?? 'exchange or queue';
  throw new BrokerRefusedError(`no ${what} '${name}' in vhost '${snapshot.vhost}'`, {
    hint: 'warren info (no name) shows every exchange and queue of the vhost; --vhost picks another',
  });
}

export async function info(options: InfoOptions, context: CommandContext): Promise<void> {
  const api = await context.api();
  const spinner = await context.spinner('reading the topology from the management API');
  let snapshot: Snapshot;
  try {
    // Consumers are read even when not shown: without statistics, they are the queues' count.
    snapshot = await loadSnapshot(api, options.vhost ?? api.vhost, {
      consumers: true,
      statistics: options.statistics,
    });
  } finally {
    spinner.stop();
    api.close();
  }
  if (!options.consumers) snapshot = { ...snapshot, consumers: [] };
  const roots = chooseTree(snapshot, options);
  const title = `vhost ${snapshot.vhost}`;
  const { stdout } = context.io;
  const text =
    options.format === 'dot'
      ? treeDot(roots, title)
      : options.format === 'ndjson'
        ? treeNdjson(roots)
        : treeText(roots, {
            paint: context.stdoutPaint,
            columns: stdout.isTTY ? stdout.columns : undefined,
            title: options.name === undefined ? title : undefined,
          });
  await writeAll(stdout, text);
}
