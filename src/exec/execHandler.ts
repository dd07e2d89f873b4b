import type { HandlerInput, HandlerRun, MessageHandler } from './handler.js';
import { handlerEnv } from './handlerEnv.js';
import { runHandler } from './handlerProcess.js';

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
  constructor(private readonly options: ExecHandlerOptions) {}

  async open(): Promise<void> {}

  handle({ message, retries, prefix }: HandlerInput): HandlerRun {
    const { options } = this;
    const run = runHandler({
      command: options.command,
      body: message.body,
      env: handlerEnv(message, options.queue, retries, options.inherited),
      timeoutMs: options.timeoutMs,
      captureStdout: options.captureStdout,
      log: options.log,
      prefix,
    });
    return {
      done: run.done.then(({ exit, stdout }) => ({ kind: 'exit', exit, stdout })),
      interrupt: run.interrupt,
      kill: run.kill,
    };
  }

  /** Each process ends with its message: nothing is left to close. */
  async close(): Promise<void> {}

  kill(): void {}
}
