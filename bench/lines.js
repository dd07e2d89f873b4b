import { readFileSync } from 'node:fs';

/** How many lines (newlines) a file holds: the records a run wrote. */
export function lineCount(file) {
  const bytes = readFileSync(file);
  let lines = 0;
  for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) lines += 1;
  return lines;
}
