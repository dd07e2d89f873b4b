/**
 * The shared broker's management API, for tests: enabling the plugins the tests need (as
 * .ci/run does) and reading what the API says, waiting for its statistics, which refresh
 * every few seconds: a test polls until they hold, never sleeps a fixed time.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const API_URL = 'http://127.0.0.1:15672';
const AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
export const TEST_PLUGINS = ['rabbitmq_management', 'rabbitmq_event_exchange'];

async function answers(): Promise<boolean> {
  try {
    const response = await fetch(`${API_URL}/api/overview`, { headers: { authorization: AUTH } });
    return response.ok;
  } catch {
    return false;
  }
}

/** Enables the plugins on the running shared node, and waits until the API answers. */
export async function ensurePlugins(timeoutMs = 90_000): Promise<void> {
  if (await answers()) return;
  await run('rabbitmq-plugins', ['enable', ...TEST_PLUGINS]);
  const deadline = Date.now() + timeoutMs;
  while (!(await answers())) {
    if (Date.now() > deadline) throw new Error(`the management API at ${API_URL} does not answer`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** GET /api/PATH on the shared broker as guest: the JSON, or undefined on 404. */
export async function apiGet<T>(path: string): Promise<T | undefined> {
  const response = await fetch(`${API_URL}/api/${path.replace(/^\//, '')}`, {
    headers: { authorization: AUTH },
  });
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`GET /api/${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Polls `read` until `holds` says yes (the API's statistics lag the broker by seconds). */
export async function waitForApi<T>(
  read: () => Promise<T>,
  holds: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (holds(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`the management API never showed it: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** One queue of the default vhost as the API shows it, once its statistics hold. */
export function waitForQueue(
  name: string,
  holds: (queue: Record<string, unknown>) => boolean,
  timeoutMs?: number,
): Promise<Record<string, unknown>> {
  return waitForApi(
    async () => (await apiGet<Record<string, unknown>>(`queues/%2F/${encodeURIComponent(name)}`)) ?? {},
    holds,
    timeoutMs,
  );
}

/** What the broker counted for one queue of the default vhost, as the API shows it now. */
export interface QueueCounts {
  /** message_stats.publish: messages published into the queue. */
  publish: number;
  /** message_stats.deliver_get: deliveries and basic.gets, with or without acks. */
  deliverGet: number;
  ack: number;
  messages: number;
  consumers: number;
}

export async function queueCounts(name: string): Promise<QueueCounts> {
  const queue = await apiGet<{
    message_stats?: { publish?: number; deliver_get?: number; ack?: number };
    messages?: number;
    consumers?: number;
  }>(`queues/%2F/${encodeURIComponent(name)}`);
  if (queue === undefined) throw new Error(`the management API has no queue '${name}'`);
  const stats = queue.message_stats ?? {};
  return {
    publish: stats.publish ?? 0,
    deliverGet: stats.deliver_get ?? 0,
    ack: stats.ack ?? 0,
    messages: queue.messages ?? 0,
    consumers: queue.consumers ?? 0,
  };
}
