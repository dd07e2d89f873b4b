import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';

/**
 * The shell hands a program its arguments as bytes, and Node decodes them as UTF-8, putting
 * U+FFFD in place of bytes that are not: silently. Read again as bytes (Linux keeps them in
 * /proc/self/cmdline), they tell a U+FFFD that was typed from one that stands for bytes
 * warren could not send as they were given.
 */
let altered: string[] = [];

/**
 * Notes which arguments were not UTF-8. Called once at start-up, before anything sets the
 * process title (which overwrites what /proc shows); costs nothing unless an argument
 * holds U+FFFD.
 */
export function noteAlteredArguments(argv: string[]): void {
  if (!argv.some((arg) => arg.includes('\uFFFD'))) return;
  let cmdline: Buffer;
  try {
    cmdline = readFileSync('/proc/self/cmdline');
  } catch {
    return; // not Linux: nothing more to know
  }
  const raw: Buffer[] = [];
  for (let start = 0; start < cmdline.length; ) {
    const end = cmdline.indexOf(0, start);
    const stop = end === -1 ? cmdline.length : end;
    raw.push(cmdline.subarray(start, stop));
    start = stop + 1;
  }
  // The last arguments are warren's (node's own options and the script come first).
  const mine = raw.slice(-argv.length);
  if (mine.length !== argv.length) return;
  altered = argv.filter((arg, i) => {
    const bytes = mine[i] as Buffer;
    return !isUtf8(bytes) && bytes.toString('utf8') === arg;
  });
}

/** Whether a value came from an argument whose bytes were not UTF-8 (so it was altered). */
export function fromAlteredArgument(value: string): boolean {
  return value.includes('\uFFFD') && altered.some((arg) => arg.endsWith(value));
}
