import { accessSync, constants, createReadStream, fstatSync, type ReadStream } from 'node:fs';
import { UsageError, WarrenError } from '../errors.js';

/** `cannot read 'FILE': ENOENT` (or stdin): a usage error; warren's own errors pass through. */
export function inputError(error: unknown, file: string | undefined): WarrenError {
  if (error instanceof WarrenError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  return new UsageError(
    `cannot read ${file !== undefined ? `'${file}'` : 'stdin'}: ${code ?? (error as Error).message}`,
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

/** Opens an input file, failing at once (before connecting) when it cannot be read. */
export function openInputFile(path: string): ReadStream {
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    throw inputError(error, path);
  }
  return createReadStream(path, { highWaterMark: 256 * 1024 });
}
