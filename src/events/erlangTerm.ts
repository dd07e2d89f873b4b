/**
 * Field tables the event exchange plugin sends as Erlang's text for them: a queue's
 * `arguments` and a connection's `client_properties` come as lists of strings such as
 * `{<<"x-expires">>,signedint,600000}`. Such a list is read back into the table it prints;
 * anything else stays the text it was.
 */
import { setField } from '../broker/fieldTable.js';
import type { EventValue } from './record.js';

type Term =
  | { kind: 'tuple' | 'list'; items: Term[] }
  | { kind: 'binary'; text: string }
  | { kind: 'atom'; name: string }
  | { kind: 'number'; value: number }
  | { kind: 'string'; text: string };

class TermParser {
  pos = 0;
  constructor(private readonly text: string) {}

  private space(): void {
    while (/\s/.test(this.text[this.pos] ?? '')) this.pos += 1;
  }

  private expect(token: string): void {
    this.space();
    if (!this.text.startsWith(token, this.pos)) throw new SyntaxError(`expected ${token}`);
    this.pos += token.length;
  }

  private quoted(quote: string): string {
    this.expect(quote);
    let out = '';
    while (this.pos < this.text.length) {
      const c = this.text[this.pos] as string;
      this.pos += 1;
      if (c === quote) return out;
      if (c === '\\') {
        const next = this.text[this.pos] ?? '';
        this.pos += 1;
        out += next === 'n' ? '\n' : next === 't' ? '\t' : next;
      } else out += c;
    }
    throw new SyntaxError('unterminated quote');
  }

  private sequence(close: string): Term[] {
    const items: Term[] = [];
    this.space();
    if (this.text.startsWith(close, this.pos)) {
      this.pos += close.length;
      return items;
    }
    for (;;) {
      items.push(this.term());
      this.space();
      if (this.text.startsWith(close, this.pos)) {
        this.pos += close.length;
        return items;
      }
      this.expect(',');
    }
  }

  /** `<<"text">>`, `<<"text"/utf8>>`, `<<1,2>>`, `<<"caf",195,169>>`: the bytes, read as UTF-8. */
  private binary(): Term {
    const parts: Buffer[] = [];
    this.space();
    if (this.text.startsWith('>>', this.pos)) {
      this.pos += 2;
      return { kind: 'binary', text: '' };
    }
    for (;;) {
      this.space();
      if (this.text[this.pos] === '"') {
        const text = this.quoted('"');
        const utf8 = this.text.startsWith('/utf8', this.pos);
        if (utf8) this.pos += 5;
        parts.push(Buffer.from(text, utf8 ? 'utf8' : 'latin1'));
      } else {
        const byte = this.number();
        if (!Number.isInteger(byte) || byte < 0 || byte > 255) throw new SyntaxError('not a byte');
        parts.push(Buffer.from([byte]));
      }
      this.space();
      if (this.text.startsWith('>>', this.pos)) {
        this.pos += 2;
        return { kind: 'binary', text: Buffer.concat(parts).toString('utf8') };
      }
      this.expect(',');
    }
  }

  private number(): number {
    this.space();
    const match = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.pos));
    if (!match) throw new SyntaxError('expected a term');
    this.pos += match[0].length;
    return Number(match[0]);
  }

  term(): Term {
    this.space();
    const rest = this.text.slice(this.pos);
    if (rest.startsWith('<<')) {
      this.pos += 2;
      return this.binary();
    }
    if (rest.startsWith('{') || rest.startsWith('[')) {
      this.pos += 1;
      const tuple = rest.startsWith('{');
      return { kind: tuple ? 'tuple' : 'list', items: this.sequence(tuple ? '}' : ']') };
    }
    if (rest.startsWith('"')) return { kind: 'string', text: this.quoted('"') };
    if (rest.startsWith("'")) return { kind: 'atom', name: this.quoted("'") };
    const atom = /^[a-z][A-Za-z0-9_@]*/.exec(rest);
    if (atom) {
      this.pos += atom[0].length;
      return { kind: 'atom', name: atom[0] };
    }
    return { kind: 'number', value: this.number() };
  }

  whole(): Term {
    const term = this.term();
    this.space();
    if (this.pos !== this.text.length) throw new SyntaxError('text after the term');
    return term;
  }
}

/** A term as JSON, where no field type says more: lists as arrays, tuples as arrays too. */
function plainTerm(term: Term): EventValue {
  switch (term.kind) {
    case 'tuple':
    case 'list':
      return term.items.map(plainTerm);
    case 'binary':
    case 'string':
      return term.text;
    case 'atom':
      return term.name === 'true' ? true : term.name === 'false' ? false : term.name;
    case 'number':
      return term.value;
  }
}

/** `{<<"key">>,type,value}`, or undefined when the term is not one. */
function entry(term: Term): [string, string, Term] | undefined {
  if (term.kind !== 'tuple' || term.items.length !== 3) return undefined;
  const [key, type, value] = term.items as [Term, Term, Term];
  if (key.kind !== 'binary' || type.kind !== 'atom') return undefined;
  return [key.text, type.name, value];
}

/** A list of entries as the table it is; undefined when one is not an entry. */
function tableOf(terms: readonly Term[]): { [key: string]: EventValue } | undefined {
  const table: { [key: string]: EventValue } = {};
  for (const term of terms) {
    const found = entry(term);
    if (!found) return undefined;
    setField(table, found[0], typedValue(found[1], found[2]));
  }
  return table;
}

/** A value by its field type: tables and arrays looked into, `void` null, the rest as plain JSON. */
function typedValue(type: string, value: Term): EventValue {
  if (type === 'table' && value.kind === 'list') return tableOf(value.items) ?? plainTerm(value);
  if (type === 'array' && value.kind === 'list') {
    return value.items.map((item) =>
      item.kind === 'tuple' && item.items.length === 2 && item.items[0]?.kind === 'atom'
        ? typedValue(item.items[0].name, item.items[1] as Term)
        : plainTerm(item),
    );
  }
  if (type === 'void') return null;
  return plainTerm(value);
}

/**
 * A list of printed entries (`["{<<\"x-expires\">>,signedint,600000}"]`) as the table they
 * print; undefined for anything else (an empty list too: it says nothing of what it held).
 */
export function printedTable(items: readonly EventValue[]): { [key: string]: EventValue } | undefined {
  if (items.length === 0) return undefined;
  const terms: Term[] = [];
  for (const item of items) {
    if (typeof item !== 'string' || !item.startsWith('{')) return undefined;
    try {
      terms.push(new TermParser(item).whole());
    } catch {
      return undefined;
    }
  }
  return tableOf(terms);
}
