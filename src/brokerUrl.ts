/**
 * Which broker, and how to reach it: the URLs from --url, the environment or the profile,
 * the password from a file or WARREN_PASSWORD, and the TLS files. Checked here, so that
 * the broker session gets URLs it can use.
 */
import type { BrokerUrl, TlsSocketOptions } from './broker/connect.js';
import { UsageError } from './errors.js';
import { readNamedFile } from './namedFile.js';
import { registerSecret } from './redact.js';

export type { BrokerUrl, TlsSocketOptions } from './broker/connect.js';

export const DEFAULT_URL = 'amqp://guest:guest@localhost:5672/';

export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
}

/** The URL the environment gives, and the variable that gives it: WARREN_URL wins over AMQP_URL. */
export function urlFromEnv(
  env: NodeJS.ProcessEnv,
): { name: 'WARREN_URL' | 'AMQP_URL'; value: string } | undefined {
  for (const name of ['WARREN_URL', 'AMQP_URL'] as const) {
    const value = env[name];
    if (value) return { name, value };
  }
  return undefined;
}

/**
 * The URLs to try, in order: `--url` (repeatable, or comma-separated), else WARREN_URL,
 * else AMQP_URL, else the profile's, else the local default.
 */
export function resolveBrokerUrls(
  flagUrls: string[] | undefined,
  env: NodeJS.ProcessEnv,
  profile?: { urls: string[] | undefined; vhost: string | undefined; name?: string },
  password?: string,
): BrokerUrl[] {
  const profileUrls = profile?.urls;
  const fromEnv = urlFromEnv(env);
  // Errors name where the bad URL came from: the flag, the variable, or the profile.
  const [given, source]: [string[], string] =
    flagUrls && flagUrls.length > 0
      ? [flagUrls, '--url']
      : fromEnv
        ? [[fromEnv.value], fromEnv.name]
        : profileUrls && profileUrls.length > 0
          ? [profileUrls, profile?.name === undefined ? "the profile's url" : `profile '${profile.name}' url`]
          : [[DEFAULT_URL], '--url'];
  const urls = splitUrls(given);
  if (urls.length === 0) throw new UsageError(`${source}: no broker URL given`);
  return urls.map((url) => {
    const broker = parseBrokerUrl(withVhost(url, profile?.vhost), source);
    return password === undefined ? broker : withPassword(broker, password);
  });
}

/**
 * The password from --password-file, else WARREN_PASSWORD, else the profile's passwordFile:
 * a password on the command line (in --url) can be read by every user of the machine in
 * the process list, and stays in shell history. Undefined when none is given (the URL's own
 * password, if any, is used).
 */
export function resolvePassword(
  flagFile: string | undefined,
  env: NodeJS.ProcessEnv,
  profileFile: string | undefined,
): string | undefined {
  if (flagFile !== undefined) return readPasswordFile('--password-file', flagFile);
  const fromEnv = env['WARREN_PASSWORD'];
  if (fromEnv !== undefined && fromEnv !== '') return onePassword('WARREN_PASSWORD', fromEnv);
  if (profileFile !== undefined) return readPasswordFile("the profile's passwordFile", profileFile);
  return undefined;
}

function readPasswordFile(what: string, path: string): string {
  return onePassword(`${what}: '${path}'`, readNamedFile(what, path).toString('utf8'));
}

/**
 * One rule for a password however it is given (a file, WARREN_PASSWORD): one line. The line
 * end an editor, `echo` or `$(…)` leaves after it is not part of it; any other is a mistake
 * (two passwords, a pasted block), never sent to the broker as part of the password.
 */
function onePassword(what: string, text: string): string {
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new UsageError(`${what} is empty`);
  if (/[\r\n]/.test(password)) throw new UsageError(`${what} must hold the password on one line`);
  registerSecret(password);
  return password;
}

/** The URL with this password (and the user `guest` when it names none, as amqplib would). */
function withPassword(broker: BrokerUrl, password: string): BrokerUrl {
  const parsed = new URL(broker.url);
  if (!parsed.username) parsed.username = 'guest';
  parsed.password = encodeURIComponent(password);
  return { url: parsed.href, masked: maskUrl(parsed), tls: broker.tls };
}

/** URLs as given (repeated, or comma-separated), one per entry, blanks dropped. */
export function splitUrls(given: string[]): string[] {
  return given
    .flatMap((entry) => entry.split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}

/** A URL with the profile's vhost when it names none (`amqp://host` or `amqp://host/`). */
export function withVhost(url: string, vhost: string | undefined): string {
  if (vhost === undefined) return url;
  try {
    const parsed = new URL(url);
    if (parsed.pathname !== '' && parsed.pathname !== '/') return url;
    parsed.pathname = `/${encodeURIComponent(vhost)}`;
    return parsed.href;
  } catch {
    return url;
  }
}

/** A broker URL checked; errors begin with `source`, where the URL came from (`--url`, `WARREN_URL`, …). */
export function parseBrokerUrl(text: string, source = '--url'): BrokerUrl {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new UsageError(`${source}: '${maskLoosely(text)}' is not a URL`, {
      hint: 'expected amqp://user:password@host:5672/vhost or amqps://…',
    });
  }
  if (parsed.password) registerSecret(parsed.password);
  if (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:') {
    throw new UsageError(`${source}: '${maskUrl(parsed)}' must start with amqp:// or amqps://`);
  }
  if (!parsed.hostname) throw new UsageError(`${source}: '${maskUrl(parsed)}' names no host`);
  // The client library would take port 0 for "no port" and connect to 5672 unsaid.
  if (parsed.port === '0') {
    throw new UsageError(
      `${source}: '${maskUrl(parsed)}': port 0 is not a port (1-65535, or none for the default)`,
    );
  }
  checkQuery(parsed, source);
  return { url: text, masked: maskUrl(parsed), tls: parsed.protocol === 'amqps:' };
}

/**
 * The connection parameters the client library reads from the URL's query, and what each
 * may be: it would otherwise fail while connecting (exit 69, in its own words) or quietly
 * send what parseInt made of the text. Other parameters are ignored, as the library does.
 */
const QUERY_PARAMETERS: Record<string, { check: (value: string) => boolean; expected: string }> = {
  heartbeat: { check: (v) => wholeNumberUpTo(v, 0xffff), expected: 'seconds, 0 to 65535 (0: none)' },
  channelMax: {
    check: (v) => wholeNumberUpTo(v, 0xffff),
    expected: 'a whole number, 0 to 65535 (0: the broker decides)',
  },
  frameMax: { check: frameSize, expected: 'bytes, 0 (the broker decides) or 4096 to 4294967295' },
  maxFrameSize: { check: frameSize, expected: 'bytes, 0 (no limit) or 4096 to 4294967295' },
  locale: { check: (v) => Buffer.byteLength(v) <= 255, expected: 'a locale such as en_US' },
};

function wholeNumberUpTo(value: string, max: number): boolean {
  return /^\d{1,10}$/.test(value) && Number(value) <= max;
}

function frameSize(value: string): boolean {
  return wholeNumberUpTo(value, 0xffffffff) && (Number(value) === 0 || Number(value) >= 4096);
}

function checkQuery(parsed: URL, source: string): void {
  for (const [name, { check, expected }] of Object.entries(QUERY_PARAMETERS)) {
    // The library takes the first of repeated parameters.
    const value = parsed.searchParams.get(name);
    if (value !== null && !check(value)) {
      throw new UsageError(
        `${source}: '${maskUrl(parsed)}': ${name}=${value} is not valid: expected ${expected}`,
      );
    }
  }
}

function maskUrl(parsed: URL): string {
  if (!parsed.password) return parsed.href;
  const copy = new URL(parsed.href);
  copy.password = '***';
  return copy.href;
}

/** For text that is not even a URL: hide anything between `:` and `@` after the scheme. */
function maskLoosely(text: string): string {
  return text.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

export function readTlsFiles(files: TlsFiles): TlsSocketOptions {
  if ((files.cert === undefined) !== (files.key === undefined)) {
    throw new UsageError('--cert and --key go together: the client certificate and its private key');
  }
  const options: TlsSocketOptions = {};
  if (files.ca) options.ca = [readNamedFile('--ca', files.ca)];
  if (files.cert) options.cert = readNamedFile('--cert', files.cert);
  if (files.key) options.key = readNamedFile('--key', files.key);
  if (files.insecure) options.rejectUnauthorized = false;
  return options;
}
