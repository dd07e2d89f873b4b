import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { UsageError } from './errors.js';

/** How long a named file that is a pipe may take to be written (a password manager asking for its passphrase). */
const PIPE_WAIT_MS = 30_000;
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/** The most a certificate, key or password file may hold: more is the wrong file (or /dev/zero). */
const MAX_NAMED_FILE_BYTES = 1024 * 1024;

/**
 * A file a flag (or setting) names, read whole, up to MAX_NAMED_FILE_BYTES; one that cannot
 * be read, or is larger, is a usage error naming it. `regularOnly` (the config file, which
 * every run reads): a FIFO or a device is refused at once, where reading it would wait for
 * ever or read without end. Other files may be pipes (`--password-file <(pass show x)`),
 * read as their writer writes; one with no writer is an error, not a wait for ever.
 */
export function readNamedFile(
  what: string,
  path: string,
  options: { regularOnly?: boolean; kind?: string } = {},
): Buffer {
  let fd: number | undefined;
  try {
    // Non-blocking: opening a FIFO that nothing writes to would otherwise wait for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const stat = fstatSync(fd);
    if (options.regularOnly && !stat.isFile()) {
      throw new UsageError(`${what}: '${path}' is not a regular file (a FIFO, a device or a folder)`);
    }
    const buffer = Buffer.alloc(MAX_NAMED_FILE_BYTES + 1);
    let size = 0;
    const waitUntil = Date.now() + PIPE_WAIT_MS;
    for (;;) {
      let read: number;
      try {
        read = readSync(fd, buffer, size, buffer.length - size, null);
      } catch (error) {
        // A pipe whose writer has not written yet (`<(pass show x)`): wait for it, a while.
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        if (Date.now() > waitUntil) {
          throw new UsageError(`${what}: nothing came from '${path}' in ${PIPE_WAIT_MS / 1000}s`);
        }
        Atomics.wait(PAUSE, 0, 0, 10);
        continue;
      }
      if (read === 0) {
        if (size === 0 && stat.isFIFO()) {
          throw new UsageError(`${what}: '${path}' is a FIFO that nothing writes to`);
        }
        break;
      }
      size += read;
      if (size > MAX_NAMED_FILE_BYTES) {
        throw new UsageError(
          `${what}: '${path}' is over 1 MiB: not ${options.kind ?? 'a certificate, key or password file'}`,
        );
      }
    }
    return buffer.subarray(0, size);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`${what}: cannot read '${path}' (${reason})`, { cause: error });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
