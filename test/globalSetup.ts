/**
 * The guard that keeps every test queue able to go by itself (an interrupted run must leave
 * nothing on the shared broker). It tags the run (uniqueName puts the tag in every name),
 * looks at the broker's queues while the tests run and once more at the end, and fails the
 * run, naming them, for
 * - a queue of this run with neither x-expires nor exclusive (auto-delete alone is not enough:
 *   a queue nobody ever consumed from is never auto-deleted), a stream excepted (streams take
 *   neither), and
 * - a stream or an exchange of this run still there at the end (neither can expire): its test
 *   never deleted it.
 * It asks rabbitmqctl (root, or the broker's Erlang cookie), as the tests that list arguments
 * do (WARREN_TEST_GUARD=off turns it off, for unit tests only). Tests that start broker
 * nodes of their own are not watched: their nodes go with them.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { ensurePlugins } from './helpers/managementApi.js';

const run = promisify(execFile);

/** How often the queues are listed while the tests run (each listing costs ~1 s of CPU). */
const SAMPLE_EVERY_MS = 20_000;

interface ListedQueue {
  name: string;
  arguments: [string, string, unknown][];
  auto_delete: boolean;
  exclusive: boolean;
  type: string;
}

async function rabbitmqctl<T>(what: 'queues' | 'exchanges', columns: string[]): Promise<T[]> {
  const { stdout } = await run('rabbitmqctl', [`list_${what}`, '-q', '--formatter', 'json', ...columns], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as T[];
}

/** Why a queue of this run could outlive an interrupted run, or undefined when it cannot. */
function lingers(queue: ListedQueue): string | undefined {
  if (queue.exclusive || queue.type === 'stream') return undefined;
  if (queue.arguments.some(([name]) => name === 'x-expires')) return undefined;
  return queue.auto_delete ? 'auto-delete only, without x-expires' : 'neither x-expires nor exclusive';
}

export async function setup(): Promise<(() => Promise<void>) | undefined> {
  const tag = process.env['WARREN_TEST_RUN'] ?? randomBytes(3).toString('hex');
  process.env['WARREN_TEST_RUN'] = tag; // the test workers inherit it
  // `npm run test:unit` needs no broker, so it turns the guard off.
  if (process.env['WARREN_TEST_GUARD'] === 'off') return undefined;
  // The management API and the event exchange (ls, info, route, export, events), as .ci/run.
  await ensurePlugins();
  const ours = (name: string) => name.startsWith('warren-test.') && name.includes(`.${tag}`);
  const offenders = new Map<string, string>();
  let unavailable: string | undefined;

  async function sample(): Promise<ListedQueue[]> {
    const queues = (
      await rabbitmqctl<ListedQueue>('queues', ['name', 'arguments', 'auto_delete', 'exclusive', 'type'])
    ).filter((queue) => ours(queue.name));
    for (const queue of queues) {
      const why = lingers(queue);
      if (why) offenders.set(queue.name, why);
    }
    return queues;
  }

  let sampling: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    sampling = sampling.then(sample).catch((error: Error) => {
      unavailable = error.message;
    });
  }, SAMPLE_EVERY_MS);

  return async () => {
    clearInterval(timer);
    await sampling;
    let left: string[] = [];
    try {
      const queues = await sample();
      const exchanges = await rabbitmqctl<{ name: string }>('exchanges', ['name']);
      const streams = queues.filter((queue) => queue.type === 'stream');
      left = [...streams, ...exchanges.filter((exchange) => ours(exchange.name))].map(
        (entity) => `${entity.name} (left behind, and cannot expire: its test did not delete it)`,
      );
    } catch (error) {
      unavailable = (error as Error).message;
    }
    if (unavailable) {
      console.error(`test broker guard: cannot list the broker's queues with rabbitmqctl: ${unavailable}`);
      process.exitCode = 1;
      return;
    }
    const found = [...[...offenders].map(([name, why]) => `${name} (${why})`), ...left];
    if (found.length === 0) return;
    console.error(
      `test broker guard: ${found.length} test queue(s) or exchange(s) would outlive an interrupted run:\n` +
        found.map((line) => `  ${JSON.stringify(line)}`).join('\n'),
    );
    process.exitCode = 1;
  };
}
