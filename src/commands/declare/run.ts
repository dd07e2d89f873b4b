/** `warren declare`: entities from flags, or a topology file applied or checked. */
import type { Session } from '../../broker/session.js';
import { BrokerRefusedError } from '../../errors.js';
import {
  applyBinding,
  applyExchange,
  applyQueue,
  applyTopology,
  checkTopology,
  type EntityResult,
} from '../../topology/apply.js';
import { liveBindings } from '../../topology/bindingCheck.js';
import { endOfRun, line, readTopology, report, single, withSession } from '../../topology/results.js';
import type { BindingSpec, ExchangeSpec, QueueSpec } from '../../topology/spec.js';
import { humanLine } from '../../ui/terminalText.js';
import type { CommandContext } from '../context.js';

export type DeclareOptions =
  | { kind: 'exchange'; spec: ExchangeSpec; passive: boolean; json: boolean }
  | { kind: 'queue'; spec: QueueSpec; passive: boolean; json: boolean }
  | { kind: 'binding'; spec: BindingSpec; json: boolean }
  | { kind: 'file'; file: string; check: boolean; json: boolean };

export async function declare(options: DeclareOptions, context: CommandContext): Promise<void> {
  if (options.kind === 'file') {
    const topology = readTopology(options.file);
    const results = await withSession(context, async (session) =>
      options.check
        ? checkTopology(session, topology, await liveBindings(context, topology))
        : applyTopology(session, topology),
    );
    report(results, context, options.json);
    endOfRun(
      results,
      options.check ? `${options.file} does not match the broker` : `${options.file} not fully applied`,
    );
    return;
  }
  await withSession(context, async (session) => {
    switch (options.kind) {
      case 'exchange': {
        if (options.passive) {
          if (!(await session.exchangeExists(options.spec.name))) {
            throw new BrokerRefusedError(`exchange '${options.spec.name}' does not exist`);
          }
          return single(
            { kind: 'exchange', name: options.spec.name, status: 'present' },
            context,
            options.json,
          );
        }
        return single(await applyExchange(session, options.spec), context, options.json);
      }
      case 'queue':
        return declareOneQueue(session, options, context);
      case 'binding':
        return single(await applyBinding(session, options.spec), context, options.json);
    }
  });
}

/** The queue's name goes to stdout (a server-named queue can be captured); counts to stderr. */
async function declareOneQueue(
  session: Session,
  options: { spec: QueueSpec; passive: boolean; json: boolean },
  context: CommandContext,
): Promise<void> {
  if (options.spec.exclusive && !options.passive) {
    context.reporter.warn(
      'an exclusive queue belongs to this connection: it is deleted as soon as warren exits',
    );
  }
  let result: EntityResult;
  let counts: { queue: string; messageCount: number; consumerCount: number } | undefined;
  if (options.passive) {
    counts = await session.queueInfo(options.spec.name);
    if (!counts) throw new BrokerRefusedError(`queue '${options.spec.name}' does not exist`);
    result = { kind: 'queue', name: counts.queue, status: 'present' };
  } else {
    ({ counts, ...result } = await applyQueue(session, options.spec));
  }
  if (result.status === 'differs' || result.status === 'failed' || !counts)
    return single(result, context, options.json);
  const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
  context.reporter.info(
    `${line(result)} (${plural(counts.messageCount, 'message')}, ${plural(counts.consumerCount, 'consumer')})`,
  );
  context.io.stdout.write(
    options.json
      ? `${JSON.stringify({ ...result, messageCount: counts.messageCount, consumerCount: counts.consumerCount })}\n`
      : // Data for a pipe (`$(warren declare queue '')`); on a terminal, read by a person.
        `${context.io.stdout.isTTY ? humanLine(counts.queue) : counts.queue}\n`,
  );
}
