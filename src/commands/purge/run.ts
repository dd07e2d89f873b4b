/** `warren purge QUEUE`: the ready messages removed, their count said. */
import { withSession } from '../../topology/results.js';
import type { CommandContext } from '../context.js';

export interface PurgeOptions {
  queue: string;
  json: boolean;
}

export async function purge(options: PurgeOptions, context: CommandContext): Promise<void> {
  const count = await withSession(context, (session) => session.purgeQueue(options.queue));
  context.reporter.info(`purged ${count} message${count === 1 ? '' : 's'} from '${options.queue}'`);
  if (options.json)
    context.io.stdout.write(`${JSON.stringify({ queue: options.queue, messageCount: count })}\n`);
}
