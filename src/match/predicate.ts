/**
 * `--match EXPR`: a small predicate language over a received message.
 *
 *   match  = "!" path                  the field is absent
 *          | path                      the field is present
 *          | path op value             a comparison
 *   op     = "=" | "!=" | "~" | "!~"   text equal / not equal / regex finds / regex does not find
 *   value  = the rest of the expression, as written (may be empty)
 *   path   = "exchange" | "routingKey" | "redelivered" | "bodySize"
 *          | "properties." NAME        NAME: one of the 13 camelCase property names
 *          | "headers." RAWNAME        RAWNAME: everything up to the operator, dots included
 *          | "headers." quoted step*   a quoted header name, then a path into its value
 *          | "body" step*              no steps: the body as text; steps: into the JSON body
 *   step   = "." name | "." quoted | "[" index "]"
 *   name   = 1*(any character but . [ ] " = ! ~ and white space)
 *   quoted = '"' *(any character but " and \, or "\" followed by any character) '"'
 *   index  = "0" | [1-9] *[0-9]
 *
 * Compiled once; per message the body is decoded and parsed as JSON lazily, at most once.
 * A compiled predicate never throws; a malformed expression is a UsageError naming it.
 */
import { isUtf8 } from 'node:buffer';
import type { ReceivedMessage } from '../broker/message.js';
import { PROPERTIES_HINT, unknownProperty } from '../envelope.js';
import { UsageError } from '../errors.js';

export type MessagePredicate = (message: ReceivedMessage) => boolean;

/** The field is not there (no such header, property or JSON key). */
const ABSENT: unique symbol = Symbol('absent');
/** A `body.PATH` field of a body that is not JSON: every condition on it is false. */
const NOT_JSON: unique symbol = Symbol('notJson');
const UNPARSED: unique symbol = Symbol('unparsed');

/** One message as the conditions see it; the body's text and JSON are worked out on first use. */
interface Context {
  readonly message: ReceivedMessage;
  utf8: boolean | undefined;
  text: string | undefined;
  json: unknown;
}

type Condition = (context: Context) => boolean;
type Getter = (context: Context) => unknown;

interface Field {
  get: Getter;
  /** Text form of a present value. */
  text: (value: unknown) => string;
  /** Fields that every message has cannot be tested for presence. */
  alwaysPresent: boolean;
}

const ROOTS = ['exchange', 'routingKey', 'redelivered', 'bodySize', 'body', 'properties', 'headers'];
const FIELDS_HINT =
  'fields: exchange, routingKey, redelivered, bodySize, body, body.PATH, properties.NAME, headers.NAME';
const ALWAYS_PRESENT_EXAMPLE: Record<string, string> = {
  exchange: 'exchange=orders',
  routingKey: 'routingKey~^order\\.',
  redelivered: 'redelivered=true',
  bodySize: 'bodySize=0',
  body: 'body~error',
};
const INDEX = /^(?:0|[1-9][0-9]*)$/;
const SPACE = /\s/;

function newContext(message: ReceivedMessage): Context {
  return { message, utf8: undefined, text: undefined, json: UNPARSED };
}

function isUtf8Body(context: Context): boolean {
  if (context.utf8 === undefined) context.utf8 = isUtf8(context.message.body);
  return context.utf8;
}

/** The body as `--format ndjson` shows it: its text when it is UTF-8, else base64. */
function bodyText(context: Context): string {
  if (context.text === undefined) {
    context.text = context.message.body.toString(isUtf8Body(context) ? 'utf8' : 'base64');
  }
  return context.text;
}

function bodyJson(context: Context): unknown {
  if (context.json === UNPARSED) {
    context.json = NOT_JSON;
    if (context.message.body.length > 0 && isUtf8Body(context)) {
      const text = bodyText(context);
      try {
        context.json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
      } catch {
        // Not JSON: every body.PATH condition is false.
      }
    }
  }
  return context.json;
}

function stringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Strings as they are, numbers, booleans and null as JSON text, objects and arrays as compact JSON. */
function plainText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    default:
      return value === null ? 'null' : stringify(value);
  }
}

function isTyped(value: unknown): value is { '!': unknown; value: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, '!');
}

/**
 * As plainText, but a typed header value (`{"!":"int64","value":5}`) is its value. Only one
 * level: the value of a typed table is a plain table even when it has a "!" key.
 */
function headerText(value: unknown): string {
  return plainText(isTyped(value) ? value.value : value);
}

/**
 * Follows keys into a JSON value. In a header value (`typed`), a typed table is looked into
 * and any other typed value is a leaf.
 */
function walk(start: unknown, keys: readonly string[], typed: boolean): unknown {
  let value = start;
  for (const key of keys) {
    if (typed && isTyped(value)) {
      if (value['!'] !== 'table') return ABSENT;
      value = value.value;
    }
    if (Array.isArray(value)) {
      if (!INDEX.test(key)) return ABSENT;
      const index = Number(key);
      if (index >= value.length) return ABSENT;
      value = value[index];
    } else if (typeof value === 'object' && value !== null) {
      if (!Object.hasOwn(value, key)) return ABSENT;
      value = (value as Record<string, unknown>)[key];
    } else {
      return ABSENT;
    }
  }
  return value === undefined ? ABSENT : value;
}

function header(context: Context, name: string): unknown {
  const headers = context.message.headers;
  if (!headers || !Object.hasOwn(headers, name)) return ABSENT;
  const value = headers[name];
  return value === undefined ? ABSENT : value;
}

class Parser {
  pos = 0;

  constructor(readonly expr: string) {}

  fail(problem: string, hint?: string): never {
    throw new UsageError(`--match '${this.expr}': ${problem}`, hint === undefined ? {} : { hint });
  }

  peek(): string | undefined {
    return this.expr[this.pos];
  }

  atEnd(): boolean {
    return this.pos >= this.expr.length;
  }

  atOperator(): boolean {
    const c = this.peek();
    return c === '=' || c === '!' || c === '~';
  }

  /** Complains about the character at `pos`, which does not fit where it is. */
  unexpected(): never {
    const c = this.peek() as string;
    const at = `at position ${this.pos + 1}`;
    if (SPACE.test(c)) {
      this.fail(
        `unexpected space ${at}: write no spaces around the operator, and quote a name with spaces (headers."a b")`,
      );
    }
    if (c === '"') this.fail(`unexpected '"' ${at}: quote a whole name, as in body."a.b" or headers."a=b"`);
    this.fail(`unexpected '${c}' ${at}`);
  }

  /** A name up to the next . [ ] " = ! ~ or space; may be empty. */
  name(): string {
    const start = this.pos;
    while (!this.atEnd()) {
      const c = this.peek() as string;
      if (c === '.' || c === '[' || c === ']' || c === '"' || this.atOperator() || SPACE.test(c)) break;
      this.pos += 1;
    }
    return this.expr.slice(start, this.pos);
  }

  /** `"…"` at `pos`, with `\` escaping the next character. */
  quoted(): string {
    const open = this.pos;
    this.pos += 1;
    let out = '';
    while (!this.atEnd()) {
      const c = this.peek() as string;
      this.pos += 1;
      if (c === '"') return out;
      if (c === '\\') {
        if (this.atEnd()) break;
        out += this.peek();
        this.pos += 1;
      } else {
        out += c;
      }
    }
    return this.fail(`the quote at position ${open + 1} is never closed`);
  }

  /** `.name`, `."quoted"` and `[index]` steps, up to the operator or the end. */
  steps(): string[] {
    const keys: string[] = [];
    while (!this.atEnd() && !this.atOperator()) {
      const c = this.peek();
      if (c === '.') {
        this.pos += 1;
        if (this.peek() === '"') keys.push(this.quoted());
        else {
          const name = this.name();
          if (name === '') this.fail(`expected a name after '.' at position ${this.pos}`);
          keys.push(name);
        }
      } else if (c === '[') {
        const close = this.expr.indexOf(']', this.pos);
        const index = close === -1 ? '' : this.expr.slice(this.pos + 1, close);
        if (!INDEX.test(index)) {
          this.fail(`expected an array index such as [0] at position ${this.pos + 1}`);
        }
        keys.push(index);
        this.pos = close + 1;
      } else {
        this.unexpected();
      }
    }
    return keys;
  }

  /** A word naming the field: letters up to the first . [ " operator or space. */
  root(): string {
    return this.name();
  }

  /** After a field with no subfields: only an operator or the end may follow. */
  noSubfields(name: string): void {
    if (this.peek() === '.' || this.peek() === '[') {
      const rest = this.expr.slice(this.pos).split(/[=!~]/, 1)[0] ?? '';
      this.fail(`'${name}' has no subfields ('${name}${rest}')`);
    }
  }

  /** The field an expression starts with, read from `pos`, with the label it is named by. */
  field(): Field & { label: string } {
    const start = this.pos;
    const root = this.root();
    switch (root) {
      case 'exchange':
      case 'routingKey':
      case 'redelivered':
        this.noSubfields(root);
        return {
          label: root,
          get: (c) => c.message[root],
          text: plainText,
          alwaysPresent: true,
        };
      case 'bodySize':
        this.noSubfields(root);
        return { label: root, get: (c) => c.message.body.length, text: plainText, alwaysPresent: true };
      case 'body':
        return this.bodyField(start);
      case 'properties':
        return this.propertiesField();
      case 'headers':
        return this.headersField(start);
      default:
        return this.unknownField(root);
    }
  }

  /** `body`, or `body` and steps into its JSON. */
  private bodyField(start: number): Field & { label: string } {
    const keys = this.steps();
    if (keys.length === 0) return { label: 'body', get: bodyText, text: plainText, alwaysPresent: true };
    return {
      label: this.expr.slice(start, this.pos),
      get: (c) => {
        const json = bodyJson(c);
        return json === NOT_JSON ? NOT_JSON : walk(json, keys, false);
      },
      text: plainText,
      alwaysPresent: false,
    };
  }

  /** `properties.<name>`, `pos` just after `properties`. */
  private propertiesField(): Field & { label: string } {
    if (this.peek() !== '.')
      this.fail("expected '.' and a property name after 'properties'", PROPERTIES_HINT);
    this.pos += 1;
    const name = this.name();
    if (name === '') this.fail("expected a property name after 'properties.'", PROPERTIES_HINT);
    const guess = unknownProperty(name);
    if (guess !== undefined) this.fail(`unknown property '${name}'${guess}`, PROPERTIES_HINT);
    this.noSubfields(`properties.${name}`);
    return {
      label: `properties.${name}`,
      get: (c) => {
        const value = (c.message.properties as Record<string, unknown>)[name];
        return value === undefined || value === null ? ABSENT : value;
      },
      text: plainText,
      alwaysPresent: false,
    };
  }

  /** `headers.name` (a bare name takes any character but quotes and spaces) or `headers."name"` and steps. */
  private headersField(start: number): Field & { label: string } {
    if (this.peek() !== '.') this.fail("expected '.' and a header name after 'headers'");
    this.pos += 1;
    if (this.peek() === '"') {
      const name = this.quoted();
      const keys = this.steps();
      return {
        label: this.expr.slice(start, this.pos),
        get:
          keys.length === 0
            ? (c) => header(c, name)
            : (c) => {
                const value = header(c, name);
                return value === ABSENT ? ABSENT : walk(value, keys, true);
              },
        text: headerText,
        alwaysPresent: false,
      };
    }
    const nameStart = this.pos;
    while (!this.atEnd() && !this.atOperator()) {
      if (this.peek() === '"' || SPACE.test(this.peek() as string)) this.unexpected();
      this.pos += 1;
    }
    const name = this.expr.slice(nameStart, this.pos);
    if (name === '') this.fail("expected a header name after 'headers.'");
    return {
      label: `headers.${name}`,
      get: (c) => header(c, name),
      text: headerText,
      alwaysPresent: false,
    };
  }

  /** No field is named `root`: says what was wrong, with the closest root if only its case differs. */
  private unknownField(root: string): never {
    if (root === '') {
      if (this.atEnd()) this.fail("expected a field after '!'");
      this.unexpected();
    }
    const guess = ROOTS.find((r) => r.toLowerCase() === root.toLowerCase());
    return this.fail(`unknown field '${root}'${guess ? ` (did you mean '${guess}'?)` : ''}`, FIELDS_HINT);
  }
}

const OPERATOR = /^(?:!=|!~|=|~)/;

function compileCondition(expr: string): Condition {
  const parser: Parser = new Parser(expr);
  if (expr === '' || !/\S/.test(expr)) parser.fail('empty expression');
  const leading = OPERATOR.exec(expr);
  if (leading) parser.fail(`operator '${leading[0]}' without a field before it`);

  const absent = expr.startsWith('!');
  if (absent) parser.pos = 1;
  const field = parser.field();
  if (!parser.atEnd() && !parser.atOperator()) parser.unexpected();
  const { get, text } = field;

  if (parser.atEnd()) {
    if (field.alwaysPresent) {
      parser.fail(
        `'${field.label}' is always present: compare it instead, as in ${ALWAYS_PRESENT_EXAMPLE[field.label]}`,
      );
    }
    if (absent) return (c) => get(c) === ABSENT;
    return (c) => {
      const value = get(c);
      return value !== ABSENT && value !== NOT_JSON;
    };
  }

  const op = OPERATOR.exec(expr.slice(parser.pos))?.[0];
  if (op === undefined) {
    // Only a '!' not followed by '=' or '~' gets here.
    parser.fail(
      `'!' at position ${parser.pos + 1} must be followed by '=' or '~' (quote a name that has '!', '=' or '~' in it: headers."a!b")`,
    );
  }
  if (absent) {
    parser.fail(
      "'!' before a field means 'absent' and takes no operator: use != or !~ to negate a comparison",
    );
  }
  const value = expr.slice(parser.pos + op.length);

  if (op === '=' || op === '!=') {
    if (value.startsWith('=') || value.startsWith('~')) {
      parser.fail(
        `'${op}${value[0]}' is not an operator: use =, !=, ~ or !~ (to match a value that starts with '${value[0]}', use ~^${value[0] === '~' ? '~' : '='}…)`,
      );
    }
    if (op === '=') {
      return (c) => {
        const v = get(c);
        return v !== ABSENT && v !== NOT_JSON && text(v) === value;
      };
    }
    return (c) => {
      const v = get(c);
      if (v === NOT_JSON) return false;
      return v === ABSENT || text(v) !== value;
    };
  }

  let regex: RegExp;
  try {
    regex = new RegExp(value);
  } catch (error) {
    const message = (error as Error).message;
    const reason = message.slice(message.lastIndexOf(': ') + 2) || message;
    parser.fail(`invalid regular expression: ${reason}`);
  }
  if (op === '~') {
    return (c) => {
      const v = get(c);
      return v !== ABSENT && v !== NOT_JSON && regex.test(text(v));
    };
  }
  return (c) => {
    const v = get(c);
    if (v === NOT_JSON) return false;
    return v === ABSENT || !regex.test(text(v));
  };
}

/** Compiles one `--match` expression; throws UsageError naming the expression if it is malformed. */
export function compileMatch(expr: string): MessagePredicate {
  const condition = compileCondition(expr);
  return (message) => condition(newContext(message));
}

/** Compiles every `--match` given: a message matches when it matches all of them (none: every message). */
export function compileMatches(exprs: readonly string[]): MessagePredicate {
  const conditions = exprs.map(compileCondition);
  if (conditions.length === 0) return () => true;
  if (conditions.length === 1) {
    const only = conditions[0] as Condition;
    return (message) => only(newContext(message));
  }
  return (message) => {
    const context = newContext(message);
    for (const condition of conditions) if (!condition(context)) return false;
    return true;
  };
}
