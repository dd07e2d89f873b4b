import {
  accessSync,
  constants,
  createReadStream,
  fstatSync,
  type ReadStream,
  readFileSync,
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
    body = readFileSync(path);
  } catch (error) {
    throw inputError(error, path, flag);
  }
  // A pipe's size is known only once it is read.
  if (body.length > MAX_BODY_BYTES) throw tooLarge();
  return body;
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
