/**
 * Every password warren learns of is registered here, so that any line it prints to a
 * person can be scrubbed, including error texts that come from libraries.
 */
const secrets = new Set<string>();

export function registerSecret(secret: string): void {
  if (secret.length > 0) {
    secrets.add(secret);
    const decoded = safeDecode(secret);
    if (decoded !== secret && decoded.length > 0) secrets.add(decoded);
  }
}

export function redact(text: string): string {
  let out = text;
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
