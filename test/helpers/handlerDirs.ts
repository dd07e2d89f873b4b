/** Files that handlers write in tests: a temporary root per test file, a fresh directory per test. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/**
 * Makes a root directory before the file's tests and removes it after them; returns the
 * function that makes a fresh directory in it for one test (its handlers find it as $HDIR).
 */
export function handlerDirs(prefix: string): (name: string) => string {
  let root: string | undefined;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), `warren-${prefix}-`));
  });
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });
  return (name) => {
    if (!root) throw new Error('handlerDirs: used outside a test');
    const dir = join(root, `${name}-${randomBytes(3).toString('hex')}`);
    mkdirSync(dir);
    return dir;
  };
}

/** The non-empty lines of a text. */
export const lines = (text: string) => text.split('\n').filter((line) => line.length > 0);

/** The non-empty lines of a file a handler wrote; none if it wrote none. */
export const fileLines = (path: string) => (existsSync(path) ? lines(readFileSync(path, 'utf8')) : []);
