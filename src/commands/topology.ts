import { readFileSync } from 'node:fs';
import type { Session } from '../broker/session.js';
import { BrokerRefusedError, UsageError } from '../errors.js';
import {
  allWell,
  applyBinding,
  applyExchange,
  applyQueue,
  applyTopology,
  checkTopology,
  deleteExchange,
  deleteQueue,
  type EntityResult,
  removeBinding,
  summarise,
  teardownTopology,
} from '../topology/apply.js';
import {
  type BindingSpec,
  type ExchangeSpec,
  parseTopology,
  type QueueSpec,
  type Topology,
} from '../topology/spec.js';
import { humanLine } from '../ui/terminalText.js';
import type { CommandContext } from './context.js';

export type DeclareOptions =
  | { kind: 'exchange'; spec: ExchangeSpec; passive: boolean; json: boolean }
  | { kind: 'queue'; spec: QueueSpec; passive: boolean; json: boolean }
  | { kind: 'binding'; spec: BindingSpec; json: boolean }
  | { kind: 'file'; file: string; check: boolean; json: boolean };

export type DeleteOptions =
  | { kind: 'exchange'; name: string; ifUnused: boolean; json: boolean }
  | { kind: 'queue'; name: string; ifUnused: boolean; ifEmpty: boolean; json: boolean }
  | { kind: 'binding'; spec: BindingSpec; json: boolean }
  | { kind: 'file'; file: string; json: boolean };

export interface PurgeOptions {
  queue: string;
  json: boolean;
}

const DIFFERS_HINT =
  'an existing entity keeps its arguments: delete it (warren delete …) and declare it again, or declare it as it is';

function readTopology(file: string): Topology {
  let text: string;
  try {
    text = readFileSync(file === '-' ? '/dev/stdin' : file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`--file: cannot read '${file}' (${code})`, { cause: error, hint: undefined });
  }
  return parseTopology(text, file);
}

async function withSession<T>(context: CommandContext, work: (session: Session) => Promise<T>): Promise<T> {
  const session = await context.connect();
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

function line(result: EntityResult): string {
  const subject = result.kind === 'binding' ? result.name : `${result.kind} '${result.name}'`;
  const detail = result.detail ? `: ${result.detail}` : '';
  return `${subject} ${result.status}${detail}`;
}

/** One stderr line per entity, a summary, and with --json the same as data on stdout. */
function report(results: EntityResult[], context: CommandContext, json: boolean): void {
  for (const result of results) {
    const text = line(result);
    if (result.status === 'differs' || result.status === 'failed' || result.status === 'missing')
      context.reporter.warn(text);
    else context.reporter.info(text);
  }
  const summary = summarise(results);
  if (results.length > 1) {
    context.reporter.info(
      Object.entries(summary)
        .map(([status, count]) => `${count} ${status}`)
        .join(', '),
    );
  }
  if (json) context.io.stdout.write(`${JSON.stringify({ results, summary })}\n`);
}

/** A single entity's result: the line, and a refusal as the error that ends the run. */
function single(result: EntityResult, context: CommandContext, json: boolean): void {
  if (result.status === 'differs' || result.status === 'failed') {
    if (json) context.io.stdout.write(`${JSON.stringify(result)}\n`);
    throw new BrokerRefusedError(line(result), {
      hint: result.status === 'differs' ? DIFFERS_HINT : undefined,
    });
  }
  context.reporter.info(line(result));
  if (json) context.io.stdout.write(`${JSON.stringify(result)}\n`);
}

function endOfRun(results: EntityResult[], what: string): void {
  if (allWell(results)) return;
  const summary = summarise(results);
  const bad = (['differs', 'failed', 'missing'] as const)
    .filter((status) => summary[status])
    .map((status) => `${summary[status]} ${status}`)
    .join(', ');
  throw new BrokerRefusedError(`${what}: ${bad} (see the lines above)`, {
    hint: summary.differs ? DIFFERS_HINT : undefined,
  });
}

export async function declare(options: DeclareOptions, context: CommandContext): Promise<void> {
  if (options.kind === 'file') {
    const topology = readTopology(options.file);
    const results = await withSession(context, (session) =>
      options.check ? checkTopology(session, topology) : applyTopology(session, topology),
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

export async function purge(options: PurgeOptions, context: CommandContext): Promise<void> {
  const count = await withSession(context, (session) => session.purgeQueue(options.queue));
  context.reporter.info(`purged ${count} message${count === 1 ? '' : 's'} from '${options.queue}'`);
  if (options.json)
    context.io.stdout.write(`${JSON.stringify({ queue: options.queue, messageCount: count })}\n`);
}
