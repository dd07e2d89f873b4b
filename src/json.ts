/**
 * The one way warren reads JSON it is given (config and topology files, NDJSON lines,
 * `key:=JSON` flags): JSON.parse, with nesting bounded. JSON.parse itself takes any depth,
 * but what then walks the value (the header encoders, JSON.stringify when it is printed)
 * recurses, and a few thousand levels overflow the stack.
 */

/** How deep JSON input may nest: far beyond any real header or config, far below the stack's limit. */
export const MAX_JSON_DEPTH = 256;

/** The problem JsonTextError names for JSON nested too deep. */
export const TOO_DEEP = `nested deeper than ${MAX_JSON_DEPTH} levels`;

/** Text that is not JSON, or nests too deep: where (a UTF-16 offset) and what is wrong. */
export class JsonTextError extends Error {
  constructor(
    readonly offset: number | undefined,
    readonly problem: string,
  ) {
    super(offset === undefined ? problem : `${problem} (at offset ${offset})`);
  }
}

/**
 * Parses JSON text nested at most MAX_JSON_DEPTH deep; else throws JsonTextError. `unit`
 * names the text in problems ("the line ends where…").
 */
export function parseJson(text: string, unit = 'file'): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const where = jsonSyntaxError(text, unit);
    throw new JsonTextError(where?.offset, where?.problem ?? (error as Error).message);
  }
  // Every level takes two characters at least: short text cannot be too deep.
  if (text.length > 2 * MAX_JSON_DEPTH && nestsTooDeep(value)) {
    const where = jsonSyntaxError(text, unit);
    throw new JsonTextError(where?.offset, where?.problem ?? TOO_DEEP);
  }
  return value;
}

function nestsTooDeep(root: unknown): boolean {
  // Only arrays and objects are stacked, each with its depth: the walk of a typical
  // envelope line (a few small objects, a long body string) costs next to nothing.
  const open: object[] = [];
  const depths: number[] = [];
  if (root !== null && typeof root === 'object') {
    open.push(root);
    depths.push(1);
  }
  for (let value = open.pop(); value !== undefined; value = open.pop()) {
    const depth = depths.pop() as number;
    if (depth > MAX_JSON_DEPTH) return true;
    const record = value as Record<string, unknown>;
    // for…in: JSON.parse gives plain objects and arrays; no array of values is made.
    for (const key in record) {
      const item = record[key];
      if (item !== null && typeof item === 'object') {
        open.push(item);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

/**
 * Where JSON text first goes wrong, and how, found by reading it: JSON.parse's own message
 * quotes the text around the error (a password, in a config file) and gives no position
 * for some errors. Nesting deeper than MAX_JSON_DEPTH is wrong here too. Reads without
 * recursion, so that no depth of brackets can overflow the stack.
 */
export function jsonSyntaxError(
  text: string,
  unit = 'file',
): { offset: number; problem: string } | undefined {
  let at = 0;
  class Stop {
    constructor(readonly problem: string) {}
  }
  const space = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at] as string)) at += 1;
  };
  const expect = (what: string): never => {
    if (at >= text.length) throw new Stop(`the ${unit} ends where ${what} should be`);
    throw new Stop(`expected ${what}`);
  };
  const string = () => {
    at += 1;
    while (at < text.length && text[at] !== '"') {
      if (text.charCodeAt(at) < 0x20)
        throw new Stop('a string may not hold a line break or control character');
      if (text[at] === '\\') {
        at += 1;
        if (text[at] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(at + 1, at + 5))) throw new Stop('\\u needs 4 hex digits');
          at += 4;
        } else if (!'"\\/bfnrt'.includes(text[at] ?? 'x')) throw new Stop('unknown escape in a string');
      }
      at += 1;
    }
    if (at >= text.length) throw new Stop('a string is not closed');
    at += 1;
  };
  const key = () => {
    space();
    if (text[at] !== '"') expect('a key in double quotes');
    string();
    space();
    if (text[at] !== ':') expect("':' after the key");
    at += 1;
  };
  /** The closing bracket of each array or object open around `at`. */
  const open: string[] = [];
  /** Reads one value; for an array or object, only up to its first item (or its end). */
  const value = (): void => {
    space();
    const c = text[at];
    if (c === '{' || c === '[') {
      if (open.length >= MAX_JSON_DEPTH) throw new Stop(TOO_DEEP);
      const close = c === '{' ? '}' : ']';
      at += 1;
      space();
      if (text[at] === close) {
        at += 1;
        return;
      }
      open.push(close);
      if (close === '}') key();
      value();
    } else if (c === '"') string();
    else {
      const literal = /^(true|false|null|-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?)/.exec(
        text.slice(at, at + 400),
      );
      if (!literal) expect('a value (text goes in double quotes)');
      else at += literal[0].length;
    }
  };
  try {
    value();
    // After each value: the next item of the innermost open array or object, or its end.
    while (open.length > 0) {
      const close = open.at(-1) as string;
      space();
      if (text[at] === ',') {
        at += 1;
        if (close === '}') key();
        value();
      } else if (text[at] === close) {
        at += 1;
        open.pop();
      } else expect(`',' or '${close}'`);
    }
    space();
    if (at < text.length) throw new Stop('unexpected text after the end');
    return undefined;
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    return { offset: at, problem: error.problem };
  }
}

/** `line L, column C` of a UTF-16 offset in text. */
export function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  return `line ${before.split('\n').length}, column ${offset - before.lastIndexOf('\n')}`;
}
