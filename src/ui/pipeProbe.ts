import { fstatSync, readFileSync } from 'node:fs';
import { loadAddon } from '../nativeAddon.js';

/**
 * What a pipe on stdout can tell warren about its reader, through a small prebuilt addon
 * (native/pipe.c): Node itself cannot ask. Linux x86-64 only; elsewhere, and for stdout
 * that is a file or a terminal, there is no probe and a record counts as written once the
 * stream took it.
 */
export interface PipeProbe {
  /** The pipe's descriptor, non-blocking: warren writes to it itself, to know each byte the pipe took. */
  fd: number;
  /** Bytes written to the pipe that the reader has not taken out yet; negative if it cannot tell. */
  unread(): number;
  /** True once no reader is left on the pipe (it closed its end, or exited). */
  readerGone(): boolean;
}

interface PipeAddon {
  unread(fd: number): number;
  readerGone(fd: number): number;
}

/** Node makes a pipe on stdout non-blocking (libuv does); a write that would block must fail instead. */
function nonBlocking(fd: number): boolean {
  try {
    const flags = /^flags:\s*(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
    return flags !== undefined && (Number.parseInt(flags, 8) & 0o4000) !== 0;
  } catch {
    return false;
  }
}

function fifoFd(stream: NodeJS.WritableStream): number | undefined {
  const fd = (stream as { fd?: unknown }).fd;
  if (typeof fd !== 'number') return undefined;
  try {
    return fstatSync(fd).isFIFO() ? fd : undefined;
  } catch {
    return undefined;
  }
}

/** True when the stream writes into a pipe (not a file, a terminal or a socket). */
export function isPipe(stream: NodeJS.WritableStream): boolean {
  return fifoFd(stream) !== undefined;
}

/** A probe for a stream on a pipe, or undefined where the platform or the stream gives none. */
export function pipeProbe(stream: NodeJS.WritableStream): PipeProbe | undefined {
  const fd = fifoFd(stream);
  if (fd === undefined) return undefined;
  const native = loadAddon<PipeAddon>('pipe');
  if (!native || native.unread(fd) < 0 || !nonBlocking(fd)) return undefined;
  return { fd, unread: () => native.unread(fd), readerGone: () => native.readerGone(fd) === 1 };
}
