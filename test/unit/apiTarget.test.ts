import { describe, expect, it } from 'vitest';
import { apiTarget } from '../../src/api/target.js';
import type { BrokerUrl } from '../../src/broker/connect.js';

function broker(url: string): BrokerUrl {
  return { url, masked: url.replace(/:[^:@/]*@/, ':***@'), tls: url.startsWith('amqps:') };
}

function target(url: string, more: Partial<Parameters<typeof apiTarget>[0]> = {}) {
  return apiTarget({
    flag: undefined,
    env: {},
    profileApi: undefined,
    broker: broker(url),
    password: undefined,
    tls: { rejectUnauthorized: false },
    ...more,
  });
}

describe('the management API target', () => {
  it('is made from the broker URL: its host, port 15672, http, its user, password and vhost', () => {
    expect(target('amqp://ada:s3cret@rabbit.example:5673/orders')).toEqual({
      base: 'http://rabbit.example:15672',
      masked: 'http://rabbit.example:15672',
      user: 'ada',
      password: 's3cret',
      vhost: 'orders',
      tls: undefined,
      source: 'the broker URL amqp://ada:***@rabbit.example:5673/orders',
    });
  });

  it('is https for amqps, with the TLS options; an IPv6 host keeps its brackets', () => {
    const t = target('amqps://[::1]:5671');
    expect(t.base).toBe('https://[::1]:15672');
    expect(t.tls).toEqual({ rejectUnauthorized: false });
  });

  it('guest/guest and vhost / when the URL names none; %2F is /', () => {
    expect(target('amqp://localhost')).toMatchObject({ user: 'guest', password: 'guest', vhost: '/' });
    expect(target('amqp://localhost/%2F').vhost).toBe('/');
    expect(target('amqp://localhost/a%2Fb').vhost).toBe('a/b');
  });

  it('--api wins over WARREN_API_URL, which wins over the profile', () => {
    const env = { WARREN_API_URL: 'http://env:1' };
    expect(target('amqp://h', { flag: 'http://flag:2/', env, profileApi: 'http://p:3' }).base).toBe(
      'http://flag:2',
    );
    expect(target('amqp://h', { env, profileApi: 'http://p:3' })).toMatchObject({
      base: 'http://env:1',
      source: 'WARREN_API_URL',
    });
    expect(target('amqp://h', { profileApi: 'https://p:3/rabbit/' }).base).toBe('https://p:3/rabbit');
  });

  it("takes the API URL's own user; the password file wins over any URL's password", () => {
    expect(target('amqp://ada:one@h', { flag: 'http://bob:two@api:15672' })).toMatchObject({
      user: 'bob',
      password: 'two',
      masked: 'http://api:15672',
    });
    expect(target('amqp://ada:one@h', { flag: 'http://bob@api', password: 'file' })).toMatchObject({
      user: 'bob',
      password: 'file',
    });
    expect(target('amqp://ada:one@h', { flag: 'http://bob@api' })).toMatchObject({ password: 'guest' });
  });

  it('an API URL that is not http(s), or not a URL, is a usage error that shows no password', () => {
    expect(() => target('amqp://h', { flag: 'amqp://x:pw@api' })).toThrow(/--api: 'amqp:\/\/api' must start/);
    expect(() => target('amqp://h', { flag: 'nota url:pw@x' })).toThrow(/--api: .* is not a URL/);
    try {
      target('amqp://h', { flag: 'ftp://u:hunter2@api' });
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
      expect((error as { exitCode: number }).exitCode).toBe(2);
    }
  });
});
