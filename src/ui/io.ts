import { readFileSync, readlinkSync } from 'node:fs';
import { ExitCode, WarrenError } from '../errors.js';

/** The streams and environment a command works with; tests pass their own. */
export interface Io {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** True when the process was started with stdout closed (`>&-`). */
  stdoutClosed?: () => boolean;
}

/**
 * Node replaces a standard stream that was closed when it started with /dev/null opened
 * for reading and writing; a shell's `> /dev/null` opens it for writing only. So on Linux,
 * fd 1 on /dev/null in read-write mode means stdout was closed: writes would vanish.
 */
function startedWithStdoutClosed(): boolean {
  try {
    if (readlinkSync('/proc/self/fd/1') !== '/dev/null') return false;
    const flags = /^flags:\s*(\d+)/m.exec(readFileSync('/proc/self/fdinfo/1', 'utf8'))?.[1];
    return flags !== undefined && (Number.parseInt(flags, 8) & 3) === 2;
  } catch {
    return false;
  }
}

/**
 * The process's own streams. Getters, because Node creates `process.stdin` on first use
 * (a millisecond or two), and most runs never read it.
 */
export function processIo(): Io {
  return {
    get stdin() {
      return process.stdin;
    },
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
    env: process.env,
    stdoutClosed: startedWithStdoutClosed,
  };
}

const quiet = () => {};

/**
 * Writes a command's output; resolves to false when the reader left early (`| head`), which
 * is no failure: the command ends quietly. Any other error is exit 1.
 */
export function writeAll(stdout: NodeJS.WritableStream, text: string): Promise<boolean> {
  // The write's callback gets the error; the stream emits it too, later (kept quiet, by one
  // listener however often a watch writes).
  if (!stdout.listeners('error').includes(quiet)) stdout.on('error', quiet);
  return new Promise<boolean>((resolve, reject) => {
    stdout.write(text, (error) => {
      if (error && (error as NodeJS.ErrnoException).code !== 'EPIPE') {
        reject(
          new WarrenError(`cannot write to stdout: ${error.message}`, ExitCode.failure, { cause: error }),
        );
      } else resolve(!error);
    });
  });
}
