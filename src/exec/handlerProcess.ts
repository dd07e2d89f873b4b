import { spawn } from 'node:child_process';
import { lineForwarder } from './childOutput.js';
import { type HandlerChild, type OneWrite, spawnForkless } from './forklessSpawn.js';
import type { HandlerExit } from './outcome.js';
import { isSingleProgram } from './singleProgram.js';

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

/**
 * A handler started ahead of its turn (prepareHandler): the shell, with its environment and
 * the body on its stdin, waits at a gate until warren lets it run the command.
 */
export interface PreparedHandler {
  /** Runs the command now; its --exec-timeout starts now. */
  open(): HandlerRun;
  /** Its turn never comes (the run stopped): the shell ends without running the command. */
  discard(): void;
}

/**
 * The shell of every handler: it reads a line from fd 3 (warren's gate), then runs the
 * command as `sh -c` would (in the same shell: $0 is /bin/sh, no positional parameters, the
 * same variables; only a syntax error reads `eval: Syntax error`). If warren goes away first,
 * the gate reads end of file: it exits, and the command never runs. The gate's variable and
 * descriptor are gone before the command starts.
 */
const GATE_SCRIPT = 'read -r __warren_gate <&3 || exit 125; unset __warren_gate; exec 3<&-; eval "shift; $1"';

/**
 * The same gate for a command that is one program (isSingleProgram): the shell becomes the
 * program (`exec`) rather than waiting for it, so a message costs one process, and the
 * handler's exit is the program's own (a signal that ends it is reported as that signal).
 */
const GATE_EXEC_SCRIPT = GATE_SCRIPT.replace('eval "shift; $1"', 'eval "shift; exec $1"');

/** How long a handler told to stop may take before it is killed. */
const KILL_AFTER_MS = 2000;

/** Spawn errors that the message's own properties or headers cause, and why. */
const MESSAGE_UNFIT: Record<string, string> = {
  E2BIG: 'its headers or properties are too large for an environment variable',
  ERR_INVALID_ARG_VALUE: 'a property or header holds a NUL byte, which an environment variable cannot',
};

/**
 * The handler's shell, held at its gate on fd 3, or why it could not start. Started without
 * copying warren's memory where the addon is there (forklessSpawn.ts), else by Node.
 */
function spawnHandler(spec: HandlerSpec): HandlerChild | HandlerExit {
  // Asked at each start (a fraction of a microsecond): serve and routes run several commands.
  const gate = isSingleProgram(spec.command) ? GATE_EXEC_SCRIPT : GATE_SCRIPT;
  const argv = ['/bin/sh', '-c', gate, '/bin/sh', spec.command];
  try {
    return (
      spawnForkless('/bin/sh', argv, spec.env) ??
      spawn('/bin/sh', argv.slice(1), {
        env: spec.env,
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
        detached: true,
      })
    );
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
  // Through the gate as well, opened at once: every handler runs the same way.
  return prepareHandler(spec).open();
}

/**
 * Starts a handler's shell ahead of its turn, held at a gate: the expensive part of a
 * handler's start (starting a process, the shell loading) then happens while the handler
 * before it still runs, and `open` lets the command run at once. The command itself does not
 * start before `open`, so handlers still run one after the other.
 */
export function prepareHandler(spec: HandlerSpec): PreparedHandler {
  const child = spawnHandler(spec);
  if ('kind' in child) {
    const run: HandlerRun = {
      done: Promise.resolve({ exit: child, stdout: undefined }),
      interrupt: () => {},
      kill: () => {},
    };
    return { open: () => run, discard: () => {} };
  }
  const handler = watchHandler(child, spec);
  const gate = child.stdio[3] as OneWrite & { resume?: () => void };
  // A shell killed at its gate closes it: not an error. A stream (Node's spawn) is read to its
  // end, so that the handler counts as ended once the shell has closed it.
  gate.on('error', () => {});
  gate.resume?.();
  return {
    open: () => {
      handler.startTimeout();
      gate.end('\n');
      return handler.run;
    },
    discard: () => {
      gate.destroy();
      handler.run.kill();
    },
  };
}

/** Passes on a started handler's output and watches how it ends; its timeout waits for `startTimeout`. */
function watchHandler(child: HandlerChild, spec: HandlerSpec): { run: HandlerRun; startTimeout(): void } {
  const { stdin, stdout, stderr } = child;
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
  let timeout: NodeJS.Timeout | undefined;
  const startTimeout = () => {
    if (spec.timeoutMs === undefined) return;
    timeout = setTimeout(() => {
      timedOut = true;
      stop();
    }, spec.timeoutMs);
  };

  // A handler need not read its stdin: a closed pipe is not an error.
  stdin.on('error', () => {});
  stdin.end(spec.body);
  const captured: Buffer[] = [];
  const stdoutLines = lineForwarder(spec.log, spec.prefix);
  const stderrLines = lineForwarder(spec.log, spec.prefix);
  stdout.on('data', (chunk: Buffer) => {
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
  stderr.on('data', (chunk: Buffer) => stderrLines.write(chunk));

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
  const run: HandlerRun = {
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
  return { run, startTimeout };
}
