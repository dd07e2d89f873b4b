/** The management API client (src/api/client.ts) against the shared broker's real API. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagementApi } from '../../src/api/client.js';
import { apiTarget } from '../../src/api/target.js';
import { WarrenError } from '../../src/errors.js';
import { BROKER_URL, connectTestBroker, type TestBroker, uniqueName } from '../helpers/broker.js';

function client(url = BROKER_URL, flag?: string): ManagementApi {
  return new ManagementApi(
    apiTarget({
      flag,
      env: {},
      profileApi: undefined,
      broker: { url, masked: url, tls: false },
      password: undefined,
      tls: {},
    }),
  );
}

async function failure(promise: Promise<unknown>): Promise<WarrenError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof WarrenError) return error;
    throw error;
  }
  throw new Error('it did not fail');
}

describe('the management API client', () => {
  let broker: TestBroker;
  const names: string[] = [];

  beforeAll(async () => {
    broker = await connectTestBroker();
    for (let n = 0; n < 5; n++) names.push(await broker.queue('api-page'));
    names.sort();
  });
  afterAll(() => broker.cleanup());

  it('reads a paged list a page at a time, every item once, in the order asked', async () => {
    const api = client();
    const seen: string[] = [];
    const regex = `^warren-test\\.api-page\\.${process.pid}\\.`;
    for await (const queue of api.items<{ name: string }>(
      'queues/%2F',
      { name: regex, use_regex: true, sort: 'name', columns: 'name' },
      2,
    )) {
      seen.push(queue.name);
    }
    api.close();
    expect(seen).toEqual(names);
  });

  it('a list the API sends whole (bindings) is read whole', async () => {
    const api = client();
    let count = 0;
    for await (const binding of api.items<{ destination: string }>(
      `queues/%2F/${encodeURIComponent(names[0] as string)}/bindings`,
    )) {
      expect(binding.destination).toBe(names[0]);
      count++;
    }
    api.close();
    expect(count).toBe(1); // the default exchange's binding
  });

  it('a refused login is exit 5 naming the user, without the password', async () => {
    const error = await failure(client('amqp://guest:wrong-pw@127.0.0.1:5672/').get('overview'));
    expect(error.exitCode).toBe(5);
    expect(error.message).toContain("user 'guest'");
    expect(`${error.message} ${error.hint}`).not.toContain('wrong-pw');
  });

  it('nothing listening is exit 69 naming the URL, with how to enable the plugin', async () => {
    const error = await failure(client(BROKER_URL, 'http://127.0.0.1:1').get('overview'));
    expect(error.exitCode).toBe(69);
    expect(error.message).toContain('http://127.0.0.1:1');
    expect(error.hint).toContain('rabbitmq-plugins enable rabbitmq_management');
  });

  it('a vhost that is not there is exit 5', async () => {
    const error = await failure(client().get(`vhosts/${uniqueName('no-vhost')}`));
    expect(error.exitCode).toBe(5);
  });
});
