import { EventEmitter } from 'node:events';
import { closeSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import { loadAddon } from '../nativeAddon.js';

/**
 * The prebuilt addon native/spawn.c: starts a process without copying warren's address
 * space (as posix_spawn does), where Node's spawn forks all of warren for every handler.
 */
interface SpawnAddon {
  /** [pid, stdin, stdout, stderr, fd 3] (warren's ends of the pipes), or -errno. */
  spawn(path: string, argv: string[], envp: string[]): number[] | number;
  /** -1 while it runs; its exit code; 256 + the signal that ended it; or another -errno. */
  reap(pid: number): number;
}

/** Where warren writes to a handler once, then closes it: its stdin, its gate on fd 3. */
export interface OneWrite {
  end(data: Buffer | string): void;
  /** Closed unwritten. */
  destroy(): void;
  on(event: 'error', listener: () => void): unknown;
}

/** What a handler's process gives warren, from Node's spawn or from the addon alike. */
export interface HandlerChild {
  readonly pid?: number | undefined;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  readonly stdin: OneWrite;
  readonly stdout: NodeJS.ReadableStream;
  readonly stderr: NodeJS.ReadableStream;
  /** stdin, stdout, stderr, fd 3. */
  readonly stdio: readonly unknown[];
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
}

/** The children the addon started, by pid, until each is reaped. */
const living = new Map<number, ForklessChild>();

/** Called on every SIGCHLD while a child lives: signals merge, so each child is asked. */
function reapAll(addon: SpawnAddon): void {
  for (const [pid, child] of living) {
    const status = addon.reap(pid);
    if (status === -1) continue;
    living.delete(pid);
    child.exited(status);
  }
  if (living.size === 0) process.removeListener('SIGCHLD', reaper);
}
let reaper: () => void = () => {};

const signalNames = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name]));
const errnoNames = new Map(Object.entries(constants.errno).map(([name, number]) => [number, name]));

/**
 * A write end of a new pipe that warren writes once. What fits in a pipe's smallest buffer
 * (a page) is written at once and the pipe closed: an empty pipe takes it without blocking,
 * and a stream (a socket, its handle, its events) would cost more than the handler's own
 * start. Anything larger goes through a stream, as the reader takes it.
 */
class PipeEnd implements OneWrite {
  private done = false;

  constructor(private readonly fd: number) {}

  end(data: Buffer | string): void {
    if (this.done) return;
    this.done = true;
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (bytes.length > 4096) {
      const stream = new Socket({ fd: this.fd, readable: false, writable: true });
      // The reader need not read it all: a closed pipe is not an error.
      stream.on('error', () => {});
      stream.end(bytes);
      return;
    }
    try {
      if (bytes.length > 0) writeSync(this.fd, bytes);
    } catch {
      // EPIPE: the reader is gone already (a handler killed); nothing to give it.
    }
    closeSync(this.fd);
  }

  destroy(): void {
    if (this.done) return;
    this.done = true;
    closeSync(this.fd);
  }

  on(_event: 'error', _listener: () => void): this {
    return this;
  }
}

/**
 * A child of the addon's, shaped as Node's ChildProcess is for what a handler needs: 'close'
 * once it exited and its stdout and stderr are read to their end.
 */
class ForklessChild extends EventEmitter implements HandlerChild {
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  readonly stdin: PipeEnd;
  readonly stdout: Socket;
  readonly stderr: Socket;
  readonly stdio: readonly [PipeEnd, Socket, Socket, PipeEnd];
  private open = 3;

  constructor(
    readonly pid: number,
    fds: number[],
  ) {
    super();
    const [stdinFd, stdoutFd, stderrFd, fd3] = fds as [number, number, number, number];
    const stdin = new PipeEnd(stdinFd);
    const stdout = new Socket({ fd: stdoutFd, readable: true, writable: false });
    const stderr = new Socket({ fd: stderrFd, readable: true, writable: false });
    this.stdin = stdin;
    this.stdout = stdout;
    this.stderr = stderr;
    this.stdio = [stdin, stdout, stderr, new PipeEnd(fd3)];
    for (const output of [stdout, stderr]) {
      output.on('close', () => {
        this.closed();
        // Its output is closed: it has most likely exited. Asked now rather than only on a
        // SIGCHLD, which would come a turn later (or, with the signal pipe full, not at all).
        if (this.exitCode === null && this.signalCode === null) reaper();
      });
    }
  }

  /** `status` as reap gives it; an error (no such child: never expected) counts as a failure, never as success. */
  exited(status: number): void {
    if (status >= 256) this.signalCode = (signalNames.get(status - 256) ?? 'SIGKILL') as NodeJS.Signals;
    else this.exitCode = status >= 0 ? status : 1;
    this.closed();
  }

  private closed(): void {
    this.open -= 1;
    if (this.open === 0) this.emit('close', this.exitCode, this.signalCode);
  }
}

/**
 * Starts `argv` (`path` itself, not looked up in PATH) in a session of its own (as Node's
 * spawn with `detached`), with `env`, four pipes on its descriptors 0 to 3 and every signal
 * at its default; undefined where the addon is not there (another platform), so the caller
 * uses Node's spawn. Throws as Node's spawn does for what cannot be started: an `E2BIG`
 * environment, a NUL byte in a string (ERR_INVALID_ARG_VALUE).
 */
export function spawnForkless(
  path: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
): HandlerChild | undefined {
  const addon = loadAddon<SpawnAddon>('spawn');
  if (!addon) return undefined;
  const envp: string[] = [];
  for (const [name, value] of Object.entries(env)) if (value !== undefined) envp.push(`${name}=${value}`);
  if ([...argv, ...envp].some((text) => text.includes('\u0000'))) {
    throw Object.assign(new Error('a string holds a NUL byte'), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  if (living.size === 0) {
    // Listening before the child exists: a child that ends at once is not missed.
    reaper = () => reapAll(addon);
    process.on('SIGCHLD', reaper);
  }
  const started = addon.spawn(path, argv, envp);
  if (typeof started === 'number') {
    if (living.size === 0) process.removeListener('SIGCHLD', reaper);
    const code = errnoNames.get(-started) ?? `errno ${-started}`;
    throw Object.assign(new Error(`spawn ${path} ${code}`), { code });
  }
  const [pid, ...fds] = started as [number, ...number[]];
  const child = new ForklessChild(pid, fds);
  living.set(pid, child);
  return child;
}
