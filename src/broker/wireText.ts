/**
 * Text that cannot go on the wire as it is. AMQP strings are UTF-8, and a JavaScript string
 * may hold a lone surrogate (half of a UTF-16 pair, as JSON's `"\ud800"` makes), which UTF-8
 * has no bytes for: the encoder would silently write U+FFFD instead, and the broker would
 * route, store or return a name nobody gave.
 */

declare global {
  interface String {
    /** ES2024 (Node 20 has it): false when the string holds a lone surrogate. */
    isWellFormed(): boolean;
  }
}

// With the u flag a pair is one code point outside this range: only a lone half matches.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Why a string cannot be sent as it is (`holds a lone surrogate …`), or undefined when it can. */
export function unsendableText(text: string): string | undefined {
  // isWellFormed is the fast check (every field of every message goes through here).
  if (text.isWellFormed()) return undefined;
  const found = LONE_SURROGATE.exec(text);
  if (!found) return undefined;
  const unit = found[0].charCodeAt(0).toString(16);
  return `holds a lone surrogate (\\u${unit} at character ${found.index + 1}), which UTF-8 cannot carry (it would be sent as U+FFFD)`;
}
