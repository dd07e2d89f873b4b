/**
 * SIGKILL gives warren no chance to clean up: whatever it had not acked must come back to
 * the queue, and whatever it acked must be in its output file. Twenty rounds, each killing
 * `warren consume Q --format ndjson > out` at a random moment (before it connects, mid-stream,
 * after it has drained the queue), with a seeded generator: a failure replays with
 * WARREN_TEST_SEED=<seed>.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectTestBroker, type TestBroker } from '../helpers/broker.js';
import { numbered, publishMany } from '../helpers/bulk.js';
import { testEnv, WARREN_BIN } from '../helpers/cli.js';
import { seededRandom } from '../helpers/random.js';

const SEED = Number(process.env['WARREN_TEST_SEED'] ?? Date.now() % 2 ** 31);
const ROUNDS = 20;
const MESSAGES = 2000;
/**
 * Half the rounds kill at any moment up to 500 ms after the start: warren needs ~100–200 ms
 * to start and connect, and ~150 ms more for 2,000 messages, so these hit every phase. The
 * other half kill 0–60 ms after the first record reached the file, mid-stream however fast
 * or slow the machine is today.
 */
const MAX_DELAY_MS = 500;
const MAX_STREAMING_DELAY_MS = 60;

let broker: TestBroker;
let dir: string;

beforeAll(async () => {
  broker = await connectTestBroker();
  dir = mkdtempSync(join(tmpdir(), 'warren-sigkill-'));
});

afterAll(async () => {
  await broker?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface OutputFile {
  /** messageId of each complete line, in order, with its `redelivered`. */
  lines: { id: string; redelivered: boolean }[];
  /** The id named in a cut final line (no newline), if the cut left it readable. */
  partialId: string | undefined;
  partialBytes: number;
}

/** Reads `out`: complete lines must be whole NDJSON records; a cut final line is set apart. */
function readOutput(path: string, what: string): OutputFile {
  const text = readFileSync(path, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  const partial = text.slice(end);
  const lines = text
    .slice(0, end)
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line, index) => {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`${what}: line ${index + 1} of the output is not a whole record: ${line}`);
      }
      const id = (record['properties'] as Record<string, unknown> | undefined)?.['messageId'];
      if (typeof id !== 'string') throw new Error(`${what}: line ${index + 1} has no messageId: ${line}`);
      return { id, redelivered: record['redelivered'] === true };
    });
  const partialId = /"messageId":"([^"]+)"/.exec(partial)?.[1];
  return { lines, partialId, partialBytes: partial.length };
}

interface QueuedCopy {
  id: string;
  redelivered: boolean;
}

/**
 * Takes everything from the queue, waiting until every id in `needed` has come back and
 * warren's consumer is gone, so that the broker has requeued all it had in flight (or until
 * nothing has moved for a second, when some never come back).
 */
async function takeBack(queue: string, needed: Set<string>): Promise<QueuedCopy[]> {
  const channel = await broker.connection.createChannel();
  const copies: QueuedCopy[] = [];
  const missing = new Set(needed);
  try {
    await channel.prefetch(1000);
    const { consumerTag } = await channel.consume(queue, (message) => {
      if (message === null) return;
      const id = message.properties.messageId as string;
      copies.push({ id, redelivered: message.fields.redelivered });
      missing.delete(id);
      channel.ack(message);
    });
    const deadline = Date.now() + 15_000;
    let quietSince: number | undefined;
    for (;;) {
      // Only ours left: the broker has processed warren's death and requeued its deliveries.
      const { consumerCount, messageCount } = await channel.checkQueue(queue);
      if (missing.size === 0 && consumerCount <= 1) break;
      // Some never come back (a bug): give up once nothing has moved for a second.
      const quiet = consumerCount <= 1 && messageCount === 0;
      quietSince = quiet ? (quietSince ?? Date.now()) : undefined;
      if (quietSince !== undefined && Date.now() - quietSince > 1000) break;
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await channel.cancel(consumerTag);
    for (;;) {
      const message = await channel.get(queue, { noAck: true });
      if (message === false) break;
      copies.push({ id: message.properties.messageId as string, redelivered: message.fields.redelivered });
    }
    return copies;
  } finally {
    await channel.close().catch(() => {});
  }
}

interface RoundStats {
  round: number;
  /** When the kill came: after the start, or after the first record was written. */
  kill: string;
  /** Distinct ids in complete lines of `out`. */
  written: number;
  partialLine: boolean;
  /** Copies taken back from the queue. */
  queued: number;
  /** Written to `out` and back in the queue (written, killed before the ack): redelivered. */
  both: number;
  missing: number;
}

it(`SIGKILL at ${ROUNDS} random moments loses nothing: each message is in the output file or back in the queue (seed ${SEED})`, async () => {
  const random = seededRandom(SEED);
  const stats: RoundStats[] = [];
  const problems: string[] = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    const what = `round ${round} (seed ${SEED})`;
    const streaming = random() < 0.5;
    const delayMs = Math.floor(random() * (streaming ? MAX_STREAMING_DELAY_MS : MAX_DELAY_MS));
    const queue = await broker.queue('sigkill');
    const prefix = `k${round}`;
    await publishMany(broker.connection, '', queue, numbered(prefix, MESSAGES));
    const published = new Set(numbered(prefix, MESSAGES).map((m) => m.options?.messageId as string));

    const outPath = join(dir, `round-${round}.ndjson`);
    const outFd = openSync(outPath, 'w');
    const child = spawn(process.execPath, [WARREN_BIN, 'consume', queue, '--format', 'ndjson'], {
      env: testEnv(),
      stdio: ['ignore', outFd, 'pipe'],
    });
    closeSync(outFd);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    if (streaming) {
      let exited = false;
      void ended.then(() => {
        exited = true;
      });
      while (!exited && statSync(outPath).size === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    child.kill('SIGKILL');
    const end = await ended;
    // Without --timeout warren waits for more messages for ever: only the kill ends it.
    expect(end, `${what}: warren ended by itself; stderr: ${stderr}`).toEqual({
      code: null,
      signal: 'SIGKILL',
    });

    const out = readOutput(outPath, what);
    const inOut = new Map<string, boolean[]>();
    for (const line of out.lines) {
      const seen = inOut.get(line.id);
      // A second record of one message is only possible for a redelivery.
      if (seen && !line.redelivered) problems.push(`${what}: ${line.id} written twice, not redelivered`);
      inOut.set(line.id, [...(seen ?? []), line.redelivered]);
    }
    for (const id of inOut.keys()) if (!published.has(id)) problems.push(`${what}: unknown id ${id}`);

    const needed = new Set([...published].filter((id) => !inOut.has(id)));
    const copies = await takeBack(queue, needed);
    const inQueue = new Map<string, QueuedCopy>();
    for (const copy of copies) {
      if (inQueue.has(copy.id)) problems.push(`${what}: ${copy.id} twice in the queue`);
      inQueue.set(copy.id, copy);
      if (inOut.has(copy.id) && !copy.redelivered) {
        problems.push(`${what}: ${copy.id} written AND in the queue, not marked redelivered`);
      }
    }
    if (out.partialId !== undefined && !inQueue.has(out.partialId)) {
      problems.push(`${what}: ${out.partialId}, cut off in the output, is not back in the queue`);
    }
    const missing = [...published].filter((id) => !inOut.has(id) && !inQueue.has(id));
    if (missing.length > 0) {
      problems.push(`${what}: ${missing.length} lost (neither written nor queued): ${missing.slice(0, 5)}`);
    }
    stats.push({
      round,
      kill: `${delayMs}ms after ${streaming ? 'the first record' : 'the start'}`,
      written: inOut.size,
      partialLine: out.partialBytes > 0,
      queued: inQueue.size,
      both: [...inQueue.keys()].filter((id) => inOut.has(id)).length,
      missing: missing.length,
    });
  }

  const table = stats
    .map(
      (s) =>
        `#${s.round} killed ${s.kill}: written=${s.written}${s.partialLine ? '+cut' : ''} queued=${s.queued} both=${s.both} missing=${s.missing}`,
    )
    .join('\n');
  console.log(`seed ${SEED}\n${table}`);
  expect(problems, `seed ${SEED}\n${table}`).toEqual([]);
  const total = (key: 'written' | 'queued' | 'both' | 'missing') => stats.reduce((sum, s) => sum + s[key], 0);
  expect(total('missing'), `seed ${SEED}\n${table}`).toBe(0);
  // Each message accounted for exactly once: written, or queued, or (written and requeued).
  expect(total('written') + total('queued') - total('both'), `seed ${SEED}\n${table}`).toBe(
    ROUNDS * MESSAGES,
  );
  expect(stats).toHaveLength(ROUNDS);
});
