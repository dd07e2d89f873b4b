/**
 * The management plugin's HTTP API (`/api/…`), read with Node's own http/https: one
 * keep-alive connection, JSON replies, and lists read a page at a time, so a vhost of
 * 10,000 queues is listed with the memory of one page.
 *
 * Every failure is a WarrenError with the contract's exit code: the API not reachable (or
 * not the API) 69, a refused login or permission 5, a missing object 5, a request the API
 * calls bad 2.
 */
import type { Agent, IncomingMessage } from 'node:http';
import { BrokerRefusedError, ExitCode, UnreachableError, UsageError, WarrenError } from '../errors.js';
import type { ApiTarget } from './target.js';

export type Query = Record<string, string | number | boolean | undefined>;

/** How long one request may take before the API counts as unreachable. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Items per page: large enough that 10,000 queues are 20 requests, small enough to hold. */
export const PAGE_SIZE = 500;
/** Tries again after an answer of 500, 502 or 503, pausing 250 ms, then 500 ms. */
const RETRIES = 2;
const RETRY_PAUSE_MS = 250;
/** The largest reply body read (a page of 500 queues with their statistics is ~1 MB). */
const MAX_REPLY_BYTES = 64 * 1024 * 1024;

export const ENABLE_HINT =
  'enable the plugin on the broker (rabbitmq-plugins enable rabbitmq_management), or give the API URL with --api';

/** A page of a paged list, as the API sends it. */
interface Page<T> {
  items: T[];
  page: number;
  page_count: number;
}

export class ManagementApi {
  private agent: Agent | undefined;

  constructor(readonly target: ApiTarget) {}

  /** The vhost of the broker URL. */
  get vhost(): string {
    return this.target.vhost;
  }

  /** GET `path` (under /api), its JSON reply. */
  async get<T>(path: string, query: Query = {}): Promise<T> {
    return (await this.request(path, query)) as T;
  }

  /**
   * Every item of a list, a page at a time when the API pages it (queues, exchanges,
   * connections, channels, vhosts); a list it sends whole (bindings, consumers) is read whole.
   * The next page is asked for as soon as a page arrives, so the API works on it while the
   * caller goes through this one: at most two pages are held.
   */
  async *items<T>(path: string, query: Query = {}, pageSize = PAGE_SIZE): AsyncGenerator<T> {
    const fetchPage = (page: number) => {
      const reply = this.request(path, { ...query, page, page_size: pageSize });
      // A caller that stops early leaves the next page unread: its failure is nobody's.
      reply.catch(() => {});
      return reply;
    };
    let next = fetchPage(1);
    for (let page = 1; ; page++) {
      let reply: unknown;
      try {
        reply = await next;
      } catch (error) {
        // The list shrank while it was read (queues deleted meanwhile): the page asked for is
        // past its end now, and there is nothing more to read.
        if (page > 1 && /^Page out of range/.test((error as { reason?: string }).reason ?? '')) return;
        throw error;
      }
      if (Array.isArray(reply)) {
        yield* reply as T[];
        return;
      }
      const paged = reply as Page<T>;
      if (!paged || !Array.isArray(paged.items)) throw this.notTheApi(path, 'a list was expected');
      const more = page < paged.page_count;
      if (more) next = fetchPage(page + 1);
      yield* paged.items;
      if (!more) return;
    }
  }

  /** Closes the kept-alive connection. */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  /**
   * A GET, tried again (twice, after a pause) when the API answers 500, 502 or 503: it fails
   * so, for a moment, when a queue goes while it lists them (RabbitMQ 3.10 formats the queue
   * of a process that is gone and crashes the request), and a read is safe to repeat.
   */
  private async request(path: string, query: Query): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.requestOnce(path, query);
      } catch (error) {
        const status = (error as { status?: number }).status;
        if (attempt > RETRIES || !(status === 500 || status === 502 || status === 503)) throw error;
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS * attempt));
      }
    }
  }

  private async requestOnce(path: string, query: Query): Promise<unknown> {
    const url = new URL(`${this.target.base}/api/${path.replace(/^\//, '')}`);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const https = url.protocol === 'https:';
    const module = https ? await import('node:https') : await import('node:http');
    this.agent ??= new module.Agent({ keepAlive: true, maxSockets: 1, ...(https ? this.target.tls : {}) });
    const agent = this.agent;
    const auth = Buffer.from(`${this.target.user}:${this.target.password}`).toString('base64');
    const shown = `${this.target.masked}/api/${path.replace(/^\//, '').split('?')[0]}`;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = module.request(url, {
        agent,
        headers: { authorization: `Basic ${auth}`, accept: 'application/json' },
        timeout: REQUEST_TIMEOUT_MS,
      });
      request.on('response', resolve);
      request.on('timeout', () =>
        request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
      );
      request.on('error', (error: NodeJS.ErrnoException) => reject(this.unreachable(error)));
      request.end();
    });
    const body = await readBody(response);
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) {
      try {
        return JSON.parse(body.toString('utf8'));
      } catch {
        throw this.notTheApi(shown, 'the reply is not JSON');
      }
    }
    throw this.failure(status, body, shown);
  }

  private unreachable(error: NodeJS.ErrnoException): WarrenError {
    const tls = tlsFailure(error);
    if (tls) {
      return new UnreachableError(`cannot reach the management API at ${this.target.masked}: ${tls.why}`, {
        cause: error,
        hint: tls.hint,
      });
    }
    const why =
      error.code === 'ECONNREFUSED'
        ? 'connection refused (is the management plugin enabled?)'
        : error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN'
          ? 'host not found'
          : error.code === 'ETIMEDOUT'
            ? `no answer in ${REQUEST_TIMEOUT_MS / 1000} s`
            : error.message;
    return new UnreachableError(`cannot reach the management API at ${this.target.masked}: ${why}`, {
      cause: error,
      hint: ENABLE_HINT,
    });
  }

  private notTheApi(what: string, why: string): WarrenError {
    return new UnreachableError(`${what} did not answer as RabbitMQ's management API: ${why}`, {
      hint: ENABLE_HINT,
    });
  }

  private failure(status: number, body: Buffer, shown: string): WarrenError {
    const reason = reasonOf(body);
    const user = this.target.user;
    if (status === 401) {
      return new BrokerRefusedError(`the management API refused the login of user '${user}' (401)`, {
        hint: 'check the user and password (--url, --password-file, WARREN_PASSWORD, the profile, or --api)',
      });
    }
    if (status === 403) {
      return new BrokerRefusedError(
        `user '${user}' may not read ${shown} (403${reason ? `: ${reason}` : ''})`,
        {
          hint: 'the management API needs a user with the management (or monitoring) tag',
        },
      );
    }
    if (status === 404) {
      if (/\.html?$|^<|<html/i.test(body.toString('utf8', 0, 200))) {
        return this.notTheApi(shown, 'no such page (is --api the management URL?)');
      }
      return new BrokerRefusedError(`${shown}: not found (404)`);
    }
    if (status === 400) {
      return Object.assign(
        new UsageError(`the management API refused the request: ${reason || 'bad request'}`),
        { status, reason },
      );
    }
    return Object.assign(
      new WarrenError(
        `the management API answered ${status}${reason ? `: ${reason}` : ''} (${shown})`,
        status >= 500 ? ExitCode.unreachable : ExitCode.failure,
      ),
      { status },
    );
  }
}

/** Node's codes for a certificate it could not verify. */
const UNVERIFIED = /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_|CERT_)/;

/** What went wrong in an https handshake, in words, and what to do; undefined for other failures. */
function tlsFailure(error: NodeJS.ErrnoException): { why: string; hint: string } | undefined {
  const code = error.code ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return {
      why: `the API's certificate is not for this host (${error.message})`,
      hint: 'give --api the host name the certificate names',
    };
  }
  if (UNVERIFIED.test(code)) {
    return {
      why: `the API's certificate could not be verified (${error.message})`,
      hint: 'give the CA that signed it with --ca (--insecure skips the check, and warns)',
    };
  }
  if (code === 'EPROTO' || /wrong version number|packet length too long/.test(error.message)) {
    return {
      why: 'the TLS handshake failed: that port does not speak TLS',
      hint: 'use an http:// API URL, or the port of its https listener',
    };
  }
  return undefined;
}

/** The API's own words for a refusal: `{"error": …, "reason": …}`. */
function reasonOf(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { reason?: unknown; error?: unknown };
    const reason = parsed.reason ?? parsed.error;
    return typeof reason === 'string' ? reason : undefined;
  } catch {
    return undefined;
  }
}

async function readBody(response: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).length;
    if (size > MAX_REPLY_BYTES) {
      response.destroy();
      throw new WarrenError(`the management API sent a reply over ${MAX_REPLY_BYTES / 1024 / 1024} MiB`, 1);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A vhost as a path segment of the API (`/` is `%2F`). */
export function vhostSegment(vhost: string): string {
  return encodeURIComponent(vhost);
}
