/**
 * The order scenario of `consume --exec --emit`, with crashes: 10,000 orders in a queue, a
 * handler that emits one shipment per order, and warren SIGKILLed at random moments and
 * started again until the orders queue is empty; in some rounds the handler kills itself
 * (SIGKILL) halfway through writing its shipment. At the end every order has a shipment,
 * and an order has more than one only where a kill of warren came between the shipment's
 * confirm and the order's ack: at most the prefetch's worth per kill. A seeded generator
 * picks the kill points: a failure replays with WARREN_TEST_SEED=<seed>.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type amqp from 'amqplib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectTestBroker, type TestBroker } from '../helpers/broker.js';
import { numbered, publishMany, takeAllFast } from '../helpers/bulk.js';
import { testEnv, WARREN_BIN } from '../helpers/cli.js';
import { seededRandom } from '../helpers/random.js';

const SEED = Number(process.env['WARREN_TEST_SEED'] ?? Date.now() % 2 ** 31);
const ORDERS = 10_000;
/** Rounds that end with a SIGKILL of warren; then it runs until the queue is empty. */
const KILL_ROUNDS = 12;
/** Handlers at once: a process per order is slow, and 10,000 of them must fit the test. */
const CONCURRENCY = 8;
/** In a round with handler kills, how many orders' first try kills its handler. */
const DOOMED_PER_ROUND = 40;
/**
 * Half the kill rounds kill at any moment up to 1.5 s after the start (warren needs a few
 * hundred ms to start and connect, so some kills come before it took anything); the other
 * half 0–2000 ms after the first shipment of the round, mid-stream however busy the machine.
 */
const MAX_DELAY_MS = 1500;
const MAX_STREAMING_DELAY_MS = 2000;

/**
 * The handler: it writes `ORDER-ID rROUND` (the shipment names its order and the round
 * that sent it). An order named in $DOOMED, on its first delivery, makes its handler write
 * half a shipment and SIGKILL itself: that output must never go out, and the order must
 * come again.
 */
const HANDLER = `case " $DOOMED " in *" $WARREN_MESSAGE_ID "*) [ "$WARREN_REDELIVERED" = true ] || { printf '%s half' "$WARREN_MESSAGE_ID"; kill -9 $$; } ;; esac; printf '%s r%s' "$WARREN_MESSAGE_ID" "$ROUND"`;

let broker: TestBroker;
let channel: amqp.Channel;

beforeAll(async () => {
  broker = await connectTestBroker();
  channel = await broker.connection.createChannel();
});

afterAll(async () => {
  await channel?.close().catch(() => {});
  await broker?.cleanup();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Round {
  round: number;
  /** How it ended: `killed Nms after …`, or `ran to the end`. */
  end: string;
  killed: boolean;
  /** Orders whose first try killed its handler (its warnings). */
  handlerKills: number;
  stderr: string;
}

function startRound(orders: string, shipments: string, round: number, doomed: string[], more: string[]) {
  const child = spawn(
    process.execPath,
    [
      WARREN_BIN,
      // -v: it says its prefetch, the bound on what a kill can duplicate.
      '-v',
      'consume',
      orders,
      '--exec',
      HANDLER,
      '--emit',
      `:${shipments}`,
      '--concurrency',
      String(CONCURRENCY),
      ...more,
    ],
    { env: testEnv({ ROUND: String(round), DOOMED: doomed.join(' ') }), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, ended };
}

/** Waits until `queue` holds more than `count` messages, or `child` has ended. */
async function untilMoreThan(queue: string, count: number, child: ChildProcess): Promise<void> {
  while (child.exitCode === null && child.signalCode === null) {
    if ((await channel.checkQueue(queue)).messageCount > count) return;
    await sleep(10);
  }
}

const handlerKillsIn = (stderr: string) =>
  (stderr.match(/handler killed by SIGKILL: requeued$/gm) ?? []).length;

it(`orders -> handler -> shipments, 10,000 orders, warren and handlers SIGKILLed at random: every order shipped, duplicates only from warren's kills (seed ${SEED})`, {
  timeout: 600_000,
}, async () => {
  const random = seededRandom(SEED);
  const orders = await broker.queue('emitcrash-orders');
  const shipments = await broker.queue('emitcrash-shipments');
  await publishMany(broker.connection, '', orders, numbered('o', ORDERS));
  const orderIds = numbered('o', ORDERS).map((m) => m.options?.messageId as string);
  const known = new Set(orderIds);
  /**
   * Orders whose first try kills its handler, in half the kill rounds and in the last ones:
   * picked among the next few hundred in the queue (the queue is in order, and about
   * `shipped` orders are gone from it), so that a round that runs a second meets some.
   */
  const pickDoomed = async (always: boolean) => {
    if (!always && random() >= 0.5) return [];
    const shipped = (await channel.checkQueue(shipments)).messageCount;
    const window = always ? ORDERS - shipped : 300;
    return Array.from(
      { length: DOOMED_PER_ROUND },
      () => orderIds[Math.min(ORDERS - 1, shipped + Math.floor(random() * window))] as string,
    );
  };

  const rounds: Round[] = [];
  for (let round = 1; round <= KILL_ROUNDS; round += 1) {
    const streaming = random() < 0.5;
    const delayMs = Math.floor(random() * (streaming ? MAX_STREAMING_DELAY_MS : MAX_DELAY_MS));
    const before = (await channel.checkQueue(shipments)).messageCount;
    const { child, ended } = startRound(orders, shipments, round, await pickDoomed(false), []);
    if (streaming) await untilMoreThan(shipments, before, child);
    await sleep(delayMs);
    child.kill('SIGKILL');
    const end = await ended;
    // Without --timeout warren waits for more orders for ever: only the kill ends it.
    expect(end, `round ${round} (seed ${SEED}) ended by itself: ${end.stderr}`).toMatchObject({
      code: null,
      signal: 'SIGKILL',
    });
    rounds.push({
      round,
      end: `killed ${delayMs}ms after ${streaming ? 'its first shipment' : 'the start'}`,
      killed: true,
      handlerKills: handlerKillsIn(end.stderr),
      stderr: end.stderr,
    });
  }
  // Then to the end: until the queue stays idle (with nothing running) for 3 s.
  for (let round = KILL_ROUNDS + 1; (await channel.checkQueue(orders)).messageCount > 0; round += 1) {
    expect(round, `the orders queue does not empty (seed ${SEED})`).toBeLessThan(KILL_ROUNDS + 5);
    const { ended } = startRound(orders, shipments, round, await pickDoomed(true), ['--timeout', '3s']);
    const end = await ended;
    expect(end.code, `round ${round} (seed ${SEED}): ${end.stderr}`).toBe(0);
    rounds.push({
      round,
      end: 'ran to the end',
      killed: false,
      handlerKills: handlerKillsIn(end.stderr),
      stderr: end.stderr,
    });
  }

  // Every order taken: none waiting, none held by a consumer.
  const left = await channel.checkQueue(orders);
  expect(left, `seed ${SEED}`).toMatchObject({ messageCount: 0, consumerCount: 0 });

  const problems: string[] = [];
  /** Each order's shipments: the rounds that sent them. */
  const shippedIn = new Map<string, number[]>();
  for (const shipment of await takeAllFast(broker.connection, shipments)) {
    const body = shipment.content.toString();
    const match = /^(o-\d+) r(\d+)$/.exec(body);
    if (!match) {
      problems.push(`a shipment that no handler finished: ${JSON.stringify(body)}`);
      continue;
    }
    const [, order, round] = match as unknown as [string, string, string];
    if (!known.has(order)) problems.push(`a shipment of an unknown order: ${body}`);
    if (shipment.properties.correlationId !== order)
      problems.push(`${body}: correlationId ${shipment.properties.correlationId}`);
    const causation = (shipment.properties.headers as Record<string, unknown>)['x-warren-causation-id'];
    if (causation !== order) problems.push(`${body}: causation ${String(causation)}`);
    shippedIn.set(order, [...(shippedIn.get(order) ?? []), Number(round)]);
  }

  const unshipped = orderIds.filter((id) => !shippedIn.has(id));
  if (unshipped.length > 0)
    problems.push(`${unshipped.length} orders never shipped: ${unshipped.slice(0, 5).join(', ')}`);
  /** Per round, its shipments that another round sent again (duplicates), by round. */
  const duplicatedFrom = new Map<number, number>();
  for (const [order, sent] of shippedIn) {
    if (new Set(sent).size !== sent.length)
      problems.push(`${order} shipped twice in one round: ${sent.join(', ')}`);
    const byRound = [...sent].sort((a, b) => a - b);
    // All but the last came from rounds whose warren was killed after the shipment was out.
    for (const round of byRound.slice(0, -1)) {
      if (!rounds.find((r) => r.round === round)?.killed)
        problems.push(`${order} shipped again after round ${round}, which no kill ended`);
      duplicatedFrom.set(round, (duplicatedFrom.get(round) ?? 0) + 1);
    }
  }
  /**
   * The most orders warren holds unacked at once, the prefetch (--concurrency, or what -v
   * says it took): only these can have had their shipment confirmed and not yet their own
   * ack when it dies.
   */
  const prefetches = rounds.flatMap((r) =>
    [...r.stderr.matchAll(/\(prefetch (\d+)\)/g)].map((m) => Number(m[1])),
  );
  expect(prefetches.length, 'no round said its prefetch').toBeGreaterThan(0);
  const inFlight = Math.max(CONCURRENCY, ...prefetches);
  for (const [round, count] of duplicatedFrom) {
    if (count > inFlight)
      problems.push(`round ${round}: ${count} orders shipped again, more than the ${inFlight} in flight`);
  }

  const duplicates = [...duplicatedFrom.values()].reduce((sum, n) => sum + n, 0);
  const kills = rounds.filter((r) => r.killed).length;
  const handlerKills = rounds.reduce((sum, r) => sum + r.handlerKills, 0);
  const shippedBy = (round: number) => [...shippedIn.values()].filter((sent) => sent.includes(round)).length;
  const table = rounds
    .map(
      (r) =>
        `#${r.round} ${r.end}: ${shippedBy(r.round)} shipped, ${r.handlerKills} handler kills, ${duplicatedFrom.get(r.round) ?? 0} orders shipped again later`,
    )
    .join('\n');
  const report = `seed ${SEED}: ${ORDERS} orders, ${shippedIn.size} shipped, ${duplicates} duplicates, ${kills} kills of warren (prefetch ${inFlight}), ${handlerKills} of handlers\n${table}`;
  console.log(report);
  expect(problems, report).toEqual([]);
  expect(shippedIn.size, report).toBe(ORDERS);
  expect(duplicates, report).toBeLessThanOrEqual(kills * inFlight);
  // The scenario did what it says: handlers died, and warren was killed mid-stream (rounds
  // killed before it took anything ship nothing; those after their first shipment did).
  expect(handlerKills, report).toBeGreaterThan(0);
  expect(rounds.filter((r) => r.killed && shippedBy(r.round) > 0).length, report).toBeGreaterThan(0);
});
