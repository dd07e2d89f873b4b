/**
 * `--match EXPR` over a received message: the fields of a message. The operators, values and
 * paths, and how values compare, are expression.ts's (its head comment has the grammar).
 *
 *   path   = "exchange" | "routingKey" | "redelivered" | "bodySize"
 *          | "properties." NAME        NAME: one of the 13 camelCase property names
 *          | "headers." RAWNAME        RAWNAME: everything up to the operator, dots included
 *          | "headers." quoted step*   a quoted header name, then a path into its value
 *          | "body" step*              no steps: the body as text; steps: into the JSON body
 *
 * A typed header value compares by its value (`{"!":"int64","value":5}` is 5), a typed
 * decimal as a number too (`{"places":2,"digits":12345}` is 123.45 for < <= > >=).
 * Compiled once; per message the body is decoded and parsed as JSON lazily, at most once.
 * A compiled predicate never throws; a malformed expression is a UsageError naming it.
 */
import { isUtf8 } from 'node:buffer';
import type { ReceivedMessage } from '../broker/message.js';
import { PROPERTIES_HINT, unknownProperty } from '../envelope.js';
import {
  ABSENT,
  type Condition,
  compileCondition,
  ExpressionParser,
  type Field,
  isTyped,
  NOT_JSON,
  plainNumber,
  plainText,
  walk,
} from './expression.js';

export type MessagePredicate = (message: ReceivedMessage) => boolean;

const UNPARSED: unique symbol = Symbol('unparsed');

/** One message as the conditions see it; the body's text and JSON are worked out on first use. */
interface Context {
  readonly message: ReceivedMessage;
  utf8: boolean | undefined;
  text: string | undefined;
  json: unknown;
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

/**
 * As plainText, but a typed header value (`{"!":"int64","value":5}`) is its value. Only one
 * level: the value of a typed table is a plain table even when it has a "!" key.
 */
function headerText(value: unknown): string {
  return plainText(isTyped(value) ? value.value : value);
}

function header(context: Context, name: string): unknown {
  const headers = context.message.headers;
  if (!headers || !Object.hasOwn(headers, name)) return ABSENT;
  const value = headers[name];
  return value === undefined ? ABSENT : value;
}

/**
 * As plainNumber, but a typed header value is its value, and a typed decimal
 * (`{"places":2,"digits":12345}`) is the number it stands for (123.45).
 */
function headerNumber(value: unknown): number | undefined {
  if (!isTyped(value)) return plainNumber(value);
  const typed = value.value;
  if (value['!'] === 'decimal' && typeof typed === 'object' && typed !== null) {
    const { places, digits } = typed as { places?: unknown; digits?: unknown };
    if (typeof places === 'number' && typeof digits === 'number') return plainNumber(digits / 10 ** places);
  }
  return plainNumber(typed);
}

type MessageField = Field<Context>;

/** Reads the fields of a message; the rest of the grammar is ExpressionParser's. */
class MessageParser extends ExpressionParser<Context> {
  field(): MessageField {
    const start = this.pos;
    const root = this.name();
    switch (root) {
      case 'exchange':
      case 'routingKey':
      case 'redelivered':
        return this.envelopeField(root, (c) => c.message[root]);
      case 'bodySize':
        return this.envelopeField(root, (c) => c.message.body.length);
      case 'body':
        return this.bodyField(start);
      case 'properties':
        return this.propertiesField();
      case 'headers':
        return this.headersField(start);
      default:
        return this.unknownField(root, ROOTS, FIELDS_HINT);
    }
  }

  /** A field every message has, with no subfields. */
  private envelopeField(root: string, get: (c: Context) => unknown): MessageField {
    this.noSubfields(root);
    return {
      label: root,
      get,
      text: plainText,
      number: plainNumber,
      alwaysPresent: ALWAYS_PRESENT_EXAMPLE[root],
    };
  }

  /** `body`, or `body` and steps into its JSON. */
  private bodyField(start: number): MessageField {
    const keys = this.steps();
    if (keys.length === 0) return this.envelopeField('body', bodyText);
    return {
      label: this.expr.slice(start, this.pos),
      get: (c) => {
        const json = bodyJson(c);
        return json === NOT_JSON ? NOT_JSON : walk(json, keys, false);
      },
      text: plainText,
      number: plainNumber,
    };
  }

  /** `properties.<name>`, `pos` just after `properties`. */
  private propertiesField(): MessageField {
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
      number: plainNumber,
    };
  }

  /** `headers.name` (a bare name takes any character but quotes and spaces) or `headers."name"` and steps. */
  private headersField(start: number): MessageField {
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
        number: headerNumber,
      };
    }
    const nameStart = this.pos;
    while (!this.atEnd() && !this.atOperator()) {
      if (this.peek() === '"' || /\s/.test(this.peek() as string)) this.unexpected();
      this.pos += 1;
    }
    const name = this.expr.slice(nameStart, this.pos);
    if (name === '') this.fail("expected a header name after 'headers.'");
    return { label: `headers.${name}`, get: (c) => header(c, name), text: headerText, number: headerNumber };
  }
}

function compileMessageCondition(expr: string): Condition<Context> {
  return compileCondition(new MessageParser(expr));
}

/** Compiles one `--match` expression; throws UsageError naming the expression if it is malformed. */
export function compileMatch(expr: string): MessagePredicate {
  const condition = compileMessageCondition(expr);
  return (message) => condition(newContext(message));
}

/** Compiles every `--match` given: a message matches when it matches all of them (none: every message). */
export function compileMatches(exprs: readonly string[]): MessagePredicate {
  const conditions = exprs.map(compileMessageCondition);
  if (conditions.length === 0) return () => true;
  if (conditions.length === 1) {
    const only = conditions[0] as Condition<Context>;
    return (message) => only(newContext(message));
  }
  return (message) => {
    const context = newContext(message);
    for (const condition of conditions) if (!condition(context)) return false;
    return true;
  };
}
