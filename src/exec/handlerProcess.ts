import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { lineForwarder } from './childOutput.js';
import type { HandlerExit } from './outcome.js';

export interface HandlerRun {
  /** Resolves once the handler ended and its output was passed on. */
  readonly done: Promise<{ exit: HandlerExit; stdout: Buffer | undefined }>;
  /** Ends it early (shutdown): SIGTERM to its process group, SIGKILL if it lingers. */
  interrupt(): void;
  /** Ends it now (warren is quitting): SIGKILL to its process group. */
  kill(): void;
}

export interface HandlerSpec {
  command: string;
  body: Buffer;
  env: NodeJS.ProcessEnv;
  timeoutMs: number | undefined;
  /** Keep stdout (the reply) instead of passing it on. */
  captureStdout: boolean;
  /** Where the handler's output goes, a line at a time, with this prefix. */
  log: NodeJS.WritableStream;
  prefix: string;
}

/**
 * The most stdout kept of a handler whose output is sent (--reply, --emit): RabbitMQ's
 * default limit on a message (max_message_size). A handler writing more is killed, rather
 * than holding warren's memory for what the broker would refuse.
 */
export const MAX_CAPTURED_BYTES = 128 * 1024 * 1024;

/** How long a handler told to stop may take before it is killed. */
const KILL_AFTER_MS = 2000;

/** Spawn errors that the message's own properties or headers cause, and why. */
const MESSAGE_UNFIT: Record<string, string> = {
  E2BIG: 'its headers or properties are too large for an environment variable',
  ERR_INVALID_ARG_VALUE: 'a property or header holds a NUL byte, which an environment variable cannot',
};

/** The handler's process, or why it could not start. */
function spawnHandler(spec: HandlerSpec): ChildProcessWithoutNullStreams | HandlerExit {
  try {
    return spawn('/bin/sh', ['-c', spec.command], {
      env: spec.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
  } catch (error) {
    // Some failures are thrown rather than emitted. Two come from the message itself and
    // would come again on every try: a value over the kernel's limit for one variable
    // (E2BIG: headers too large for WARREN_HEADERS), and a NUL byte, which no variable can
    // hold (ERR_INVALID_ARG_VALUE: in the message id, say).
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    const why = MESSAGE_UNFIT[code];
    return why === undefined
      ? { kind: 'notStarted', error: code }
      : { kind: 'notStarted', error: `${code} (${why})`, unfit: true };
  }
}

/** How a handler's process ended, as the outcome of its message sees it. */
function exitOf(ended: {
  spawnError: Error | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  interrupted: boolean;
  overflowed: boolean;
}): HandlerExit {
  const { spawnError, code, signal } = ended;
  if (spawnError && code === null && signal === null)
    return { kind: 'notStarted', error: spawnError.message };
  if (ended.overflowed) return { kind: 'tooMuchOutput', limitBytes: MAX_CAPTURED_BYTES };
  if (ended.timedOut) return { kind: 'timedOut' };
  // A handler that finishes cleanly when told to stop did its work.
  if (ended.interrupted && code !== 0) return { kind: 'interrupted' };
  if (signal) return { kind: 'killed', signal };
  return { kind: 'exited', code: code ?? 1 };
}

/**
 * Runs one handler through the shell, in a process group of its own: a timeout or the
 * shutdown can stop it and whatever it started, and a Ctrl-C at the terminal reaches warren
 * only, which decides when handlers stop.
 */
export function runHandler(spec: HandlerSpec): HandlerRun {
  const child = spawnHandler(spec);
  if ('kind' in child) {
    return { done: Promise.resolve({ exit: child, stdout: undefined }), interrupt: () => {}, kill: () => {} };
  }
  let timedOut = false;
  let interrupted = false;
  let overflowed = false;
  let capturedBytes = 0;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const group = -child.pid;
    try {
      process.kill(group, 'SIGTERM');
    } catch {
      return;
    }
    killTimer = setTimeout(() => {
      try {
        process.kill(group, 'SIGKILL');
      } catch {}
    }, KILL_AFTER_MS);
  };
  const timeout =
    spec.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          stop();
        }, spec.timeoutMs);

  // A handler need not read its stdin: a closed pipe is not an error.
  child.stdin.on('error', () => {});
  child.stdin.end(spec.body);
  const captured: Buffer[] = [];
  const stdoutLines = lineForwarder(spec.log, spec.prefix);
  const stderrLines = lineForwarder(spec.log, spec.prefix);
  child.stdout.on('data', (chunk: Buffer) => {
    if (!spec.captureStdout) {
      stdoutLines.write(chunk);
      return;
    }
    if (overflowed) return;
    capturedBytes += chunk.length;
    if (capturedBytes <= MAX_CAPTURED_BYTES) {
      captured.push(chunk);
      return;
    }
    // Over the limit: what it wrote cannot be sent whole, so none of it is kept. The whole
    // group goes, even if the shell has ended: whatever still writes is one of its own, and
    // keeps the group's id in use.
    overflowed = true;
    captured.length = 0;
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {}
  });
  child.stderr.on('data', (chunk: Buffer) => stderrLines.write(chunk));

  const done = new Promise<{ exit: HandlerExit; stdout: Buffer | undefined }>((resolve) => {
    let spawnError: Error | undefined;
    child.on('error', (error) => {
      spawnError = error;
    });
    // 'close': the process ended and its output streams are drained.
    child.on('close', (code, signal) => {
      clearTimeout(timeout);
      clearTimeout(killTimer);
      stdoutLines.end();
      stderrLines.end();
      const exit = exitOf({ spawnError, code, signal, timedOut, interrupted, overflowed });
      resolve({ exit, stdout: spec.captureStdout ? Buffer.concat(captured) : undefined });
    });
  });
  return {
    done,
    interrupt: () => {
      interrupted = true;
      stop();
    },
    kill: () => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    },
  };
}
