import { readFileSync } from 'node:fs';
import { DataError, UsageError } from '../errors.js';
import { lineAndColumn } from '../json.js';
import type { Fail } from '../topology/spec.js';

/**
 * Where each value of a JSON document starts, by its path (`handlers[0].routes[1].key`, the
 * top level ''): so that an error in a file warren checks names the line and column as well
 * as the field. The text must already be valid JSON (src/json.ts parseJson read it), nested
 * at most MAX_JSON_DEPTH deep, so this reader needs no error handling of its own.
 */
export function jsonPositions(text: string): Map<string, number> {
  const positions = new Map<string, number>();
  let at = 0;
  const space = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at] as string)) at += 1;
  };
  const string = (): string => {
    const start = at;
    at += 1;
    while (text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
    at += 1;
    return JSON.parse(text.slice(start, at)) as string;
  };
  const value = (path: string): void => {
    space();
    positions.set(path, at);
    const c = text[at];
    if (c === '{') {
      at += 1;
      space();
      while (text[at] !== '}') {
        space();
        const key = string();
        space();
        at += 1; // ':'
        value(`${path === '' ? '' : `${path}.`}${key}`);
        space();
        if (text[at] === ',') at += 1;
        space();
      }
      at += 1;
    } else if (c === '[') {
      at += 1;
      space();
      for (let index = 0; text[at] !== ']'; index++) {
        value(`${path}[${index}]`);
        space();
        if (text[at] === ',') at += 1;
        space();
      }
      at += 1;
    } else if (c === '"') string();
    else {
      const literal = /^[^\s,\]}]+/.exec(text.slice(at, at + 400));
      at += literal?.[0].length ?? 1;
    }
  };
  value('');
  return positions;
}

/**
 * The position of a path, or of its nearest ancestor present in the file (a required key
 * that is missing is reported where its object starts).
 */
export function positionOf(positions: Map<string, number>, path: string): number | undefined {
  for (let at = path; ; ) {
    const found = positions.get(at);
    if (found !== undefined) return found;
    if (at === '') return undefined;
    const cut = Math.max(at.lastIndexOf('.'), at.lastIndexOf('['));
    at = cut === -1 ? '' : at.slice(0, cut);
  }
}

/**
 * How a file warren checks field by field reports the first thing wrong: the field's path
 * and where it is, line and column (a DataError: exit 65).
 */
export function failInFile(text: string, file: string): Fail {
  const positions = jsonPositions(text);
  return (given, problem) => {
    // checkKeys names a key of the top level `.key`.
    const path = given.replace(/^\./, '');
    const offset = positionOf(positions, path);
    const where = offset === undefined ? '' : ` (${lineAndColumn(text, offset)})`;
    return new DataError(`${file}: ${path || '(top level)'}${where}: ${problem}`);
  };
}

/** The text of a file warren was told to read; one it cannot read is a usage error (exit 2). */
export function readFileText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`cannot read the ${what} '${file}' (${code})`, { cause: error, hint: undefined });
  }
}
