/**
 * Retries that wait (`--retry-delay`), the RabbitMQ way: a counted retry goes to a retry
 * queue whose messages expire (x-message-ttl) and are dead-lettered back to the work queue
 * through the default exchange. Nothing waits in warren's memory, so a warren that stops,
 * crashes or loses its connection loses no waiting message: the broker brings it back.
 *
 * One queue per delay, because RabbitMQ expires messages only at the head of a queue: in a
 * queue whose messages all share one TTL, the head is always the first due. The delay doubles
 * per retry up to a cap, so a run needs a handful of queues, named after the work queue and
 * their delay (`orders.retry.1s`, `orders.retry.2s`, ...).
 */
import { createHash } from 'node:crypto';
import type { QueueSpec } from '../broker/declarations.js';
import type { FieldTable } from '../broker/fieldTable.js';
import type { Session } from '../broker/session.js';
import { formatDuration } from '../duration.js';
import { BrokerRefusedError, ExitCode, WarrenError } from '../errors.js';

/** `--retry-delay` and `--retry-delay-max`: the first retry's wait and the longest. */
export interface RetryDelay {
  firstMs: number;
  maxMs: number;
}

/**
 * How often warren declares its retry queues again while it runs. A declaration renews a
 * queue's x-expires lease; publishing to it does not. So the lease must outlast the last
 * renewal by more than the longest a message waits in the queue: see `expiresOf`.
 */
export const LEASE_RENEWAL_MS = 30_000;

/**
 * A retry queue's x-expires: its delay plus a minute. A message published just before
 * warren stopped was published at most LEASE_RENEWAL_MS after the last renewal, and is due
 * back one delay later: the queue outlives it by half a minute, then vanishes unused.
 */
export function expiresOf(delayMs: number): number {
  return delayMs + 2 * LEASE_RENEWAL_MS;
}

/** How long the message waits before its retry number `retries + 1`: doubling, up to the cap. */
export function delayOf(delay: RetryDelay, retries: number): number {
  let ms = delay.firstMs;
  for (let n = 0; n < retries && ms < delay.maxMs; n += 1) ms *= 2;
  return Math.min(ms, delay.maxMs);
}

/**
 * Every delay a run may use, shortest first: one per retry up to the cap, and no more than
 * --max-retries of them (a message that has had its retries is rejected, not delayed).
 */
export function delaysOf(delay: RetryDelay, maxRetries: number | undefined): number[] {
  const delays: number[] = [];
  for (let retries = 0; maxRetries === undefined || retries < maxRetries; retries += 1) {
    const ms = delayOf(delay, retries);
    if (delays.at(-1) === ms) break;
    delays.push(ms);
  }
  return delays;
}

/** A delay as a queue name says it: in the largest unit that divides it (1500ms, 2s, 5m, 1h). */
export function delayLabel(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

const MAX_NAME_BYTES = 255;

/**
 * The retry queue for `queue` and a delay: `QUEUE.retry.LABEL`. A name that would be over
 * the broker's 255 bytes keeps as much of the queue's name as fits, then `~` and a hash of
 * the whole name, so that two long names that start alike still get queues of their own.
 */
export function retryQueueName(queue: string, delayMs: number): string {
  const suffix = `.retry.${delayLabel(delayMs)}`;
  const name = `${queue}${suffix}`;
  if (Buffer.byteLength(name) <= MAX_NAME_BYTES) return name;
  const hash = `~${createHash('sha256').update(queue).digest('hex').slice(0, 16)}`;
  return `${leadingBytes(queue, MAX_NAME_BYTES - Buffer.byteLength(suffix + hash))}${hash}${suffix}`;
}

/** The longest start of `text` that takes at most `bytes` in UTF-8, cut between characters. */
function leadingBytes(text: string, bytes: number): string {
  let taken = 0;
  let end = 0;
  for (const char of text) {
    taken += Buffer.byteLength(char);
    if (taken > bytes) break;
    end += char.length;
  }
  return text.slice(0, end);
}

/**
 * The retry queue as warren declares it. Durable, whatever the work queue is (AMQP cannot
 * tell a client whether a queue is durable), so that a persistent message waiting in it
 * survives a broker restart; the queue type is the broker's default.
 */
export function retryQueueSpec(queue: string, delayMs: number): QueueSpec {
  return {
    name: retryQueueName(queue, delayMs),
    type: undefined,
    durable: true,
    exclusive: false,
    autoDelete: false,
    arguments: {
      'x-message-ttl': delayMs,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': queue,
      'x-expires': expiresOf(delayMs),
    },
  };
}

/**
 * Where a counted retry goes: with --retry-delay, the retry queue of its delay; else the
 * back of the work queue.
 */
export function retryRoute(
  run: { queue: string; retryDelay?: RetryDelay | undefined },
  retries: number,
): string {
  if (!run.retryDelay) return run.queue;
  return retryQueueName(run.queue, delayOf(run.retryDelay, retries));
}

/**
 * Whether RabbitMQ would drop a message on its way back from a retry queue, taking it for a
 * dead-letter cycle: its x-death (newest first) names the work queue, and neither that entry
 * nor a newer one is a rejection. A dead-letter queue replayed into the work queue holds
 * such messages (expired there, or over a delivery limit).
 */
export function deadLetterCycle(headers: FieldTable | undefined, queue: string): boolean {
  const deaths = headers?.['x-death'];
  if (!Array.isArray(deaths)) return false;
  for (const death of deaths as unknown[]) {
    const { reason, queue: diedIn } = (death ?? {}) as { reason?: unknown; queue?: unknown };
    if (reason === 'rejected') return false;
    if (diedIn === queue) return true;
  }
  return false;
}

/**
 * The headers a retry copy leaves out: with --retry-delay, an x-death that would have the
 * broker drop the copy as a cycle (the broker writes a fresh one when the copy expires).
 */
export function headersLeftOut(
  run: { queue: string; retryDelay?: RetryDelay | undefined },
  headers: FieldTable | undefined,
): string[] {
  return run.retryDelay && deadLetterCycle(headers, run.queue) ? ['x-death'] : [];
}

/** How a warning tells a counted retry: `retried`, or `retried in 2s` with --retry-delay. */
export function retriedText(run: { retryDelay?: RetryDelay | undefined }, retries: number): string {
  return run.retryDelay ? `retried in ${formatDuration(delayOf(run.retryDelay, retries))}` : 'retried';
}

/** The retry queues of one run, declared on each connection and kept alive while it lasts. */
export class RetryQueues {
  private readonly specs: QueueSpec[];

  constructor(
    private readonly queue: string,
    delay: RetryDelay,
    maxRetries: number | undefined,
  ) {
    this.specs = delaysOf(delay, maxRetries).map((ms) => retryQueueSpec(queue, ms));
  }

  get names(): string[] {
    return this.specs.map((spec) => spec.name);
  }

  /**
   * Declares the retry queues (again: declaring is idempotent), each on a plain channel of
   * its own, not the transactional one, which takes no other command during a commit. Only
   * for a work queue that exists: consuming a missing one fails on its own, and retry queues
   * made for it would linger for nothing.
   */
  async declare(session: Session): Promise<void> {
    if (this.specs.length === 0 || !(await session.queueInfo(this.queue))) return;
    for (const spec of this.specs) {
      try {
        await session.declareQueue(spec);
      } catch (error) {
        throw differs(spec, error);
      }
    }
  }

  /**
   * Declares them again every LEASE_RENEWAL_MS, until the returned function is called;
   * a declaration that fails ends the run through `failed`.
   */
  keep(session: Session, failed: (error: WarrenError) => void): () => void {
    if (this.specs.length === 0) return () => {};
    let renewing = Promise.resolve();
    const timer = setInterval(() => {
      renewing = renewing
        .then(() => this.declare(session))
        .catch((error: unknown) => {
          const why = error instanceof Error ? error.message : String(error);
          failed(
            error instanceof WarrenError
              ? error
              : new WarrenError(`renewing the retry queues: ${why}`, ExitCode.failure, { cause: error }),
          );
        });
    }, LEASE_RENEWAL_MS);
    timer.unref();
    return () => clearInterval(timer);
  }
}

/**
 * A retry queue that exists with other arguments (406 inequivalent arg): named, with what
 * differs in the broker's words, and what warren wanted. Other errors pass as they are.
 */
function differs(spec: QueueSpec, error: unknown): unknown {
  if (!(error instanceof BrokerRefusedError)) return error;
  const said = error.brokerText ?? '';
  if (!/inequivalent arg/.test(said)) return error;
  const ttl = spec.arguments['x-message-ttl'] as number;
  // The name goes into the command only where a shell would take it as it is.
  const shown = /^[\w.:@/-]+$/.test(spec.name) ? spec.name : 'NAME';
  return new BrokerRefusedError(
    `the retry queue '${spec.name}' exists with other settings (${said.replace(/^PRECONDITION_FAILED - /, '')})`,
    {
      cause: error,
      brokerText: said,
      hint: `--retry-delay needs it durable, with x-message-ttl ${ttl}, x-dead-letter-exchange '', x-dead-letter-routing-key '${spec.arguments['x-dead-letter-routing-key']}' and x-expires ${spec.arguments['x-expires']}: once it is empty, delete it (warren delete queue ${shown}) and start again`,
    },
  );
}
