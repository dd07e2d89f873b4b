/**
 * The `--match` expression language, shared by the predicate over messages (predicate.ts)
 * and the one over plain JSON records (recordPredicate.ts): operators, values, the steps of a
 * path, and how a field's value is compared. Each of those supplies only its fields.
 *
 *   match  = "!" path                  the field is absent
 *          | path                      the field is present
 *          | path op value             a comparison
 *   op     = "=" | "!="                text equal / not equal
 *          | "~" | "!~"                regex finds / regex does not find
 *          | "<" | "<=" | ">" | ">="   numeric comparison
 *   value  = the rest of the expression, as written (may be empty; a number after < <= > >=)
 *   step   = "." name | "." quoted | "[" index "]"
 *   name   = 1*(any character but . [ ] " = ! ~ < > and white space)
 *   quoted = '"' *(any character but " and \, or "\" followed by any character) '"'
 *   index  = "0" | [1-9] *[0-9]
 *   number = ["+" | "-"] (1*digit ["." *digit] | "." 1*digit) [("e" | "E") ["+" | "-"] 1*digit]
 *
 * Operators are read longest first: `a<=1` is `<=`, `a<1` is `<`. A text comparison whose
 * value starts with an operator character (`a==x`, `a=~x`, `a=<1`, `a!=>1`) is refused as a
 * likely typo; a regex matches such a value (`a~^<1$`).
 *
 * A numeric comparison is true when the field's value is a number and so is the value after
 * the operator: a JSON number, or text that is a finite decimal `number` as above (a header
 * `'12'`, the expiration property `'60000'`). Anything else (absent, text that is no number,
 * true/false/null, an object) makes it false, so `a<1` and `a>=1` can both be false. The value
 * after the operator must be a finite decimal number, or the expression is a UsageError.
 * Numbers are doubles: integers beyond 2^53 lose precision.
 *
 * Compiled once into a closure; a compiled condition never throws.
 */
import { UsageError } from '../errors.js';

/** The field is not there (no such header, property or key). */
export const ABSENT: unique symbol = Symbol('absent');
/** A `body.PATH` field of a body that is not JSON: every condition on it is false, negated ones too. */
export const NOT_JSON: unique symbol = Symbol('notJson');

/** One compiled expression, over whatever a predicate tests (a message's context, a record). */
export type Condition<C> = (subject: C) => boolean;

/** A field an expression names, as its predicate reads it. */
export interface Field<C> {
  /** How the expression wrote it, for errors. */
  label: string;
  /** Its value, ABSENT or NOT_JSON. */
  get: (subject: C) => unknown;
  /** Text form of a present value, for =, !=, ~ and !~. */
  text: (value: unknown) => string;
  /** Numeric form of a present value for < <= > >=, undefined when it is not a number. */
  number: (value: unknown) => number | undefined;
  /** Set for a field every subject has (it cannot be tested for presence): a comparison to suggest. */
  alwaysPresent?: string;
}

const INDEX = /^(?:0|[1-9][0-9]*)$/;
const SPACE = /\s/;
const DECIMAL = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
/** Longest first, so that `<=` is not read as `<` and a value starting with `=`. */
const OPERATOR = /^(?:!=|!~|<=|>=|=|~|<|>)/;
const OPERATOR_CHARACTER = /[=!~<>]/;
const NUMBER_EXAMPLES = 'such as 100, -1.5 or 2e3';

function stringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Strings as they are, numbers, booleans and null as JSON text, objects and arrays as compact JSON. */
export function plainText(value: unknown): string {
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

/** `text` as a number when it is a finite decimal number (no spaces, hex, NaN or Infinity). */
export function decimalNumber(text: string): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const number = Number(text);
  return Number.isFinite(number) ? number : undefined;
}

/** A finite number, or text that is a decimal number, as a number; anything else undefined. */
export function plainNumber(value: unknown): number | undefined {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? value : undefined;
    case 'bigint': {
      const number = Number(value);
      return Number.isFinite(number) ? number : undefined;
    }
    case 'string':
      return decimalNumber(value);
    default:
      return undefined;
  }
}

export function isTyped(value: unknown): value is { '!': unknown; value: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, '!');
}

/**
 * Follows keys into a JSON value. In a header value (`typed`), a typed table is looked into
 * and any other typed value is a leaf.
 */
export function walk(start: unknown, keys: readonly string[], typed: boolean): unknown {
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

/** Reads one expression; a subclass knows the fields, this class the rest of the grammar. */
export abstract class ExpressionParser<C> {
  pos = 0;

  constructor(readonly expr: string) {}

  /** The field the expression names, read from `pos` (after any leading '!'). */
  abstract field(): Field<C>;

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
    return OPERATOR_CHARACTER.test(this.peek() ?? '');
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

  /** A name up to the next . [ ] " operator character or space; may be empty. */
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

  /** After a field with no subfields: only an operator or the end may follow. */
  noSubfields(name: string): void {
    if (this.peek() === '.' || this.peek() === '[') {
      const rest = this.expr.slice(this.pos).split(OPERATOR_CHARACTER, 1)[0] ?? '';
      this.fail(`'${name}' has no subfields ('${name}${rest}')`);
    }
  }

  /** No field is named `root`: says what was wrong, with the known name if only its case differs. */
  unknownField(root: string, known: readonly string[], hint: string): never {
    if (root === '') {
      if (this.atEnd()) this.fail("expected a field after '!'");
      this.unexpected();
    }
    const guess = known.find((k) => k.toLowerCase() === root.toLowerCase());
    return this.fail(`unknown field '${root}'${guess ? ` (did you mean '${guess}'?)` : ''}`, hint);
  }
}

/** True when `value` is a present value (not ABSENT, not a field of a body that is not JSON). */
function present(value: unknown): boolean {
  return value !== ABSENT && value !== NOT_JSON;
}

/** Compiles the expression `parser` holds; throws a UsageError naming it if it is malformed. */
export function compileCondition<C>(parser: ExpressionParser<C>): Condition<C> {
  const expr = parser.expr;
  if (expr === '' || !/\S/.test(expr)) parser.fail('empty expression');
  const leading = OPERATOR.exec(expr);
  if (leading) parser.fail(`operator '${leading[0]}' without a field before it`);

  const absent = expr.startsWith('!');
  if (absent) parser.pos = 1;
  const field = parser.field();
  if (!parser.atEnd() && !parser.atOperator()) parser.unexpected();
  const { get } = field;

  if (parser.atEnd()) {
    if (field.alwaysPresent !== undefined) {
      parser.fail(`'${field.label}' is always present: compare it instead, as in ${field.alwaysPresent}`);
    }
    if (absent) return (c) => get(c) === ABSENT;
    return (c) => present(get(c));
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
  parser.pos += op.length;
  const value = expr.slice(parser.pos);
  switch (op) {
    case '=':
    case '!=':
      return textCondition(parser, field, op, value);
    case '~':
    case '!~':
      return regexCondition(parser, field, op, value);
    default:
      return numberCondition(parser, field, op, value);
  }
}

function textCondition<C>(
  parser: ExpressionParser<C>,
  field: Field<C>,
  op: string,
  value: string,
): Condition<C> {
  const first = value[0];
  if (first !== undefined && OPERATOR_CHARACTER.test(first) && first !== '!') {
    const meant =
      op === '=' && (first === '<' || first === '>')
        ? `did you mean '${first}='?`
        : 'use =, !=, ~, !~, <, <=, > or >=';
    parser.fail(
      `'${op}${first}' is not an operator: ${meant} (to match a value that starts with '${first}', use ~^${first}…)`,
    );
  }
  const { get, text } = field;
  if (op === '=') {
    return (c) => {
      const v = get(c);
      return present(v) && text(v) === value;
    };
  }
  return (c) => {
    const v = get(c);
    if (v === NOT_JSON) return false;
    return v === ABSENT || text(v) !== value;
  };
}

function regexCondition<C>(
  parser: ExpressionParser<C>,
  field: Field<C>,
  op: string,
  value: string,
): Condition<C> {
  let regex: RegExp;
  try {
    regex = new RegExp(value);
  } catch (error) {
    const message = (error as Error).message;
    const reason = message.slice(message.lastIndexOf(': ') + 2) || message;
    parser.fail(`invalid regular expression: ${reason}`);
  }
  const { get, text } = field;
  if (op === '~') {
    return (c) => {
      const v = get(c);
      return present(v) && regex.test(text(v));
    };
  }
  return (c) => {
    const v = get(c);
    if (v === NOT_JSON) return false;
    return v === ABSENT || !regex.test(text(v));
  };
}

const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function numberCondition<C>(
  parser: ExpressionParser<C>,
  field: Field<C>,
  op: string,
  value: string,
): Condition<C> {
  const space = value.search(SPACE);
  if (space !== -1) {
    parser.pos += space;
    parser.unexpected();
  }
  if (value === '') parser.fail(`expected a number after '${op}', ${NUMBER_EXAMPLES}`);
  const bound = decimalNumber(value);
  if (bound === undefined) {
    const problem = DECIMAL.test(value) ? `'${value}' is too large a number` : `'${value}' is not a number`;
    parser.fail(`${problem}: '${op}' compares with a finite decimal number, ${NUMBER_EXAMPLES}`);
  }
  const { get, number } = field;
  const compare = COMPARE[op] as (a: number, b: number) => boolean;
  return (c) => {
    const v = get(c);
    if (!present(v)) return false;
    const n = number(v);
    return n !== undefined && compare(n, bound);
  };
}
