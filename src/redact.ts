/**
 * Every line warren prints for a person passes through `redact`: the password of any
 * amqp(s) URL in it is masked, and so is every password warren was given, should a
 * library quote one outside a URL.
 */
const secrets = new Set<string>();

/** Shorter passwords (the default `guest`…) would scrub ordinary words from every line. */
const MIN_BARE_SECRET = 6;

export function registerSecret(secret: string): void {
  if (secret.length >= MIN_BARE_SECRET) {
    secrets.add(secret);
    const decoded = safeDecode(secret);
    if (decoded !== secret && decoded.length > 0) secrets.add(decoded);
  }
}

/** The password part of any amqp(s) URL in the text. */
const URL_PASSWORD = /(amqps?:\/\/[^\s:/@]*:)[^\s@/]*@/gi;

export function redact(text: string): string {
  let out = text.replace(URL_PASSWORD, '$1***@');
  for (const secret of secrets) out = out.split(secret).join('***');
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * A command-line argument with the password of any amqp(s) URL in it masked. An argument is
 * one word whatever it holds, so here a password may hold spaces (`amqp://u:open sesame@h/`,
 * which `redact` cannot tell from prose): everything from `user:` to the host's `@` goes,
 * in each URL of a comma-separated list.
 */
export function redactArgument(argument: string): string {
  return argument
    .split(',')
    .map((part) => part.replace(/(amqps?:\/\/[^:/@]*:)[^@]*@/i, '$1***@'))
    .join(',');
}
