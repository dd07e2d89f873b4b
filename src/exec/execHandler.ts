import type { HandlerInput, HandlerRun, MessageHandler } from './handler.js';
import { handlerEnv } from './handlerEnv.js';
import { type HandlerSpec, prepareHandler, runHandler } from './handlerProcess.js';
import { PreparedNext } from './heldDeliveries.js';

export interface ExecHandlerOptions {
  /** The shell command run per message. */
  command: string;
  queue: string;
  timeoutMs: number | undefined;
  /** Keep stdout (a reply, emitted events) instead of passing it on to stderr. */
  captureStdout: boolean;
  /** warren's own environment, as handlers may see it (src/exec/childEnv.ts). */
  inherited: NodeJS.ProcessEnv;
  log: NodeJS.WritableStream;
}

/** `--exec CMD`: one process per message, body on stdin, the envelope in WARREN_* variables. */
export class ExecHandler implements MessageHandler {
  /** The next message's shell, started ahead and held at its gate (prepareHandler). */
  private readonly next = new PreparedNext((input) => prepareHandler(this.spec(input)));

  constructor(private readonly options: ExecHandlerOptions) {}

  async open(): Promise<void> {}

  handle(input: HandlerInput): HandlerRun {
    const prepared = this.next.take(input);
    const run = prepared ? prepared.open() : runHandler(this.spec(input));
    return {
      done: run.done.then(({ exit, stdout }) => ({ kind: 'exit', exit, stdout })),
      interrupt: run.interrupt,
      kill: run.kill,
    };
  }

  ahead(next: HandlerInput | undefined): void {
    if (next === undefined) this.next.discard();
    else this.next.ready(next);
  }

  /** What a message's handler is run with. */
  private spec({ message, retries, prefix }: HandlerInput): HandlerSpec {
    const { options } = this;
    return {
      command: options.command,
      body: message.body,
      env: handlerEnv(message, options.queue, retries, options.inherited),
      timeoutMs: options.timeoutMs,
      captureStdout: options.captureStdout,
      log: options.log,
      prefix,
    };
  }

  /** Each process ends with its message; a shell started ahead ends without running. */
  async close(): Promise<void> {
    this.next.discard();
  }

  kill(): void {
    this.next.discard();
  }
}
