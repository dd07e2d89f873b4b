import {
  accessSync,
  closeSync,
  constants,
  createReadStream,
  fstatSync,
  openSync,
  type ReadStream,
  readSync,
  statSync,
} from 'node:fs';
import { UsageError, WarrenError } from '../errors.js';

/** RabbitMQ's largest max_message_size (512 MiB; the default is 128 MiB). */
export const MAX_BODY_BYTES = 512 * 1024 * 1024;

/**
 * `cannot read 'FILE': ENOENT` (or stdin; after `flag: ` when a flag named the file): a usage
 * error; warren's own errors pass through.
 */
export function inputError(error: unknown, file: string | undefined, flag?: string): WarrenError {
  if (error instanceof WarrenError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  return new UsageError(
    `${flag === undefined ? '' : `${flag}: `}cannot read ${file !== undefined ? `'${file}'` : 'stdin'}: ${code ?? (error as Error).message}`,
    {
      cause: error,
      hint: undefined,
    },
  );
}

/**
 * Fails at once when stdin is a directory (`< /tmp`): Node reads one as empty, which would
 * publish an empty message rather than say what is wrong.
 */
export function checkStdin(): void {
  let directory = false;
  try {
    directory = fstatSync(0).isDirectory();
  } catch {
    return; // closed: reading says so
  }
  if (directory) throw inputError(Object.assign(new Error('is a directory'), { code: 'EISDIR' }), undefined);
}

/**
 * A message body from the file a flag names, read whole before connecting: one that cannot be
 * read, is a device, or is over MAX_BODY_BYTES is a usage error naming the flag.
 */
export function readBodyFile(flag: string, path: string): Buffer {
  const tooLarge = () =>
    new UsageError(
      `${flag}: '${path}' is over ${MAX_BODY_BYTES / 1024 / 1024} MiB, more than RabbitMQ accepts in one message`,
    );
  let body: Buffer;
  try {
    const stat = statSync(path);
    // A device (/dev/zero) would be read without end.
    if (stat.isCharacterDevice() || stat.isBlockDevice()) {
      throw Object.assign(new Error('a device'), { code: 'a device, not a file' });
    }
    if (stat.size > MAX_BODY_BYTES) throw tooLarge();
    // A pipe's size is known only once it is read, and one may never end (`<(yes)`).
    const read = readAtMost(path, MAX_BODY_BYTES);
    if (read === undefined) throw tooLarge();
    body = read;
  } catch (error) {
    throw inputError(error, path, flag);
  }
  return body;
}

/** The whole file, or undefined as soon as it is over `limit` bytes (not read further). */
function readAtMost(path: string, limit: number): Buffer | undefined {
  const fd = openSync(path, 'r');
  try {
    // Each chunk filled before the next: a pipe gives at most 64 KiB a read.
    const chunks: Buffer[] = [];
    let size = 0;
    let chunk = Buffer.allocUnsafe(1024 * 1024);
    let filled = 0;
    for (;;) {
      const read = readSync(fd, chunk, filled, chunk.length - filled, null);
      if (read === 0) return Buffer.concat([...chunks, chunk.subarray(0, filled)], size);
      size += read;
      if (size > limit) return undefined;
      filled += read;
      if (filled === chunk.length) {
        chunks.push(chunk);
        chunk = Buffer.allocUnsafe(chunk.length);
        filled = 0;
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Opens an input file, failing at once (before connecting) when it cannot be read. */
export function openInputFile(path: string): ReadStream {
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    throw inputError(error, path);
  }
  return createReadStream(path, { highWaterMark: 256 * 1024 });
}
