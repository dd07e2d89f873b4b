/** What declare, delete and purge share: reading a topology file, a session, the result lines. */
import { readFileSync } from 'node:fs';
import type { Session } from '../broker/session.js';
import type { CommandContext } from '../commands/context.js';
import { BrokerRefusedError, UsageError } from '../errors.js';
import { allWell, type EntityResult, summarise } from './apply.js';
import { parseTopology, type Topology } from './spec.js';

const DIFFERS_HINT =
  'an existing entity keeps its arguments: delete it (warren delete …) and declare it again, or declare it as it is';
const EXTRA_BINDING_HINT =
  'a binding the file does not list: add it to the file, or remove it (warren delete binding …)';

export function readTopology(file: string): Topology {
  let text: string;
  try {
    text = readFileSync(file === '-' ? '/dev/stdin' : file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`--file: cannot read '${file}' (${code})`, { cause: error, hint: undefined });
  }
  return parseTopology(text, file);
}

export async function withSession<T>(
  context: CommandContext,
  work: (session: Session) => Promise<T>,
): Promise<T> {
  const session = await context.connect();
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

export function line(result: EntityResult): string {
  const subject = result.kind === 'binding' ? result.name : `${result.kind} '${result.name}'`;
  const detail = result.detail ? `: ${result.detail}` : '';
  return `${subject} ${result.status}${detail}`;
}

/** One stderr line per entity, a summary, and with --json the same as data on stdout. */
export function report(results: EntityResult[], context: CommandContext, json: boolean): void {
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
export function single(result: EntityResult, context: CommandContext, json: boolean): void {
  if (result.status === 'differs' || result.status === 'failed') {
    if (json) context.io.stdout.write(`${JSON.stringify(result)}\n`);
    throw new BrokerRefusedError(line(result), {
      hint: result.status === 'differs' ? DIFFERS_HINT : undefined,
    });
  }
  context.reporter.info(line(result));
  if (json) context.io.stdout.write(`${JSON.stringify(result)}\n`);
}

export function endOfRun(results: EntityResult[], what: string): void {
  if (allWell(results)) return;
  const summary = summarise(results);
  const bad = (['differs', 'failed', 'missing'] as const)
    .filter((status) => summary[status])
    .map((status) => `${summary[status]} ${status}`)
    .join(', ');
  throw new BrokerRefusedError(`${what}: ${bad} (see the lines above)`, {
    hint: differsHint(results),
  });
}

/** What to try for what differs: an entity's settings, else a binding the file lacks. */
function differsHint(results: EntityResult[]): string | undefined {
  const differs = results.filter((result) => result.status === 'differs');
  if (differs.some((result) => result.kind !== 'binding')) return DIFFERS_HINT;
  return differs.length > 0 ? EXTRA_BINDING_HINT : undefined;
}
