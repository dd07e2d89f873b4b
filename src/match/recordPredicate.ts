/**
 * `--match EXPR` over plain JSON records, such as the objects `warren ls queues` prints
 * (`{"name":…,"arguments":{…},"messages":…,"consumers":…}`). Same language as `tail --match`
 * (operators, values and comparisons: expression.ts); a path is the record's own keys:
 *
 *   path   = (name | quoted) step*      a key of the record, then steps into its value
 *
 *   messages>1000                 consumers=0              name~^orders\.
 *   arguments."x-queue-type"=quorum   arguments.x-max-length>1000   !arguments.x-expires
 *
 * - `=`, `!=`, `~`, `!~` compare text: strings as they are, numbers, booleans and null as JSON
 *   writes them (`consumers=0`, `durable=true`), objects and arrays as compact JSON.
 * - `<`, `<=`, `>`, `>=` compare numbers: a JSON number or text that is a decimal number;
 *   any other value (and an absent one) makes them false.
 * - `FIELD` is true when the key is there (a null value is there: test it with `FIELD=null`),
 *   `!FIELD` when it is not; `!=` and `!~` are also true when it is not.
 *
 * API:
 *   compileRecordPredicate(expressions, known?) → (record: object) => boolean
 * All expressions must hold (none: every record). With `known`, the first step of every path
 * must be one of those names, else a UsageError lists them (a typo would otherwise quietly
 * match nothing). Compiling throws a UsageError (exit 2) naming the expression
 * (`--match 'messages>lots': …`); the returned predicate never throws on a JSON value.
 */
import {
  type Condition,
  compileCondition,
  ExpressionParser,
  type Field,
  plainNumber,
  plainText,
  walk,
} from './expression.js';

export type RecordPredicate = (record: object) => boolean;

/** Reads a path of keys into a record, checking its first key against `known` when given. */
class RecordParser extends ExpressionParser<object> {
  constructor(
    expr: string,
    private readonly known: readonly string[] | undefined,
  ) {
    super(expr);
  }

  field(): Field<object> {
    const start = this.pos;
    const first = this.peek() === '"' ? this.quoted() : this.name();
    if (this.pos === start) this.unknownField('', [], '');
    if (this.known !== undefined && !this.known.includes(first)) {
      this.unknownField(first, this.known, `fields: ${this.known.join(', ')}`);
    }
    const keys = [first, ...this.steps()];
    return {
      label: this.expr.slice(start, this.pos),
      get: (record) => walk(record, keys, false),
      text: plainText,
      number: plainNumber,
    };
  }
}

/**
 * Compiles `--match` expressions over records: a record matches when every expression holds.
 * `known`: the record's field names, to refuse a path whose first step is none of them.
 */
export function compileRecordPredicate(
  expressions: readonly string[],
  known?: readonly string[],
): RecordPredicate {
  const conditions: Condition<object>[] = expressions.map((expr) =>
    compileCondition(new RecordParser(expr, known)),
  );
  return (record) => {
    for (const condition of conditions) if (!condition(record)) return false;
    return true;
  };
}
