import type { AckMode, Format } from '../../choices.js';
import { runConsume } from '../../consume/engine.js';
import type { CommandContext } from '../context.js';

export interface ConsumeOptions {
  queue: string;
  count: number | undefined;
  /** Idle timeout: stop when nothing arrives for this long. */
  timeoutMs: number | undefined;
  prefetch: number;
  ackMode: AckMode;
  format: Format;
  template: string | undefined;
  /** Pretty output: long bodies whole, not cut to the terminal's height. */
  full: boolean;
  /**
   * After a lost connection: reconnection attempts in a row (reset once a message comes)
   * before giving up with exit 69. 0 (and a peek, which would see its messages again) never
   * reconnects.
   */
  retries?: number;
}

/**
 * Takes messages from a queue and writes one record per message, each acked only once its
 * record was written (the consume engine, src/consume/engine.ts).
 */
export async function consume(options: ConsumeOptions, context: CommandContext): Promise<void> {
  const peek = options.ackMode === 'requeue';
  await runConsume(
    {
      source: {
        label: `'${options.queue}'`,
        open: async () => options.queue,
        oneAtATime: peek || (options.ackMode === 'none' && options.count !== undefined),
      },
      count: options.count,
      timeoutMs: options.timeoutMs,
      prefetch: options.prefetch,
      ackMode: options.ackMode,
      output: { format: options.format, template: options.template, full: options.full },
      // A peek that reconnected would show its messages again.
      retries: peek ? 0 : (options.retries ?? 0),
      verb: peek ? 'peeked at' : 'consumed',
      // Only what was taken from the queue for good is worth the warning (not a peek).
      warnEarlyEnd: options.ackMode === 'ack' || options.ackMode === 'reject',
    },
    context,
  );
}
