/**
 * Where the management API is, and who logs in to it. The URL is `--api`, else
 * WARREN_API_URL, else the profile's `api`, else made from the first broker URL: the same
 * host, port 15672, `http` (`https` for `amqps`). The user and password are the broker's
 * (URL, --password-file, WARREN_PASSWORD, profile) unless the API URL names its own user.
 * The password never appears in what a person sees: `masked` has none, and it is sent only
 * in the Authorization header.
 */
import type { BrokerUrl, TlsSocketOptions } from '../broker/connect.js';
import { UsageError } from '../errors.js';
import { registerSecret } from '../redact.js';

export const DEFAULT_API_PORT = 15672;

export interface ApiTarget {
  /** `http(s)://host:port/path` without user, password, query or trailing slash. */
  base: string;
  /** What lines a person sees say: `base` (it holds no password). */
  masked: string;
  user: string;
  password: string;
  /** The vhost of the broker URL: what a command lists unless told another. */
  vhost: string;
  /** For https: the CAs, client certificate and key of --ca/--cert/--key, and --insecure. */
  tls: TlsSocketOptions | undefined;
  /** Where the URL came from (`--api`, `WARREN_API_URL`, the profile, the broker URL). */
  source: string;
}

export interface ApiTargetInput {
  flag: string | undefined;
  env: NodeJS.ProcessEnv;
  profileApi: string | undefined;
  /** The first broker URL, password applied. */
  broker: BrokerUrl;
  /** --password-file, WARREN_PASSWORD or the profile's passwordFile, when one gave it. */
  password: string | undefined;
  tls: TlsSocketOptions;
}

/** The API URL and credentials; a URL that is not an http(s) one is a usage error naming its source. */
export function apiTarget(input: ApiTargetInput): ApiTarget {
  const broker = new URL(input.broker.url);
  const fromEnv = input.env['WARREN_API_URL'] || undefined;
  const [text, source] =
    input.flag !== undefined
      ? [input.flag, '--api']
      : fromEnv !== undefined
        ? [fromEnv, 'WARREN_API_URL']
        : input.profileApi !== undefined
          ? [input.profileApi, "the profile's api"]
          : [derivedApiUrl(broker), `the broker URL ${input.broker.masked}`];
  let api: URL;
  try {
    api = new URL(text);
  } catch {
    throw new UsageError(`${source}: '${text.replace(/\/\/[^/@]*@/, '//***@')}' is not a URL`, {
      hint: 'expected http://host:15672 or https://host:15671',
    });
  }
  if (api.password) registerSecret(decodeURIComponent(api.password));
  const user = decodeURIComponent(api.username) || decodeURIComponent(broker.username) || 'guest';
  const password =
    input.password ??
    (api.password ? decodeURIComponent(api.password) : undefined) ??
    (api.username ? undefined : broker.password ? decodeURIComponent(broker.password) : undefined) ??
    'guest';
  api.username = '';
  api.password = '';
  const masked = `${api.protocol}//${api.host}${api.pathname.replace(/\/+$/, '')}`;
  if (api.protocol !== 'http:' && api.protocol !== 'https:') {
    throw new UsageError(`${source}: '${masked}' must start with http:// or https://`);
  }
  return {
    base: masked,
    masked,
    user,
    password,
    vhost: vhostOf(broker),
    tls: api.protocol === 'https:' ? input.tls : undefined,
    source,
  };
}

/** The API a broker URL implies: its host, port 15672, https when the broker's is amqps. */
function derivedApiUrl(broker: URL): string {
  const scheme = broker.protocol === 'amqps:' ? 'https' : 'http';
  // An IPv6 hostname keeps its brackets in a URL's hostname.
  return `${scheme}://${broker.hostname}:${DEFAULT_API_PORT}`;
}

/** The vhost an AMQP URL names, as the client library reads it: none (or `/`) is `/`. */
export function vhostOf(broker: URL): string {
  const path = broker.pathname;
  if (path === '' || path === '/') return '/';
  return decodeURIComponent(path.slice(1));
}
