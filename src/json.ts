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
  const reader = new JsonSyntaxReader(text, unit);
  try {
    reader.document();
    return undefined;
  } catch (error) {
    if (!(error instanceof SyntaxStop)) throw error;
    return { offset: reader.at, problem: error.problem };
  }
}

/** What JsonSyntaxReader throws at the first thing wrong; `at` is then where. */
class SyntaxStop {
  constructor(readonly problem: string) {}
}

/** jsonSyntaxError's reader: `at` moves through the text; each method throws SyntaxStop. */
class JsonSyntaxReader {
  at = 0;
  /** The closing bracket of each array or object open around `at`. */
  private readonly open: string[] = [];

  constructor(
    private readonly text: string,
    private readonly unit: string,
  ) {}

  document(): void {
    const { text } = this;
    this.value();
    // After each value: the next item of the innermost open array or object, or its end.
    while (this.open.length > 0) {
      const close = this.open.at(-1) as string;
      this.space();
      if (text[this.at] === ',') {
        this.at += 1;
        if (close === '}') this.key();
        this.value();
      } else if (text[this.at] === close) {
        this.at += 1;
        this.open.pop();
      } else this.expect(`',' or '${close}'`);
    }
    this.space();
    if (this.at < text.length) throw new SyntaxStop('unexpected text after the end');
  }

  private space(): void {
    const { text } = this;
    while (this.at < text.length && ' \t\n\r'.includes(text[this.at] as string)) this.at += 1;
  }

  private expect(what: string): never {
    if (this.at >= this.text.length) throw new SyntaxStop(`the ${this.unit} ends where ${what} should be`);
    throw new SyntaxStop(`expected ${what}`);
  }

  private string(): void {
    const { text } = this;
    this.at += 1;
    while (this.at < text.length && text[this.at] !== '"') {
      if (text.charCodeAt(this.at) < 0x20)
        throw new SyntaxStop('a string may not hold a line break or control character');
      if (text[this.at] === '\\') {
        this.at += 1;
        if (text[this.at] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(this.at + 1, this.at + 5)))
            throw new SyntaxStop('\\u needs 4 hex digits');
          this.at += 4;
        } else if (!'"\\/bfnrt'.includes(text[this.at] ?? 'x'))
          throw new SyntaxStop('unknown escape in a string');
      }
      this.at += 1;
    }
    if (this.at >= text.length) throw new SyntaxStop('a string is not closed');
    this.at += 1;
  }

  private key(): void {
    this.space();
    if (this.text[this.at] !== '"') this.expect('a key in double quotes');
    this.string();
    this.space();
    if (this.text[this.at] !== ':') this.expect("':' after the key");
    this.at += 1;
  }

  /** Reads one value; for an array or object, only up to its first item (or its end). */
  private value(): void {
    const { text } = this;
    this.space();
    const c = text[this.at];
    if (c === '{' || c === '[') {
      if (this.open.length >= MAX_JSON_DEPTH) throw new SyntaxStop(TOO_DEEP);
      const close = c === '{' ? '}' : ']';
      this.at += 1;
      this.space();
      if (text[this.at] === close) {
        this.at += 1;
        return;
      }
      this.open.push(close);
      if (close === '}') this.key();
      this.value();
    } else if (c === '"') this.string();
    else {
      const literal = /^(true|false|null|-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?)/.exec(
        text.slice(this.at, this.at + 400),
      );
      if (!literal) this.expect('a value (text goes in double quotes)');
      else this.at += literal[0].length;
    }
  }
}

/** `line L, column C` of a UTF-16 offset in text. */
export function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  return `line ${before.split('\n').length}, column ${offset - before.lastIndexOf('\n')}`;
}
