import type { EmitTarget } from '../../exec/emit.js';
import { ExecRun } from '../../exec/execRun.js';
import type { FailurePolicy } from '../../exec/outcome.js';
import type { RetryDelay } from '../../exec/retryQueues.js';
import type { CommandContext } from '../context.js';

export interface ExecOptions {
  queue: string;
  /**
   * `exec`: the command runs once per message, body on stdin; `pipe`: it runs for the
   * whole run (--concurrency copies), fed one NDJSON envelope per message on stdin, and
   * answers one line per message on stdout (docs/handlers.md, the line protocol).
   */
  kind: 'exec' | 'pipe';
  /** The handler's shell command. */
  command: string;
  onFailure: FailurePolicy;
  /**
   * Handlers running at once (--pipe: processes). With --exec the prefetch is 3 times this
   * (src/exec/heldDeliveries.ts); with --pipe it is `prefetch`.
   */
  concurrency: number;
  /**
   * Messages taken ahead of their settlement (--pipe: many per process, so that a handler
   * always has the next line waiting); the concurrency when undefined.
   */
  prefetch?: number | undefined;
  /** --exec-timeout: a handler running longer is killed and its message failed. */
  execTimeoutMs: number | undefined;
  maxRetries: number | undefined;
  /**
   * --retry-delay and --retry-delay-max: a failed message waits in a retry queue before its
   * next try, doubling per retry up to the cap (src/exec/retryQueues.ts).
   */
  retryDelay: RetryDelay | undefined;
  /** Publish the handler's stdout to the message's replyTo, with its correlationId. */
  reply: boolean;
  /** --emit/--emit-format: the handler's stdout is events, published before its message is acked. */
  emit: EmitTarget | undefined;
  /** On SIGINT/SIGTERM, how long running handlers may take to finish. */
  graceMs: number;
  /** --pass-url: handlers get WARREN_URL with the password (else none: src/exec/childEnv.ts). */
  passUrl: boolean;
  count: number | undefined;
  /** Idle timeout: stop when nothing arrives (and nothing runs) for this long. */
  timeoutMs: number | undefined;
  /** After a lost connection: reconnection attempts in a row (reset once a message is settled). */
  retries: number;
}

/**
 * `consume QUEUE --exec CMD`: runs a handler per message and settles the message by how
 * the handler ended. A message is acked only once its handler succeeded (and its reply was
 * confirmed); one whose handler did not finish goes back to the queue. Settlements are
 * committed in transactions, so that a counted retry (a copy published, the original acked)
 * is done whole or not at all: a lost connection cannot leave both copy and original. After
 * a lost connection the run carries on on a new one, up to --retries times in a row.
 */
export async function exec(options: ExecOptions, context: CommandContext): Promise<void> {
  await new ExecRun(options, context).run();
}
